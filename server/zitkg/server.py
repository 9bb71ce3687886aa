"""Run the web app under gunicorn: one worker process with threads.

One process because the on-disk store admits one writer and the in-memory copy lives in it; threads
because most time is spent waiting on query workers, which do the CPU work in their own processes.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from zitkg.settings import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, threads: int) -> None:
        self._settings = settings
        self._threads = threads
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self._settings.host}:{self._settings.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self._threads)
        self.cfg.set("timeout", max(60, int(self._settings.query_timeout * 4)))
        self.cfg.set("accesslog", "-")
        # Several servers may run on one machine (tests, workers): no shared control socket.
        self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from zitkg.web import create_app

        return create_app(self._settings)


def run(settings: Settings, threads: int = 8) -> None:
    _Gunicorn(settings, threads).run()
