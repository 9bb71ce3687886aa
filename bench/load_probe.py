"""One load into a fresh store, in a fresh process, so that its peak memory is its own (run by run.py).

    python bench/load_probe.py MODE FILE.nq [DIR]

Modes:
  mem_bulk     pyoxigraph in memory, ``Store.bulk_load``
  mem_load     pyoxigraph in memory, ``Store.load`` (one transaction)
  disk_bulk    pyoxigraph on disk in DIR, ``Store.bulk_load`` + ``flush``, then ``optimize`` (timed apart)
  disk_load    pyoxigraph on disk in DIR, ``Store.load`` (one transaction) + ``flush``
  service      the service's load path: the file parsed into graphs, then ``OxigraphStore(DIR)
               .replace_graphs(graphs, published=True)`` (one SPARQL update on disk, then the in-memory
               copy of the published graphs), as ``zitkg restore`` and the bundled loader do
  oxigraph     the ``oxigraph load`` command into DIR, then ``oxigraph optimize`` (timed apart)
  server_prep  DIR made ready for ``zitkg serve``: ``bulk_load`` + the flags that publish every graph

Prints one JSON object: seconds, quads, triples/s, peak RSS (MB) and the RSS before loading.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import oxigraph_cli, peak_rss_mb, rss_mb  # noqa: E402

NQ = ox.RdfFormat.N_QUADS


def main() -> int:
    mode, source = sys.argv[1], Path(sys.argv[2])
    target = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    before = rss_mb()
    out: dict[str, object] = {"mode": mode, "rss_before_mb": before}
    started = time.perf_counter()
    if mode == "mem_bulk":
        store = ox.Store()
        store.bulk_load(path=str(source), format=NQ)
        quads = len(store)
    elif mode == "mem_load":
        store = ox.Store()
        store.load(path=str(source), format=NQ)
        quads = len(store)
    elif mode in {"disk_bulk", "server_prep"}:
        store = ox.Store(str(target))
        store.bulk_load(path=str(source), format=NQ)
        if mode == "server_prep":
            from zitkg.store import _PUBLISHED, META_GRAPH

            meta = ox.NamedNode(META_GRAPH)
            graphs = [g for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
            store.extend([ox.Quad(meta, _PUBLISHED, g, meta) for g in graphs])
        store.flush()
        out["seconds"] = time.perf_counter() - started
        quads = len(store)
        optimize_started = time.perf_counter()
        store.optimize()
        out["optimize_s"] = time.perf_counter() - optimize_started
    elif mode == "disk_load":
        store = ox.Store(str(target))
        store.load(path=str(source), format=NQ)
        store.flush()
        quads = len(store)
    elif mode == "service":
        from zitkg.store import OxigraphStore

        graphs: dict[str, list[ox.Triple]] = defaultdict(list)
        for quad in ox.parse(path=str(source), format=NQ):
            graphs[quad.graph_name.value].append(quad.triple)
        out["parse_s"] = time.perf_counter() - started
        store_started = time.perf_counter()
        store = OxigraphStore(target)
        store.replace_graphs(dict(graphs), published=True)
        out["store_s"] = time.perf_counter() - store_started
        quads = len(store.read_store())
        store.close()
    elif mode == "oxigraph":
        subprocess.run([oxigraph_cli(), "load", "--location", str(target), "--file", str(source)],
                       check=True, capture_output=True)
        out["seconds"] = time.perf_counter() - started
        optimize_started = time.perf_counter()
        subprocess.run([oxigraph_cli(), "optimize", "--location", str(target)], check=True, capture_output=True)
        out["optimize_s"] = time.perf_counter() - optimize_started
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        quads = sum(1 for line in source.open("rb") if line.strip())
    else:
        raise SystemExit(f"unknown mode {mode}")
    out.setdefault("seconds", time.perf_counter() - started)
    out.setdefault("peak_rss_mb", peak_rss_mb())
    out["quads"] = quads
    out["triples_per_s"] = quads / out["seconds"] if out["seconds"] else None
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
