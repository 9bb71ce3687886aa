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
