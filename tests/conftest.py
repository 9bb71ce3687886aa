"""Fixtures over the real things: an on-disk Oxigraph store, the real server on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared_paths import MISSING_PREFIX, missing, shared_root
from zitkg.bundle import load_bundled
from zitkg.settings import load_settings
from zitkg.store import OxigraphStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_root()


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(environ={}, overrides={"store": tmp_path / "store", "query_workers": 2})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OxigraphStore]:
    """A fresh on-disk store with the bundled data loaded."""
    s = OxigraphStore(tmp_path / "store")
    load_bundled(s)
    yield s
    s.close()


@pytest.fixture
def app(settings, store):
    from zitkg.web import create_app

    application = create_app(settings, store=store)
    application.config["TESTING"] = True
    yield application
    application.extensions["zitkg"]["sparql"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def loaded_app(tmp_path_factory):
    """An app over a fresh on-disk store with the bundled data, shared by the tests of one module."""
    from zitkg.web import create_app

    path = tmp_path_factory.mktemp("app") / "store"
    application = create_app(load_settings(environ={}, overrides={"store": path, "query_workers": 2}))
    yield application
    application.extensions["zitkg"]["sparql"].close()


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    store: Path
    env: dict[str, str]
    backend: str = "embedded"

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll the server until it answers; never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/sparql?query=ASK%7B%7D", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not answer within {timeout} s")


def start_server(tmp: Path, **env_settings: str) -> RunningServer:
    port = free_port()
    store = tmp / "server-store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}
    env.update({f"ZITKG_{k.upper()}": v for k, v in env_settings.items()})
    with open(tmp / f"server-{port}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "zitkg", "serve", "--store", str(store), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
    except RuntimeError:
        process.kill()
        raise RuntimeError((tmp / f"server-{port}.log").read_text()[-3000:]) from None
    return RunningServer(url, process, store, env)


def create_token(server: RunningServer, org: str, role: str = "submitter") -> str:
    """An organisation's token, through the CLI while the server runs, as an administrator would."""
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "token", "create", "--org", "https://w3id.org/sieci-zit/id/org/" + org,
         "--role", role, "--store", str(server.store)],
        capture_output=True, text=True, check=True, env=server.env,
    )
    return result.stdout.strip()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session", params=[
    "embedded",
    pytest.param("oxigraph-server", marks=pytest.mark.remote),
    pytest.param("virtuoso", marks=pytest.mark.remote),
])
def backend(request, tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """Settings that put the service on a store: the embedded one, or a real remote SPARQL server."""
    from remote_servers import start_oxigraph_server, start_virtuoso, virtuoso_installed

    if request.param == "virtuoso" and not virtuoso_installed():
        missing("tests on a remote Virtuoso store", "apt-get install virtuoso-opensource; .ci/run does")
    if request.param == "embedded":
        yield request.param, {}
    elif request.param == "oxigraph-server":
        with start_oxigraph_server(tmp_path_factory.mktemp("oxigraph-server"), timeout_s=2) as settings:
            yield request.param, settings
    else:
        with start_virtuoso(tmp_path_factory.mktemp("virtuoso")) as settings:
            yield request.param, settings


@pytest.fixture(scope="session")
def server(tmp_path_factory, backend) -> Iterator[RunningServer]:
    """The real `zitkg serve` on a free port, with a short time limit and a small row cap for the guards."""
    tmp = tmp_path_factory.mktemp("server")
    name, settings = backend
    running = start_server(
        tmp, query_timeout="2", max_rows="500", admin_token="test-admin-token", query_workers="3", **settings
    )
    running.backend = name
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    """The query library over a store loaded with the bundled data (read-only use)."""
    from zitkg import resources
    from zitkg.queries import QueryLibrary, Registry
    from zitkg.sparql.service import SparqlService

    path = tmp_path_factory.mktemp("library") / "store"
    store = OxigraphStore(path)
    load_bundled(store)
    service = SparqlService(store, load_settings(environ={}, overrides={"store": path, "query_workers": 2}))
    yield QueryLibrary(Registry(resources.queries_dir()), service)
    service.close()
    store.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001, ARG001
    """One line per missing prerequisite: what the run did not cover and how to get it."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(MISSING_PREFIX):
            counts[reason] = counts.get(reason, 0) + 1
    if counts:
        terminalreporter.section("what this run did not cover")
        for reason, count in sorted(counts.items()):
            terminalreporter.write_line(f"{count:4d} tests {reason}")
