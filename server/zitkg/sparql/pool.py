"""Query workers: forked processes that evaluate queries and can be ended at the time limit.

pyoxigraph has no query timeout and a running query cannot be interrupted from Python, so each query
runs in a worker process forked from the web process after the data is loaded (it shares the in-memory
store copy-on-write). The parent waits on the worker's pipe with the time limit; at the limit it kills
the worker (SIGKILL frees the CPU at once) and answers 503, while other workers keep serving. A worker
forked before the last committed write is replaced on its next checkout, so no answer comes from a
state older than a write whose request has returned.

A worker is also where an untrusted text is parsed for the guards (single-threaded, so pyparsing's
lack of thread safety cannot bite, and ended at the time limit like the query itself); it has no
network (sparql/sandbox.py) unless SERVICE is allow-listed, a memory ceiling, and a lower CPU
priority than the web process. Admission is fair between clients (``Admission``): one client cannot
hold every worker, and a client that holds none gets one even when the others are all busy.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from zitkg import errors
from zitkg.errors import (
    QueryEvaluationError,
    QuerySyntaxError,
    QueryTimeout,
    ServiceUnavailable,
    TooManyRequests,
    ZitkgError,
)
from zitkg.sparql import sandbox
from zitkg.sparql.execute import QueryAnswer, QueryRequest, execute

log = logging.getLogger(__name__)
_fork_store: ox.Store | None = None  # the store a worker inherits; set only around fork()
WORKER_NICENESS = 5  # queries yield the CPU to the web process: pages and lookups stay fast under load
_warned_no_isolation = False


@dataclass(frozen=True)
class WorkerLimits:
    isolate_network: bool = True  # False only when SERVICE has allow-listed hosts to reach
    memory_bytes: int = 0  # address space a worker may add to what it inherits; 0: no ceiling


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _confine(limits: WorkerLimits) -> str:
    """Apply the limits in a fresh worker; the network isolation mechanism in force ('' if none)."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    if limits.memory_bytes:
        ceiling = _vm_size() + limits.memory_bytes
        try:
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        except (ValueError, OSError):
            pass
    if not limits.isolate_network:
        return "not isolated (SERVICE allow-list set)"
    return sandbox.isolate()


def _worker_main(conn: Connection, limits: WorkerLimits) -> None:
    """Loop of one worker: read a request, answer it, until the parent goes away."""
    # Inherited objects belong to the parent: never collect (and so never finalise) them here.
    gc.freeze()
    keep = conn.fileno()
    # Drop every inherited descriptor (sockets, other workers' pipes) so that a dead parent means EOF here.
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    store = _fork_store
    assert store is not None
    conn.send(("ready", _confine(limits)))
    from zitkg.sparql.policy import analyse_and_plan  # imported after fork: rdflib is already loaded

    while True:
        try:
            request, policy = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        structure = None
        try:
            if policy is not None:
                request, structure = analyse_and_plan(request, policy)
            reply: tuple[str, Any, Any] = ("ok", execute(store, request), structure)
        except ZitkgError as exc:  # the guard's verdict (syntax, forbidden), sent back as data
            reply = ("refused", (type(exc).__name__, exc.message, exc.hint, exc.details), None)
        except SyntaxError as exc:
            reply = ("syntax", str(exc), structure)
        except MemoryError:
            reply = ("memory", "", structure)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises a typed error
            reply = ("error", f"{type(exc).__name__}: {exc}", structure)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            os._exit(0)


class _Worker:
    """One forked process; plain os.fork so that the parent alone decides when it ends and reaps it."""

    def __init__(self, store: ox.Store, version: int, limits: WorkerLimits) -> None:
        global _fork_store, _warned_no_isolation
        parent_end, child_end = multiprocessing.Pipe(duplex=True)
        _fork_store = store
        try:
            pid = os.fork()
            if pid == 0:  # the worker
                try:
                    _worker_main(child_end, limits)
                finally:
                    os._exit(0)
        finally:
            _fork_store = None
        child_end.close()
        self.pid = pid
        self.conn = parent_end
        self.version = version
        self._reaped = False
        self.isolation = ""
        if parent_end.poll(10):
            try:
                _ready, self.isolation = parent_end.recv()
            except (EOFError, OSError):
                self.isolation = ""
        if not self.isolation and not _warned_no_isolation:
            _warned_no_isolation = True
            log.error("query workers run WITH network access: no network namespace or seccomp filter could "
                      "be set up; SERVICE/LOAD are refused by the query guard only (docs/security.md)")

    def is_alive(self) -> bool:
        if self._reaped:
            return False
        try:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        if done:
            self._reaped = True
        return not done

    def kill(self) -> None:
        if not self._reaped:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._reaped = True
        self.conn.close()

    def death(self) -> str:
        """Why the worker ended (after EOF on its pipe): 'memory' for an abort or kill, else ''."""
        try:
            _pid, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return ""
        self._reaped = True
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in {signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV}:
            return "memory"
        return ""


class Admission:
    """Worker slots shared fairly between clients, and never held idle.

    While regular slots (``size``) are free, anyone may take one. When they are all taken, a client that
    holds none may take one of ``overflow`` extra slots; a client that already holds ``per_client`` is
    refused at once (429, so that its waiting requests do not hold the web threads too); others wait
    for a slot up to the time limit. The service's own queries (client None: pages, the question
    library) are never held back. One client's heavy queries therefore cannot stall another client,
    as long as fewer than ``size + overflow`` clients run heavy queries at the same time.
    """

    def __init__(self, size: int, per_client: int, overflow: int) -> None:
        self.size, self.per_client, self.overflow = size, max(1, per_client), max(0, overflow)
        self._held: dict[str, int] = defaultdict(int)
        self._busy = 0
        self._cond = threading.Condition()

    def _may_start(self, client: str | None) -> bool:
        if client is None or self._busy < self.size:
            return True
        held = self._held[client]
        if held >= self.per_client:
            raise TooManyRequests(
                f"too many queries at once from one client while the service is busy (at most "
                f"{self.per_client} run at a time)",
                hint="wait for your running queries to finish, then retry (ZITKG_QUERY_SLOTS_PER_CLIENT)",
            )
        return held == 0 and self._busy < self.size + self.overflow

    def acquire(self, client: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._may_start(client):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServiceUnavailable(
                        "all query workers are busy", hint="try again in a moment; long queries hold workers"
                    )
                self._cond.wait(remaining)
            self._busy += 1
            if client is not None:
                self._held[client] += 1

    def release(self, client: str | None) -> None:
        with self._cond:
            self._busy -= 1
            if client is not None:
                self._held[client] -= 1
                if not self._held[client]:
                    del self._held[client]
            self._cond.notify_all()


def _refusal(name: str, message: str, hint: str | None, details: Any) -> ZitkgError:
    """The worker's refusal (sent as data, by class name) raised again as the same error here."""
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, ZitkgError)):
        cls = ZitkgError
    return cls(message, hint=hint, details=details)


class QueryPool:
    """A bounded set of worker processes over one store; ``run`` enforces the time limit."""

    checks_in_worker = True  # an untrusted text is parsed for the guards in the worker

    def __init__(self, store: Any, size: int, limits: WorkerLimits | None = None, *,
                 per_client: int = 2, overflow: int = 2) -> None:
        self._store = store
        self._limits = limits or WorkerLimits()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self.admission = Admission(size, per_client, overflow)
        self._lock = threading.Lock()
        self._closed = False
        self.isolation = ""  # the mechanism the last forked worker reported
        atexit.register(self.close)

    def _fork(self) -> _Worker:
        # Fork under the store's write lock: the child must not inherit a half-applied write.
        with self._store.lock:
            worker = _Worker(self._store.read_store(), self._store.version, self._limits)
        self.isolation = worker.isolation
        return worker

    def _checkout(self) -> _Worker:
        stale = []
        worker = None
        with self._lock:
            while self._idle:
                candidate = self._idle.pop()
                if candidate.version == self._store.version and candidate.is_alive():
                    worker = candidate
                    break
                stale.append(candidate)
        for old in stale:
            old.kill()
        if worker is None:
            worker = self._fork()
        with self._lock:
            self._busy.add(worker)
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                worker.kill()
            else:
                self._idle.append(worker)

    def run(self, request: QueryRequest, timeout: float, policy: Any = None,
            client: str | None = None) -> tuple[QueryAnswer, Any]:
        """(answer, structure found by the worker or None); ``policy`` set: the worker parses and plans."""
        started = time.monotonic()
        if self._closed:
            raise ServiceUnavailable("the query service is shutting down")
        self.admission.acquire(client, timeout)
        try:
            worker = self._checkout()
            try:
                worker.conn.send((request, policy))
                remaining = max(0.0, timeout - (time.monotonic() - started))
                ready = worker.conn.poll(remaining)
            except (BrokenPipeError, EOFError, OSError):
                self._discard(worker)
                raise ServiceUnavailable("a query worker died; please retry") from None
            if not ready:
                self._discard(worker)
                raise QueryTimeout(
                    f"the query ran longer than the limit of {timeout:g} s and was stopped",
                    hint="narrow the query (LIMIT, more specific patterns) or ask an administrator",
                )
            try:
                status, payload, structure = worker.conn.recv()
            except (EOFError, OSError):
                with self._lock:
                    self._busy.discard(worker)
                died_of = worker.death()
                worker.kill()
                if died_of == "memory":
                    raise ServiceUnavailable(
                        "the query needed more memory than a query may use and was stopped",
                        hint="narrow the query (ZITKG_QUERY_MEMORY_MB sets the ceiling)",
                    ) from None
                raise ServiceUnavailable("a query worker died while answering; please retry") from None
            self._checkin(worker)
        finally:
            self.admission.release(client)
        if status == "ok":
            return payload, structure
        if status == "refused":
            raise _refusal(*payload)
        if status == "syntax":
            raise QuerySyntaxError(f"SPARQL syntax error: {payload}")
        if status == "memory":
            raise ServiceUnavailable("the query needed more memory than a query may use and was stopped")
        # The engine's own message may carry what a remote service answered or whether a port is open:
        # it goes to the log, and the client learns only that evaluation failed.
        log.warning("query evaluation failed: %s", payload[:2000])
        raise QueryEvaluationError("the query could not be evaluated",
                         hint="the server log has the engine's message; check the query or ask an administrator")

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in [*self._idle, *self._busy]]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for worker in idle + busy:
            worker.kill()
