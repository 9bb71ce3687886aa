"""Submissions: records sent by ZIT associations, checked, stored in their own graph, then reviewed.

The pipeline is parse → mint IRIs and skolemise → authorise → validate (the submission plus only the
context it links to) → one transaction. Nothing is stored unless every step passes. Each submission is
a named graph with PROV metadata in the (unpublished) meta graph; a reviewer's publish adds it to the
public graphs and writes who sent it and when into the public provenance graph.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.exceptions import ParserError

from zitkg import links, validation
from zitkg.accounts import Account
from zitkg.csv_template import TableLimits, parse_csv
from zitkg.errors import BadRequest, Forbidden, NotFound, UnsupportedMediaType, ZitkgError
from zitkg.naming import slug
from zitkg.privacy import person_policy, private_graph, split_private
from zitkg.rdf_limits import RdfLimits, at_most, check_depth, too_many_statements
from zitkg.store import GRAPH_BASE, META_GRAPH, GraphStore

ZIT = "https://w3id.org/sieci-zit/ontology#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
SUBMISSION_GRAPHS = GRAPH_BASE + "submission/"
PROVENANCE_GRAPH = GRAPH_BASE + "provenance"
BUNDLED_GRAPHS = tuple(GRAPH_BASE + n for n in ("ontology", "vocabularies", "themes", "programme", "examples"))
STATUSES = ("pending", "published", "rejected", "superseded")
# Roles that give an organisation credit for a record: naming another organisation in one of them makes
# the submission wait for that organisation's confirmation before it can be published.
CREDIT_PROPERTIES = frozenset({ZIT + "originator", ZIT + "implementedBy", DCTERMS + "creator",
                               "https://schema.org/author", "http://schema.org/author"})

# Path segment of minted IRIs per class (docs/model.md).
KIND_OF_CLASS = {
    "GoodPractice": "practice", "Pilot": "pilot", "Expert": "expert", "ExpertSupport": "support",
    "IndicatorValue": "result", "Transfer": "transfer", "NetworkActivity": "activity",
    "StudyVisit": "activity", "Workshop": "activity", "Training": "activity", "Consultation": "activity",
    "FunctionalUrbanArea": "mof",
}
TURTLE_TYPES = {"text/turtle", "application/x-turtle"}
TABLE_TYPES = {"text/csv", "application/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JSONLD_TYPES = {"application/ld+json", "application/json"}

# Held from the ownership check of a submission to its write, and around every change of status: two
# organisations claiming one new IRI at once cannot both pass the check (one process writes the
# embedded store; with a remote store and several web workers, see docs/security.md).
_CLAIMS = threading.RLock()
log = logging.getLogger(__name__)


class Unprocessable(ZitkgError):
    """The data parsed but breaks the shapes: a 422 with every result (and the raw report as Turtle)."""

    status = 422
    code = "validation-failed"

    def __init__(self, message: str, report: validation.Report, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details or report.to_dict())
        self.report = report


def refuse_unlinkable(triples: list[ox.Triple]) -> None:
    """422 for IRIs whose scheme may not become a link (javascript:, data:, ...), wherever they stand.

    The shape zitsh:LinkSchemes says the same for typed records; an untyped subject is the focus node
    of no shape, so the rule is kept here for every statement as well.
    """
    found = links.unlinkable_iris(triples)
    if not found:
        return
    results = tuple(
        validation.Result(
            focus_node=subject, path=None, value=iri, severity="Violation", component="LinkScheme",
            shape=None,
            message_pl=f"Adres {iri} w rekordzie {subject} ma niedozwolony schemat: dozwolone są tylko adresy IRI "
                       "http:, https: i mailto:.",
            message_en=f"The address {iri} in record {subject} has a scheme that is not allowed: only http:, "
                       "https: and mailto: IRIs are.",
        )
        for subject, iri in found[:MAX_LISTED]
    )
    report = validation.Report(conforms=False, results=results, graph=Graph())
    details = report.to_dict()
    details["summary"] = {
        "pl": f"Zgłoszenie zawiera {len(found)} adres(y) o niedozwolonym schemacie; nic nie zapisano.",
        "en": f"The submission holds {len(found)} address(es) with a scheme that is not allowed; nothing was stored.",
    }
    raise Unprocessable(f"{len(found)} IRI(s) with a scheme other than http, https or mailto; nothing was stored",
                        report, details)


MAX_LISTED = 100


class Conflict(ZitkgError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class Submission:
    id: str
    iri: str
    graph: str
    organisation: str
    token_id: str
    status: str
    created: str
    version: int
    media_type: str
    describes: tuple[str, ...] = ()
    revision_of: tuple[str, ...] = ()
    rejection_reason: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    awaiting: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """Organisations credited by the submission that have not confirmed it yet."""
        return tuple(o for o in self.awaiting if o not in self.confirmed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "iri": self.iri,
            "graph": self.graph,
            "organisation": self.organisation,
            "status": self.status,
            "created": self.created,
            "version": self.version,
            "mediaType": self.media_type,
            "describes": list(self.describes),
            "revisionOf": list(self.revision_of),
            "rejectionReason": self.rejection_reason,
            "report": self.report,
            "confirmation": {"needed": list(self.awaiting), "confirmed": list(self.confirmed),
                             "waitingFor": list(self.unconfirmed)},
        }


# --- parsing ---------------------------------------------------------------------------------------

def json_ld_context(base_iri: str) -> dict[str, Any]:
    """The published context (/context.jsonld) that makes plain JSON records valid JSON-LD."""
    return {
        "@context": {
            "@base": base_iri + "id/",
            "@vocab": ZIT,
            "zit": ZIT,
            "id": "@id",
            "type": "@type",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "schema": "https://schema.org/",
            "dcterms": DCTERMS,
            "org": "http://www.w3.org/ns/org#",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": XSD,
            "label": {"@id": "rdfs:label", "@container": "@language"},
            "description": {"@id": "dcterms:description", "@container": "@language"},
            "name": "foaf:name",
            "theme": {"@id": "zit:theme", "@type": "@id"},
            "lifecycleStatus": {"@id": "zit:lifecycleStatus", "@type": "@id"},
            "originator": {"@id": "zit:originator", "@type": "@id"},
            "inNetwork": {"@id": "zit:inNetwork", "@type": "@id"},
            "pilotOf": {"@id": "zit:pilotOf", "@type": "@id"},
            "pilotLocation": {"@id": "zit:pilotLocation", "@type": "@id"},
            "implementedBy": {"@id": "zit:implementedBy", "@type": "@id"},
            "competence": {"@id": "zit:competence", "@type": "@id"},
            "horizontalPrinciple": {"@id": "zit:horizontalPrinciple", "@type": "@id"},
            "budget": {"@id": "zit:budget", "@type": "@id"},
            "result": {"@id": "zit:result", "@type": "@id"},
            "indicator": {"@id": "zit:indicator", "@type": "@id"},
            "consentedField": {"@id": "zit:consentedField", "@type": "@id"},
            "startDate": {"@id": "schema:startDate", "@type": "xsd:date"},
            "endDate": {"@id": "schema:endDate", "@type": "xsd:date"},
            "created": {"@id": "dcterms:created", "@type": "xsd:date"},
            "date": {"@id": "dcterms:date", "@type": "xsd:date"},
            "value": {"@id": "schema:value", "@type": "xsd:decimal"},
            "currency": "schema:currency",
            "unitCode": "schema:unitCode",
            "email": "schema:email",
            "telephone": "schema:telephone",
        }
    }


def _position_details(message: str) -> dict[str, int] | None:
    match = re.search(r"(?:line |at |^)(\d+):(\d+)", message) or re.search(r"line (\d+).*?column (\d+)", message)
    return {"line": int(match.group(1)), "column": int(match.group(2))} if match else None


def parse(body: bytes, media_type: str, base_iri: str, limits: RdfLimits | None = None) -> list[ox.Triple]:
    """Turtle or JSON-LD into triples; a syntax error is a 400 with the line and column.

    The nesting depth is measured before any parser sees the text, and parsing stops at the first
    statement past the limit (both 413), so a hostile document costs one scan, not the parser's stack.
    """
    limits = limits or RdfLimits()
    if media_type in TURTLE_TYPES:
        fmt = ox.RdfFormat.TURTLE
        check_depth(body, "turtle", limits.max_depth)
    elif media_type in JSONLD_TYPES:
        fmt = ox.RdfFormat.JSON_LD
        check_depth(body, "json", limits.max_depth)
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            raise BadRequest(f"JSON-LD is not valid JSON: {exc}", details={"line": line, "column": col}) from None
        doc = _inline_context(doc, base_iri)
        refuse_lost_iris(doc, base_iri)
        body = json.dumps(doc).encode()
    else:
        raise UnsupportedMediaType(
            f"cannot read a submission of type {media_type or '(none)'}",
            hint="send text/turtle, application/ld+json, application/json (with /context.jsonld), text/csv or .xlsx",
        )
    try:
        quads = ox.parse(body, format=fmt, base_iri=base_iri + "id/")
        triples = [q.triple for q in at_most(quads, limits.max_statements)]
    except SyntaxError as exc:
        raise BadRequest(f"cannot parse the submission: {exc}", details=_position_details(str(exc))) from None
    _refuse_rdf12(triples)
    return triples


def _refuse_rdf12(triples: list[ox.Triple]) -> None:
    """400 for RDF 1.2 triple terms (RDF-star) and directional language tags, which the model does not use."""
    for t in triples:
        if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple) or (
            isinstance(t.object, ox.Literal) and t.object.direction is not None
        ):
            raise BadRequest(
                "RDF 1.2 triple terms (<< >>) and directional language tags (@en--ltr) are not accepted",
                details={"summary": {
                    "pl": "Termy trójkowe RDF 1.2 (<< >>) i znaczniki kierunku tekstu (@pl--ltr) nie są "
                          "przyjmowane; nic nie zapisano.",
                    "en": "RDF 1.2 triple terms (<< >>) and text direction tags (@en--ltr) are not accepted; "
                          "nothing was stored.",
                }},
            )


def _iri_keys(context: Any) -> set[str]:
    """The keys a (top-level) JSON-LD context coerces to IRIs (``"@type": "@id"`` or ``"@vocab"``)."""
    found: set[str] = set()
    for part in context if isinstance(context, list) else [context]:
        if isinstance(part, dict):
            found |= {k for k, v in part.items() if isinstance(v, dict) and v.get("@type") in {"@id", "@vocab"}}
    return found


def _valid_iri(value: str, base: str) -> bool:
    from urllib.parse import urljoin

    if value.startswith("_:"):
        return True
    try:
        ox.NamedNode(urljoin(base, value))
    except ValueError:
        return False
    return not any(c.isspace() for c in value)


def refuse_lost_iris(doc: Any, base_iri: str) -> None:
    """422 for IRIs a JSON-LD processor would drop without a word ("@id": "not a URL").

    pyoxigraph, like any JSON-LD processor, leaves out a statement whose object is no valid IRI; the
    submitter must hear of it instead (a value is stored or refused, never lost).
    """
    base = base_iri + "id/"
    context = doc.get("@context") if isinstance(doc, dict) else None
    keys = _iri_keys(context)
    parts = [p for p in (context if isinstance(context, list) else [context]) if isinstance(p, dict)]
    vocab = any("@vocab" in p for p in parts) or any(not isinstance(p, dict) for p in (
        context if isinstance(context, list) else [context]) if p is not None)
    terms = {k for p in parts for k in p}
    lost: list[tuple[str, str]] = []
    unknown: list[str] = []

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k == "@context":
                    continue
                if not vocab and not k.startswith("@") and ":" not in k and k not in terms:
                    unknown.append(k)  # a key no context defines: a JSON-LD processor drops it
                    continue
                if k == "@id" and isinstance(v, str) and not _valid_iri(v, base):
                    lost.append((key or "@id", v))
                else:
                    walk(v, k)
        elif isinstance(node, str) and key in keys and not _valid_iri(node, base):
            lost.append((key, node))

    walk(doc, None)
    if not lost and not unknown:
        return
    results = tuple(
        validation.Result(
            focus_node="", path=None, value=key, severity="Violation", component="UnknownKey", shape=None,
            message_pl=f"Pole „{key}” nie jest określone w kontekście JSON-LD i nie zostałoby zapisane. Użyj "
                       "kontekstu /context.jsonld albo pełnego adresu właściwości.",
            message_en=f"The field “{key}” is defined by no JSON-LD context and would not be stored. Use the "
                       "context /context.jsonld or the property's full address.",
        ) for key in sorted(set(unknown))[:MAX_LISTED]
    ) + tuple(
        validation.Result(
            focus_node="", path=_expand_key(key), value=value, severity="Violation", component="NotAnIri",
            shape=None,
            message_pl=f"{validation.field_name(_expand_key(key), 'pl')}: „{value}” nie jest adresem. Wpisz pełny "
                       "adres zaczynający się od https:// (albo http://).",
            message_en=f"{validation.field_name(_expand_key(key), 'en')}: “{value}” is not an address. Enter a "
                       "full address starting with https:// (or http://).",
        ) for key, value in lost[:MAX_LISTED]
    )
    report = validation.Report(conforms=False, results=results, graph=Graph())
    details = report.to_dict()
    count = len(lost) + len(set(unknown))
    details["summary"] = {
        "pl": f"{count} wartość(i) nie zostałaby zapisana (nie jest adresem albo pole nie jest określone); "
              "nic nie zapisano.",
        "en": f"{count} value(s) would not be stored (not an address, or a field no context defines); "
              "nothing was stored.",
    }
    raise Unprocessable(f"{count} value(s) would be lost (invalid IRIs or undefined keys); nothing was stored",
                        report, details)


def _expand_key(key: str) -> str:
    """A JSON-LD key of our context as the IRI it stands for (absolute keys stay)."""
    if ":" in key and not key.startswith("@"):
        prefix, _, local = key.partition(":")
        context = json_ld_context("")["@context"]
        namespace = context.get(prefix)
        return namespace + local if isinstance(namespace, str) and not local.startswith("//") else key
    entry = json_ld_context("")["@context"].get(key)
    target = entry.get("@id") if isinstance(entry, dict) else entry
    if isinstance(target, str) and not target.startswith("@"):
        return _expand_key(target) if ":" in target and not target.startswith("http") else target
    return ZIT + key


def _inline_context(doc: Any, base_iri: str) -> Any:
    """Replace references to our published context by the context itself (no fetching at run time)."""
    ours = json_ld_context(base_iri)["@context"]

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "@context":
                    values = value if isinstance(value, list) else [value]
                    if any(isinstance(v, str) and v.endswith("/context.jsonld") for v in values):
                        value = [ours if isinstance(v, str) and v.endswith("/context.jsonld") else v
                                 for v in values]
                        value = value[0] if len(value) == 1 else value
                    elif any(isinstance(v, str) for v in values):
                        raise BadRequest("remote JSON-LD contexts are not fetched; use /context.jsonld or inline it")
                out[key] = fix(value) if key != "@context" else value
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    if isinstance(doc, dict) and "@context" not in doc:
        doc = {"@context": ours, **doc}
    if isinstance(doc, list):
        doc = {"@context": ours, "@graph": doc}
    return fix(doc)


# --- minting -----------------------------------------------------------------------------------------

def mint(triples: list[ox.Triple], base_iri: str) -> list[ox.Triple]:
    """Blank-node records of known classes get readable IRIs; other blank nodes get skolem IRIs."""
    types: dict[ox.BlankNode, str] = {}
    labels: dict[ox.BlankNode, str] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            if t.predicate.value == RDF_TYPE and t.object.value.startswith(ZIT):
                local = t.object.value[len(ZIT):]
                if local in KIND_OF_CLASS:
                    types[t.subject] = KIND_OF_CLASS[local]
            elif t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label" and isinstance(
                t.object, ox.Literal
            ) and (t.object.language == "pl" or t.subject not in labels):
                labels[t.subject] = t.object.value
    names: dict[ox.BlankNode, ox.NamedNode] = {}

    def name(node: ox.BlankNode) -> ox.NamedNode:
        if node not in names:
            suffix = secrets.token_hex(3)
            if node in types:
                iri = f"{base_iri}id/{types[node]}/{slug(labels.get(node, types[node]))}-{suffix}"
            else:
                iri = f"{base_iri}.well-known/genid/{secrets.token_hex(8)}"
            names[node] = ox.NamedNode(iri)
        return names[node]

    def term(value: Any) -> Any:
        return name(value) if isinstance(value, ox.BlankNode) else value

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]


# --- the store side ------------------------------------------------------------------------------------

def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _lit(value: str, datatype: str | None = None) -> str:
    literal = ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)
    return str(literal)


class Submissions:
    """The submission workflow over a store; knows nothing of HTTP."""

    def __init__(self, store: GraphStore, base_iri: str, limits: RdfLimits | None = None,
                 table_limits: TableLimits | None = None) -> None:
        self.store = store
        self.base_iri = base_iri
        self.limits = limits or RdfLimits()
        self.table_limits = table_limits or TableLimits()

    @classmethod
    def from_settings(cls, store: GraphStore, settings: Any) -> Submissions:
        """The service with the limits the settings give (RDF depth and statements, spreadsheet size)."""
        return cls(store, settings.base_iri, RdfLimits(settings.max_rdf_depth, settings.max_rdf_statements),
                   TableLimits.from_settings(settings))

    def get(self, sid: str) -> Submission:
        if not re.fullmatch(r"[0-9a-f]{16}", sid):
            raise NotFound(f"no submission {sid!r}")
        iri = ox.NamedNode(f"{self.base_iri}id/submission/{sid}")
        values: dict[str, list[Any]] = {}
        for quad in self.store.quads(iri, None, None, ox.NamedNode(META_GRAPH)):
            values.setdefault(quad.predicate.value, []).append(quad.object)
        if not values:
            raise NotFound(f"no submission {sid!r}")
        return self._from_values(sid, iri.value, values)

    def _from_values(self, sid: str, iri: str, values: dict[str, list[Any]]) -> Submission:
        def one(prop: str, default: str = "") -> str:
            found = values.get(prop)
            return found[0].value if found else default

        report_text = one(ZIT + "validationReport", "{}")
        return Submission(
            id=sid,
            iri=iri,
            graph=one(ZIT + "submissionGraph"),
            organisation=one(PROV + "wasAttributedTo"),
            token_id=one(ZIT + "tokenId"),
            status=one(ZIT + "submissionStatus"),
            created=one(PROV + "generatedAtTime"),
            version=int(one(ZIT + "version", "1")),
            media_type=one(DCTERMS + "format"),
            describes=tuple(sorted(o.value for o in values.get(ZIT + "describes", []))),
            revision_of=tuple(sorted(o.value for o in values.get(PROV + "wasRevisionOf", []))),
            rejection_reason=one(ZIT + "rejectionReason") or None,
            report=json.loads(report_text),
            awaiting=tuple(sorted(o.value for o in values.get(ZIT + "awaitsConfirmationBy", []))),
            confirmed=tuple(sorted(o.value for o in values.get(ZIT + "confirmedBy", []))),
        )

    def list(self, organisation: str | None = None) -> list[Submission]:
        """Every submission, or those an organisation sent or is asked to confirm."""
        submission_type = ox.NamedNode(ZIT + "Submission")
        meta = ox.NamedNode(META_GRAPH)
        found = []
        for quad in self.store.quads(None, ox.NamedNode(RDF_TYPE), submission_type, meta):
            sid = quad.subject.value.rsplit("/", 1)[-1]
            submission = self.get(sid)
            if organisation is None or organisation in (submission.organisation, *submission.awaiting):
                found.append(submission)
        return sorted(found, key=lambda s: (s.created, s.id))

    def content(self, submission: Submission) -> bytes:
        quads = self.store.quads(None, None, None, ox.NamedNode(submission.graph))
        return ox.serialize([q.triple for q in quads], format=ox.RdfFormat.TURTLE)

    def owner_of(self, subject: str) -> tuple[str | None, list[Submission]]:
        """The organisation that owns a resource and the live submissions describing it.

        (None, []) for a new resource; ('', []) for programme data, which no organisation may change.
        """
        node = ox.NamedNode(subject)
        for graph in BUNDLED_GRAPHS:
            if any(True for _ in self.store.quads(node, None, None, ox.NamedNode(graph))):
                return "", []
        live = []
        owner = None
        describes = ox.NamedNode(ZIT + "describes")
        for quad in self.store.quads(None, describes, node, ox.NamedNode(META_GRAPH)):
            submission = self.get(quad.subject.value.rsplit("/", 1)[-1])
            if submission.status in {"pending", "published"}:
                live.append(submission)
                owner = submission.organisation
        return owner, live

    # the pipeline -------------------------------------------------------------------------------------
    def authorise(
        self, triples: list[ox.Triple], account: Account, replacing: Submission | None = None
    ) -> list[Submission]:
        """403 unless every subject is new or already the account's own; the live submissions it revises.

        Called once before validation (to refuse early) and again under ``_CLAIMS`` right before the
        write, so that checking who owns a resource and claiming it are one step.
        """
        revised: dict[str, Submission] = {}
        own_space = (self.base_iri + "id/", self.base_iri + ".well-known/genid/")
        for subject in sorted({t.subject.value for t in triples}):
            if not subject.startswith(own_space):  # blank nodes were minted into this space already
                raise Forbidden(f"{subject} is not a record of this graph: a submission describes only resources "
                                f"under {own_space[0]} (or blank nodes, which get such IRIs)",
                                hint="link to outside resources as objects; describe your own records only",
                                details={"focusNode": subject, "summary": {
                                    "pl": f"{subject} nie jest rekordem tego grafu: zgłoszenie opisuje tylko zasoby "
                                          f"pod {own_space[0]} (lub węzły puste, które otrzymują takie IRI).",
                                    "en": f"{subject} is not a record of this graph: a submission describes only "
                                          f"resources under {own_space[0]} (or blank nodes, which get such IRIs).",
                                }})
            owner, live = self.owner_of(subject)
            if owner == "":
                raise Forbidden(f"{subject} belongs to the programme data and cannot be changed by a submission",
                                details={"focusNode": subject, "summary": {
                                    "pl": f"{subject} należy do danych programu; zgłoszenie nie może go zmienić.",
                                    "en": f"{subject} belongs to the programme data; a submission cannot change it.",
                                }})
            if owner is not None and owner != account.organisation:
                raise Forbidden(f"{subject} belongs to another organisation ({owner})",
                                hint="you may link to others' records, but describe only your own",
                                details={"focusNode": subject, "owner": owner, "summary": {
                                    "pl": f"{subject} należy do innej organizacji ({owner}). Możesz wskazywać "
                                          "cudze rekordy, ale opisywać tylko własne.",
                                    "en": f"{subject} belongs to another organisation ({owner}). You may link "
                                          "to others' records, but describe only your own.",
                                }})
            for submission in live:
                if replacing is None or submission.id != replacing.id:
                    revised[submission.id] = submission
        return list(revised.values())

    def prepare(
        self, body: bytes, media_type: str, account: Account, replacing: Submission | None = None
    ) -> tuple[list[ox.Triple], validation.Report, list[Submission]]:
        """Parse, mint, authorise and validate; raises on any failure, stores nothing."""
        records = (parse_csv(body, media_type, self.base_iri, self.table_limits)
                   if media_type in TABLE_TYPES else None)
        triples = records.triples if records else parse(body, media_type, self.base_iri, self.limits)
        if not triples:
            raise BadRequest("the submission holds no statements")
        if len(triples) > self.limits.max_statements:
            raise too_many_statements(self.limits.max_statements)
        triples = mint(triples, self.base_iri)
        refuse_unlinkable(triples)  # every statement, typed or not (a shape only sees typed records)
        revised = self.authorise(triples, account, replacing)  # early, so a refused claim costs no validation
        report = self.validate(triples)
        details = report.to_dict()
        if records is not None:  # say where in the spreadsheet each result belongs
            for result in details["results"]:
                result.update(records.place(result["focusNode"], result["path"]))
        if not report.conforms:
            count = len(report.violations)
            details["summary"] = {
                "pl": f"Zgłoszenie ma błędy ({count}); nic nie zapisano. Popraw wskazane pola i wyślij je ponownie.",
                "en": f"The submission has errors ({count}); nothing was stored. Correct the fields named and "
                      "send it again.",
            }
            raise Unprocessable(
                f"the submission breaks {count} rule(s) of the shapes; nothing was stored", report, details
            )
        return triples, report, revised

    def validate(self, triples: list[ox.Triple]) -> validation.Report:
        """Shapes over the submission plus the descriptions of the resources it links to."""
        data = _to_rdflib(triples)
        described = {t.subject for t in triples}
        linked = {t.object for t in triples if isinstance(t.object, ox.NamedNode) and t.object not in described}
        context_triples = []
        for node in linked:
            context_triples += [q.triple for q in self.store.quads(node, None, None, None)]
        return validation.validate_submission(
            data, context=_to_rdflib(context_triples),
            focus_nodes=sorted(s.value for s in described if isinstance(s, ox.NamedNode)))

    def create(self, body: bytes, media_type: str, account: Account) -> Submission:
        triples, report, _revised = self.prepare(body, media_type, account)
        sid = secrets.token_hex(8)
        with _CLAIMS:
            revised = self.authorise(triples, account)
            version = 1 + max((s.version for s in revised), default=0)
            self._write(sid, triples, report, account, media_type, version, revised, replace=False)
        return self.get(sid)

    def replace(self, sid: str, body: bytes, media_type: str, account: Account) -> Submission:
        current = self._owned(sid, account)
        if current.status == "published":
            raise Conflict("a published submission cannot be replaced; send a new submission (a new version)")
        triples, report, _revised = self.prepare(body, media_type, account, replacing=current)
        with _CLAIMS:
            current = self._owned(sid, account)
            if current.status == "published":
                raise Conflict("a published submission cannot be replaced; send a new submission (a new version)")
            revised = self.authorise(triples, account, replacing=current)
            self._write(sid, triples, report, account, media_type, current.version, revised, replace=True)
        return self.get(sid)

    def _write(
        self, sid: str, triples: list[ox.Triple], report: validation.Report, account: Account,
        media_type: str, version: int, revised: list[Submission], *, replace: bool,
    ) -> None:
        iri = f"{self.base_iri}id/submission/{sid}"
        graph = SUBMISSION_GRAPHS + sid
        public, private = split_private(triples, known_persons=self._known_persons(triples))
        meta = [
            f"<{iri}> a <{ZIT}Submission>",
            f"<{iri}> <{ZIT}submissionGraph> <{graph}>",
            f"<{iri}> <{PROV}wasAttributedTo> <{account.organisation}>",
            f"<{iri}> <{ZIT}tokenId> {_lit(account.token_id)}",
            f"<{iri}> <{ZIT}submissionStatus> \"pending\"",
            f"<{iri}> <{PROV}generatedAtTime> {_lit(_now(), XSD + 'dateTime')}",
            f"<{iri}> <{ZIT}version> {_lit(str(version), XSD + 'integer')}",
            f"<{iri}> <{DCTERMS}format> {_lit(media_type)}",
            f"<{iri}> <{ZIT}validationReport> {_lit(json.dumps(report.to_dict(), ensure_ascii=False))}",
        ]
        meta += [f"<{iri}> <{ZIT}describes> <{s}>" for s in sorted({t.subject.value for t in triples})]
        meta += [f"<{iri}> <{PROV}wasRevisionOf> <{old.iri}>" for old in revised]
        meta += [f"<{iri}> <{ZIT}awaitsConfirmationBy> <{o}>" for o in credited_others(triples, account.organisation)]
        drop_meta = f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{iri}> ?p ?o }} }} ;\n" if replace else ""
        update = (
            drop_meta
            + f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {' . '.join(meta)} }} }}"
        )
        self.store.replace_graphs({graph: public}, published=False, private={private_graph(graph): private},
                                  extra_update=update)

    def _known_persons(self, triples: list[ox.Triple]) -> set[ox.NamedNode]:
        """Subjects the store already knows as persons (a revision need not repeat the type)."""
        policy = person_policy()
        rdf_type = ox.NamedNode(RDF_TYPE)
        found = set()
        for subject in {t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}:
            if any(q.object.value in policy.person_classes for q in self.store.quads(subject, rdf_type, None, None)):
                found.add(subject)
        return found

    def _owned(self, sid: str, account: Account) -> Submission:
        submission = self.get(sid)
        if submission.organisation != account.organisation and account.role != "admin":
            raise Forbidden("this submission belongs to another organisation")
        return submission

    def visible_to(self, sid: str, account: Account) -> Submission:
        submission = self.get(sid)
        if (submission.organisation != account.organisation and not account.is_reviewer
                and account.organisation not in submission.awaiting):
            raise Forbidden("this submission belongs to another organisation")
        return submission

    def delete(self, sid: str, account: Account) -> None:
        with _CLAIMS:
            submission = self._owned(sid, account)
            if submission.status == "published":
                raise Conflict("a published submission cannot be deleted; ask a reviewer")
            update = f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{submission.iri}> ?p ?o }} }}"
            self.store.drop_graphs([submission.graph, private_graph(submission.graph)], extra_update=update)

    def _set_status(self, submission: Submission, status: str, extra: Iterable[str] = ()) -> str:
        return (
            f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{submission.iri}> <{ZIT}submissionStatus> ?s }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{submission.iri}> <{ZIT}submissionStatus> \"{status}\" "
            + "".join(f" . {e}" for e in extra) + " } }"
        )

    def _four_eyes(self, submission: Submission, account: Account, action: str) -> bool:
        """403 when a reviewer acts on its own organisation's submission; True when an admin overrides."""
        if submission.organisation != account.organisation:
            return False
        if account.role != "admin":
            raise Forbidden(
                f"a reviewer cannot {action} a submission of its own organisation (four-eyes rule)",
                hint="ask a reviewer of another organisation",
                details={"organisation": submission.organisation, "summary": {
                    "pl": "Zasada czterech oczu: recenzent nie może zatwierdzić zgłoszenia własnej organizacji. "
                          "Poproś recenzenta z innej organizacji.",
                    "en": "Four-eyes rule: a reviewer cannot approve a submission of its own organisation. "
                          "Ask a reviewer of another organisation.",
                }},
            )
        log.warning("four-eyes override: admin token %s of %s did %s on submission %s of its own organisation",
                    account.token_id, account.organisation, action, submission.id)
        return True

    def publish(self, sid: str, account: Account) -> Submission:
        if not account.is_reviewer:
            raise Forbidden("publishing needs a reviewer token")
        with _CLAIMS:
            submission = self.get(sid)
            if submission.status != "pending":
                raise Conflict(f"only a pending submission can be published; this one is {submission.status}")
            override = self._four_eyes(submission, account, "publish")
            if submission.unconfirmed:
                names = ", ".join(submission.unconfirmed)
                name_pl = ", ".join(self.label(o, "pl") for o in submission.unconfirmed)
                name_en = ", ".join(self.label(o, "en") for o in submission.unconfirmed)
                raise Conflict(
                    f"this submission credits {names}, which has not confirmed it yet",
                    hint="the organisation named as originator or implementer confirms with "
                         "POST /api/submissions/<id>/confirm",
                    details={"waitingFor": list(submission.unconfirmed), "summary": {
                        "pl": f"Zgłoszenie wskazuje jako autora lub realizatora organizację {name_pl}, która "
                              "jeszcze go nie potwierdziła. Można je opublikować po jej potwierdzeniu.",
                        "en": f"The submission names {name_en} as originator or implementer, which has not "
                              "confirmed it yet. It can be published once that organisation confirms.",
                    }})
            review = [
                f"<{submission.iri}> <{ZIT}publishedBy> <{account.organisation}>",
                f"<{submission.iri}> <{ZIT}publishedWithToken> {_lit(account.token_id)}",
                f"<{submission.iri}> <{ZIT}publishedAt> {_lit(_now(), XSD + 'dateTime')}",
            ]
            if override:
                review.append(f"<{submission.iri}> <{ZIT}fourEyesOverride> true")
            updates = [self._set_status(submission, "published", review)]
            provenance = [
                f"<{submission.iri}> a <{PROV}Entity>",
                f"<{submission.iri}> <{PROV}wasAttributedTo> <{submission.organisation}>",
                f"<{submission.iri}> <{PROV}generatedAtTime> {_lit(submission.created, XSD + 'dateTime')}",
                f"<{submission.iri}> <{ZIT}submissionGraph> <{submission.graph}>",
                f"<{submission.iri}> <{ZIT}version> {_lit(str(submission.version), XSD + 'integer')}",
            ]
            provenance += [f"<{submission.iri}> <{PROV}wasRevisionOf> <{r}>" for r in submission.revision_of]
            updates.append(f"INSERT DATA {{ GRAPH <{PROVENANCE_GRAPH}> {{ {' . '.join(provenance)} }} }}")
            unpublish = []
            for old_iri in submission.revision_of:
                old = self.get(old_iri.rsplit("/", 1)[-1])
                if old.organisation != submission.organisation:
                    raise Conflict(f"this submission would replace {old.iri} of another organisation",
                                   details={"revisionOf": old.iri, "owner": old.organisation})
                if old.status == "published":
                    updates.append(self._set_status(old, "superseded"))
                    unpublish.append(old.graph)
            self.store.publish_graphs([submission.graph, PROVENANCE_GRAPH], unpublish=unpublish,
                                      extra_update=" ;\n".join(updates))
        return self.get(sid)

    def label(self, iri: str, lang: str) -> str:
        """An organisation's name in a language (its IRI when the store has none)."""
        names = {q.object.language: q.object.value for q in self.store.quads(
            ox.NamedNode(iri), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None, None)
            if isinstance(q.object, ox.Literal)}
        return names.get(lang) or names.get("pl") or next(iter(names.values()), iri)

    def confirm(self, sid: str, account: Account) -> Submission:
        """The credited organisation (any of its tokens) confirms the role a submission gives it."""
        with _CLAIMS:
            submission = self.get(sid)
            if account.organisation not in submission.awaiting:
                raise Forbidden("only an organisation this submission credits can confirm it", details={"summary": {
                    "pl": "Potwierdzić zgłoszenie może tylko organizacja, którą wskazuje ono jako autora lub "
                          "realizatora.",
                    "en": "Only an organisation the submission names as originator or implementer can confirm it.",
                }})
            if submission.status != "pending":
                raise Conflict(f"only a pending submission can be confirmed; this one is {submission.status}")
            if account.organisation not in submission.confirmed:
                self.store.update(
                    f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{submission.iri}> <{ZIT}confirmedBy> "
                    f"<{account.organisation}> }} }}")
        return self.get(sid)

    def reject(self, sid: str, account: Account, reason: str) -> Submission:
        if not account.is_reviewer:
            raise Forbidden("rejecting needs a reviewer token")
        if not reason.strip():
            raise BadRequest("a rejection needs a reason", details={"field": "reason"})
        with _CLAIMS:
            submission = self.get(sid)
            if submission.status != "pending":
                raise Conflict(f"only a pending submission can be rejected; this one is {submission.status}")
            update = self._set_status(submission, "rejected",
                                      [f"<{submission.iri}> <{ZIT}rejectionReason> {_lit(reason)}"])
            self.store.update(update)
        return self.get(sid)


def credited_others(triples: Iterable[ox.Triple], organisation: str) -> list[str]:
    """Organisations other than the submitter's that the statements credit as originator or implementer."""
    return sorted({t.object.value for t in triples if t.predicate.value in CREDIT_PROPERTIES
                   and isinstance(t.object, ox.NamedNode) and t.object.value != organisation})


def _to_rdflib(triples: Iterable[ox.Triple]) -> Graph:
    graph = Graph()
    text = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    if text:
        try:
            graph.parse(data=text, format="nt")
        except ParserError as exc:  # a term rdflib cannot hold; pyoxigraph read it, so it is the input's
            raise BadRequest(f"a statement of the submission cannot be validated: {exc}", details={"summary": {
                "pl": "Jednej z trójek zgłoszenia nie da się sprawdzić kształtami SHACL; nic nie zapisano.",
                "en": "One of the statements of the submission cannot be checked by the SHACL shapes; "
                      "nothing was stored.",
            }}) from None
    return graph
