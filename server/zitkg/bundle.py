"""The bundled sources (ontology, vocabularies, programme facts, examples) and their named graphs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from zitkg import resources
from zitkg.errors import BadRequest
from zitkg.privacy import private_graph, split_private
from zitkg.store import GRAPH_BASE, GraphStore


@dataclass(frozen=True)
class BundledGraph:
    name: str
    files: tuple[Path, ...]

    @property
    def iri(self) -> str:
        return GRAPH_BASE + self.name


def bundled_graphs() -> list[BundledGraph]:
    """Each bundled source and the files that make it; examples are their own graph (docs/model.md)."""
    onto, data = resources.ontology_dir(), resources.data_dir()
    return [
        BundledGraph("ontology", (onto / "zit.ttl",)),
        BundledGraph("vocabularies", (onto / "vocabularies.ttl",)),
        BundledGraph("themes", (onto / "themes.ttl",)),
        BundledGraph("programme", (data / "programme.ttl",)),
        BundledGraph("examples", tuple(sorted((data / "examples").glob("*.ttl")))),
    ]


def read_turtle(path: Path) -> list[ox.Triple]:
    """Parse one Turtle file; a syntax error names the file, line and column."""
    try:
        return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    except SyntaxError as exc:
        raise BadRequest(f"{path}: {exc}") from exc


def load_bundled(store: GraphStore) -> dict[str, int]:
    """Replace every bundled graph in one transaction; loading twice leaves the same store.

    Contact data without consent goes to an unpublished companion graph (see zitkg.privacy).
    """
    public: dict[str, list[ox.Triple]] = {}
    private: dict[str, list[ox.Triple]] = {}
    for graph in bundled_graphs():
        public[graph.iri], private[private_graph(graph.iri)] = split_private(
            t for f in graph.files for t in read_turtle(f)
        )
    store.replace_graphs(public, private=private)
    return {iri: len(triples) for iri, triples in public.items()}


def ensure_loaded(store: GraphStore) -> bool:
    """Load the bundled data into a store that has none of it (first start, or a store that so far holds only
    graphs an administrator loaded); returns whether it loaded."""
    if any(graph.startswith(GRAPH_BASE) for graph in store.published_graphs()):
        return False
    load_bundled(store)
    return True
