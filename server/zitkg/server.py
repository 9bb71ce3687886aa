"""Run the web app under gunicorn with threads.

On the embedded store, one process: the on-disk store admits one writer and the in-memory copy lives
in it; threads suffice because the CPU work happens in the query worker processes. On a remote store
the web workers are stateless and several can run side by side (``--workers``).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from zitkg.settings import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, threads: int, workers: int) -> None:
        self._settings = settings
        self._threads = threads
        self._workers = workers
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self._settings.host}:{self._settings.port}")
        self.cfg.set("workers", self._workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self._threads)
        self.cfg.set("timeout", max(60, int(self._settings.query_timeout * 4)))
        self.cfg.set("accesslog", "-")
        # Several servers may run on one machine (tests, workers): no shared control socket.
        self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from zitkg.web import create_app

        return create_app(self._settings)


def run(settings: Settings, threads: int = 8, workers: int = 1) -> None:
    _Gunicorn(settings, threads, workers).run()
