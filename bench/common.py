"""Shared parts of the benchmark scripts: machine facts, timing series with a time limit, the servers.

Timing series that run pyoxigraph in process are run in a forked child: pyoxigraph cannot be interrupted,
so a query that does not finish within the limit is stopped by killing the child (the same reason the
service runs queries in worker processes). The child streams one line per run over a pipe, so the runs
that finished before the limit are kept.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JSON_RESULTS = "application/sparql-results+json"
NTRIPLES = "application/n-triples"


# ------------------------------------------------------------------------------------------- machine


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> dict[str, Any]:
    cpu = cpu_name()
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import version

    import flask
    import rdflib

    oxigraph_cli = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    git = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = bool(_run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "server", "queries", "shapes"]))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": ox.__version__,
        "oxigraph_cli": _run([oxigraph_cli, "--version"]),
        "rdflib": rdflib.__version__,
        "flask": flask.__version__,
        "granian": version("granian"),
        "gunicorn": version("gunicorn"),
        "wrk": (_run(["wrk", "--version"]) or "").splitlines()[0] if shutil.which("wrk") else None,
        "git": git + (" (with uncommitted changes in server/, queries/ or shapes/)" if dirty else ""),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def oxigraph_cli() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    return str(found) if found.exists() else (shutil.which("oxigraph") or "oxigraph")


# ------------------------------------------------------------------------------------------ statistics


def summary(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))]
    return {
        "n": len(samples),
        "p50": statistics.median(samples),
        "p95": p95,
        "min": ordered[0],
        "mean": statistics.fmean(samples),
    }


@dataclass
class Limits:
    """How long one series (one query on one path) may run."""

    timeout_s: float = 30.0  # one run longer than this: did not finish
    budget_s: float = 3.0  # timed runs stop after this much time (with at least min_runs)
    min_runs: int = 3
    max_runs: int = 20
    warmup: int = 1


@dataclass
class Series:
    samples_ms: list[float] = field(default_factory=list)
    rows: int | None = None
    dnf: bool = False  # did not finish within the limit
    error: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**summary(self.samples_ms), "rows": self.rows}
        if self.dnf:
            out["dnf"] = True
        if self.error:
            out["error"] = self.error
        if self.note:
            out["note"] = self.note
        out["samples_ms"] = [round(s, 4) for s in self.samples_ms]
        return out

    def add(self, item: dict[str, Any]) -> None:
        """One run reported by ``_loop`` (in this process or through a forked child's pipe)."""
        if self.rows is None:
            self.rows = item.get("rows")
        if not item.get("warmup"):
            self.samples_ms.append(item["ms"])
        if item.get("single"):
            self.note = "one run (it took longer than the budget)"


class PoolStore:
    """The three things QueryPool needs from a GraphStore, over a plain pyoxigraph store."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self.lock = threading.Lock()
        self.version = 0

    def read_store(self) -> ox.Store:
        return self._store


def _loop(run: Callable[[], int], limits: Limits, emit: Callable[[dict[str, Any]], None],
          single_ok: bool = True) -> None:
    """Warm-up runs, then timed runs until max_runs, or budget spent and min_runs done.

    A query slower than the budget is run once (``single_ok``), or once after the warm-up where the
    warm-up is not representative (the first request of a cached path fills the cache).
    """
    first_ms = None
    for _ in range(limits.warmup):
        started = time.perf_counter_ns()
        rows = run()
        first_ms = (time.perf_counter_ns() - started) / 1e6
        emit({"warmup": True, "ms": first_ms, "rows": rows})
    min_runs = limits.min_runs
    if single_ok and first_ms is not None and first_ms / 1000 > limits.budget_s:
        # A slow query: the one run so far is the sample (warm-up effects are small next to seconds).
        emit({"ms": first_ms, "single": True})
        return
    if first_ms is not None and first_ms / 1000 > limits.budget_s / max(1, limits.min_runs):
        min_runs = 1  # one timed run is all the budget allows
    gc.collect()
    spent = 0.0
    for i in range(limits.max_runs):
        started = time.perf_counter_ns()
        rows = run()
        ms = (time.perf_counter_ns() - started) / 1e6
        spent += ms / 1000
        emit({"ms": ms, "rows": rows})
        if i + 1 >= min_runs and spent >= limits.budget_s:
            break


def forked_series(make: Callable[[], Callable[[], int]], limits: Limits) -> Series:
    """Run a series in a forked child (``make`` builds the runner there); kill it at the time limit."""
    series = Series()
    read_end, write_end = os.pipe()
    gc.collect()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        out = os.fdopen(write_end, "w", buffering=1)
        try:
            run = make()
            _loop(run, limits, lambda d: out.write(json.dumps(d) + "\n"))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:500]}) + "\n")
        out.flush()
        os._exit(0)
    os.close(write_end)
    buffer = b""
    deadline = time.monotonic() + limits.timeout_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                series.dnf = not series.samples_ms
                series.note = f"stopped at the {limits.timeout_s:g} s limit"
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                item = json.loads(line)
                if "error" in item:
                    series.error = item["error"]
                    continue
                deadline = time.monotonic() + limits.timeout_s  # each run has the full limit
                series.add(item)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return series


def local_series(run: Callable[[], int], limits: Limits, single_ok: bool = True) -> Series:
    """A series in this process (for HTTP clients, whose time limit is the socket timeout)."""
    series = Series()
    try:
        _loop(run, limits, series.add, single_ok)
    except TimeoutError:
        series.dnf = not series.samples_ms
        series.note = f"no answer within the {limits.timeout_s:g} s limit"
    except HttpError as exc:
        series.dnf = exc.status in (503, 504) and not series.samples_ms
        series.error = str(exc)[:300]
    return series


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | None = None) -> float | None:
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def descendants(pid: int) -> list[int]:
    """A process and every descendant, whichever of its threads forked them.

    /proc/PID/task/TID/children lists the children of one thread only: the query workers are forked by
    request threads, not the main one, so every task of every process is read (issue 18: the earlier walk
    read the main thread's children only and never counted the query workers).
    """
    seen: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        try:
            tasks = [t.name for t in Path(f"/proc/{current}/task").iterdir()]
        except OSError:
            continue
        for task in tasks:
            try:
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
            except OSError:
                continue
    return seen


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants; shared pages count once per process (an over-count)."""
    return sum(rss_mb(p) or 0.0 for p in descendants(pid))


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process tree: each shared page split among its sharers (the honest figure)."""
    total = 0.0
    for current in descendants(pid):
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


# ----------------------------------------------------------------------------------------------- HTTP


class HttpError(RuntimeError):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status


class Client:
    """A keep-alive HTTP/1.1 client on http.client (about 1 ms less per request than requests).

    The socket timeout bounds each read only: a server that streams a slow answer (oxigraph serve) could go
    on for minutes. A watchdog thread (one per client, waking twice a second) ends a request at the limit.
    """

    def __init__(self, host: str, port: int, path: str, timeout: float) -> None:
        self.host, self.port, self.path, self.timeout = host, port, path, timeout
        self.conn: http.client.HTTPConnection | None = None
        self._deadline: float | None = None
        self._expired = False
        self._closed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        while not self._closed.wait(0.5):
            deadline, conn = self._deadline, self.conn
            if deadline is not None and time.monotonic() > deadline and conn is not None and conn.sock is not None:
                self._expired = True
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def post_query(self, sparql: str, accept: str) -> bytes:
        body = sparql.encode()
        headers = {"Content-Type": "application/sparql-query", "Accept": accept}
        return self._send("POST", self.path, body, headers)

    def get_query(self, sparql: str, accept: str) -> bytes:
        target = self.path + "?" + urllib.parse.urlencode({"query": sparql})
        return self._send("GET", target, None, {"Accept": accept})

    def _once(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = self._connection()
        conn.request(method, target, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()

    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        self._expired = False
        self._deadline = time.monotonic() + self.timeout
        try:
            try:
                status, data = self._once(method, target, body, headers)
            except (ConnectionError, http.client.HTTPException, OSError):
                if self._expired or isinstance(sys.exc_info()[1], TimeoutError):
                    raise
                self.close()  # the server closed an idle keep-alive connection: one retry on a new one
                status, data = self._once(method, target, body, headers)
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError):
            self.close()
            if self._expired or isinstance(sys.exc_info()[1], TimeoutError):
                raise TimeoutError from None
            raise
        finally:
            self._deadline = None
        if self._expired:  # cut off in the middle of an answer that still parsed as complete
            self.close()
            raise TimeoutError
        if status != 200:
            raise HttpError(status, data)
        return data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def shutdown(self) -> None:
        self.close()
        self._closed.set()


def count_answer(body: bytes, form: str) -> int:
    """Rows of a SPARQL JSON answer, or distinct triples of an N-Triples answer."""
    if form in {"CONSTRUCT", "DESCRIBE"}:
        return len({line for line in body.decode().splitlines() if line.strip()})
    doc = json.loads(body)
    return int(bool(doc["boolean"])) if "boolean" in doc else len(doc["results"]["bindings"])


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    path: str
    started_s: float
    store_dir: Path | None = None
    log: Path | None = None
    env: dict[str, str] | None = None

    def restart(self) -> None:
        """A fresh server on the same store (ends a query that is still running)."""
        self.stop()
        fresh = (start_oxigraph(self.store_dir, self.log) if self.name == "oxigraph"
                 else start_zitkg(self.store_dir, self.log, self.env or {}))
        self.proc, self.port = fresh.proc, fresh.port

    def client(self, timeout: float) -> Client:
        return Client("127.0.0.1", self.port, self.path, timeout)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def stop(self) -> None:
        stop(self.proc)


def wait_ready(proc: subprocess.Popen, port: int, path: str, log: Path, limit: float = 600) -> float:
    """Seconds from now until ``ASK {}`` answers 200."""
    started = time.perf_counter()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path + "?query=ASK%7B%7D", headers={"Accept": JSON_RESULTS})
            reply = conn.getresponse()
            reply.read()
            conn.close()
            if reply.status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    stop(proc)
    raise RuntimeError(f"the server did not answer within {limit:g} s; see {log}")


def start_zitkg(store_dir: Path, log: Path, env: dict[str, str]) -> Server:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zitkg", "serve", "--store", str(store_dir), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**clean, **env}, start_new_session=True, cwd=ROOT,
        )
    wait_ready(proc, port, "/sparql", log)
    return Server("zitkg", proc, port, "/sparql", time.perf_counter() - started, store_dir, log, env)


def start_oxigraph(store_dir: Path | None, log: Path, timeout_s: float | None = None) -> Server:
    """``oxigraph serve`` on a store folder, union default graph.

    Without ``timeout_s`` by default: with ``--timeout-s`` oxigraph 0.5 starts a thread per query that lives
    for the whole limit, and at a few thousand requests per second the server runs out of threads
    ("failed to set up alternative stack guard page", every later request fails). A query that runs too
    long is stopped here by restarting the server instead (see ``restart``).
    """
    port = free_port()
    cmd = [oxigraph_cli(), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    if timeout_s:
        cmd += ["--timeout-s", str(int(timeout_s))]
    if store_dir is not None:
        cmd += ["--location", str(store_dir)]
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    wait_ready(proc, port, "/query", log)
    return Server("oxigraph", proc, port, "/query", time.perf_counter() - started, store_dir, log)


def start_command(name: str, cmd: list[str], port: int, path: str, log: Path, env: dict[str, str] | None = None,
                  cwd: Path | None = None) -> Server:
    """Any other HTTP server (the reference WSGI app under gunicorn or granian) on ``port``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**clean, **(env or {})},
                                start_new_session=True, cwd=cwd or ROOT)
    wait_ready(proc, port, path, log)
    return Server(name, proc, port, path, time.perf_counter() - started, None, log, env)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
