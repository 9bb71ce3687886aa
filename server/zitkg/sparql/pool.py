"""Query workers: forked processes that evaluate queries and can be ended at the time limit.

pyoxigraph has no query timeout and a running query cannot be interrupted from Python, so each query
runs in a worker process forked from the web process after the data is loaded (it shares the in-memory
store copy-on-write). The parent waits on the worker's pipe with the time limit; at the limit it kills
the worker (SIGKILL frees the CPU at once) and answers 503, while other workers keep serving. A worker
forked before the last committed write is replaced on its next checkout, so no answer comes from a
state older than a write whose request has returned.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from zitkg.errors import QuerySyntaxError, QueryTimeout, ServiceUnavailable, ZitkgError
from zitkg.sparql.execute import QueryAnswer, QueryRequest, execute

_fork_store: ox.Store | None = None  # the store a worker inherits; set only around fork()


def _worker_main(conn: Connection) -> None:
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
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        try:
            reply: tuple[str, Any] = ("ok", execute(store, request))
        except SyntaxError as exc:
            reply = ("syntax", str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises a typed error
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            os._exit(0)


class _Worker:
    """One forked process; plain os.fork so that the parent alone decides when it ends and reaps it."""

    def __init__(self, store: ox.Store, version: int) -> None:
        global _fork_store
        parent_end, child_end = multiprocessing.Pipe(duplex=True)
        _fork_store = store
        try:
            pid = os.fork()
            if pid == 0:  # the worker
                try:
                    _worker_main(child_end)
                finally:
                    os._exit(0)
        finally:
            _fork_store = None
        child_end.close()
        self.pid = pid
        self.conn = parent_end
        self.version = version
        self._reaped = False

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


class QueryPool:
    """A bounded set of worker processes over one store; ``run`` enforces the time limit."""

    def __init__(self, store: Any, size: int) -> None:
        self._store = store
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(self.close)

    def _fork(self) -> _Worker:
        # Fork under the store's write lock: the child must not inherit a half-applied write.
        with self._store.lock:
            return _Worker(self._store.read_store(), self._store.version)

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

    def run(self, request: QueryRequest, timeout: float) -> QueryAnswer:
        started = time.monotonic()
        if self._closed:
            raise ServiceUnavailable("the query service is shutting down")
        if not self._slots.acquire(timeout=timeout):
            raise ServiceUnavailable(
                "all query workers are busy", hint="try again in a moment; long queries hold workers"
            )
        try:
            worker = self._checkout()
            try:
                worker.conn.send(request)
                remaining = max(0.0, timeout - (time.monotonic() - started))
                ready = worker.conn.poll(remaining)
            except (BrokenPipeError, EOFError, OSError):
                ready = False
                self._discard(worker)
                raise ServiceUnavailable("a query worker died; please retry") from None
            if not ready:
                self._discard(worker)
                raise QueryTimeout(
                    f"the query ran longer than the limit of {timeout:g} s and was stopped",
                    hint="narrow the query (LIMIT, more specific patterns) or ask an administrator",
                )
            try:
                status, payload = worker.conn.recv()
            except (EOFError, OSError):
                self._discard(worker)
                raise ServiceUnavailable("a query worker died while answering; please retry") from None
            self._checkin(worker)
        finally:
            self._slots.release()
        if status == "ok":
            return payload
        if status == "syntax":
            raise QuerySyntaxError(f"SPARQL syntax error: {payload}")
        raise ZitkgError(f"query evaluation failed: {payload}")

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
