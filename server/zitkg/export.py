"""Exports: the published graphs as a dated release folder of dumps, tables, a graph file and metadata.

A release holds the published data as Turtle, gzipped N-Triples, JSON-LD and TriG (named graphs kept),
one CSV per main class with a CSV on the Web metadata file, a GraphML file for Gephi, the VoID
description, the DCAT-AP catalog (3.0.1 and 2.1.1), a bilingual changelog against the previous release
and SHA256SUMS. Only published graphs are read, so unpublished submissions and contact data without
consent (kept in unpublished "/private" graphs, see zitkg.privacy) cannot reach a file.

Releases are deterministic: blank nodes get RDFC-1.0 canonical labels, triples are written sorted, gzip
gets mtime 0, and the only date in a file is the release date passed in. The same data (and the same
publication settings and previous release) gives byte-identical files. Nothing here knows about Flask.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from zitkg import catalog
from zitkg.catalog import CATALOG_GRAPH, PublishConfig
from zitkg.store import ZIT, GraphStore
from zitkg.tabular import defuse, point_of

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHANGELOG = "CHANGELOG.md"
KEEP_RELEASES = 10  # release folders the server keeps beside the store
LIST_LIMIT = 50  # resources listed by name in the changelog, per list

RDF_TYPE = catalog.RDF + "type"
RDFS_LABEL = catalog.RDFS + "label"
SUBCLASS = catalog.RDFS + "subClassOf"
SKOS = catalog.SKOS
SCHEMA = "https://schema.org/"
DCTERMS = catalog.DCT
ORG = "http://www.w3.org/ns/org#"
FOAF = catalog.FOAF
GEO = "http://www.opengis.net/ont/geosparql#"
TIME = "http://www.w3.org/2006/time#"
XSD = catalog.XSD

DUMP_PREFIXES = {
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "geo": GEO,
    "org": ORG,
    "owl": catalog.OWL,
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": catalog.RDF,
    "rdfs": catalog.RDFS,
    "schema": SCHEMA,
    "skos": SKOS,
    "time": TIME,
    "xsd": XSD,
    "zit": ZIT,
}


# --- the published data, canonical ---------------------------------------------------------------------


def _term_key(term: object) -> str:
    return str(term)


@dataclass(frozen=True)
class Snapshot:
    """The published graphs at one moment: quads with canonical blank nodes, sorted; and their hash."""

    quads: tuple[ox.Quad, ...]
    version: int
    data_hash: str
    triples: tuple[ox.Triple, ...] = field(repr=False)  # the union of the graphs, sorted

    @property
    def graphs(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for quad in self.quads:
            counts[quad.graph_name.value] += 1
        return dict(sorted(counts.items()))


def snapshot(store: GraphStore, exclude: Iterable[str] = (CATALOG_GRAPH,)) -> Snapshot:
    """Read the published graphs (minus ``exclude``) in one consistent step and canonicalise them.

    The catalog graph is left out: it describes the release files, so it cannot be part of them.
    """
    excluded = set(exclude)
    with store.lock:
        version = store.version
        graphs = [g for g in store.published_graphs() if g not in excluded]
        dataset = ox.Dataset(q for g in graphs for q in _graph_quads(store, g))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    quads = tuple(sorted(dataset, key=lambda q: (q.graph_name.value, str(q.subject), str(q.predicate),
                                                 str(q.object))))
    triples = tuple(sorted({q.triple for q in quads}, key=lambda t: (str(t.subject), str(t.predicate),
                                                                     str(t.object))))
    nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) if quads else b""
    data_hash = hashlib.sha256(b"".join(sorted(nquads.splitlines(keepends=True)))).hexdigest()
    return Snapshot(quads=quads, version=version, data_hash=data_hash, triples=triples)


def _graph_quads(store: GraphStore, graph: str) -> Iterable[ox.Quad]:
    try:
        read = store.read_store()
    except NotImplementedError:  # a remote store has no local copy
        return store.quads(graph=ox.NamedNode(graph))
    return read.quads_for_pattern(None, None, None, ox.NamedNode(graph))


def release_key(snap: Snapshot, config: PublishConfig) -> str:
    """What a release folder is keyed by: the data and the publication settings its files depend on."""
    return hashlib.sha256(f"{snap.data_hash}\n{config.fingerprint()}".encode()).hexdigest()


# --- an index over the union graph, for the tables and the graph file ---------------------------------------


class _Index:
    def __init__(self, triples: Sequence[ox.Triple]) -> None:
        props: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        children: dict[str, set[str]] = defaultdict(set)
        for t in triples:
            props[t.subject][t.predicate.value].append(t.object)
            if t.predicate.value == SUBCLASS and isinstance(t.object, ox.NamedNode):
                children[t.object.value].add(t.subject.value)
        self.props = props
        self._children = children
        self._types: dict[str, list[ox.NamedNode]] = defaultdict(list)
        for subject, by_predicate in props.items():
            if isinstance(subject, ox.NamedNode):
                for cls in by_predicate.get(RDF_TYPE, ()):
                    self._types[cls.value].append(subject)

    def subclasses(self, cls: str) -> set[str]:
        seen, todo = {cls}, [cls]
        while todo:
            for child in self._children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def instances(self, cls: str) -> list[ox.NamedNode]:
        found = {s for c in self.subclasses(cls) for s in self._types.get(c, ())}
        return sorted(found, key=lambda s: s.value)

    def values(self, subject: Any, path: Sequence[str]) -> list[Any]:
        current = [subject]
        for predicate in path:
            current = [o for s in current for o in self.props.get(s, {}).get(predicate, ())]
        return sorted(set(current), key=_term_key)

    def label(self, term: Any, lang: str) -> str:
        for predicate in (RDFS_LABEL, SKOS + "prefLabel"):
            for value in self.props.get(term, {}).get(predicate, ()):
                if isinstance(value, ox.Literal) and value.language == lang:
                    return value.value
        names = self.props.get(term, {}).get(FOAF + "name", ())
        return names[0].value if names else ""


# --- CSV tables and their CSV on the Web metadata --------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    path: tuple[str, ...]  # () is the row's own IRI
    pl: str
    en: str
    lang: str | None = None  # keep only literals in this language
    labels: bool = False  # IRI values get <name>_label_pl and <name>_label_en columns
    transform: str | None = None  # "longitude" / "latitude" of a WKT point


@dataclass(frozen=True)
class Table:
    name: str
    cls: str
    pl: str
    en: str
    columns: tuple[Column, ...]


def _c(name: str, prop: str | tuple[str, ...], pl: str, en: str, **kw: Any) -> Column:
    return Column(name, (prop,) if isinstance(prop, str) else prop, pl, en, **kw)


_IRI = Column("iri", (), "IRI", "IRI")
_LABELS = (
    _c("label_pl", RDFS_LABEL, "nazwa (pl)", "name (Polish)", lang="pl"),
    _c("label_en", RDFS_LABEL, "nazwa (en)", "name (English)", lang="en"),
)
_DESCRIPTIONS = (
    _c("description_pl", DCTERMS + "description", "opis (pl)", "description (Polish)", lang="pl"),
    _c("description_en", DCTERMS + "description", "opis (en)", "description (English)", lang="en"),
)
_START = _c("start_date", SCHEMA + "startDate", "data rozpoczęcia", "start date")
_END = _c("end_date", SCHEMA + "endDate", "data zakończenia", "end date")
_EXAMPLE = _c("is_example", ZIT + "isExample", "rekord przykładowy", "example record")
_SOURCE = _c("source", DCTERMS + "source", "źródło", "source", labels=True)

TABLES: tuple[Table, ...] = (
    Table("practices", ZIT + "GoodPractice", "Dobre praktyki", "Good practices", (
        _IRI, *_LABELS, *_DESCRIPTIONS,
        _c("theme", ZIT + "theme", "obszar tematyczny", "theme", labels=True),
        _c("status", ZIT + "lifecycleStatus", "status", "status", labels=True),
        _c("originator", ZIT + "originator", "autor praktyki (związek ZIT)", "originator (ZIT association)",
           labels=True),
        _c("network", ZIT + "inNetwork", "sieć współpracy", "cooperation network", labels=True),
        _c("horizontal_principle", ZIT + "horizontalPrinciple", "zasada horyzontalna", "horizontal principle",
           labels=True),
        _c("created", DCTERMS + "created", "data utworzenia", "created"),
        _c("funded_project", ZIT + "fundedProject", "finansowany projekt", "funded project"),
        _EXAMPLE, _SOURCE,
    )),
    Table("pilots", ZIT + "Pilot", "Pilotaże", "Pilots", (
        _IRI, *_LABELS, *_DESCRIPTIONS,
        _c("practice", ZIT + "pilotOf", "pilotowana praktyka", "piloted practice", labels=True),
        _c("mof", ZIT + "pilotLocation", "miejski obszar funkcjonalny", "functional urban area", labels=True),
        _c("implemented_by", ZIT + "implementedBy", "realizator", "implemented by", labels=True),
        _c("network", ZIT + "inNetwork", "sieć współpracy", "cooperation network", labels=True),
        _START, _END,
        _c("budget", (ZIT + "budget", SCHEMA + "value"), "budżet", "budget"),
        _c("currency", (ZIT + "budget", SCHEMA + "currency"), "waluta", "currency"),
        _c("funded_project", ZIT + "fundedProject", "finansowany projekt", "funded project"),
        _EXAMPLE, _SOURCE,
    )),
    Table("organisations", ZIT + "ZITAssociation", "Związki ZIT", "ZIT associations", (
        _IRI,
        _c("type", RDF_TYPE, "rodzaj", "type", labels=True),
        *_LABELS,
        _c("alt_label_pl", SKOS + "altLabel", "nazwa skrócona (pl)", "short name (Polish)", lang="pl"),
        _c("alt_label_en", SKOS + "altLabel", "nazwa skrócona (en)", "short name (English)", lang="en"),
        *_DESCRIPTIONS,
        _c("seat", (ORG + "hasPrimarySite", ZIT + "municipality"), "siedziba (gmina)", "seat (municipality)",
           labels=True),
        _c("seat_terc", (ORG + "hasPrimarySite", ZIT + "municipality", ZIT + "tercCode"), "kod TERC siedziby",
           "TERC code of the seat"),
        _c("voivodeship", ZIT + "inVoivodeship", "województwo", "voivodeship", labels=True),
        _c("area", ZIT + "coordinatesArea", "koordynowany MOF", "coordinated functional urban area",
           labels=True),
        _c("active_since", ZIT + "activeSincePerspective", "działa od perspektywy",
           "active since perspective", labels=True),
        _c("leader_municipality", ZIT + "leaderMunicipality", "gmina wiodąca", "leader municipality",
           labels=True),
        _SOURCE,
    )),
    Table("networks", ZIT + "CooperationNetwork", "Sieci współpracy", "Cooperation networks", (
        _IRI, *_LABELS,
        _c("alt_label_pl", SKOS + "altLabel", "nazwa skrócona (pl)", "short name (Polish)", lang="pl"),
        *_DESCRIPTIONS,
        _c("theme", ZIT + "theme", "obszar tematyczny", "theme", labels=True),
        _c("programme", ZIT + "inProgramme", "program", "programme", labels=True),
        _c("budget", (ZIT + "budget", SCHEMA + "value"), "budżet", "budget"),
        _c("currency", (ZIT + "budget", SCHEMA + "currency"), "waluta", "currency"),
        _START, _END, _SOURCE,
    )),
    Table("memberships", ZIT + "NetworkMembership", "Członkostwa w sieciach", "Network memberships", (
        _IRI, *_LABELS,
        _c("network", ORG + "organization", "sieć współpracy", "cooperation network", labels=True),
        _c("member", ORG + "member", "członek (związek ZIT)", "member (ZIT association)", labels=True),
        _c("role", ORG + "role", "rola", "role", labels=True),
        _START, _END, _SOURCE,
    )),
    Table("experts", ZIT + "Expert", "Eksperci", "Experts", (
        _IRI,
        _c("name", FOAF + "name", "imię i nazwisko", "name"),
        *_DESCRIPTIONS,
        _c("competence", ZIT + "competence", "kompetencje", "competences", labels=True),
        _c("affiliation", SCHEMA + "affiliation", "afiliacja", "affiliation"),
        _c("email", SCHEMA + "email", "e-mail (za zgodą)", "e-mail (with consent)"),
        _c("telephone", SCHEMA + "telephone", "telefon (za zgodą)", "telephone (with consent)"),
        _EXAMPLE, _SOURCE,
    )),
    Table("mofs", ZIT + "FunctionalUrbanArea", "Miejskie obszary funkcjonalne", "Functional urban areas", (
        _IRI, *_LABELS, *_DESCRIPTIONS,
        _c("voivodeship", ZIT + "inVoivodeship", "województwo", "voivodeship", labels=True),
        _c("core_municipality", ZIT + "coreMunicipality", "gmina rdzeniowa", "core municipality",
           labels=True),
        _c("municipalities", ZIT + "includesMunicipality", "gminy", "municipalities", labels=True),
        _c("wkt", (GEO + "hasGeometry", GEO + "asWKT"), "geometria (WKT)", "geometry (WKT)"),
        _c("longitude", (GEO + "hasGeometry", GEO + "asWKT"), "długość geograficzna", "longitude",
           transform="longitude"),
        _c("latitude", (GEO + "hasGeometry", GEO + "asWKT"), "szerokość geograficzna", "latitude",
           transform="latitude"),
        _EXAMPLE, _SOURCE,
    )),
)
SEPARATOR = "|"
_CSVW_TYPES = {
    XSD + name: name
    for name in ("date", "dateTime", "gYear", "gYearMonth", "decimal", "integer", "nonNegativeInteger",
                 "boolean", "string", "double", "anyURI")
}


def _transformed(values: list[Any], transform: str | None) -> list[Any]:
    if transform is None:
        return values
    index = 0 if transform == "longitude" else 1
    points = [point_of(v) for v in values]
    return [ox.Literal(repr(p[index]), datatype=ox.NamedNode(XSD + "decimal")) for p in points if p]


def _datatype(terms: list[Any]) -> str:
    kinds = set()
    for term in terms:
        if isinstance(term, ox.NamedNode):
            kinds.add("anyURI")
        elif isinstance(term, ox.Literal):
            kinds.add(_CSVW_TYPES.get(term.datatype.value, "string") if not term.language else "string")
        else:
            kinds.add("string")
    return kinds.pop() if len(kinds) == 1 else "string"


def _table(index: _Index, table: Table) -> tuple[bytes, list[dict[str, Any]]]:
    """One table as CSV bytes and its CSVW column descriptions."""
    subjects = index.instances(table.cls)
    header: list[str] = []
    columns: list[dict[str, Any]] = []
    cells: list[list[str]] = [[] for _ in subjects]
    for column in table.columns:
        seen: list[Any] = []
        for row, subject in zip(cells, subjects, strict=True):
            values = [subject] if not column.path else index.values(subject, column.path)
            if column.lang:
                values = [v for v in values if isinstance(v, ox.Literal) and v.language == column.lang]
            values = _transformed(values, column.transform)
            seen += values
            row.append(SEPARATOR.join(v.value for v in values))
            if column.labels:
                iris = [v for v in values if isinstance(v, ox.NamedNode)]
                row += [SEPARATOR.join(index.label(v, lang) for v in iris) for lang in ("pl", "en")]
        header.append(column.name)
        columns.append(_csvw_column(column, seen))
        if column.labels:
            for lang, pl, en in (("pl", "nazwa (pl)", "name (Polish)"),
                                 ("en", "nazwa (en)", "name (English)")):
                name = f"{column.name}_label_{lang}"
                header.append(name)
                columns.append({"name": name, "titles": {"und": [name], "pl": [f"{column.pl}: {pl}"],
                                                         "en": [f"{column.en}: {en}"]},
                                "datatype": "string", "lang": lang, "separator": SEPARATOR,
                                "suppressOutput": True})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in cells:
        writer.writerow([defuse(cell) for cell in row])
    return buffer.getvalue().encode("utf-8"), columns


def _csvw_column(column: Column, values: list[Any]) -> dict[str, Any]:
    description: dict[str, Any] = {
        "name": column.name,
        "titles": {"und": [column.name], "pl": [column.pl], "en": [column.en]},
        "datatype": "anyURI" if not column.path else _datatype(values),
    }
    if column.lang:
        description["lang"] = column.lang
    if column.path:
        description["separator"] = SEPARATOR
    if not column.path:
        description["required"] = True
        description["suppressOutput"] = True  # the row's IRI is the subject (aboutUrl), not a value
    elif len(column.path) == 1 and not column.transform:
        description["propertyUrl"] = column.path[0]
        if description["datatype"] == "anyURI":
            description["valueUrl"] = "{+" + column.name + "}"
    else:
        description["suppressOutput"] = True  # derived (a path or a computed value), not a property
    return description


def _csvw(tables: list[tuple[Table, list[dict[str, Any]]]], day: str) -> bytes:
    doc = {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "dc:title": [{"@value": "Tabele grafu wiedzy zitkg", "@language": "pl"},
                     {"@value": "Tables of the zitkg knowledge graph", "@language": "en"}],
        "dc:license": {"@id": catalog.CC_BY},
        "dc:issued": {"@value": day, "@type": "xsd:date"},
        "dialect": {"encoding": "utf-8", "lineTerminators": ["\r\n"], "header": True, "delimiter": ","},
        "tables": [
            {
                "url": f"{table.name}.csv",
                "dc:title": [{"@value": table.pl, "@language": "pl"},
                             {"@value": table.en, "@language": "en"}],
                "tableSchema": {"columns": columns, "primaryKey": "iri", "aboutUrl": "{+iri}"},
            }
            for table, columns in tables
        ],
        "rdfs:comment": [
            {"@value": "Wartości wielokrotne rozdziela znak '|'. Komórki zaczynające się od =, +, -, @ "
                       "poprzedza apostrof (ochrona przed formułami w arkuszach).", "@language": "pl"},
            {"@value": "Multiple values are separated by '|'. Cells starting with =, +, -, @ are prefixed "
                       "with an apostrophe (protection against spreadsheet formulas).", "@language": "en"},
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


# --- GraphML for Gephi ----------------------------------------------------------------------------------

NODE_KINDS = (
    ("organisation", ZIT + "ZITAssociation"),
    ("network", ZIT + "CooperationNetwork"),
    ("practice", ZIT + "GoodPractice"),
    ("mof", ZIT + "FunctionalUrbanArea"),
    ("expert", ZIT + "Expert"),
)
_NODE_KEYS = (("label", "label"), ("label_en", "label_en"), ("kind", "kind"), ("iri", "iri"))
_EDGE_KEYS = (("e_kind", "kind"), ("e_label", "label"), ("e_iri", "via"), ("e_role", "role"))


def _graphml(index: _Index, themes_scheme: str) -> bytes:
    nodes: dict[str, str] = {}
    for kind, cls in NODE_KINDS:
        for subject in index.instances(cls):
            nodes.setdefault(subject.value, kind)
    for subject, by_predicate in index.props.items():
        if isinstance(subject, ox.NamedNode) and any(
            s.value == themes_scheme for s in by_predicate.get(SKOS + "inScheme", ())
        ):
            nodes.setdefault(subject.value, "theme")
    edges: set[tuple[str, str, str, str, str, str]] = set()  # kind, source, target, via, label, role

    def link(kind: str, source: Any, target: Any, via: Any = None, role: Any = None) -> None:
        if source.value in nodes and target.value in nodes:
            edges.add((kind, source.value, target.value, via.value if via is not None else "",
                       index.label(via, "pl") if via is not None else "",
                       index.label(role, "pl") if role is not None else ""))

    for membership in index.instances(ZIT + "NetworkMembership"):
        for member in index.values(membership, (ORG + "member",)):
            for network in index.values(membership, (ORG + "organization",)):
                roles = index.values(membership, (ORG + "role",))
                link("membership", member, network, membership, roles[0] if roles else None)
    for pilot in index.instances(ZIT + "Pilot"):
        for practice in index.values(pilot, (ZIT + "pilotOf",)):
            for mof in index.values(pilot, (ZIT + "pilotLocation",)):
                link("pilot", practice, mof, pilot)
            for organisation in index.values(pilot, (ZIT + "implementedBy",)):
                link("pilot-implementation", organisation, practice, pilot)
    for practice in index.instances(ZIT + "GoodPractice"):
        for organisation in index.values(practice, (ZIT + "originator",)):
            link("originator", organisation, practice)
    for support in index.instances(ZIT + "ExpertSupport"):
        for expert in index.values(support, (ZIT + "supportBy",)):
            for target in index.values(support, (ZIT + "supportFor",)):
                # A pilot is not a node: support for a pilot links the expert to the piloted practice.
                targets = [target] if target.value in nodes else index.values(target, (ZIT + "pilotOf",))
                for node in targets:
                    link("support", expert, node, support)
    for subject, kind in sorted(nodes.items()):
        iri = ox.NamedNode(subject)
        if kind in {"practice", "network"}:
            for theme in index.values(iri, (ZIT + "theme",)):
                link("theme", iri, theme)
        elif kind == "expert":
            for theme in index.values(iri, (ZIT + "competence",)):
                link("competence", iri, theme)
        elif kind == "theme":
            for broader in index.values(iri, (SKOS + "broader",)):
                link("broader", iri, broader)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
    ]
    out += [f'  <key id="{k}" for="node" attr.name="{n}" attr.type="string"/>' for k, n in _NODE_KEYS]
    out += [f'  <key id="{k}" for="edge" attr.name="{n}" attr.type="string"/>' for k, n in _EDGE_KEYS]
    out.append('  <graph id="zitkg" edgedefault="directed">')
    for subject, kind in sorted(nodes.items()):
        term = ox.NamedNode(subject)
        data = (("label", index.label(term, "pl") or subject), ("label_en", index.label(term, "en")),
                ("kind", kind), ("iri", subject))
        out.append(f"    <node id={quoteattr(subject)}>" + "".join(
            f'<data key="{k}">{escape(v)}</data>' for k, v in data if v) + "</node>")
    for n, (kind, source, target, via, label, role) in enumerate(sorted(edges)):
        data = (("e_kind", kind), ("e_label", label), ("e_iri", via), ("e_role", role))
        out.append(f'    <edge id="e{n}" source={quoteattr(source)} target={quoteattr(target)}>' + "".join(
            f'<data key="{k}">{escape(v)}</data>' for k, v in data if v) + "</edge>")
    out += ["  </graph>", "</graphml>", ""]
    return "\n".join(out).encode("utf-8")


# --- statistics for VoID and DCAT ---------------------------------------------------------------------------

EXAMPLE_CLASSES = (
    ZIT + "Programme", ZIT + "CooperationNetwork", ZIT + "ZITAssociation", ZIT + "GoodPractice",
    ZIT + "Pilot", ZIT + "FunctionalUrbanArea", ZIT + "Expert",
)


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def _statistics(snap: Snapshot, index: _Index, base_iri: str) -> dict[str, Any]:
    triples = snap.triples
    subjects = {t.subject for t in triples}
    classes: dict[str, set[Any]] = defaultdict(set)
    for t in triples:
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            classes[t.object.value].add(t.subject)
    vocabularies = {_namespace(t.predicate.value) for t in triples} | {_namespace(c) for c in classes}
    examples = []
    for cls in EXAMPLE_CLASSES:
        instances = index.instances(cls)
        if instances:
            examples.append(instances[0].value)
    themes_scheme = base_iri + "id/scheme/themes"
    themes = [
        {"iri": s.value, "pl": index.label(s, "pl"), "en": index.label(s, "en")}
        for s in sorted((s for s, p in index.props.items() if isinstance(s, ox.NamedNode) and any(
            o.value == themes_scheme for o in p.get(SKOS + "topConceptOf", ()))), key=lambda s: s.value)
    ]
    return {
        "triples": len(triples),
        "quads": len(snap.quads),
        "graphs": snap.graphs,
        "entities": len(_entities(subjects, base_iri)),
        "distinct_subjects": len(subjects),
        "distinct_objects": len({t.object for t in triples}),
        "properties": len({t.predicate for t in triples}),
        "classes": len(classes),
        "class_partitions": {c: len(s) for c, s in sorted(classes.items())},
        "vocabularies": sorted(v for v in vocabularies if v and not v.startswith(base_iri + "id/")),
        "examples": examples,
        "themes": themes,
        "temporal": _temporal(index),
    }


def _entities(subjects: Iterable[Any], base_iri: str) -> list[str]:
    """The IRIs minted by this service (``{base}id/...``) among ``subjects``, sorted."""
    prefix = base_iri + "id/"
    return sorted({s.value for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(prefix)})


def _temporal(index: _Index) -> dict[str, str]:
    """The programme's period: its start (or first milestone) to its end, where the data gives full dates."""
    starts, ends = [], []
    for programme in index.instances(ZIT + "Programme"):
        starts += index.values(programme, (SCHEMA + "startDate",))
        starts += index.values(programme, (ZIT + "milestone", TIME + "inXSDDate"))
        ends += index.values(programme, (SCHEMA + "endDate",))
    full = XSD + "date"
    start = sorted(v.value for v in starts if isinstance(v, ox.Literal) and v.datatype.value == full)
    end = sorted(v.value for v in ends if isinstance(v, ox.Literal) and v.datatype.value == full)
    period = {}
    if start:
        period["start"] = start[0]
    if end:
        period["end"] = end[-1]
    return period


# --- files of a release ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    name: str
    media_type: str  # IANA media type of the content
    file_type: str  # EU file-type authority table code
    pl: str
    en: str
    compress: str | None = None  # IANA media type of the compression


DUMPS = (
    FileSpec("zitkg.ttl", "text/turtle", "RDF_TURTLE", "Opublikowany graf (Turtle)",
             "The published graph (Turtle)"),
    FileSpec("zitkg.nt.gz", "application/n-triples", "RDF_N_TRIPLES", "Opublikowany graf (N-Triples, gzip)",
             "The published graph (N-Triples, gzip)", compress="application/gzip"),
    FileSpec("zitkg.jsonld", "application/ld+json", "JSON_LD", "Opublikowany graf (JSON-LD)",
             "The published graph (JSON-LD)"),
    FileSpec("zitkg.trig", "application/trig", "RDF_TRIG", "Opublikowane grafy nazwane (TriG)",
             "The published named graphs (TriG)"),
)
GRAPHML = FileSpec("zitkg.graphml", "application/xml", "XML", "Sieć powiązań dla Gephi (GraphML)",
                   "Relationship network for Gephi (GraphML)")
CSVW = FileSpec("csv-metadata.json", "application/csvm+json", "JSON",
                "Opis kolumn tabel CSV (CSV on the Web)",
                "Column descriptions of the CSV tables (CSV on the Web)")
VOID_FILE = FileSpec("void.ttl", "text/turtle", "RDF_TURTLE", "Opis VoID zbioru danych",
                     "VoID description of the dataset")
CHANGELOG_FILE = FileSpec(CHANGELOG, "text/markdown", "TXT", "Zmiany względem poprzedniego wydania",
                          "Changes since the previous release")
CATALOG_FILES = {"catalog.ttl": "3.0.1", "catalog-dcat-ap-2.1.1.ttl": "2.1.1"}
# Content-Type when served: the bytes of a .gz file are gzip, whatever they hold.
SERVED_AS = {"zitkg.nt.gz": "application/gzip", SUMS: "text/plain", MANIFEST: "application/json"}


def media_type_of(name: str, manifest: dict[str, Any]) -> str:
    """The Content-Type a release file is served with."""
    if name in SERVED_AS:
        return SERVED_AS[name]
    if name in CATALOG_FILES:
        return "text/turtle"
    for entry in manifest["files"]:
        if entry["name"] == name:
            return entry["media_type"]
    return "application/octet-stream"


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as fh:
        fh.write(data)
    return buffer.getvalue()


def _ntriples(triples: Sequence[ox.Triple]) -> bytes:
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""
    return b"".join(sorted(text.splitlines(keepends=True)))


def _dump(spec: FileSpec, snap: Snapshot, nt: bytes) -> bytes:
    if spec.name.endswith(".nt.gz"):
        return _gzip(nt)
    if spec.name.endswith(".trig"):
        return ox.serialize(snap.quads, format=ox.RdfFormat.TRIG, prefixes=DUMP_PREFIXES)
    if spec.name.endswith(".jsonld"):
        return ox.serialize(snap.triples, format=ox.RdfFormat.JSON_LD) if snap.triples else b"[]"
    return ox.serialize(snap.triples, format=ox.RdfFormat.TURTLE, prefixes=DUMP_PREFIXES)


# --- changes against the previous release ----------------------------------------------------------------


def _subject(line: bytes) -> str | None:
    if not line.startswith(b"<"):
        return None  # blank nodes are not resources with a name
    return line[1: line.index(b">")].decode("utf-8")


def _changes(previous: Release | None, nt: bytes) -> dict[str, Any] | None:
    if previous is None:
        return None
    try:
        before = set(gzip.decompress((previous.folder / "zitkg.nt.gz").read_bytes()).splitlines())
    except (OSError, EOFError):
        return None
    now = set(nt.splitlines())
    added, removed = now - before, before - now
    subjects_before = {s for s in map(_subject, before) if s}
    subjects_now = {s for s in map(_subject, now) if s}
    touched = {s for s in map(_subject, added | removed) if s}
    return {
        "previous": previous.name,
        "previous_date": previous.date,
        "added": len(added),
        "removed": len(removed),
        "subjects_added": sorted(subjects_now - subjects_before),
        "subjects_removed": sorted(subjects_before - subjects_now),
        "subjects_changed": len(touched & subjects_now & subjects_before),
    }


_CHANGELOG_TEXT = {
    "pl": {
        "title": "Wydanie {release} ({date})",
        "data": "Opublikowane dane: {triples} trójek w {graphs} grafach nazwanych.",
        "first": "Pierwsze wydanie: brak poprzedniego wydania do porównania.",
        "since": "## Zmiany względem wydania {previous} ({previous_date})",
        "added": "- dodane trójki: {n}",
        "removed": "- usunięte trójki: {n}",
        "new": "- nowe zasoby: {n}",
        "gone": "- usunięte zasoby: {n}",
        "changed": "- zasoby ze zmienionym opisem: {n}",
        "more": "  - … i {n} więcej (pełna lista w manifest.json)",
    },
    "en": {
        "title": "Release {release} ({date})",
        "data": "Published data: {triples} triples in {graphs} named graphs.",
        "first": "First release: there is no previous release to compare with.",
        "since": "## Changes since release {previous} ({previous_date})",
        "added": "- triples added: {n}",
        "removed": "- triples removed: {n}",
        "new": "- resources added: {n}",
        "gone": "- resources removed: {n}",
        "changed": "- resources whose description changed: {n}",
        "more": "  - … and {n} more (full list in manifest.json)",
    },
}


def _changelog(manifest: dict[str, Any]) -> bytes:
    stats, changes = manifest["statistics"], manifest["changes"]
    lines: list[str] = []
    for lang in ("pl", "en"):
        text = _CHANGELOG_TEXT[lang]
        lines += ["# " + text["title"].format(**manifest), "",
                  text["data"].format(triples=stats["triples"], graphs=len(stats["graphs"])), ""]
        if changes is None:
            lines += [text["first"], ""]
        else:
            lines += [text["since"].format(**changes), "",
                      text["added"].format(n=changes["added"]), text["removed"].format(n=changes["removed"])]
            for key, subjects in (("new", changes["subjects_added"]), ("gone", changes["subjects_removed"])):
                lines.append(text[key].format(n=len(subjects)))
                lines += [f"  - <{s}>" for s in subjects[:LIST_LIMIT]]
                if len(subjects) > LIST_LIMIT:
                    lines.append(text["more"].format(n=len(subjects) - LIST_LIMIT))
            lines += [text["changed"].format(n=changes["subjects_changed"]), ""]
    return "\n".join(lines).encode("utf-8")


# --- a release folder --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    folder: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.manifest["release"]

    @property
    def date(self) -> str:
        return self.manifest["date"]

    @property
    def key(self) -> str:
        return self.manifest["key"]

    def file(self, name: str) -> Path | None:
        """A file of this release by its plain name: one of its listed files, never a path built from input."""
        return self.folder / name if name in self.files() else None

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.is_file() and not p.name.startswith("."))


def read_release(folder: Path) -> Release | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / SUMS).is_file():
        return None  # incomplete
    return Release(folder, manifest)


def releases(out_dir: Path) -> list[Release]:
    """The complete releases in a folder, oldest first (by release date, then by when they were written)."""
    if not out_dir.is_dir():
        return []
    found = []
    for folder in out_dir.iterdir():
        if folder.is_dir() and not folder.name.startswith(".") and (release := read_release(folder)):
            try:
                found.append(((release.date, (folder / SUMS).stat().st_mtime_ns, release.name), release))
            except OSError:  # removed meanwhile (another process pruning)
                continue
    return [release for _key, release in sorted(found, key=lambda item: item[0])]


def find_release(out_dir: Path, key: str) -> Release | None:
    matches = [r for r in releases(out_dir) if r.key == key]
    return matches[-1] if matches else None


def _entry(spec: FileSpec, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": spec.name,
        "media_type": spec.media_type,
        "file_type": spec.file_type,
        "title": {"pl": spec.pl, "en": spec.en},
        "description": {"pl": f"{spec.pl}: plik wydania zbioru danych zitkg.",
                        "en": f"{spec.en}: a file of the zitkg dataset release."},
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),  # DCAT-AP 2.1.1 knows SHA-1 only
    }
    if spec.compress:
        entry["compress"] = spec.compress
    return entry


def write_release(snap: Snapshot, out_dir: Path, config: PublishConfig, day: date) -> Release:
    """Write the release of ``snap`` dated ``day`` into ``out_dir/<day>_<key>``; returns it.

    The folder is built beside its final place and moved in at the end, so a reader never sees half a
    release. Writing the same data on the same day again gives the same bytes.
    """
    key = release_key(snap, config)
    name = f"{day.isoformat()}_{key[:12]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = [r for r in releases(out_dir) if r.name != name and r.date <= day.isoformat()]
    previous = earlier[-1] if earlier else None

    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    nt = _ntriples(snap.triples)
    for spec in DUMPS:
        files[spec.name] = _dump(spec, snap, nt)
    index = _Index(snap.triples)
    csv_tables = []
    table_specs = []
    for table in TABLES:
        data, columns = _table(index, table)
        files[f"{table.name}.csv"] = data
        csv_tables.append((table, columns))
        table_specs.append(FileSpec(f"{table.name}.csv", "text/csv", "CSV", f"{table.pl} (CSV)",
                                    f"{table.en} (CSV)"))
    files[CSVW.name] = _csvw(csv_tables, day.isoformat())
    files[GRAPHML.name] = _graphml(index, config.base_iri + "id/scheme/themes")

    manifest: dict[str, Any] = {
        "release": name,
        "date": day.isoformat(),
        "first_issued": previous.manifest.get("first_issued", previous.date) if previous else day.isoformat(),
        "key": key,
        "data_hash": snap.data_hash,
        "dumps": [spec.name for spec in DUMPS],
        "statistics": _statistics(snap, index, config.base_iri),
        "changes": _changes(previous, nt),
    }
    files[CHANGELOG] = _changelog(manifest)
    files[VOID_FILE.name] = catalog.serialize(catalog.void_triples(manifest, config))
    for spec in (*DUMPS, *table_specs, CSVW, GRAPHML, VOID_FILE, CHANGELOG_FILE):
        entries.append(_entry(spec, files[spec.name]))
    manifest["files"] = entries
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    for file_name, profile in CATALOG_FILES.items():
        files[file_name] = catalog.serialize(catalog.catalog_triples(manifest, config, profile))
    files[SUMS] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {file_name}\n" for file_name, data in sorted(files.items())
    ).encode("ascii")

    target = out_dir / name
    temporary = out_dir / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    if temporary.exists():
        shutil.rmtree(temporary)
    temporary.mkdir()
    for file_name, data in files.items():
        (temporary / file_name).write_bytes(data)
    if target.exists():
        shutil.rmtree(target)
    try:
        temporary.rename(target)
    except OSError:  # another process moved the same release in first: it has the same bytes
        shutil.rmtree(temporary, ignore_errors=True)
    return Release(target, manifest)


def export(store: GraphStore, out_dir: Path, settings: Any, day: date | None = None) -> Release:
    """`zitkg export DIR`: a release of the store's published graphs in ``out_dir``."""
    return write_release(snapshot(store), out_dir, PublishConfig.from_settings(settings), day or date.today())


# --- the server's current release ------------------------------------------------------------------------


def downloads_folder(settings: Any) -> Path:
    return Path(settings.downloads) if settings.downloads else Path(str(settings.store) + ".downloads")


class CurrentRelease:
    """The release of what the store publishes now, built on first use and kept in step with writes.

    Keyed by the content of the published graphs (not by the store's write counter), so a restart or a
    write that changes nothing public reuses the folder already built. The DCAT-AP catalog of the release
    is also written into the store as a published graph, so that harvesters that query the SPARQL
    endpoint (dane.gov.pl sends a CONSTRUCT) find it.
    """

    RECHECK_SECONDS = 5.0  # when other processes write too, the published data is re-read at most this often

    def __init__(self, store: GraphStore, settings: Any) -> None:
        self.store = store
        self.config = PublishConfig.from_settings(settings)
        self.folder = downloads_folder(settings)
        self._lock = threading.Lock()
        self._version: int | None = None
        self._checked = 0.0
        self._release: Release | None = None
        self.entities: tuple[str, ...] = ()  # the service's own IRIs in the published data (for the sitemap)

    def _fresh(self) -> bool:
        if self._release is None:
            return False
        if getattr(self.store, "sole_writer", True):
            return self._version == self.store.version
        return time.monotonic() - self._checked < self.RECHECK_SECONDS

    def get(self) -> Release:
        with self._lock:
            if self._fresh():
                assert self._release is not None
                return self._release
            snap = snapshot(self.store)
            release = find_release(self.folder, release_key(snap, self.config))
            if release is None:
                release = write_release(snap, self.folder, self.config, date.today())
                self._prune(release)
            self.entities = tuple(_entities((t.subject for t in snap.triples), self.config.base_iri))
            wrote = self._publish_catalog(release)
            # Trust the cache only if no other write slipped in between the snapshot and now.
            expected = snap.version + (1 if wrote else 0)
            self._version = expected if self.store.version == expected else None
            self._checked = time.monotonic()
            self._release = release
            return release

    def _publish_catalog(self, release: Release) -> bool:
        """Write the release's catalog into the catalog graph unless it is there already."""
        triples = catalog.catalog_triples(release.manifest, self.config, "3.0.1")
        if CATALOG_GRAPH in self.store.published_graphs():
            current = {q.triple for q in _graph_quads(self.store, CATALOG_GRAPH)}
            if current == set(triples):
                return False
        self.store.replace_graphs({CATALOG_GRAPH: triples}, published=True)
        return True

    def _prune(self, keep: Release) -> None:
        old = [r for r in releases(self.folder) if r.name != keep.name]
        for release in old[: max(0, len(old) - (KEEP_RELEASES - 1))]:
            shutil.rmtree(release.folder, ignore_errors=True)
