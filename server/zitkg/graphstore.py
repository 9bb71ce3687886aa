"""Whole graphs in and out (SPARQL 1.1 Graph Store HTTP Protocol), and the publication of graphs.

Reads: everyone sees the published graphs (the default graph is their union, as on /sparql); an
administrator also sees unpublished graphs and the store's own default graph. Writes (administrators
only): a body is parsed whole before anything changes and applied as one update, so a graph is replaced
or merged entirely or not at all. The graphs under GRAPH_BASE belong to zitkg's own paths (bundled
data, submissions, publication state) and are never written here. What is public changes only through
``publish``/``unpublish`` (CLI, admin HTTP route), never as a side effect of a write, CLEAR or DROP.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from zitkg.errors import BadRequest, Forbidden, NotFound, UnsupportedMediaType
from zitkg.privacy import PRIVATE_GRAPH_SUFFIX
from zitkg.store import GRAPH_BASE, INSERT_CHUNK, SKOLEM_BASE, GraphStore, skolemise

RDF_MEDIA = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "text/n3": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


EXTENSIONS = {".ttl": "text/turtle", ".n3": "text/n3", ".nt": "application/n-triples", ".rdf": "application/rdf+xml",
              ".owl": "application/rdf+xml", ".xml": "application/rdf+xml", ".jsonld": "application/ld+json"}


def media_for_name(name: str) -> str:
    """The RDF media type a file name suggests ('' if none)."""
    dot = name.rfind(".")
    return EXTENSIONS.get(name[dot:].lower(), "") if dot >= 0 else ""


@dataclass(frozen=True)
class Target:
    """The graph a request names: an IRI, or None for the default graph."""

    iri: str | None

    @property
    def label(self) -> str:
        return "the default graph" if self.iri is None else f"graph <{self.iri}>"


def managed(iri: str | None) -> bool:
    return iri is not None and iri.startswith(GRAPH_BASE)


def check_writable(target: Target) -> None:
    if managed(target.iri):
        raise Forbidden(f"{target.label} is managed by zitkg (bundled data, submissions, publication state)",
                        hint=f"write to a graph outside {GRAPH_BASE}; submissions go through /api/submissions")


def parse_graph(body: bytes, media_type: str, base_iri: str) -> list[ox.Triple]:
    """The triples of a request body; 415 for a format that is not an RDF graph, 400 with the position."""
    fmt = RDF_MEDIA.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type or '(no type)'} is not a graph format this store reads",
                                   details={"accepted": sorted(RDF_MEDIA)})
    try:
        return [q.triple for q in ox.parse(body, format=fmt, base_iri=base_iri)]
    except (SyntaxError, ValueError) as exc:
        raise BadRequest(f"the body is not valid {media_type}: {str(exc)[:300]}") from None


def exists(store: GraphStore, target: Target) -> bool:
    if target.iri is None:
        return bool(store.quads(graph=ox.DefaultGraph()))
    return target.iri in store.named_graphs()


def _unskolemised(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Blank nodes again where the store keeps skolem IRIs (RDF 1.1, 3.5): a graph comes back as it was put."""
    def term(value: Any) -> Any:
        if isinstance(value, ox.NamedNode) and value.value.startswith(SKOLEM_BASE):
            return ox.BlankNode("b" + hashlib.sha1(value.value.encode()).hexdigest()[:16])  # noqa: S324 - a label
        return value

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]


def read(store: GraphStore, target: Target, *, admin: bool) -> list[ox.Triple]:
    """The triples of the graph; 404 for a graph that is not there (or, to the public, not published)."""
    return _unskolemised(_read(store, target, admin=admin))


def _read(store: GraphStore, target: Target, *, admin: bool) -> list[ox.Triple]:
    published = set(store.published_graphs())
    if target.iri is None:
        if admin:
            return [q.triple for q in store.quads(graph=ox.DefaultGraph())]
        return list(dict.fromkeys(q.triple for g in sorted(published) for q in store.quads(graph=ox.NamedNode(g))))
    if target.iri.endswith(PRIVATE_GRAPH_SUFFIX) and managed(target.iri):
        raise NotFound(f"no {target.label} here")
    if not admin and target.iri not in published:
        raise NotFound(f"no published {target.label} here")
    quads = store.quads(graph=ox.NamedNode(target.iri))
    if not quads and target.iri not in store.named_graphs():
        raise NotFound(f"no {target.label} here")
    return [q.triple for q in quads]


def _graph_clause(target: Target, lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"INSERT DATA {{ {body} }}" if target.iri is None else f"INSERT DATA {{ GRAPH <{target.iri}> {{ {body} }} }}"


def write(store: GraphStore, target: Target, triples: Sequence[ox.Triple], *, replace: bool) -> bool:
    """Replace (PUT) or merge into (POST) the graph in one update; whether the graph existed before."""
    check_writable(target)
    existed = exists(store, target)
    name = target.iri or "urn:zitkg:default-graph"
    lines = [f"{t.subject} {t.predicate} {t.object} ." for t in skolemise(name, triples)]
    parts = []
    if replace:
        parts.append("CLEAR SILENT DEFAULT" if target.iri is None else f"CLEAR SILENT GRAPH <{target.iri}>")
    for start in range(0, len(lines), INSERT_CHUNK):
        parts.append(_graph_clause(target, lines[start : start + INSERT_CHUNK]))
    if target.iri is not None and not lines and not existed:
        parts.append(f"CREATE SILENT GRAPH <{target.iri}>")
    if parts:
        store.update(" ;\n".join(parts))
    return existed


def delete(store: GraphStore, target: Target) -> None:
    """Drop the graph (404 if it is not there); a published graph is unpublished first, in the same update."""
    check_writable(target)
    if not exists(store, target):
        raise NotFound(f"no {target.label} here")
    if target.iri is None:
        store.update("CLEAR DEFAULT")
        return
    if target.iri in store.published_graphs():
        store.publish_graphs([], unpublish=[target.iri])
    store.update(f"DROP SILENT GRAPH <{target.iri}>")


def publish(store: GraphStore, graphs: Iterable[str], *, unpublish: bool = False) -> list[str]:
    """Publish (or unpublish) an administrator's graphs; the graphs zitkg manages have their own paths."""
    graphs = list(graphs)
    for iri in graphs:
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise BadRequest(f"{iri[:200]!r} is not an IRI") from None
        if managed(iri):
            raise Forbidden(f"<{iri}> is managed by zitkg: bundled data is published when loaded, submissions "
                            "when a reviewer publishes them")
        if not unpublish and iri not in store.named_graphs():
            raise NotFound(f"no graph <{iri}> to publish")
    if unpublish:
        store.publish_graphs([], unpublish=graphs)
    else:
        store.publish_graphs(graphs)
    return sorted(store.published_graphs())
