"""Fixtures of the attack suite: the real `zitkg serve` on a free port, as an attacker would meet it.

Every test in tests/security/ attacks a real server over HTTP (or a real browser pointed at one); a
listener on a free port records any connection the server makes on an attacker's behalf.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import RunningServer, start_server, stop_server

ADMIN_TOKEN = "security-admin-token"


@pytest.fixture(scope="session")
def target(tmp_path_factory) -> Iterator[RunningServer]:
    """One embedded server for the attacks that change nothing lasting (reads, refused writes)."""
    running = start_server(
        tmp_path_factory.mktemp("target"), query_timeout="3", max_rows="500",
        admin_token=ADMIN_TOKEN, query_workers="3",
    )
    yield running
    stop_server(running)


LISTENER_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 64\r\n\r\n"
                  b'{"head":{"vars":["secret"]},"results":{"bindings":[]}}          ')


class Listener:
    """A TCP server on a free port that records every connection made to it (there must be none)."""

    def __init__(self, reply: bytes = LISTENER_REPLY) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                self.connections.append(data)
                try:
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    yield running
    running.close()


def data_file(name: str) -> Path:
    return Path(__file__).resolve().parents[1] / "data" / name
