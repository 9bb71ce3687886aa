"""The service on a remote SPARQL server with several stateless web workers: a submission made through
one worker is visible through the other at once, on oxigraph serve and on Virtuoso."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import RunningServer, free_port, stop_server, wait_until_up
from remote_servers import start_oxigraph_server, start_virtuoso, virtuoso_installed
from shared_paths import missing

ID = "https://w3id.org/sieci-zit/id/"
PRACTICE = (Path(__file__).resolve().parent / "data" / "practice-with-pilot.ttl").read_bytes()


def start_workers(tmp: Path, settings: dict[str, str], count: int) -> RunningServer:
    """`zitkg serve --workers N` on one remote store, as docs/deployment.md describes."""
    import os

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}
    env.update({f"ZITKG_{k.upper()}": v for k, v in settings.items()})
    env["ZITKG_STORE"] = str(tmp / "store")  # only the accounts file lives here
    log = tmp / "workers.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "zitkg", "serve", "--port", str(port), "--workers", str(count)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout=60)
    except RuntimeError:
        process.kill()
        raise RuntimeError(log.read_text()[-3000:]) from None
    return RunningServer(url, process, tmp / "store", env)


@pytest.fixture(params=["oxigraph-server", "virtuoso"])
def remote(request, tmp_path):
    if request.param == "virtuoso" and not virtuoso_installed():
        missing("tests on a remote Virtuoso store", "apt-get install virtuoso-opensource; .ci/run does")
    starter = start_oxigraph_server if request.param == "oxigraph-server" else start_virtuoso
    folder = tmp_path / "remote"
    folder.mkdir()
    with starter(folder) as settings:
        yield settings


@pytest.mark.remote
def test_submission_through_one_worker_is_visible_through_the_other_at_once(remote, tmp_path):
    running = start_workers(tmp_path, remote, 2)
    try:
        token = subprocess.run(
            [sys.executable, "-m", "zitkg", "token", "create", "--org", ID + "org/bof", "--role", "admin",
             "--store", str(running.store)],
            env=running.env, capture_output=True, text=True, check=True).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        created = requests.post(running.url + "/api/submissions", data=PRACTICE, timeout=60,
                                headers={"Content-Type": "text/turtle", **headers})
        assert created.status_code == 201, created.text
        practice = next(d for d in created.json()["describes"] if "/practice/" in d)
        requests.post(created.json()["links"]["publish"], headers=headers, timeout=60).raise_for_status()
        # Many fresh connections: granian hands them to both workers; every one must see the practice.
        pids: set[str | None] = set()
        deadline = time.monotonic() + 30  # until both workers have answered (the kernel picks one per
        while len(pids - {None}) < 2 and time.monotonic() < deadline:  # connection; one may still be starting)
            with requests.Session() as fresh:
                resp = fresh.get(running.url + "/sparql", params={"query": f"ASK {{ <{practice}> ?p ?o }}"},
                                 headers={"Connection": "close"}, timeout=30)
                assert resp.json()["boolean"] is True
                pids.add(resp.headers.get("Zitkg-Worker"))
        page = requests.get(f"{running.url}/id/practice/{practice.rsplit('/', 1)[1]}", timeout=30)
        assert page.status_code == 200 and "Wspólne zakupy energii" in page.text
        assert len(pids - {None}) == 2, pids
    finally:
        stop_server(running)
