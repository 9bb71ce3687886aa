"""Search benchmark (issue 13): the full-text index against today's scan, over HTTP, at 100k/1M/5M triples.

For each size: the synthetic graph of bench/generate.py is bulk-loaded into an embedded store and every
graph published; then, in a fresh process, the search index is built from the store (seconds and peak
memory: the faceted index of explore.py plus the SQLite FTS5 file beside the store); then a real
`zitkg serve` answers ``/api/search`` (one word, three words) and the scan it replaces (the SPARQL of
queries/search.rq, a folded substring FILTER over every text, through /sparql), p50 over N requests.
Finally the cost a publish adds: a small graph published, and the time of the next search (re-index of
what changed).

    python bench/search.py --size 100k --size 1m [--requests 30] [--json bench/results/search.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "server"))

ONE = ["energetyczny", "rowery", "konsultacje", "dostepnosci", "termomod"]
THREE = ["efektywność energetyczna budynków", "rowery miejskie lublin", "audyt dostępności przystanków",
         "konsultacje spoleczne mof", "plan mobilnosci miejskiej"]


def prepare(size: str, folder: Path) -> dict:
    """The store for a size: bulk load, publish everything; seconds."""
    import generate
    import pyoxigraph as ox

    from zitkg.store import OxigraphStore

    manifest = generate.generate(size)
    nq, _ = generate.paths(size)
    started = time.perf_counter()
    store = OxigraphStore(folder, memory_reads=False)
    with nq.open("rb") as source:
        store.bulk_load_empty(source, ox.RdfFormat.N_QUADS)
    store.publish_graphs(store.named_graphs())
    store.close()
    del store
    gc.collect()
    return {"triples": manifest["triples"], "load_s": round(time.perf_counter() - started, 2)}


def build(folder: Path) -> dict:
    """In this (fresh) process: the search index from the store; seconds and peak memory."""
    from zitkg.search import SearchService
    from zitkg.settings import load_settings
    from zitkg.sparql.service import SparqlService
    from zitkg.store import OxigraphStore

    store = OxigraphStore(folder)
    service = SparqlService(store, load_settings(environ={}, overrides={"store": folder, "query_workers": 1,
                                                                          "query_timeout": 600}))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    searcher = SearchService.for_service(service)
    searcher.sync()
    text_s = time.perf_counter() - started
    index_file = Path(f"{folder}.search") / "index.sqlite"
    out = {"entries": searcher.file.size(), "text_index_s": round(text_s, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "rss_before_mb": round(rss_before, 1), "file_mb": round(index_file.stat().st_size / 2**20, 1)}
    # In process, without HTTP: the search itself.
    for name, texts in (("one_word", ONE), ("three_words", THREE)):
        samples, found = [], []
        for _ in range(5):
            for text in texts:
                t = time.perf_counter()
                found.append(len(searcher.find(text).hits))
                samples.append((time.perf_counter() - t) * 1000)
        out[f"find_{name}_p50_ms"] = round(statistics.median(samples), 2)
        out[f"find_{name}_max_ms"] = round(max(samples), 2)
        out[f"find_{name}_hits"] = sorted(set(found))
    if os.environ.get("BENCH_FACETED"):  # the faceted index of the pages (explore.py), for comparison
        t = time.perf_counter()
        out["faceted_items"] = len(searcher.faceted().items)
        out["faceted_index_s"] = round(time.perf_counter() - t, 2)
    service.close()
    store.close()
    return out


def scan_query(text: str, n: int = 0) -> str:
    """queries/search.rq with the text bound by VALUES (what the `search` question ran before the index)."""
    from zitkg import resources
    from zitkg.queries import load_query

    sparql = load_query(resources.queries_dir() / "search.rq").sparql
    literal = json.dumps(text, ensure_ascii=False)
    # A comment of its own per request: the service's answer cache must not answer it.
    bound = sparql.replace("WHERE {", f'WHERE {{ VALUES (?text ?lang) {{ ({literal} "pl") }}', 1)
    return f"# run {n} {time.time_ns()}\n" + bound


def timed_get(url: str, params: dict | None, n: int, timeout: float = 60, make=None) -> dict:  # noqa: ANN001
    samples, status = [], None
    for i in range(n):
        t = time.perf_counter()
        resp = requests.get(url, params=params if make is None else make(i), timeout=timeout)
        samples.append((time.perf_counter() - t) * 1000)
        status = resp.status_code
    return {"p50_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1), "status": status,
            "n": n}


def serve(folder: Path, n: int, scan_n: int, log: Path) -> dict:
    from common import start_zitkg

    server = start_zitkg(folder, log, {"ZITKG_QUERY_TIMEOUT": "600", "ZITKG_QUERY_WORKERS": "1"})
    base = f"http://127.0.0.1:{server.port}"
    try:
        t = time.perf_counter()
        first = requests.get(base + "/api/search", params={"q": "rower"}, timeout=600)
        out: dict = {"first_search_s": round(time.perf_counter() - t, 2), "first_status": first.status_code}
        for name, texts in (("one_word", ONE), ("three_words", THREE)):
            runs = [timed_get(base + "/api/search", {"q": q, "limit": 50}, n) for q in texts]
            out[name] = {"p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
                         "worst_p50_ms": max(r["p50_ms"] for r in runs)}
            scans = [timed_get(base + "/sparql", None, scan_n, timeout=120,
                               make=lambda i, q=q: {"query": scan_query(q, i)}) for q in texts[:2]]
            out[name]["scan_p50_ms"] = round(statistics.median(r["p50_ms"] for r in scans), 1)
            out[name]["scan_status"] = [r["status"] for r in scans]
        out["suggestion_p50_ms"] = timed_get(base + "/api/search", {"q": "rowre"}, n)["p50_ms"]
    finally:
        server.stop()
    return out


def publish_cost(folder: Path) -> dict:
    """A small graph published into the built index: the time of the next search (the re-index)."""
    import pyoxigraph as ox

    from zitkg.search import SearchService
    from zitkg.settings import load_settings
    from zitkg.sparql.service import SparqlService
    from zitkg.store import OxigraphStore

    store = OxigraphStore(folder)
    service = SparqlService(store, load_settings(environ={}, overrides={"store": folder, "query_workers": 1,
                                                                          "query_timeout": 600}))
    searcher = SearchService.for_service(service)
    t = time.perf_counter()
    searcher.find("rower")
    warm_s = time.perf_counter() - t
    iri = ox.NamedNode("https://w3id.org/sieci-zit/id/practice/bench-storczyki")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    kind = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    t = time.perf_counter()
    store.replace_graphs({"https://w3id.org/sieci-zit/graph/bench-search": [
        ox.Triple(iri, kind, ox.NamedNode("https://w3id.org/sieci-zit/ontology#GoodPractice")),
        ox.Triple(iri, label, ox.Literal("Hodowla storczyków w MOF", language="pl"))]})
    write_s = time.perf_counter() - t
    t = time.perf_counter()
    found = [h.iri for h in searcher.find("storczyki").hits]
    next_search_s = time.perf_counter() - t
    store.drop_graphs(["https://w3id.org/sieci-zit/graph/bench-search"])
    service.close()
    store.close()
    return {"reopen_first_search_s": round(warm_s, 2), "publish_write_s": round(write_s, 3),
            "next_search_s": round(next_search_s, 2), "found": iri.value in found,
            "reindexed": searcher.last_sync[:2]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", action="append", default=None)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--scan-requests", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-http", action="store_true", help="the index build and in-process search only")
    parser.add_argument("--step", choices=["build", "publish"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a fresh process for one measured step
        print(json.dumps(build(args.folder) if args.step == "build" else publish_cost(args.folder)))
        return 0
    results = {}
    for size in args.size or ["100k"]:
        with tempfile.TemporaryDirectory(prefix=f"zitkg-search-{size}-") as tmp:
            folder = Path(tmp) / "store"
            row = prepare(size, folder)

            def step(name: str, folder: Path = folder) -> dict:
                done = subprocess.run([sys.executable, __file__, "--step", name, "--folder", str(folder)],
                                      capture_output=True, text=True, check=False, cwd=ROOT)
                if done.returncode:
                    raise RuntimeError(f"step {name} failed: {done.stderr[-3000:]}")
                return json.loads(done.stdout.strip().splitlines()[-1])

            row["build"] = step("build")
            if not args.no_http:
                row["http"] = serve(folder, args.requests, args.scan_requests, Path(tmp) / "server.log")
            row["publish"] = step("publish")
            results[size] = row
            print(json.dumps({size: row}, indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
