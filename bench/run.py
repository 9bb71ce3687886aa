"""The benchmark suite: every figure of issue 8 in one run per graph size (a script, not a test).

    python bench/run.py                          # sizes bundled, 100k, 1m, 5m (make bench)
    python bench/run.py --sizes bundled,100k     # a quick run
    python bench/run.py --report-only            # rewrite docs/benchmarks.md and the plot from the last run

Per size, with the synthetic graph of bench/generate.py (the bundled published graphs + the synthetic one):

  load       seconds, triples/s and peak RSS of one load in a fresh process (bench/load_probe.py):
             pyoxigraph in memory (bulk_load, load), on disk (bulk_load, load), the service's own load
             path (OxigraphStore.replace_graphs) and the `oxigraph load` command (+ optimize);
  queries    every library query (queries/*.rq, default parameters, lang "pl"), p50/p95 of
             mem        pyoxigraph in memory in process, union default graph, parameters in a VALUES block,
                        every row and term materialised (the floor),
             mem_subst  the same with the parameters as substitutions, as the library runs them,
             disk       pyoxigraph on disk (bulk_load + optimize) in process,
             http       `zitkg serve` /sparql over HTTP (POST application/sparql-query, keep-alive
                        http.client), a unique comment per request so that no answer comes from the
                        result cache,
             http_cached  the same request text repeated (answers from the server's result cache),
             oxigraph   `oxigraph serve` /query (`oxigraph load` + optimize, union default graph),
             rdflib     rdflib Dataset(default_union=True) in memory (bench/rdflib_probe.py),
             each with a time limit ("did not finish") and a check that all paths return the same rows;
  guard      the process hop of the query-time guard on tiny queries: store.query, execute() in process,
             QueryPool.run (forked worker, pipe), and the same over HTTP;
  validation p50 of Submissions.validate on a one-practice submission, context read from the disk store;
  throughput (one size) wrk, 2 threads, 4 connections, tiny lookups: unique texts and repeated texts, ours
             vs `oxigraph serve`;
and once: cold start of `zitkg serve` on an empty store (bundled data loaded, first answer).

Raw results go to bench/results/run-<date>.json and bench/results/latest.json; bench/report.py turns them
into the tables of docs/benchmarks.md and docs/benchmarks.png.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402
from common import (  # noqa: E402
    JSON_RESULTS,
    NTRIPLES,
    HttpError,
    Limits,
    PoolStore,
    Series,
    count_answer,
    forked_series,
    local_series,
    machine,
    start_oxigraph,
    start_zitkg,
    summary,
    tree_pss_mb,
    tree_rss_mb,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BASE_IRI = "https://w3id.org/sieci-zit/"
ID = BASE_IRI + "id/"
PATHS = ("mem", "mem_subst", "disk", "http", "http_cached", "oxigraph")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def size_value(label: str) -> int:
    return generate.target_of(label)


# ------------------------------------------------------------------------------------------------ load


def probe(mode: str, source: Path, target: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "load_probe.py"), mode, str(source)] + ([str(target)] if target else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"mode": mode, "error": done.stderr.strip()[-800:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def loads(label: str, source: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    size = size_value(label)
    out: dict[str, Any] = {}
    plan = [("mem_bulk", None), ("mem_load", None), ("disk_bulk", work / "disk"), ("oxigraph", work / "oxigraph"),
            ("server_prep", work / "server")]
    if size <= size_value(args.disk_load_max):
        plan.append(("disk_load", work / "disk_load"))
    if size <= size_value(args.service_load_max):
        plan.append(("service", work / "service"))
    for mode, target in plan:
        result = probe(mode, source, target)
        out[mode] = result
        rate = result.get("triples_per_s")
        log(f"  load {mode}: {result.get('seconds', float('nan')):.1f} s"
            + (f", {rate:,.0f} triples/s" if rate else "") + f", peak {result.get('peak_rss_mb', 0):.0f} MB"
            + (f"  ERROR {result['error'][-200:]}" if "error" in result else ""))
        if mode in {"disk_load", "service"} and target is not None:
            shutil.rmtree(target, ignore_errors=True)
    skipped = []
    if size > size_value(args.disk_load_max):
        skipped.append(f"disk_load above {args.disk_load_max}")
    if size > size_value(args.service_load_max):
        skipped.append(f"service above {args.service_load_max}")
    if skipped:
        out["skipped"] = skipped
    return out


# --------------------------------------------------------------------------------------------- queries


def materialise(answer: Any) -> int:
    if isinstance(answer, ox.QueryBoolean):
        return int(bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        return sum(1 for row in answer if tuple(row) is not None)
    return len(dict.fromkeys(answer))  # CONSTRUCT: distinct triples, as the service writes them


def query_paths(
    requests: list[dict[str, Any]], memory: ox.Store, disk_dir: Path, ours, oxi, limits: Limits,  # noqa: ANN001
    paths: tuple[str, ...],
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    nonce = [0]

    def unique(text: str) -> str:
        nonce[0] += 1
        return f"{text}\n# bench {os.getpid()}-{nonce[0]}\n"

    for req in requests:
        qid, form, text = req["id"], req["form"], req["sparql"]
        accept = NTRIPLES if form in {"CONSTRUCT", "DESCRIBE"} else JSON_RESULTS
        entry: dict[str, Any] = {"form": form, "paths": {}}
        started = time.perf_counter()

        def mem_runner(text: str = text):  # noqa: ANN202
            return lambda: (lambda: materialise(memory.query(text, use_default_graph_as_union=True)))

        def subst_runner(req: dict[str, Any] = req):  # noqa: ANN202
            subst = {ox.Variable(k): v for k, v in req["bound"].items()}
            return lambda: (lambda: materialise(memory.query(req["original"], use_default_graph_as_union=True,
                                                             substitutions=subst)))

        def disk_runner(text: str = text):  # noqa: ANN202
            def make():  # noqa: ANN202
                store = ox.Store.read_only(str(disk_dir))
                return lambda: materialise(store.query(text, use_default_graph_as_union=True))

            return make

        def http_runner(client, cached: bool, form: str = form, text: str = text, accept: str = accept):  # noqa: ANN001, ANN202
            counted = [False]

            def run() -> int:
                body = client.post_query(text if cached else unique(text), accept)
                if not counted[0]:
                    counted[0] = True
                    return count_answer(body, form)
                return len(body)

            return run

        for path in paths:
            if path == "mem":
                series = forked_series(mem_runner(), limits)
            elif path == "mem_subst":
                series = forked_series(subst_runner(), limits)
            elif path == "disk":
                series = forked_series(disk_runner(), limits)
            elif path in {"http", "http_cached"}:
                client = ours.client(limits.timeout_s + 5)
                series = local_series(http_runner(client, path == "http_cached"), limits,
                                      single_ok=path != "http_cached")
                client.shutdown()
            elif path == "oxigraph":
                client = oxi.client(limits.timeout_s)
                series = local_series(http_runner(client, False), limits)
                client.shutdown()
                if series.dnf or series.note:
                    oxi.restart()  # oxigraph serve runs without a limit here: end the query still running
            else:
                raise ValueError(path)
            entry["paths"][path] = series.to_dict()
            if path == "mem" and series.dnf:
                # The fastest engine did not finish: the others would not either (same engine, or slower).
                for other in paths[1:]:
                    entry["paths"][other] = Series(note=f"not run: mem did not finish in {limits.timeout_s:g} s",
                                                   dnf=True).to_dict()
                break
        rows = {p: v.get("rows") for p, v in entry["paths"].items() if v.get("rows") is not None and p != "mem_subst"}
        entry["rows"] = entry["paths"].get("mem", {}).get("rows")
        entry["rows_agree"] = len(set(rows.values())) <= 1
        entry["seconds"] = time.perf_counter() - started
        mem = entry["paths"].get("mem", {})
        http = entry["paths"].get("http", {})
        if mem.get("p50") and http.get("p50"):
            entry["ratio_http_mem"] = http["p50"] / mem["p50"]
        results[qid] = entry
        cells = "  ".join(f"{p}={v['p50']:.1f}" if v.get("p50") is not None else f"{p}=DNF" if v.get("dnf")
                          else f"{p}=ERR" for p, v in entry["paths"].items())
        log(f"  {qid}: rows {entry['rows']}{'' if entry['rows_agree'] else ' (ROWS DIFFER ' + str(rows) + ')'}"
            f"  {cells}  ({entry['seconds']:.0f} s)")
        for p, v in entry["paths"].items():
            if v.get("error"):
                log(f"    {p} error: {v['error'][:200]}")
    return results


# ------------------------------------------------------------------------------------------- the guard


def guard(memory: ox.Store, ours, oxi, runs: int) -> dict[str, Any]:  # noqa: ANN001
    from zitkg.sparql.execute import QueryRequest, execute
    from zitkg.sparql.pool import QueryPool

    tiny = {
        "ask": f"ASK {{ <{ID}org/bof> ?p ?o }}",
        "lookup": f"SELECT ?p ?o WHERE {{ <{ID}org/bof> ?p ?o }}",
    }
    gc.collect()
    pool = QueryPool(PoolStore(memory), 1)
    out: dict[str, Any] = {}
    try:
        for name, text in tiny.items():
            request = QueryRequest(sparql=text, union_default=True, max_rows=10_000_000)
            pool.run(request, 30.0)
            ours_client, oxi_client = ours.client(30), oxi.client(30)
            nonce = [0]

            def unique(text: str = text) -> str:
                nonce[0] += 1
                return f"{text}\n# hop {nonce[0]}\n"

            candidates = {
                "store.query": lambda t=text: materialise(memory.query(t, use_default_graph_as_union=True)),
                "execute": lambda r=request: len(execute(memory, r).body or b""),
                "QueryPool.run": lambda r=request: len(pool.run(r, 30.0).body or b""),
                "http": lambda: len(ours_client.post_query(unique(), JSON_RESULTS)),
                "http_cached": lambda t=text: len(ours_client.post_query(t, JSON_RESULTS)),
                "oxigraph": lambda: len(oxi_client.post_query(unique(), JSON_RESULTS)),
            }
            samples: dict[str, list[float]] = {k: [] for k in candidates}
            for fn in candidates.values():
                for _ in range(10):
                    fn()
            blocks = 5
            for _block in range(blocks):  # blocks taken in turn: drift hits every path alike
                for key, fn in candidates.items():
                    fn()
                    for _ in range(runs // blocks):
                        started = time.perf_counter_ns()
                        fn()
                        samples[key].append((time.perf_counter_ns() - started) / 1e6)
            ours_client.shutdown()
            oxi_client.shutdown()
            entry = {k: {**summary(v), "samples_ms": [round(s, 4) for s in v]} for k, v in samples.items()}
            entry["hop_ms"] = entry["QueryPool.run"]["p50"] - entry["execute"]["p50"]
            out[name] = entry
            log(f"  guard {name}: " + "  ".join(f"{k}={v['p50']:.3f}" for k, v in entry.items() if k != "hop_ms")
                + f"  hop={entry['hop_ms']:.3f} ms")
    finally:
        pool.close()
    return out


# ------------------------------------------------------------------------------------------ validation

SUBMISSION = """@prefix zit: <https://w3id.org/sieci-zit/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

[] a zit:GoodPractice ;
    rdfs:label "Wspólny zakup energii dla budynków gmin MOF"@pl , "Joint energy purchase for the FUA municipalities' buildings"@en ;
    dcterms:description "Gminy MOF kupują energię w jednym przetargu i dzielą się danymi o zużyciu."@pl ,
        "The FUA municipalities buy energy in one tender and share consumption data."@en ;
    zit:theme <theme/energy-management> ;
    zit:lifecycleStatus <practice-status/proposed> ;
    zit:originator <org/bof> ;
    zit:inNetwork <network/co4energy> ;
    dcterms:created "2026-01-15"^^xsd:date .
"""


class _DiskQuads:
    """OxigraphStore.quads over a read-only view of the disk store (what Submissions.validate reads)."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def quads(self, subject=None, predicate=None, obj=None, graph=None) -> list[ox.Quad]:  # noqa: ANN001
        return list(self._store.quads_for_pattern(subject, predicate, obj, graph))


def validation(disk_dir: Path, runs: int) -> dict[str, Any]:
    from zitkg.submissions import Submissions, mint, parse

    store = ox.Store.read_only(str(disk_dir))
    submissions = Submissions(_DiskQuads(store), BASE_IRI)
    triples = mint(parse(SUBMISSION.encode(), "text/turtle", BASE_IRI), BASE_IRI)
    report = submissions.validate(triples)
    for _ in range(2):
        submissions.validate(triples)
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        submissions.validate(triples)
        samples.append((time.perf_counter_ns() - started) / 1e6)
    del submissions, store
    gc.collect()
    out = {**summary(samples), "conforms": report.conforms, "triples": len(triples),
           "violations": [r.to_dict() for r in report.violations][:5], "samples_ms": samples}
    log(f"  validation: p50 {out['p50']:.1f} ms, conforms {report.conforms}")
    return out


# ------------------------------------------------------------------------------------------ throughput

LUA = r"""
-- generated by bench/run.py: tiny lookups, GET / POST sparql-query / POST form, 4 kinds of query
local iris = { %(iris)s }
local templates = { %(templates)s }
local unique = %(unique)s
local nonce = "%(nonce)s"  -- per run: Lua's random numbers are not seeded, so "unique" texts repeated across runs
local counter = 0
local methods = { "GET", "POSTQ", "POSTF" }
local function urlencode(s)
  return (s:gsub("[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
function request()
  counter = counter + 1
  local t = templates[(counter %% #templates) + 1]
  local iri = iris[1]
  if unique then iri = iris[(counter %% #iris) + 1] end
  local q = string.format(t, iri)
  if unique then q = q .. "\n# " .. nonce .. "-" .. tid .. "-" .. counter end
  local m = methods[(math.floor(counter / #templates) %% 3) + 1]
  local accept = { Accept = "application/sparql-results+json" }
  if m == "GET" then
    return wrk.format("GET", wrk.path .. "?query=" .. urlencode(q), accept)
  elseif m == "POSTQ" then
    return wrk.format("POST", wrk.path, { Accept = accept.Accept, ["Content-Type"] = "application/sparql-query" }, q)
  else
    return wrk.format("POST", wrk.path, { Accept = accept.Accept, ["Content-Type"] = "application/x-www-form-urlencoded" }, "query=" .. urlencode(q))
  end
end
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests": %%d, "duration_us": %%d, "errors_status": %%d, "errors_other": %%d, "p50_us": %%d, "p99_us": %%d, "bytes": %%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end
"""
TEMPLATES = [
    "ASK { <%s> ?p ?o }",
    "SELECT ?p ?o WHERE { <%s> ?p ?o } LIMIT 50",
    "SELECT ?label WHERE { <%s> <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
    "SELECT ?s ?p WHERE { ?s ?p <%s> } LIMIT 20",
]


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def reference_servers(source: Path, store_dir: Path, work: Path) -> list[tuple[str, Any]]:
    """Starters of the reference servers: the bare WSGI app (pyoxigraph behind one function, no features)
    under gunicorn and under granian, the floors of the Python HTTP stack."""
    from common import free_port, start_command

    bin_dir = Path(sys.executable).parent
    starters = []

    def floor_gunicorn():  # noqa: ANN202
        port = free_port()
        return start_command("floor_gunicorn", [str(bin_dir / "gunicorn"), "-w", "1", "-k", "gthread", "--threads",
                                                "8", "-b", f"127.0.0.1:{port}", "floor_app:app"],
                             port, "/sparql", work / "floor-gunicorn.log", {"BENCH_DATA": str(source)}, HERE)

    starters.append(("floor_gunicorn", floor_gunicorn))
    granian = bin_dir / "granian"
    if granian.exists():
        def floor_granian():  # noqa: ANN202
            port = free_port()
            return start_command("floor_granian", [str(granian), "--interface", "wsgi", "--host", "127.0.0.1",
                                                   "--port", str(port), "--workers", "1", "--blocking-threads", "4",
                                                   "floor_app:app"],
                                 port, "/sparql", work / "floor-granian.log", {"BENCH_DATA": str(source)}, HERE)

        starters.append(("floor_granian", floor_granian))
    return starters


def wrk_run(script: Path, server, duration: int) -> dict[str, Any]:  # noqa: ANN001
    subprocess.run(["wrk", "-t2", "-c4", "-d2s", "-s", str(script), server.url()], capture_output=True)
    done = subprocess.run(["wrk", "-t2", "-c4", f"-d{duration}s", "--latency", "-s", str(script), server.url()],
                          capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        return {"error": (done.stdout + done.stderr)[-500:]}
    result = json.loads(line[4:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def throughput(memory: ox.Store, servers: dict[str, Any], work: Path, duration: int, source: Path) -> dict[str, Any]:
    rows = memory.query(
        """SELECT ?s WHERE { VALUES ?c { <https://w3id.org/sieci-zit/ontology#Pilot>
             <https://w3id.org/sieci-zit/ontology#GoodPractice> <https://w3id.org/sieci-zit/ontology#Expert> }
             ?s a ?c } LIMIT 3000""", use_default_graph_as_union=True)
    iris = [f"{ID}org/bof"] + sorted(r[0].value for r in rows)
    out: dict[str, Any] = {"tool": None, "connections": 4, "threads": 2, "duration_s": duration, "iris": len(iris)}
    if shutil.which("wrk") is None:
        out["tool"] = "python threads (http.client), wrk not found"
        for mix in ("unique", "repeated"):
            for name, server in servers.items():
                out.setdefault(mix, {})[name] = python_load(server, iris if mix == "unique" else iris[:1],
                                                            mix == "unique", duration)
        return out
    out["tool"] = "wrk " + subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    scripts = {}
    for mix in ("unique", "repeated"):
        scripts[mix] = work / f"wrk-{mix}.lua"
        scripts[mix].write_text(LUA % {
            "iris": ", ".join(lua_string(i) for i in iris),
            "templates": ", ".join(lua_string(t) for t in TEMPLATES),
            "unique": "true" if mix == "unique" else "false",
            "nonce": secrets.token_hex(8),
        })

    def measure(name: str, server) -> None:  # noqa: ANN001
        for mix in ("unique", "repeated"):
            result = wrk_run(scripts[mix], server, duration)
            out.setdefault(mix, {})[name] = result
            log(f"  throughput {mix} {name}: " + (f"{result['rps']:,.0f} req/s, p50 {result['p50_us'] / 1000:.2f} ms, "
                f"non-200 {result['errors_status']}, other errors {result['errors_other']}" if "rps" in result
                else "ERROR " + result["error"][-200:]))

    for name, server in servers.items():
        measure(name, server)
    for name, starter in reference_servers(source, servers["zitkg"].store_dir, work):
        try:
            server = starter()
        except RuntimeError as exc:
            out.setdefault("unique", {})[name] = {"error": str(exc)}
            continue
        try:
            measure(name, server)
        finally:
            server.stop()
    for mix in ("unique", "repeated"):
        ours, oxi = out[mix].get("zitkg", {}), out[mix].get("oxigraph", {})
        if ours.get("rps") and oxi.get("rps"):
            out[mix]["ratio"] = ours["rps"] / oxi["rps"]
    return out


def python_load(server, iris: list[str], unique: bool, duration: int) -> dict[str, Any]:  # noqa: ANN001
    """Fallback without wrk: 4 threads with keep-alive http.client (the client is then part of the cost)."""
    stop_at = time.monotonic() + duration
    counts = [0] * 4
    errors = [0] * 4

    def worker(k: int) -> None:
        client = server.client(30)
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            text = TEMPLATES[n % len(TEMPLATES)] % (iris[n % len(iris)] if unique else iris[0])
            if unique:
                text += f"\n# {k}-{n}"
            try:
                client.post_query(text, JSON_RESULTS)
                counts[k] += 1
            except (HttpError, OSError):
                errors[k] += 1
        client.shutdown()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": sum(counts), "rps": sum(counts) / duration, "errors_status": sum(errors)}


# ------------------------------------------------------------------------------------------ cold start


def cold_start(work: Path, repeats: int) -> dict[str, Any]:
    samples = []
    for k in range(repeats):
        store = work / f"cold-{k}"
        server = start_zitkg(store, work / f"cold-{k}.log", {})
        samples.append(server.started_s)
        server.stop()
        shutil.rmtree(store, ignore_errors=True)
    out = {**summary([s * 1000 for s in samples]), "seconds": samples}
    log(f"cold start: {', '.join(f'{s:.2f}' for s in samples)} s")
    return out


# ------------------------------------------------------------------------------------------------ main


def library(memory: ox.Store) -> list[dict[str, Any]]:
    from zitkg import resources
    from zitkg.queries import Registry

    registry = Registry(resources.queries_dir())

    def ask(q: str) -> bool:
        return bool(memory.query(q, use_default_graph_as_union=True))

    return [{"id": qid, "form": form, "bound": bound, "sparql": text, "original": registry.get(qid).sparql}
            for qid, form, bound, text in generate.library_requests(ask)]


def pss_mb(pid: int) -> float:
    """Proportional set size of the whole process tree (common.tree_pss_mb)."""
    return tree_pss_mb(pid)


def run_size(label: str, args: argparse.Namespace, prior: dict[str, Any]) -> dict[str, Any]:
    size = size_value(label)
    started = time.perf_counter()
    log(f"== {label}")
    manifest = generate.generate(label, check=True)
    check = manifest.get("check", {})
    log(f"  data: {manifest['triples']:,} triples, {manifest['clusters']} clusters; "
        f"shape sample conforms: {check.get('conforms')} ({check.get('focus_nodes', 0)} focus nodes)")
    source, _ = generate.paths(label)
    out: dict[str, Any] = {"label": label, "triples": manifest["triples"], "manifest": manifest}
    work = Path(tempfile.mkdtemp(prefix=f"zitkg-bench-{label}-", dir=args.workdir))
    servers: dict[str, Any] = {}
    try:
        out["load"] = loads(label, source, work, args)
        memory = ox.Store()
        memory.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
        requests = library(memory)
        env = {"ZITKG_QUERY_TIMEOUT": str(args.query_timeout), "ZITKG_MAX_ROWS": "10000000"}
        servers["zitkg"] = start_zitkg(work / "server", work / "zitkg.log", env)
        servers["oxigraph"] = start_oxigraph(work / "oxigraph", work / "oxigraph.log")
        out["servers"] = {
            name: {"start_s": s.started_s, "pss_mb_idle": pss_mb(s.proc.pid), "rss_mb_tree_idle": tree_rss_mb(s.proc.pid)}
            for name, s in servers.items()
        }
        log("  servers up: " + ", ".join(f"{n} {s.started_s:.1f} s" for n, s in servers.items()))
        limits = Limits(timeout_s=args.query_timeout, budget_s=args.budget, max_runs=args.max_runs)
        paths = PATHS if size <= size_value(args.full_paths_max) else tuple(
            p for p in PATHS if p not in {"mem_subst", "disk"})
        out["paths"] = list(paths)
        out["queries"] = query_paths(requests, memory, work / "disk", servers["zitkg"], servers["oxigraph"],
                                     limits, paths)
        for name, s in servers.items():
            out["servers"][name]["pss_mb_after_queries"] = pss_mb(s.proc.pid)
        out["guard"] = guard(memory, servers["zitkg"], servers["oxigraph"], args.guard_runs)
        if label == args.throughput_size:
            out["throughput"] = throughput(memory, servers, work, args.wrk_duration, source)
        for s in servers.values():
            s.stop()
        servers.clear()
        del memory
        gc.collect()
        out["validation"] = validation(work / "disk", args.validation_runs)
        if size <= size_value(args.rdflib_max):
            out["rdflib"] = rdflib(source, requests, out["queries"], prior, work, args)
        else:
            out["rdflib"] = {"skipped": f"rdflib runs up to {args.rdflib_max} triples only"}
    finally:
        for s in servers.values():
            s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    out["seconds"] = time.perf_counter() - started
    log(f"== {label} done in {out['seconds'] / 60:.1f} min")
    return out


def rdflib(source: Path, requests: list[dict[str, Any]], ours: dict[str, Any], prior: dict[str, Any],
           work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """rdflib in a subprocess, each query with a limit just long enough to tell whether we are 25x faster.

    The limit of a query is 25x our endpoint's p50 on it, at least 10 s and at most --rdflib-timeout: a
    query that does not finish within it shows rdflib at least 25x slower, which is all the target asks.
    A query that did not finish at a smaller size (or on pyoxigraph in memory) is not run again; its
    bound (the limit at the smaller size) still holds, rdflib being no faster on more data.
    """
    def needed(qid: str) -> float | None:
        http = ours.get(qid, {}).get("paths", {}).get("http", {}).get("p50")
        return None if http is None else min(args.rdflib_timeout, max(10.0, 25 * http / 1000))

    skip: dict[str, dict[str, Any]] = {}
    for smaller in prior.values():
        for qid, entry in smaller.get("rdflib", {}).get("queries", {}).items():
            limit = entry.get("timeout_s") or 0
            # Not finishing within the limit at a smaller size is a bound here too (rdflib is no faster on
            # more data); run again only when that bound is too weak to say 25x.
            if entry.get("dnf") and limit and qid not in skip and (needed(qid) or 0) <= limit:
                skip[qid] = {"dnf": True, "skipped": True, "timeout_s": limit,
                             "note": f"not run: did not finish in {limit:g} s at {smaller['label']}",
                             "dnf_at": smaller["label"]}
            if entry.get("error") and qid not in skip:
                skip[qid] = {"error": entry["error"], "skipped": True,
                             "note": f"not run: rdflib failed on it at {smaller['label']}"}
    for qid, entry in ours.items():
        if entry["paths"].get("mem", {}).get("dnf") and qid not in skip:
            skip[qid] = {"dnf": True, "skipped": True, "note": "not run: pyoxigraph in memory did not finish",
                         "timeout_s": None}
    todo = []
    for r in requests:
        if r["id"] in skip:
            continue
        limit = needed(r["id"]) or args.rdflib_timeout
        todo.append({"id": r["id"], "form": r["form"], "sparql": r["sparql"], "timeout_s": limit})
    spec = {"limits": {"timeout_s": args.rdflib_timeout, "budget_s": args.budget, "min_runs": 1,
                       "max_runs": 5, "warmup": 0}, "queries": todo}
    spec_path, out_path = work / "rdflib-requests.json", work / "rdflib-results.json"
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, str(HERE / "rdflib_probe.py"), str(source), str(spec_path),
                           str(out_path)], capture_output=True, text=True)
    if not out_path.exists():
        return {"error": done.stderr[-800:]}
    result = json.loads(out_path.read_text())
    result["queries"].update(skip)
    load = result["load"]
    log(f"  rdflib load {load['seconds']:.1f} s ({load['triples_per_s']:,.0f} triples/s, "
        f"peak {load['peak_rss_mb']:.0f} MB)")
    for qid, entry in result["queries"].items():
        if entry.get("rows") is not None and ours.get(qid, {}).get("rows") is not None:
            entry["rows_agree"] = entry["rows"] == ours[qid]["rows"]
        log(f"  rdflib {qid}: " + (f"DNF ({entry.get('timeout_s')} s) " + (entry.get("note") or "")
                                   if entry.get("dnf") else "error " + entry["error"][:80] if entry.get("error")
                                   else f"{entry.get('p50', float('nan')):.1f} ms rows {entry.get('rows')}"
                                   + ("" if entry.get("rows_agree", True) else " (ROWS DIFFER)")))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="bundled,100k,1m,5m", help="comma-separated: bundled,100k,1m,5m or numbers")
    parser.add_argument("--query-timeout", type=float, default=20.0, help="seconds before a run counts as DNF")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timed runs per query and path")
    parser.add_argument("--max-runs", type=int, default=20)
    parser.add_argument("--guard-runs", type=int, default=200)
    parser.add_argument("--validation-runs", type=int, default=20)
    parser.add_argument("--rdflib-timeout", type=float, default=60.0)
    parser.add_argument("--rdflib-max", default="1m", help="largest size rdflib runs on")
    parser.add_argument("--service-load-max", default="100k", help="largest size the service load path runs on")
    parser.add_argument("--disk-load-max", default="100k", help="largest size the transactional disk load runs on")
    parser.add_argument("--full-paths-max", default="1m", help="above this, skip the mem_subst and disk paths")
    parser.add_argument("--throughput-size", default=None, help="size for the wrk runs (default: 1m, or the largest)")
    parser.add_argument("--wrk-duration", type=int, default=10)
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="where the stores go (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the stores and server logs")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import report

    if args.report_only:
        report.write(json.loads((RESULTS / "latest.json").read_text()))
        return 0
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.throughput_size is None:
        args.throughput_size = "1m" if "1m" in labels else max(labels, key=size_value)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = args.out or RESULTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
                               "sizes": {}}
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['memory_gb']} GB; git {results['machine']['git']}")
    work = Path(tempfile.mkdtemp(prefix="zitkg-bench-cold-", dir=args.workdir))
    try:
        results["cold_start"] = cold_start(work, args.cold_starts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label in labels:
        results["sizes"][label] = run_size(label, args, results["sizes"])
        results["seconds"] = time.perf_counter() - started
        out_path.write_text(json.dumps(results, indent=1, default=str))
        shutil.copyfile(out_path, RESULTS / "latest.json")
    log(f"all done in {results['seconds'] / 60:.1f} min; raw results {out_path}")
    report.write(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
