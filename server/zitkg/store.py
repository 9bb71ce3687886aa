"""The store interface and its embedded Oxigraph implementation.

The service talks to one small interface (``GraphStore``) so that a remote SPARQL 1.1 server can stand in
for the embedded store later. The embedded store keeps two copies: the on-disk Oxigraph store is the
durable record (every write lands there first, in one transaction), and an in-memory copy kept in step
answers the reads, because in-memory pyoxigraph answered the mapping queries 3-8x faster than on disk
(docs/benchmarks.md). ``version`` counts committed writes so that query workers forked from an older state can be
recognised and replaced.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

GRAPH_BASE = "https://w3id.org/sieci-zit/graph/"
META_GRAPH = GRAPH_BASE + "meta"
ZIT = "https://w3id.org/sieci-zit/ontology#"
_PUBLISHED = ox.NamedNode(ZIT + "publishedGraph")


class GraphStore(Protocol):
    """What the service needs from a triple store."""

    version: int
    lock: threading.Lock

    def read_store(self) -> ox.Store: ...

    public_union: bool
    sole_writer: bool  # True when every write goes through this process, so caches keyed on version hold

    def quads(self, subject=None, predicate=None, obj=None, graph=None) -> list[ox.Quad]: ...

    def executor(self, settings): ...

    def replace_graphs(
        self,
        graphs: dict[str, Sequence[ox.Triple]],
        *,
        published: bool = True,
        private: dict[str, Sequence[ox.Triple]] | None = None,
        extra_update: str = "",
    ) -> None: ...

    def drop_graphs(self, graph_iris: Iterable[str], extra_update: str = "") -> None: ...

    def publish_graphs(
        self, graph_iris: Iterable[str], unpublish: Iterable[str] = (), extra_update: str = ""
    ) -> None: ...

    def update(self, sparql: str, base_iri: str | None = None) -> None: ...

    def named_graphs(self) -> list[str]: ...

    def published_graphs(self) -> list[str]: ...

    def quad_count(self) -> int: ...

    def close(self) -> None: ...


INSERT_CHUNK = 400
SKOLEM_BASE = "https://w3id.org/sieci-zit/.well-known/genid/"


def _nt(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    return str(term)


def skolemise(graph_iri: str, triples: Sequence[ox.Triple]) -> Sequence[ox.Triple]:
    """Blank nodes become skolem IRIs named by the graph's canonical form (RDFC-1.0).

    Some stores (Virtuoso) refuse blank nodes in INSERT DATA; and names that depend only on the graph's
    content make loading the same data twice give the same store, on every backend.
    """
    if not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples):
        return triples
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    prefix = hashlib.sha256(graph_iri.encode()).hexdigest()[:12]

    def named(term):  # noqa: ANN001, ANN202
        return ox.NamedNode(f"{SKOLEM_BASE}{prefix}-{term.value}") if isinstance(term, ox.BlankNode) else term

    return [ox.Triple(named(q.subject), q.predicate, named(q.object)) for q in dataset]


def _published_triple(operation: str, iri: str) -> str:
    return f"{operation} DATA {{ GRAPH <{META_GRAPH}> {{ <{META_GRAPH}> <{_PUBLISHED.value}> <{iri}> }} }}"


def _join(*updates: str) -> str:
    return " ;\n".join(u for u in updates if u.strip())


def _replace_update(
    graphs: dict[str, Sequence[ox.Triple]], published: bool, private: dict[str, Sequence[ox.Triple]]
) -> str:
    """One SPARQL update that swaps whole graphs; Oxigraph runs an update in one transaction."""
    parts: list[str] = []
    items = [(iri, triples, published) for iri, triples in graphs.items()]
    items += [(iri, triples, False) for iri, triples in private.items()]
    for iri, triples, is_public in items:
        parts.append(f"DROP SILENT GRAPH <{iri}>")
        parts.append(_published_triple("DELETE", iri))
        lines = [f"{_nt(t.subject)} {_nt(t.predicate)} {_nt(t.object)} ." for t in skolemise(iri, triples)]
        # Several INSERT DATA operations of one request: Virtuoso compiles each to SQL and refuses huge ones.
        for start in range(0, len(lines), INSERT_CHUNK):
            body = "\n".join(lines[start : start + INSERT_CHUNK])
            parts.append(f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}\n}} }}")
        if is_public:
            parts.append(_published_triple("INSERT", iri))
    return " ;\n".join(parts)


def open_read_only(path: Path, attempts: int = 8) -> ox.Store:
    """A read-only view of a store that a running server may be writing to.

    RocksDB allows it, but a compaction can delete a file between listing and opening it; that race
    is retried, since a fresh attempt sees the new file list.
    """
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(str(path))
        except (OSError, RuntimeError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class OxigraphStore:
    """Embedded Oxigraph: the on-disk store is the record; an in-memory copy of the published graphs
    answers the public queries.

    Holding only published graphs in memory lets public queries use the union default graph, which
    pyoxigraph answers 1.1-2.5x faster than an explicit list of graphs (bench/endpoint_cost.py), and
    keeps unpublished and private graphs out of reach by construction. Everything else (metadata,
    pending submissions) is read from disk with ``quads()``.
    """

    def __init__(self, path: Path | None, *, memory_reads: bool = True, read_only: bool = False) -> None:
        self.path = path
        if read_only:
            self._disk = open_read_only(path)
        elif path is not None:
            path.mkdir(parents=True, exist_ok=True)
            self._disk = ox.Store(str(path))
        else:
            self._disk = ox.Store()
        self._memory: ox.Store | None = ox.Store() if memory_reads else None
        self.lock = threading.Lock()
        self.version = 0
        self.sole_writer = True
        self._sync_memory(None)

    @property
    def public_union(self) -> bool:
        """True when read_store() holds the published graphs only (so its union is the public dataset)."""
        return self._memory is not None

    def _sync_memory(self, touched: Iterable[str] | None) -> None:
        """Mirror the published graphs (all, or the ``touched`` ones) from disk into memory."""
        if self._memory is None:
            return
        published = set(self._published_on_disk())
        if touched is None:
            self._memory.clear()
            graphs: Iterable[str] = published
        else:
            graphs = set(touched)
            for graph in graphs:
                if self._memory.contains_named_graph(ox.NamedNode(graph)):
                    self._memory.remove_graph(ox.NamedNode(graph))
        for graph in graphs:
            if graph in published:
                self._memory.bulk_extend(self._disk.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def admin_store(self) -> ox.Store:
        """The whole record (every graph, published or not), for the administrator's queries."""
        return self._disk

    def read_store(self) -> ox.Store:
        """The store public queries run on."""
        return self._memory if self._memory is not None else self._disk

    @property
    def disk(self) -> ox.Store:
        return self._disk

    def quads(self, subject=None, predicate=None, obj=None, graph=None) -> list[ox.Quad]:
        """Quads of any graph, published or not (for metadata and the submission workflow)."""
        return list(self._disk.quads_for_pattern(subject, predicate, obj, graph))

    def executor(self, settings):  # noqa: ANN001, ANN201 - avoids importing the pool at module load
        from zitkg.sparql.pool import QueryPool, WorkerLimits

        limits = WorkerLimits(
            isolate_network=not settings.allowed_service_hosts,
            memory_bytes=settings.query_memory_mb * 1024 * 1024,
        )
        return QueryPool(self, settings.query_workers, limits, per_client=settings.query_slots_per_client,
                         overflow=settings.query_overflow_workers)

    def replace_graphs(
        self,
        graphs: dict[str, Sequence[ox.Triple]],
        *,
        published: bool = True,
        private: dict[str, Sequence[ox.Triple]] | None = None,
        extra_update: str = "",
    ) -> None:
        """Replace each named graph by the given triples, all in one transaction (re-load never duplicates).

        ``private`` graphs are written in the same transaction but never published; ``extra_update``
        (metadata) joins the same transaction.
        """
        touched = [*graphs, *(private or {})]
        self._write(_join(_replace_update(graphs, published, private or {}), extra_update), touched)

    def bulk_load_empty(self, source: Any, rdf_format: ox.RdfFormat) -> int:
        """Load a whole file into this empty store with Oxigraph's bulk loader (restore of a dump).

        Some 10x faster than the SPARQL update of ``replace_graphs`` (docs/benchmarks.md), but not one
        transaction: a file that fails to parse half-way is undone by clearing the store, which was empty.
        """
        with self.lock:
            if len(self._disk):
                raise ValueError("the bulk loader only fills an empty store")
            try:
                self._disk.bulk_load(source, format=rdf_format)
            except BaseException:
                self._disk.clear()
                raise
            self._disk.flush()
            self._sync_memory(None)
            self.version += 1
            return len(self._disk)

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Apply a SPARQL update (administrators only; the web layer checks the token)."""
        self._write(sparql, None, base_iri)

    def drop_graphs(self, graph_iris: Iterable[str], extra_update: str = "") -> None:
        graph_iris = list(graph_iris)
        parts = []
        for iri in graph_iris:
            parts.append(f"DROP SILENT GRAPH <{iri}>")
            parts.append(_published_triple("DELETE", iri))
        self._write(_join(" ;\n".join(parts), extra_update), graph_iris)

    def publish_graphs(
        self, graph_iris: Iterable[str], unpublish: Iterable[str] = (), extra_update: str = ""
    ) -> None:
        """Add graphs to (and take others out of) the public dataset, in one transaction."""
        graph_iris, unpublish = list(graph_iris), list(unpublish)
        parts = [_published_triple("DELETE", iri) for iri in unpublish]
        parts += [_published_triple("INSERT", iri) for iri in graph_iris]
        self._write(_join(" ;\n".join(parts), extra_update), [*graph_iris, *unpublish])

    def _write(self, update: str, touched: Iterable[str] | None, base_iri: str | None = None) -> None:
        with self.lock:
            self._disk.update(update, base_iri=base_iri)
            self._disk.flush()
            # ``touched`` names every graph the update writes (None: unknown, resync all published graphs).
            self._sync_memory(touched)
            self.version += 1

    def _published_on_disk(self) -> list[str]:
        quads = self._disk.quads_for_pattern(ox.NamedNode(META_GRAPH), _PUBLISHED, None, ox.NamedNode(META_GRAPH))
        return sorted(q.object.value for q in quads)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._disk.named_graphs() if isinstance(g, ox.NamedNode))

    def published_graphs(self) -> list[str]:
        return self._published_on_disk()

    def quad_count(self) -> int:
        return len(self._disk)

    def close(self) -> None:
        with self.lock:
            self._disk.flush()
            self._memory = None
