"""Dump and restore the whole store (every graph, metadata and private graphs included) as N-Quads.

The dump is the backup of the data; the accounts file beside the store is backed up separately
(docs/deployment.md). Restoring into an empty embedded store uses Oxigraph's bulk loader (undone on a parse error); into
anything else it replaces the graphs of the dump in one transaction.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from zitkg.store import META_GRAPH, GraphStore, OxigraphStore


def dump(store: GraphStore, path: Path) -> int:
    """Write every quad of the store, sorted (so two dumps of the same data are identical)."""
    lines = sorted(str(q) + " .\n" for q in store.quads())
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as out:  # type: ignore[operator]
        out.writelines(lines)
    return len(lines)


def restore(store: GraphStore, path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    if isinstance(store, OxigraphStore) and store.quad_count() == 0:
        # An empty embedded store (the documented case): Oxigraph's bulk loader, all or nothing.
        with opener(path, "rb") as source:  # type: ignore[operator]
            return store.bulk_load_empty(source, ox.RdfFormat.N_QUADS)
    with opener(path, "rb") as source:  # type: ignore[operator]
        quads = list(ox.parse(source, format=ox.RdfFormat.N_QUADS))
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in quads:
        if isinstance(quad.graph_name, ox.NamedNode):
            graphs[quad.graph_name.value].append(quad.triple)
    meta = graphs.pop(META_GRAPH, [])
    # The metadata graph (with the published flags) goes last, after the data graphs are written.
    store.replace_graphs({**graphs, META_GRAPH: meta}, published=False)
    return len(quads)
