"""SHACL shape tests, written as data (STYLE.md §9).

Each file ``tests/shapes/<shape>/{valid,invalid}-NNN.ttl`` holds test data and, for an invalid case,
the expected outcome as an ``sh:ValidationReport`` whose ``sh:result`` nodes give exactly
``sh:focusNode``, ``sh:resultPath`` (absent for node-level and path-less SPARQL results),
``sh:resultSeverity`` and ``sh:sourceConstraintComponent``. A valid case has data only.

The data is validated together with its context: the ontology with its vocabularies and themes
(``ontology/*.ttl``) and the bundled programme (``data/programme.ttl``), which test data may refer to.
The ontology is passed as pySHACL's ``ont_graph`` (so ``sh:class`` and ``sh:targetClass`` follow
``rdfs:subClassOf``) *and* added to the data graph: pySHACL mixes in only the RDFS/OWL axioms of an
``ont_graph``, not the SKOS concepts that ``zit:theme``, ``zit:indicator`` etc. point to.

Only the nodes the case mentions are validated (``focus_shapes`` narrows every target to them; the
context just answers look-ups), and results the context has on its own (the baseline) are subtracted,
so a warning in the bundled data does not break every case. ``test_bundled_data_conforms`` validates
the bundled data itself, in full.

The helpers take and return graphs so that loading can move into ``zitkg.validation`` later.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

import pytest
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from zitkg import resources
from zitkg import validation as zv
from zitkg.validation import TARGETS

ROOT = Path(__file__).parent.parent
CASES_DIR = Path(__file__).parent / "shapes"
LANGUAGES = frozenset({"pl", "en"})

ResultKey = tuple[Node, Hashable, Node, Node]


# --- validation (through the package, so the tests check the code path submissions use) ----------


def validate(data: Graph, context: Graph | None = None, focus: set[Node] | None = None) -> Graph:
    """The pySHACL report graph of ``zitkg.validation.validate`` (messages with their languages)."""
    return zv.validate(data, context=context, focus_nodes=focus).graph


NODE_LEVEL_PARAMETERS = tuple(
    SH[name] for name in ("xone", "or", "and", "not", "node", "class", "datatype", "nodeKind", "in")
)


def mentioned_nodes(graph: Graph) -> set[Node]:
    """Every IRI and blank node a graph mentions as subject or object."""
    return {node for triple in graph for node in (triple[0], triple[2]) if isinstance(node, URIRef | BNode)}


def bnode_closure(graph: Graph, start: Node) -> Graph:
    """The triples reachable from ``start`` through blank nodes (IRIs are not followed)."""
    closure = Graph()
    seen: set[Node] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in graph.triples((node, None, None)):
            closure.add(triple)
            if isinstance(triple[2], BNode):
                todo.append(triple[2])
    return closure


def split_case(graph: Graph) -> tuple[Graph, Graph]:
    """Split a case file into (test data, expected report)."""
    expected = Graph()
    for report in graph.subjects(RDF.type, SH.ValidationReport):
        expected += bnode_closure(graph, report)
    data = Graph()
    for triple in graph:
        if triple not in expected:
            data.add(triple)
    return data, expected


def path_key(graph: Graph, path: Node | None) -> Hashable:
    """A comparable form of a SHACL path; blank-node paths are compared by structure."""
    if path is None or not isinstance(path, BNode):
        return path
    for kind in (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        inner = graph.value(path, kind)
        if inner is not None:
            if kind == SH.alternativePath:
                return (kind, tuple(path_key(graph, item) for item in graph.items(inner)))
            return (kind, path_key(graph, inner))
    if graph.value(path, RDF.first) is not None:
        return ("sequence", tuple(path_key(graph, item) for item in graph.items(path)))
    raise ValueError(f"unknown SHACL path structure at {path!r}")


def result_nodes(report: Graph) -> list[Node]:
    """The sh:result nodes of every report in the graph."""
    return [
        result
        for report_node in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(report_node, SH.result)
    ]


def result_key(report: Graph, result: Node) -> ResultKey:
    """(focus node, path, severity, source constraint component) of one result."""
    return (
        report.value(result, SH.focusNode),
        path_key(report, report.value(result, SH.resultPath)),
        report.value(result, SH.resultSeverity),
        report.value(result, SH.sourceConstraintComponent),
    )


def result_keys(report: Graph) -> set[ResultKey]:
    """The set of result keys of a report graph."""
    return {result_key(report, result) for result in result_nodes(report)}


def missing_languages(graph: Graph, subject: Node, predicate: URIRef) -> set[str]:
    """Languages of LANGUAGES that no ``predicate`` value of ``subject`` carries."""
    present = {value.language for value in graph.objects(subject, predicate) if isinstance(value, Literal)}
    return set(LANGUAGES - present)


def describe(report: Graph, keys: Iterable[ResultKey]) -> str:
    """Readable lines (focus, path, severity, component, English message) for assertion output."""
    lines = []
    for result in result_nodes(report):
        key = result_key(report, result)
        if key in keys:
            messages = report.objects(result, SH.resultMessage)
            english = [m for m in messages if isinstance(m, Literal) and m.language == "en"]
            lines.append(f"{key!r}: {english[0] if english else ''}")
    return "\n".join(sorted(lines))


# --- fixtures ------------------------------------------------------------------------------------

CASE_FILES = sorted(CASES_DIR.glob("*/*.ttl"))


def case_id(path: Path) -> str:
    """``pilot/invalid-002`` for ``tests/shapes/pilot/invalid-002.ttl``."""
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="session")
def shapes() -> Graph:
    return zv.shapes_graph()


@pytest.fixture(scope="session")
def programme() -> Graph:
    return zv.parse_files([resources.data_dir() / "programme.ttl"])


@pytest.fixture(scope="session")
def baseline(programme: Graph) -> set[ResultKey]:
    """Results the context produces without any test data."""
    return result_keys(validate(programme))


@pytest.fixture(scope="session")
def case_report(programme: Graph) -> Callable[[Path], Graph]:
    """Validate a case file with its context, once per session."""
    cache: dict[Path, Graph] = {}

    def run(path: Path) -> Graph:
        if path not in cache:
            case, _expected = split_case(zv.parse_files([path]))
            cache[path] = validate(case, programme, mentioned_nodes(case))
        return cache[path]

    return run


# --- tests ---------------------------------------------------------------------------------------


def test_cases_exist() -> None:
    assert CASE_FILES, f"no shape test cases under {CASES_DIR}"


@pytest.mark.parametrize("path", CASE_FILES, ids=case_id)
def test_shape_case(path: Path, case_report: Callable[[Path], Graph], baseline: set[ResultKey]) -> None:
    assert path.stem.startswith(("valid-", "invalid-")), "case files are named valid-NNN or invalid-NNN"
    _data, expected_report = split_case(zv.parse_files([path]))
    expected = result_keys(expected_report)
    if path.stem.startswith("valid-"):
        assert not expected, "a valid case holds data only"
    else:
        assert expected, "an invalid case must state its expected results"

    report = case_report(path)
    actual = result_keys(report) - baseline
    stated = expected_report.value(predicate=SH.conforms)
    if stated is not None:
        assert stated.toPython() == (not any(key[2] == SH.Violation for key in actual)), "sh:conforms"
    missing = "\n".join(sorted(map(repr, expected - actual)))
    assert actual == expected, f"unexpected:\n{describe(report, actual - expected)}\nmissing:\n{missing}"


def test_result_messages_bilingual(case_report: Callable[[Path], Graph]) -> None:
    missing = []
    for path in CASE_FILES:
        report = case_report(path)
        for result in result_nodes(report):
            lacking = missing_languages(report, result, SH.resultMessage)
            if lacking:
                missing.append(f"{case_id(path)}: {result_key(report, result)!r} lacks {sorted(lacking)}")
    assert not missing, "\n".join(missing)


def test_shape_messages_bilingual(shapes: Graph) -> None:
    problems = []
    for subject in set(shapes.subjects(SH.message, None)):
        lacking = missing_languages(shapes, subject, SH.message)
        if lacking:
            problems.append(f"{subject}: sh:message lacks {sorted(lacking)}")
    # Every constraint of a targeted node shape carries a message: its property shapes, its SPARQL
    # constraints, and the node shape itself when it has node-level constraints. Value shapes used
    # inside sh:node, sh:or, sh:qualifiedValueShape etc. report through the constraint that uses them.
    targeted = {shape for predicate in TARGETS for shape in shapes.subjects(predicate, None)}
    reporting = {c for shape in targeted for p in (SH.property, SH.sparql) for c in shapes.objects(shape, p)}
    reporting |= {s for s in targeted if any((s, p, None) in shapes for p in NODE_LEVEL_PARAMETERS)}
    for node in reporting:
        if (node, SH.message, None) not in shapes:
            problems.append(f"{node}: no sh:message")
    assert not problems, "\n".join(sorted(problems))


def test_bundled_data_conforms() -> None:
    report = validate(zv.bundled_data_graph())
    violations = {key for key in result_keys(report) if key[2] == SH.Violation}
    assert not violations, describe(report, violations)
