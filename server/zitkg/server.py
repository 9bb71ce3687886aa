"""Run the web app under granian (WSGI; a Rust HTTP server) with a pool of blocking threads.

Why granian and not gunicorn: on tiny lookups the HTTP layer sets the pace, not the engine. Measured on
the 2-core bench machine with wrk (4 connections; docs/benchmarks.md): a bare WSGI function answered
about 1,100 req/s under gunicorn's gthread worker and 13,000-18,000 under granian. granian's ASGI and
RSGI interfaces were slower than its WSGI one for this app (an event-loop hop per request).

On the embedded store, one worker process: the on-disk store admits one writer and the in-memory copy
lives in it; threads suffice because query CPU is spent in the query worker processes. Fewer threads
are faster on tiny lookups (every pyoxigraph call releases the GIL and hands it to another thread), but
each slow request (a query waiting for its worker, a submission being validated) holds one: the
default keeps as many as there are query workers, plus room for pages. On a remote store the web
workers are stateless and several can run side by side (``--workers``). The app is built in each
worker after the fork (``target_loader``), never in the master.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from granian.constants import Interfaces
from granian.server import Server

from zitkg.settings import Settings

ACCESS_LOG_FORMAT = '%(addr)s - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1f ms'


def default_threads() -> int:
    """Request threads per web worker: as many as granian accepts without a warning (2 x cores + 1).

    Slow requests (a query waiting for its worker, a submission being validated) each hold one; the
    query admission refuses a busy client's surplus at once (sparql/pool.py) rather than let it wait
    holding threads.
    """
    return multiprocessing.cpu_count() * 2 + 1


def run(settings: Settings, threads: int | None = None, workers: int = 1) -> None:
    threads = threads or default_threads()
    def build_app(_target: str) -> Any:
        from zitkg.web import create_app

        return create_app(settings)

    server = Server(
        "zitkg.web:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        log_access=settings.access_log,
        log_access_format=ACCESS_LOG_FORMAT,
    )
    server.serve(target_loader=build_app)
