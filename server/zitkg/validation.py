"""SHACL validation: the shapes in shapes/ are the single definition of valid data.

Non-conformance is data (a ``Report``), not an exception; only the HTTP and CLI boundaries turn it into
a 422 or an exit code. Validation checks only the given focus nodes against a context graph, so a
submission's cost does not grow with the whole graph.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyshacl
from rdflib import RDF, RDFS, SH, BNode, Graph, Literal, URIRef
from rdflib.paths import Path as RdfPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from zitkg import resources
from zitkg.bundle import bundled_graphs
from zitkg.sparql.structure import PARSE_LOCK

SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}

# rdflib parses SPARQL with pyparsing, which works out each parse action's arity on its first call by
# trial and error, without a lock: two threads doing that at once left it wrong for the life of the
# process (every later submission then answered 500). Every SPARQL text pySHACL runs is therefore
# parsed here under the one lock that the query guards (zitkg.sparql.structure) parse under too, so no
# two rdflib parses ever overlap in this process; the parsed queries are cached, so the lock is held
# only the first time each text is seen.
# And one pySHACL run at a time. Evaluating one cached parsed query in two threads at once is not
# safe either: in 200 validations run 8 at a time without this lock, 6 to 8 came back with results of
# another run (a valid practice refused by the link-scheme rule). pySHACL is pure Python under the GIL,
# so running them one by one costs no throughput (the same 200 took 21.6 s locked, 23.5-26 s not);
# the price is that a small submission waits for a big one (10,000 statements: about 12 s).
_PYSHACL = threading.Lock()


@dataclass(frozen=True)
class Result:
    focus_node: str
    path: str | None
    value: str | None
    severity: str
    component: str
    shape: str | None
    message_pl: str
    message_en: str

    def to_dict(self) -> dict[str, str | None]:
        return {
            "focusNode": self.focus_node,
            "path": self.path,
            "value": self.value,
            "severity": self.severity,
            "component": self.component,
            "shape": self.shape,
            "message": {"pl": self.message_pl, "en": self.message_en},
        }


@dataclass(frozen=True)
class Report:
    conforms: bool
    results: tuple[Result, ...]
    graph: Graph = field(repr=False, compare=False)

    @property
    def violations(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    def to_dict(self) -> dict[str, object]:
        return {"conforms": self.conforms, "results": [r.to_dict() for r in self.results]}


def parse_files(paths: Iterable[Path]) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    return parse_files(sorted(resources.shapes_dir().glob("*.ttl")))


@lru_cache(maxsize=1)
def vocabulary_graph() -> Graph:
    """Ontology, vocabularies and themes: the classes and concepts every validation needs."""
    files = [f for g in bundled_graphs() if g.name in {"ontology", "vocabularies", "themes"} for f in g.files]
    return parse_files(files)


def bundled_data_graph() -> Graph:
    files = [f for g in bundled_graphs() if g.name in {"programme", "examples"} for f in g.files]
    return parse_files(files)


def _term_text(term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, RdfPath):
        return term.n3()
    if isinstance(term, URIRef | BNode | Literal):
        return term.n3() if isinstance(term, Literal) else str(term)
    return str(term)


def _messages(report: Graph, node: object) -> tuple[str, str]:
    by_lang: dict[str | None, str] = {}
    for msg in report.objects(node, SH.resultMessage):
        if isinstance(msg, Literal):
            by_lang.setdefault(msg.language, str(msg))
    fallback = by_lang.get(None) or next(iter(by_lang.values()), "")
    return by_lang.get("pl", fallback), by_lang.get("en", fallback)


def _path_text(report: Graph, node: object) -> str | None:
    path = report.value(node, SH.resultPath)
    if path is None:
        return None
    if isinstance(path, BNode):
        inverse = report.value(path, SH.inversePath)
        if inverse is not None:
            return f"^{inverse}"
    return _term_text(path)


def report_from_graph(report: Graph) -> Report:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        pl, en = _messages(report, node)
        severity = report.value(node, SH.resultSeverity)
        component = report.value(node, SH.sourceConstraintComponent)
        results.append(
            Result(
                focus_node=str(report.value(node, SH.focusNode)),
                path=_path_text(report, node),
                value=_term_text(report.value(node, SH.value)),
                severity=SEVERITY_NAMES.get(severity, str(severity)),
                component=str(component).rsplit("#", 1)[-1] if component else "",
                shape=_term_text(report.value(node, SH.sourceShape)),
                message_pl=pl,
                message_en=en,
            )
        )
    results.sort(key=lambda r: (r.severity != "Violation", r.focus_node, r.path or "", r.component))
    conforms = not any(r.severity == "Violation" for r in results)
    return Report(conforms=conforms, results=tuple(results), graph=report)


TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
def focus_shapes(shapes: Graph, data: Graph, nodes: set[Node]) -> Graph:
    """A copy of ``shapes`` whose targets are narrowed to those of ``nodes`` they select in ``data``.

    Results for a focus node do not depend on other focus nodes, so validating with these shapes gives
    exactly the results of a full validation whose focus node is in ``nodes``. (pySHACL's own
    ``focus_nodes`` option is not usable: it also filters the value nodes of sh:node, sh:or,
    sh:qualifiedValueShape etc., so for example a label in the wrong language passes.)
    """
    narrowed = Graph()
    narrowed += shapes
    for shape in {shape for predicate in TARGETS for shape in shapes.subjects(predicate, None)}:
        focus: set[Node] = set()
        for cls in shapes.objects(shape, SH.targetClass):
            classes = set(data.transitive_subjects(RDFS.subClassOf, cls))
            focus |= {n for n in nodes if any((n, RDF.type, c) in data for c in classes)}
        for predicate in shapes.objects(shape, SH.targetSubjectsOf):
            focus |= {n for n in nodes if (n, predicate, None) in data}
        for predicate in shapes.objects(shape, SH.targetObjectsOf):
            focus |= {n for n in nodes if (None, predicate, n) in data}
        focus |= set(shapes.objects(shape, SH.targetNode)) & nodes
        for predicate in TARGETS:
            narrowed.remove((shape, predicate, None))
        for node in focus:
            narrowed.add((shape, SH.targetNode, node))
    return narrowed


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching ``template`` with each ``{?var}``/``{$var}`` filled in by anything."""
    parts = re.split(r"\{[?$]\w+\}", template)
    return re.compile("(.*?)".join(re.escape(part) for part in parts), re.DOTALL)


def restore_message_languages(report: Graph, shapes: Graph) -> Graph:
    """Give SPARQL-based result messages back the language of the sh:message they came from.

    pySHACL 0.40 fills ``{?var}`` into a SPARQL constraint's messages and returns plain literals,
    dropping the ``@pl``/``@en`` tags; each message is matched to its template to restore the tag.
    """
    for result in set(report.subjects(SH.sourceConstraintComponent, SH.SPARQLConstraintComponent)):
        constraint = report.value(result, SH.sourceConstraint)
        messages = shapes.objects(constraint, SH.message)
        templates = [m for m in messages if isinstance(m, Literal) and m.language]
        for message in list(report.objects(result, SH.resultMessage)):
            if not isinstance(message, Literal) or message.language:
                continue
            for template in templates:
                if template_pattern(str(template)).fullmatch(str(message)):
                    report.remove((result, SH.resultMessage, message))
                    report.add((result, SH.resultMessage, Literal(str(message), lang=template.language)))
                    break
    return report


@lru_cache(maxsize=256)
def _prepared(text: str) -> Query:
    with PARSE_LOCK:
        return prepareQuery(text)


class _PreparedQueryGraph(Graph):
    """A data graph that parses each distinct SPARQL text once.

    pySHACL runs a SPARQL-based constraint once per focus node with the same text and the focus node
    in initBindings; rdflib would parse that text every time, which was 80% of a full validation.
    """

    def query(self, query_object, *args, **kwargs):  # type: ignore[override]
        if isinstance(query_object, str):  # parsed here, under the lock, never by rdflib unguarded
            if kwargs.get("initNs"):
                with PARSE_LOCK:
                    query_object = prepareQuery(query_object, initNs=kwargs["initNs"])
            else:
                query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


def validate(data: Graph, *, context: Graph | None = None, focus_nodes: Iterable[object] | None = None) -> Report:
    """Validate ``data`` (plus ``context`` for what it links to) against the bundled shapes.

    ``focus_nodes`` limits validation to the nodes that were submitted; the context only answers
    questions about linked resources. Warnings and infos never make a report non-conforming.
    """
    graph = _PreparedQueryGraph()
    for source in (data, vocabulary_graph(), context or Graph()):
        for triple in source:
            graph.add(triple)
    shapes = shapes_graph()
    if focus_nodes is not None:
        # Narrow the targets rather than use pySHACL's focus_nodes, which also filters value nodes.
        focus = {n if isinstance(n, URIRef | BNode) else URIRef(str(n)) for n in focus_nodes}
        if not focus:
            return Report(conforms=True, results=(), graph=Graph())
        shapes = focus_shapes(shapes, graph, focus)
    with _PYSHACL:
        _conforms, report_graph, _text = pyshacl.validate(
            graph, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True
        )
    if not isinstance(report_graph, Graph):  # pySHACL returns a failure object for a broken shape
        raise TypeError(f"validation did not run: {report_graph}")
    return report_from_graph(restore_message_languages(report_graph, shapes))


def described_subjects(data: Graph) -> list[URIRef]:
    return sorted({s for s in data.subjects() if isinstance(s, URIRef)})


# --- values the shapes cannot judge: unknown terms, properties a record may not hold, wrong forms ---------

ZIT = "https://w3id.org/sieci-zit/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
# Statements a submission may make about any record although no shape lists them (docs/ui.md): the type
# itself, and the consent a person's record gives for its contact fields.
IGNORED_PROPERTIES = frozenset({str(RDF.type), ZIT + "consentedField"})
_CLASS_TYPES = {URIRef(OWL + "Class"), RDFS.Class}
_PROPERTY_TYPES = {URIRef(OWL + n) for n in ("ObjectProperty", "DatatypeProperty", "AnnotationProperty")}
_PROPERTY_TYPES.add(RDF.Property)


@lru_cache(maxsize=1)
def known_terms() -> tuple[frozenset[str], frozenset[str]]:
    """The classes and the properties the ontology defines in the project's own namespace."""
    vocab = vocabulary_graph()

    def ours(types: set[URIRef]) -> frozenset[str]:
        return frozenset(str(s) for t in types for s in vocab.subjects(RDF.type, t)
                         if isinstance(s, URIRef) and str(s).startswith(ZIT))

    return ours(_CLASS_TYPES), ours(_PROPERTY_TYPES)


def nearest(term: str, known: Iterable[str]) -> str | None:
    """The known term closest in spelling to ``term`` (case ignored), or None when none is close."""
    import difflib

    by_local = {k[len(ZIT):].lower(): k for k in known}
    found = difflib.get_close_matches(term[len(ZIT):].lower(), list(by_local), n=1, cutoff=0.6)
    if not found:  # a word of the term inside a longer one: Practise -> GoodPractice
        local = term[len(ZIT):].lower()
        found = [k for k in by_local if len(local) >= 5 and (local[:6] in k or k in local)][:1]
    return by_local[found[0]] if found else None


def _label(graph: Graph, node: URIRef, lang: str) -> str | None:
    names = [o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)]
    chosen = [n for n in names if n.language == lang] or names
    return str(chosen[0]) if chosen else None


def term_label(iri: str, lang: str) -> str:
    """A term's label from the ontology (or its local name): what a message names instead of a prefix."""
    return _label(vocabulary_graph(), URIRef(iri), lang) or iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@lru_cache(maxsize=1)
def _shape_index() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, tuple[str, str]]]:
    """From the shapes: the paths allowed per target class, the datatypes per path, and a name per path."""
    shapes = shapes_graph()
    allowed: dict[str, set[str]] = {}
    for shape in set(shapes.subjects(SH.targetClass, None)):
        paths = {str(shapes.value(p, SH.path)) for p in shapes.objects(shape, SH.property)
                 if isinstance(shapes.value(p, SH.path), URIRef)}
        for cls in shapes.objects(shape, SH.targetClass):
            allowed.setdefault(str(cls), set()).update(paths)
    # A property with a shape of its own (sh:targetSubjectsOf) is checked wherever it stands.
    anywhere = {str(p) for p in shapes.objects(None, SH.targetSubjectsOf)}
    for paths in allowed.values():
        paths |= anywhere
    datatypes: dict[str, set[str]] = {}
    names: dict[str, tuple[str, str]] = {}
    for prop in set(shapes.subjects(SH.path, None)):
        path = shapes.value(prop, SH.path)
        if not isinstance(path, URIRef):
            continue
        found = {str(d) for d in shapes.objects(prop, SH.datatype)}
        for holder in [prop, *shapes.objects(prop, SH.node)]:
            for alternatives in shapes.objects(holder, SH["or"]):
                for item in shapes.items(alternatives):
                    found |= {str(d) for d in shapes.objects(item, SH.datatype)}
        if found:
            datatypes.setdefault(str(path), set()).update(found)
        by_lang = {n.language: str(n) for n in shapes.objects(prop, SH.name) if isinstance(n, Literal)}
        if by_lang and str(path) not in names:
            names[str(path)] = (by_lang.get("pl") or next(iter(by_lang.values())),
                                by_lang.get("en") or next(iter(by_lang.values())))
    return ({k: frozenset(v) for k, v in allowed.items()}, {k: frozenset(v) for k, v in datatypes.items()}, names)


def field_name(path: str, lang: str) -> str:
    """The name a form gives a field: the shapes' sh:name, else the ontology's label."""
    names = _shape_index()[2].get(path)
    name = (names[0] if lang == "pl" else names[1]) if names else term_label(path, lang)
    return name[:1].upper() + name[1:]


_DATE = re.compile(r"-?\d{4,}-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?")
_YEAR_MONTH = re.compile(r"-?\d{4,}-(0[1-9]|1[0-2])(Z|[+-]\d{2}:\d{2})?")
_YEAR = re.compile(r"-?\d{4,}(Z|[+-]\d{2}:\d{2})?")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")


def lexical_ok(text: str, datatype: str) -> bool:
    """Whether ``text`` is a valid lexical form of the XSD ``datatype`` (unknown datatypes: yes)."""
    import datetime as dt

    local = datatype[len(XSD):] if datatype.startswith(XSD) else None
    if local == "date":
        match = _DATE.fullmatch(text)
        if not match:
            return False
        try:
            dt.date(2000 if text.startswith("-") else int(text[:4]), int(match.group(1)), int(match.group(2)))
        except ValueError:
            return False
        return True
    if local == "gYearMonth":
        return bool(_YEAR_MONTH.fullmatch(text))
    if local == "gYear":
        return bool(_YEAR.fullmatch(text))
    if local == "decimal":
        return bool(_DECIMAL.fullmatch(text))
    if local in {"integer", "nonNegativeInteger", "positiveInteger"}:
        if not _INTEGER.fullmatch(text):
            return False
        zero = not text.lstrip("+-").strip("0")  # no int(): a 10,000-digit text is no reason for an error
        negative = text.startswith("-") and not zero
        return local == "integer" or (not negative and not (local == "positiveInteger" and zero))
    if local == "boolean":
        return text in {"true", "false", "1", "0"}
    return True


_FORM_HINTS = {
    "date": ("nie jest poprawną datą. Wpisz RRRR-MM-DD, RRRR-MM albo RRRR.",
             "is not a valid date. Enter YYYY-MM-DD, YYYY-MM or YYYY."),
    "number": ("nie jest liczbą. Wpisz liczbę cyframi, z kropką przed częścią ułamkową, np. 1500 albo 1500.50.",
               "is not a number. Enter a number in digits with a point before the fraction, e.g. 1500 or 1500.50."),
    "boolean": ("nie jest odpowiedzią tak/nie. Wpisz true albo false.", "is not a yes/no answer. Enter true or false."),
}


def _form_kind(datatypes: frozenset[str]) -> str:
    if datatypes & {XSD + "date", XSD + "gYear", XSD + "gYearMonth"}:
        return "date"
    if datatypes == {XSD + "boolean"}:
        return "boolean"
    return "number"


def _text_key(terms: tuple[Node, ...]) -> tuple[str, ...]:
    """Sort by text: rdflib cannot order literals of some different datatypes (a TypeError)."""
    return tuple(t.n3() if isinstance(t, Literal) else str(t) for t in terms)


def value_results(data: Graph, focus: set[Node]) -> tuple[list[Result], set[tuple[Node, Node, Node]]]:
    """Results the shapes give in validator words or not at all, and the statements they concern.

    - a literal whose text is no valid form of any datatype its field allows ("31.02.2025" as a date): one
      plain message; the statement is left out of the SHACL run so that no follow-on message (a count, a
      comparison with the other date) is added to it;
    - a class or property of the project's namespace that the ontology does not define, with the nearest
      known term;
    - a property that the shapes do not give the record's class (closed shapes for submissions; persons
      excepted: what is not public about them goes to the private graph, docs/security.md).
    """
    from zitkg.privacy import person_policy

    classes, properties = known_terms()
    allowed, datatypes, _names = _shape_index()
    persons = person_policy().person_classes
    vocab = vocabulary_graph()
    results: list[Result] = []
    withheld: set[tuple[Node, Node, Node]] = set()

    def add(s: Node, p: str | None, o: object, component: str, pl: str, en: str) -> None:
        results.append(Result(focus_node=str(s), path=p, value=_term_text(o), severity="Violation",
                              component=component, shape=None, message_pl=pl, message_en=en))

    for s, p, o in sorted(data, key=_text_key):
        if s not in focus:
            continue
        pred = str(p)
        if p == RDF.type and str(o).startswith(ZIT) and str(o) not in classes:
            near = nearest(str(o), classes)
            local = str(o)[len(ZIT):]
            add(s, pred, o, "UnknownClass",
                f"Nie ma typu rekordu zit:{local}." + (f" Czy chodziło o zit:{near[len(ZIT):]}?" if near else ""),
                f"There is no record type zit:{local}." + (f" Did you mean zit:{near[len(ZIT):]}?" if near else ""))
            withheld.add((s, p, o))
            continue
        if pred.startswith(ZIT) and pred not in properties:
            near = nearest(pred, properties)
            local = pred[len(ZIT):]
            add(s, pred, o, "UnknownProperty",
                f"Nie ma pola zit:{local}." + (f" Czy chodziło o zit:{near[len(ZIT):]} ({term_label(near, 'pl')})?"
                                              if near else ""),
                f"There is no field zit:{local}." + (f" Did you mean zit:{near[len(ZIT):]} ({term_label(near, 'en')})?"
                                                    if near else ""))
            withheld.add((s, p, o))
            continue
        if isinstance(o, Literal) and pred in datatypes and not any(
            lexical_ok(str(o), d) for d in datatypes[pred]
        ):
            kind = _form_kind(datatypes[pred])
            pl, en = _FORM_HINTS[kind]
            add(s, pred, o, "WrongForm", f"{field_name(pred, 'pl')}: {o} {pl}", f"{field_name(pred, 'en')}: {o} {en}")
            withheld.add((s, p, o))
    for s in sorted(focus, key=str):
        types = {str(t) for t in data.objects(s, RDF.type)}
        supers = {str(c) for t in types for c in vocab.transitive_objects(URIRef(t), RDFS.subClassOf)} | types
        if not types or supers & persons or not (supers & set(allowed)):
            continue
        permitted = set(IGNORED_PROPERTIES).union(*(allowed.get(c, frozenset()) for c in supers))
        shown = next((t for t in sorted(types) if t in allowed), sorted(types)[0])
        for p, o in sorted(data.predicate_objects(s), key=_text_key):
            pred = str(p)
            if pred in permitted or (s, p, o) in withheld:
                continue
            add(s, pred, o, "NotAllowedHere",
                f"Pole „{term_label(pred, 'pl')}” ({pred}) nie należy do rekordu typu „{term_label(shown, 'pl')}”: "
                "nie zostałoby zapisane. Usuń je albo wybierz pole ze słownika danych (/codebook).",
                f"The field “{term_label(pred, 'en')}” ({pred}) does not belong to a record of type "
                f"“{term_label(shown, 'en')}”: it would not be stored. Remove it or choose a field from the "
                "codebook (/codebook).")
            withheld.add((s, p, o))
    return results, withheld


def validate_submission(data: Graph, *, context: Graph | None = None, focus_nodes: Iterable[object]) -> Report:
    """``validate`` for a submission: every statement is checked or refused, none is passed over.

    The statements ``value_results`` refuses are left out of the SHACL run and the shapes' results about
    the same record and field are dropped, so each wrong value gets one message, in plain words.
    """
    focus = {n if isinstance(n, URIRef | BNode) else URIRef(str(n)) for n in focus_nodes}
    extra, withheld = value_results(data, focus)
    checked = Graph()
    for triple in data:
        if triple not in withheld:
            checked.add(triple)
    report = validate(checked, context=context, focus_nodes=focus)
    if not extra:
        return report
    spoken = {(r.focus_node, r.path) for r in extra}
    kept = [r for r in report.results if (r.focus_node, r.path) not in spoken]
    graph = report.graph
    root = next(iter(graph.subjects(RDF.type, SH.ValidationReport)), None)
    for r in extra:
        node = BNode()
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, URIRef(r.focus_node)))
        if r.path:
            graph.add((node, SH.resultPath, URIRef(r.path)))
        graph.add((node, SH.resultSeverity, SH.Violation))
        graph.add((node, SH.sourceConstraintComponent, URIRef(ZIT + r.component)))
        graph.add((node, SH.resultMessage, Literal(r.message_pl, lang="pl")))
        graph.add((node, SH.resultMessage, Literal(r.message_en, lang="en")))
        if root is not None:
            graph.add((root, SH.result, node))
    if root is not None:
        graph.set((root, SH.conforms, Literal(False)))
    results = sorted([*extra, *kept], key=lambda r: (r.severity != "Violation", r.focus_node, r.path or "",
                                                       r.component))
    return Report(conforms=False, results=tuple(results), graph=graph)
