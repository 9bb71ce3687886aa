"""The store interface and its embedded Oxigraph implementation.

The service talks to one small interface (``GraphStore``) so that a remote SPARQL 1.1 server can stand in
for the embedded store later. The embedded store keeps two copies: the on-disk Oxigraph store is the
durable record (every write lands there first, in one transaction), and an in-memory copy kept in step
answers the reads, because in-memory pyoxigraph answered the mapping queries 3-8x faster than on disk
(DESIGN.md). ``version`` counts committed writes so that query workers forked from an older state can be
recognised and replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

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

    def update(self, sparql: str) -> None: ...

    def named_graphs(self) -> list[str]: ...

    def published_graphs(self) -> list[str]: ...

    def quad_count(self) -> int: ...

    def close(self) -> None: ...


def _nt(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    return str(term)


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
        body = "\n".join(f"{_nt(t.subject)} {_nt(t.predicate)} {_nt(t.object)} ." for t in triples)
        if triples:
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
    """Embedded Oxigraph: on-disk record plus an in-memory copy for reads."""

    def __init__(self, path: Path | None, *, memory_reads: bool = True, read_only: bool = False) -> None:
        self.path = path
        if read_only:
            self._disk = open_read_only(path)
        elif path is not None:
            path.mkdir(parents=True, exist_ok=True)
            self._disk = ox.Store(str(path))
        else:
            self._disk = ox.Store()
        self._memory_reads = memory_reads and path is not None
        self._memory: ox.Store | None = None
        self.lock = threading.Lock()
        self.version = 0
        if self._memory_reads:
            self._memory = self._copy_to_memory()

    def _copy_to_memory(self) -> ox.Store:
        memory = ox.Store()
        memory.bulk_extend(self._disk.quads_for_pattern(None, None, None, None))
        return memory

    def read_store(self) -> ox.Store:
        return self._memory if self._memory is not None else self._disk

    @property
    def disk(self) -> ox.Store:
        return self._disk

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
        self._write(_join(_replace_update(graphs, published, private or {}), extra_update))

    def update(self, sparql: str) -> None:
        """Apply a SPARQL update (administrators only; the web layer checks the token)."""
        self._write(sparql)

    def drop_graphs(self, graph_iris: Iterable[str], extra_update: str = "") -> None:
        parts = []
        for iri in graph_iris:
            parts.append(f"DROP SILENT GRAPH <{iri}>")
            parts.append(_published_triple("DELETE", iri))
        self._write(_join(" ;\n".join(parts), extra_update))

    def publish_graphs(
        self, graph_iris: Iterable[str], unpublish: Iterable[str] = (), extra_update: str = ""
    ) -> None:
        """Add graphs to (and take others out of) the public dataset, in one transaction."""
        parts = [_published_triple("DELETE", iri) for iri in unpublish]
        parts += [_published_triple("INSERT", iri) for iri in graph_iris]
        self._write(_join(" ;\n".join(parts), extra_update))

    def _write(self, update: str) -> None:
        with self.lock:
            self._disk.update(update)
            self._disk.flush()
            if self._memory is not None:
                self._memory.update(update)
            self.version += 1

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.read_store().named_graphs() if isinstance(g, ox.NamedNode))

    def published_graphs(self) -> list[str]:
        quads = self.read_store().quads_for_pattern(
            ox.NamedNode(META_GRAPH), _PUBLISHED, None, ox.NamedNode(META_GRAPH)
        )
        return sorted(q.object.value for q in quads)

    def quad_count(self) -> int:
        return len(self.read_store())

    def close(self) -> None:
        with self.lock:
            self._disk.flush()
            self._memory = None
