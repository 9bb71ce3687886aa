"""Evidence for the performance findings of docs/benchmarks.md, each next to the change that fixes it.

    python bench/findings.py [--sizes bundled,20000,100k,1m] [--timeout 20] [--only rewrites,writers,...]

1. Library queries whose FILTER NOT EXISTS holds a property path (gaps-pilots, gaps-members) do not
   finish at 100k triples on Oxigraph; the same question with MINUS (the shared variables are bound on
   both sides, so it removes the same rows) answers in milliseconds. Rows are compared on every size
   where the original finishes.
2. Substitutions vs a VALUES block: the library binds ?lang (and parameters) by substitution, which
   changes Oxigraph's plan; ``organisations`` is the worst case.
3. Loading into memory: ``bulk_load`` vs ``load`` vs ``bulk_load(lenient=True)``.
4. The server's start on a big store: the in-memory copy filled through Python objects
   (``bulk_extend(quads_for_pattern(...))``, what ``OxigraphStore._sync_memory`` does) vs a dump of the
   disk store loaded in Rust (``dump`` + ``bulk_load``).
5. The service's load path (``OxigraphStore.replace_graphs``: one SPARQL INSERT DATA text) phase by phase,
   next to ``Store.extend`` and ``Store.load`` of the same quads in one transaction.
6. Writing big SELECT answers: rows pulled into Python (the floor), zitkg's ``execute()`` (rows + its
   Python JSON writer), pyoxigraph's own JSON serializer, and ``QueryPool.run`` (``execute()`` in a worker,
   the answer over a pipe).
7. The /sparql route in process (Flask's test client, bundled data): what one request costs without the
   HTTP server, answered from the result cache and not.

Results: bench/results/findings.json (and printed).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402
from common import Limits, forked_series  # noqa: E402

HERE = Path(__file__).resolve().parent
NQ = ox.RdfFormat.N_QUADS

# (query id, original snippet, rewritten snippet)
REWRITES = [
    ("gaps-pilots", """  FILTER NOT EXISTS {
    ?pilot a zit:Pilot ;
           zit:pilotLocation ?mof ;
           zit:pilotOf/zit:theme/skos:broader* ?theme .
    ?mof zit:inVoivodeship ?voivodeship .
  }""", """  MINUS {
    ?pilot a zit:Pilot ;
           zit:pilotLocation ?mof ;
           zit:pilotOf ?practice .
    ?practice zit:theme ?practiceTheme .
    ?practiceTheme skos:broader* ?theme .
    ?mof zit:inVoivodeship ?voivodeship .
  }"""),
    ("gaps-members", """  FILTER NOT EXISTS {
    ?practice a zit:GoodPractice ;
              zit:originator ?member ;
              zit:theme/skos:broader* ?networkTheme .
  }""", """  MINUS {
    ?practice a zit:GoodPractice ;
              zit:originator ?member ;
              zit:theme ?practiceTheme .
    ?practiceTheme skos:broader* ?networkTheme .
  }"""),
]


def log(message: str) -> None:
    print(message, flush=True)


def timed(store: ox.Store, text: str, limits: Limits, substitutions: dict | None = None) -> dict[str, Any]:
    def make():  # noqa: ANN202
        kwargs: dict[str, Any] = {"use_default_graph_as_union": True}
        if substitutions:
            kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
        return lambda: sum(1 for row in store.query(text, **kwargs) if tuple(row) is not None)

    series = forked_series(make, limits)
    return series.to_dict()


def rewrites(store: ox.Store, requests: list[tuple], limits: Limits) -> dict[str, Any]:
    out = {}
    by_id = {r[0]: r for r in requests}
    for qid, old, new in REWRITES:
        original = by_id[qid][3]
        if old not in original:
            out[qid] = {"error": "the query changed: the rewrite no longer applies"}
            continue
        rewritten = original.replace(old, new)
        a, b = timed(store, original, limits), timed(store, rewritten, limits)
        out[qid] = {"original": a, "rewritten": b, "rows_agree": None if a.get("dnf") else a["rows"] == b["rows"]}
        log(f"  {qid}: original {'DNF' if a.get('dnf') else '%.1f ms' % a['p50']}, rewritten "
            f"{'DNF' if b.get('dnf') else '%.1f ms' % b['p50']} (rows {a.get('rows')} / {b.get('rows')})")
    return out


def substitutions(store: ox.Store, requests: list[tuple], registry: Any, limits: Limits) -> dict[str, Any]:
    out = {}
    for qid, _form, bound, text in requests:
        if qid != "organisations":
            continue
        a = timed(store, text, limits)
        b = timed(store, registry.get(qid).sparql, limits, bound)
        out[qid] = {"values": a, "substitutions": b}
        log(f"  {qid}: VALUES {a.get('p50', 0):.1f} ms, substitutions "
            f"{'DNF' if b.get('dnf') else '%.1f ms' % b['p50']}")
    return out


def loads(source: Path) -> dict[str, Any]:
    out = {}
    for name, call in (("bulk_load", lambda s: s.bulk_load(path=str(source), format=NQ)),
                       ("bulk_load_lenient", lambda s: s.bulk_load(path=str(source), format=NQ, lenient=True)),
                       ("load", lambda s: s.load(path=str(source), format=NQ)),
                       ("load_lenient", lambda s: s.load(path=str(source), format=NQ, lenient=True))):
        store = ox.Store()
        started = time.perf_counter()
        call(store)
        seconds = time.perf_counter() - started
        out[name] = {"seconds": seconds, "triples_per_s": len(store) / seconds}
        log(f"  memory {name}: {seconds:.1f} s, {len(store) / seconds:,.0f} triples/s")
        del store
    return out


def sync(source: Path, work: Path) -> dict[str, Any]:
    disk = ox.Store(str(work / "sync-disk"))
    disk.bulk_load(path=str(source), format=NQ)
    disk.flush()
    graphs = [g for g in disk.named_graphs() if isinstance(g, ox.NamedNode)]
    out = {}
    memory = ox.Store()
    started = time.perf_counter()
    for graph in graphs:  # what OxigraphStore._sync_memory does
        memory.bulk_extend(disk.quads_for_pattern(None, None, None, graph))
    out["bulk_extend_quads_for_pattern"] = time.perf_counter() - started
    del memory
    memory = ox.Store()
    started = time.perf_counter()
    buffer = io.BytesIO()
    disk.dump(buffer, format=NQ)
    memory.bulk_load(buffer.getvalue(), format=NQ, lenient=True)
    out["dump_bulk_load"] = time.perf_counter() - started
    log(f"  memory copy of the disk store: bulk_extend(quads_for_pattern) {out['bulk_extend_quads_for_pattern']:.1f} s,"
        f" dump + bulk_load {out['dump_bulk_load']:.1f} s")
    return out


def service(source: Path, work: Path) -> dict[str, Any]:
    from zitkg.store import OxigraphStore, _replace_update

    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(path=str(source), format=NQ):
        graphs[quad.graph_name.value].append(quad.triple)
    out: dict[str, float] = {}
    store = OxigraphStore(work / "svc")
    started = time.perf_counter()
    text = _replace_update(dict(graphs), True, {})
    out["build_update_text"] = time.perf_counter() - started
    started = time.perf_counter()
    store.disk.update(text)
    store.disk.flush()
    out["disk_update"] = time.perf_counter() - started
    started = time.perf_counter()
    store._sync_memory(list(graphs))  # noqa: SLF001 - timing the phase the public method runs
    out["sync_memory"] = time.perf_counter() - started
    store.close()
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for g, ts in graphs.items() for t in ts]
    other = ox.Store(str(work / "svc-extend"))
    started = time.perf_counter()
    other.extend(quads)
    other.flush()
    out["disk_extend_one_transaction"] = time.perf_counter() - started
    other = ox.Store(str(work / "svc-load"))
    started = time.perf_counter()
    other.load(path=str(source), format=NQ)
    other.flush()
    out["disk_load_one_transaction"] = time.perf_counter() - started
    log("  service path: " + ", ".join(f"{k} {v:.1f} s" for k, v in out.items()))
    return out


def route(work: Path, runs: int = 2000) -> dict[str, Any]:
    from zitkg.settings import load_settings
    from zitkg.web import create_app

    app = create_app(load_settings(environ={}, overrides={"store": work / "route-store"}))
    client = app.test_client()
    headers = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    query = "ASK { <https://w3id.org/sieci-zit/id/org/bof> ?p ?o }"
    out = {}
    for name, text in (("cached", lambda i: query), ("uncached", lambda i: f"{query}\n# {i}")):
        for i in range(200):
            client.post("/sparql", data=text(-i - 1), headers=headers)
        started = time.perf_counter()
        for i in range(runs):
            reply = client.post("/sparql", data=text(i), headers=headers)
            assert reply.status_code == 200
        out[name] = (time.perf_counter() - started) / runs * 1000
    app.extensions["zitkg"]["sparql"].close()
    log(f"  /sparql route in process: cache hit {out['cached']:.2f} ms, miss {out['uncached']:.2f} ms")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="bundled,20000,100k,1m")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    from zitkg import resources
    from zitkg.queries import Registry

    registry = Registry(resources.queries_dir())
    limits = Limits(timeout_s=args.timeout, budget_s=2.0, max_runs=10)
    results: dict[str, Any] = {}
    for label in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        generate.generate(label)
        source, _ = generate.paths(label)
        log(f"== {label}")
        work = Path(tempfile.mkdtemp(prefix="zitkg-findings-"))
        try:
            store = ox.Store()
            store.bulk_load(path=str(source), format=NQ)

            def ask(q: str, store: ox.Store = store) -> bool:
                return bool(store.query(q, use_default_graph_as_union=True))

            requests = generate.library_requests(ask)
            entry = {"rewrites": rewrites(store, requests, limits),
                     "substitutions": substitutions(store, requests, registry, limits)}
            del store
            entry["memory_load"] = loads(source)
            entry["memory_copy"] = sync(source, work)
            if generate.target_of(label) <= 1_000_000:
                entry["service_load"] = service(source, work)
            results[label] = entry
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out = HERE / "results" / "findings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    log(f"raw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
