"""What the SPARQL endpoint costs on top of the raw engine (a benchmark script, not a test).

For a handful of mapping-style queries it measures p50/p95 latency of the same query
  - in process on pyoxigraph in memory (query + materialising every row),
  - in process on pyoxigraph on disk (same),
  - in process through zitkg's ``execute`` (in memory, rows + the SPARQL JSON writer),
  - through ``QueryPool`` (the same ``execute`` in a forked worker, request and answer over a pipe),
  - through the HTTP endpoint of a real ``python -m zitkg serve`` (keep-alive session, body read, not parsed),
and the cost of the process hop alone on a tiny ASK query.

Every in-process run uses the dataset the endpoint uses: the published graphs as the default graph and
as the named graphs. One more column runs the in-memory query with the union default graph instead
(same rows on this data), because the explicit list of graphs turned out to cost 2-4x on some queries.
``--copies N`` adds N renamed copies of the examples graph (about 1,960 triples each; ``--copies 50``
gives ~100k triples). Raw results go to bench/results/endpoint_cost.json (endpoint_cost_copiesN.json
with --copies).

    .venv/bin/python bench/endpoint_cost.py                # bundled data (~3.8k triples)
    .venv/bin/python bench/endpoint_cost.py --copies 50    # ~100k triples
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests

from zitkg.bundle import bundled_graphs, read_turtle
from zitkg.privacy import private_graph, split_private
from zitkg.sparql.execute import QueryRequest, execute
from zitkg.sparql.pool import QueryPool
from zitkg.store import GRAPH_BASE, OxigraphStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PoolStore, cpu_name  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = GRAPH_BASE + "examples"
ID = "https://w3id.org/sieci-zit/id/"
ACCEPT = "application/sparql-results+json"

PREFIXES = """PREFIX zit: <https://w3id.org/sieci-zit/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
"""

# Mapping-style questions, written against docs/model.md and checked to return rows on the bundled data.
QUERIES: dict[str, str] = {
    "networks": """
SELECT ?network ?networkLabel ?leaderLabel (COUNT(DISTINCT ?partner) AS ?partnerCount)
       (GROUP_CONCAT(DISTINCT ?partnerLabel; separator="; ") AS ?partners)
WHERE {
  ?network a zit:CooperationNetwork ; rdfs:label ?networkLabel . FILTER(lang(?networkLabel) = "pl")
  ?lm org:organization ?network ; org:role <https://w3id.org/sieci-zit/id/role/leader> ; org:member ?leader .
  ?leader rdfs:label ?leaderLabel . FILTER(lang(?leaderLabel) = "pl")
  OPTIONAL {
    ?pm org:organization ?network ; org:role <https://w3id.org/sieci-zit/id/role/partner> ; org:member ?partner .
    ?partner rdfs:label ?partnerLabel . FILTER(lang(?partnerLabel) = "pl")
  }
}
GROUP BY ?network ?networkLabel ?leaderLabel
ORDER BY ?networkLabel""",
    "pilots_energy_by_mof": """
SELECT DISTINCT ?mof ?mofLabel ?pilot ?practiceLabel ?orgLabel ?start
WHERE {
  ?pilot a zit:Pilot ; zit:pilotOf ?practice ; zit:pilotLocation ?mof ; zit:implementedBy ?org .
  ?practice zit:theme ?theme .
  ?theme skos:broader* <https://w3id.org/sieci-zit/id/theme/energy-efficiency> .
  ?mof rdfs:label ?mofLabel . FILTER(lang(?mofLabel) = "pl")
  ?practice rdfs:label ?practiceLabel . FILTER(lang(?practiceLabel) = "pl")
  ?org rdfs:label ?orgLabel . FILTER(lang(?orgLabel) = "pl")
  OPTIONAL { ?pilot schema:startDate ?start }  # last: an OPTIONAL early in the group cost 40x at 100k triples
}
ORDER BY ?mofLabel ?start ?pilot""",
    "practices_theme_org": """
SELECT ?org ?theme (COUNT(DISTINCT ?practice) AS ?practices)
WHERE {
  ?cls rdfs:subClassOf* zit:ZITAssociation . ?org a ?cls .
  ?theme skos:topConceptOf <https://w3id.org/sieci-zit/id/scheme/themes> .
  OPTIONAL { ?practice a zit:GoodPractice ; zit:originator ?org ; zit:theme ?t . ?t skos:broader* ?theme }
}
GROUP BY ?org ?theme
ORDER BY ?org ?theme""",
    "experts_by_competence": """
SELECT ?topTheme ?competence ?expert ?name
WHERE {
  ?topTheme skos:topConceptOf <https://w3id.org/sieci-zit/id/scheme/themes> .
  ?competence skos:broader* ?topTheme .
  ?expert a zit:Expert ; zit:competence ?competence ; foaf:name ?name .
}
ORDER BY ?topTheme ?name ?competence""",
    "count_per_class": """
SELECT ?class (COUNT(?s) AS ?n)
WHERE { ?s a ?class }
GROUP BY ?class
ORDER BY DESC(?n) ?class""",
    "ask_lookup": """
ASK { <https://w3id.org/sieci-zit/id/org/bof> ?p ?o }""",
}


# ---------------------------------------------------------------------------------------------- data


def load_graphs(copies: int) -> dict[str, list[ox.Triple]]:
    """The bundled graphs; the examples graph plus ``copies`` copies of it with its own IRIs renamed.

    Not yet split into public and private (contact data without consent): see ``split``.

    Renamed are the subjects that only the examples graph describes (pilots, practices, experts, MOFs,
    amounts, results...); what other graphs describe (organisations, networks, themes, roles) stays shared,
    so the copies hang off the same organisations and themes as the originals do.
    """
    graphs = {g.iri: [t for f in g.files for t in read_turtle(f)] for g in bundled_graphs()}
    if copies <= 0:
        return graphs
    examples = graphs[EXAMPLES]
    described_elsewhere = {
        t.subject.value for iri, ts in graphs.items() if iri != EXAMPLES for t in ts
        if isinstance(t.subject, ox.NamedNode)
    }
    own = {
        t.subject.value for t in examples
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(ID)
        and t.subject.value not in described_elsewhere
    }
    scaled = list(examples)
    for k in range(1, copies + 1):
        rename: dict[str, ox.NamedNode] = {iri: ox.NamedNode(f"{iri}--copy{k}") for iri in own}

        def term(node: Any, rename: dict[str, ox.NamedNode] = rename) -> Any:
            return rename.get(node.value, node) if isinstance(node, ox.NamedNode) else node

        scaled += [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in examples]
    graphs[EXAMPLES] = scaled
    return graphs


def split(graphs: dict[str, list[ox.Triple]]) -> tuple[dict[str, list[ox.Triple]], dict[str, list[ox.Triple]]]:
    """(published, private) graphs, as zitkg.bundle.load_bundled splits them."""
    public: dict[str, list[ox.Triple]] = {}
    private: dict[str, list[ox.Triple]] = {}
    for iri, triples in graphs.items():
        public[iri], private[private_graph(iri)] = split_private(triples)
    return public, private


def raw_store(graphs: dict[str, list[ox.Triple]], path: Path | None) -> ox.Store:
    store = ox.Store(str(path)) if path is not None else ox.Store()
    store.bulk_extend(
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iri)) for iri, ts in graphs.items() for t in ts
    )
    if path is not None:
        store.flush()
    return store


# -------------------------------------------------------------------------------------------- timing


def measure(
    paths: dict[str, Callable[[], Any]], runs: int, warmup: int, rounds: int = 5
) -> dict[str, list[float]]:
    """Time every path ``runs`` times, in ``rounds`` blocks per path taken in turn.

    Blocks rather than one long series per path: drift in the machine's speed (other processes on a
    shared vCPU) lands on all paths alike. Blocks rather than strict interleaving: one HTTP request
    between two in-process runs evicts enough of the CPU caches to double a 30 µs query. Each block
    starts with one untimed run.
    """
    for fn in paths.values():
        for _ in range(warmup):
            fn()
    gc.collect()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    sizes = [runs // rounds + (1 if i < runs % rounds else 0) for i in range(rounds)]
    for size in sizes:
        for name, fn in paths.items():
            fn()
            for _ in range(size):
                started = time.perf_counter_ns()
                fn()
                samples[name].append((time.perf_counter_ns() - started) / 1e6)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": statistics.median(samples),
        "p95": cuts[94],
        "min": min(samples),
        "mean": statistics.fmean(samples),
    }


def materialise(result: Any) -> int:
    """Pull every row and every term out of a pyoxigraph answer; returns the row count (ASK: 1)."""
    if isinstance(result, ox.QueryBoolean):
        return int(bool(result))
    return sum(1 for row in result if tuple(row) is not None)


# -------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_server_store(
    path: Path, public: dict[str, list[ox.Triple]], private: dict[str, list[ox.Triple]]
) -> float:
    """Write the graphs (public ones marked published) into a fresh store folder the server opens as is."""
    started = time.perf_counter()
    store = OxigraphStore(path, memory_reads=False)
    store.replace_graphs(public, published=True, private=private)
    store.close()
    del store
    gc.collect()  # drop the RocksDB handle (and its lock) before the server opens the folder
    return time.perf_counter() - started


def start_server(store_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zitkg", "serve", "--store", str(store_dir), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/sparql"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            reply = requests.get(url, params={"query": "ASK {}"}, headers={"Accept": ACCEPT}, timeout=2)
            if reply.status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer within 90 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn master, its worker and the query workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pyoxigraph": ox.__version__,
        "platform": platform.platform(),
    }


def json_rows(doc: dict[str, Any]) -> int:
    """Rows of a SPARQL JSON answer (1 for a true ASK)."""
    return int(doc["boolean"]) if "boolean" in doc else len(doc["results"]["bindings"])


def fmt(ms: float) -> str:
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=0, help="extra renamed copies of the examples graph")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query and path")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before the timed ones")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "endpoint_cost.json")
    args = parser.parse_args()

    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, Python {info['python']}, pyoxigraph {info['pyoxigraph']}")
    work = Path(tempfile.mkdtemp(prefix="zitkg-bench-"))
    proc = None
    pool = None
    try:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        public, private = split(load_graphs(args.copies))
        graphs = {**public, **private}
        timings["parse_s"] = time.perf_counter() - started
        triples = sum(len(ts) for ts in graphs.values())
        published = tuple(sorted(public))
        dataset = {
            "default_graph": [ox.NamedNode(g) for g in published],
            "named_graphs": [ox.NamedNode(g) for g in published],
        }

        started = time.perf_counter()
        memory = raw_store(graphs, None)
        timings["load_memory_s"] = time.perf_counter() - started
        started = time.perf_counter()
        disk = raw_store(graphs, work / "disk")
        timings["load_disk_s"] = time.perf_counter() - started
        timings["prepare_server_store_s"] = prepare_server_store(work / "server", public, private)
        quads = len(memory)
        print(f"# {triples} triples parsed ({quads} distinct quads), copies={args.copies}; "
              f"load: memory {timings['load_memory_s']:.2f} s, disk {timings['load_disk_s']:.2f} s, "
              f"server store via replace_graphs {timings['prepare_server_store_s']:.2f} s", flush=True)

        port = free_port()
        started = time.perf_counter()
        proc = start_server(work / "server", port, work / "server.log")
        timings["server_start_s"] = time.perf_counter() - started
        print(f"# server answered {timings['server_start_s']:.2f} s after start", flush=True)
        url = f"http://127.0.0.1:{port}/sparql"
        session = requests.Session()
        session.headers["Accept"] = ACCEPT

        pool = QueryPool(PoolStore(memory), 1)
        # Fork the worker now, with no garbage pending: a cycle collected in the child would run finalizers
        # (urllib3 closing sockets) on descriptors the worker has already closed.
        gc.collect()
        pool.run(QueryRequest(sparql="ASK {}"), 30.0)

        def http_get(sparql: str) -> int:
            reply = session.get(url, params={"query": sparql})
            if reply.status_code != 200:
                raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:300]}")
            return len(reply.content)

        results: dict[str, Any] = {}
        for name, body in QUERIES.items():
            sparql = PREFIXES + body
            request = QueryRequest(sparql=sparql, default_graphs=published, named_graphs=published)

            # The paths must agree on the answer before their speed means anything.
            rows_mem = materialise(memory.query(sparql, **dataset))
            rows_disk = materialise(disk.query(sparql, **dataset))
            rows_execute = json_rows(json.loads(execute(memory, request).body))
            reply = session.get(url, params={"query": sparql})
            reply.raise_for_status()
            rows_http = json_rows(reply.json())
            if not rows_mem:
                raise SystemExit(f"{name}: no rows (or ASK false) on the bundled data; fix the query")
            rows_union = materialise(memory.query(sparql, use_default_graph_as_union=True))
            if not (rows_mem == rows_disk == rows_execute == rows_http == rows_union):
                raise SystemExit(
                    f"{name}: row counts differ: {rows_mem} {rows_disk} {rows_execute} {rows_http} {rows_union}"
                )

            paths: dict[str, Callable[[], Any]] = {
                "memory": lambda s=sparql: materialise(memory.query(s, **dataset)),
                "memory_union": lambda s=sparql: materialise(memory.query(s, use_default_graph_as_union=True)),
                "disk": lambda s=sparql: materialise(disk.query(s, **dataset)),
                "memory_json": lambda r=request: execute(memory, r),
                "pool": lambda r=request: pool.run(r, 30.0),
                "http": lambda s=sparql: http_get(s),
            }
            entry: dict[str, Any] = {"rows": rows_mem, "json_bytes": len(reply.content), "paths": {}}
            for path, samples in measure(paths, args.runs, args.warmup).items():
                entry["paths"][path] = {**summary(samples), "samples_ms": samples}
            entry["ratio_http_memory_p50"] = entry["paths"]["http"]["p50"] / entry["paths"]["memory"]["p50"]
            entry["ratio_disk_memory_p50"] = entry["paths"]["disk"]["p50"] / entry["paths"]["memory"]["p50"]
            results[name] = entry
            print(f"  {name}: {rows_mem} rows, http p50 {fmt(entry['paths']['http']['p50'])} ms", flush=True)

        # The process hop alone: the tiny ASK through execute in process vs through a pooled worker; and
        # the floor of the HTTP path: an OPTIONS request to /sparql (no query evaluated), and the same ASK
        # with http.client instead of requests, to show what the client library adds.
        ask = PREFIXES + QUERIES["ask_lookup"]
        ask_request = QueryRequest(sparql=ask, default_graphs=published, named_graphs=published)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        ask_path = "/sparql?" + urllib.parse.urlencode({"query": ask})

        def plain(method: str, target: str) -> int:
            conn.request(method, target, headers={"Accept": ACCEPT})
            reply = conn.getresponse()
            body = reply.read()
            if reply.status not in (200, 204):
                raise RuntimeError(f"HTTP {reply.status}: {body[:300]!r}")
            return len(body)

        hop_paths: dict[str, Callable[[], Any]] = {
            "store.query": lambda: bool(memory.query(ask, **dataset)),
            "execute (in process)": lambda: execute(memory, ask_request),
            "QueryPool.run": lambda: pool.run(ask_request, 30.0),
            "HTTP OPTIONS /sparql, requests": lambda: session.options(url).content,
            "HTTP OPTIONS /sparql, http.client": lambda: plain("OPTIONS", "/sparql"),
            "HTTP ASK, requests": lambda: http_get(ask),
            "HTTP ASK, http.client": lambda: plain("GET", ask_path),
        }
        hop_runs = max(args.runs * 4, 200)
        hop: dict[str, Any] = {
            k: {**summary(s), "samples_ms": s} for k, s in measure(hop_paths, hop_runs, args.warmup * 4).items()
        }
        hop["cost_p50_ms"] = hop["QueryPool.run"]["p50"] - hop["execute (in process)"]["p50"]
        conn.close()
    finally:
        if pool is not None:
            pool.close()
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)

    # ------------------------------------------------------------------------------------- report
    print()
    print(f"{triples} triples, {args.runs} runs after {args.warmup} warm-ups; latency in ms, p50 / p95")
    print()
    print("| query | rows | memory | disk | execute+JSON (memory) | QueryPool | HTTP | HTTP/memory (p50) "
          "| memory, union default graph |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, entry in results.items():
        cells = [f"{fmt(entry['paths'][p]['p50'])} / {fmt(entry['paths'][p]['p95'])}"
                 for p in ("memory", "disk", "memory_json", "pool", "http")]
        union = entry["paths"]["memory_union"]
        print(f"| {name} | {entry['rows']} | " + " | ".join(cells)
              + f" | {entry['ratio_http_memory_p50']:.1f}x | {fmt(union['p50'])} / {fmt(union['p95'])} |")
    print()
    print(f"Process hop and HTTP floor on the tiny ASK ({hop_runs} runs), ms:")
    print()
    print("| path | p50 | p95 |")
    print("|---|---:|---:|")
    for key in hop_paths:
        print(f"| {key} | {hop[key]['p50']:.3f} | {hop[key]['p95']:.3f} |")
    print(f"| hop (QueryPool − execute, p50) | {hop['cost_p50_ms']:.3f} | |")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": info,
        "copies": args.copies,
        "triples": triples,
        "quads": quads,
        "runs": args.runs,
        "warmup": args.warmup,
        "timings": timings,
        "queries": {name: {"sparql": PREFIXES + body} for name, body in QUERIES.items()},
        "results": results,
        "process_hop": {"runs": hop_runs, **hop},
    }
    for name in results:
        report["results"][name]["sparql"] = report["queries"][name]["sparql"]
    del report["queries"]
    out = args.out
    if args.copies and out == parser.get_default("out"):
        out = out.with_name(f"endpoint_cost_copies{args.copies}.json")
    out.write_text(json.dumps(report, indent=1))
    print(f"\nraw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
