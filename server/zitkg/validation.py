"""SHACL validation: the shapes in shapes/ are the single definition of valid data.

Non-conformance is data (a ``Report``), not an exception; only the HTTP and CLI boundaries turn it into
a 422 or an exit code. Validation checks only the given focus nodes against a context graph, so a
submission's cost does not grow with the whole graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyshacl
from rdflib import RDF, SH, BNode, Graph, Literal, URIRef
from rdflib.paths import Path as RdfPath

from zitkg import resources
from zitkg.bundle import bundled_graphs

SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


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


def validate(data: Graph, *, context: Graph | None = None, focus_nodes: Iterable[object] | None = None) -> Report:
    """Validate ``data`` (plus ``context`` for what it links to) against the bundled shapes.

    ``focus_nodes`` limits validation to the nodes that were submitted; the context only answers
    questions about linked resources. Warnings and infos never make a report non-conforming.
    """
    graph = Graph()
    for source in (data, vocabulary_graph(), context or Graph()):
        for triple in source:
            graph.add(triple)
    focus = [URIRef(str(n)) for n in focus_nodes] if focus_nodes is not None else None
    if focus == []:
        return Report(conforms=True, results=(), graph=Graph())
    _conforms, report_graph, _text = pyshacl.validate(
        graph,
        shacl_graph=shapes_graph(),
        inference="none",
        allow_warnings=True,
        allow_infos=True,
        focus_nodes=focus,
    )
    return report_from_graph(report_graph)


def described_subjects(data: Graph) -> list[URIRef]:
    return sorted({s for s in data.subjects() if isinstance(s, URIRef)})
