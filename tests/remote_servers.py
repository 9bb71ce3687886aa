"""Real remote SPARQL servers for the `remote` tests, started on free ports in private folders."""

from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def start_oxigraph_server(folder: Path, timeout_s: int = 2) -> Iterator[dict[str, str]]:
    """`oxigraph serve` (PyPI package oxigraph); its time limit is server-wide (--timeout-s)."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}",
         "--timeout-s", str(timeout_s)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
        yield {"sparql_query_url": f"http://127.0.0.1:{port}/query",
               "sparql_update_url": f"http://127.0.0.1:{port}/update"}
    finally:
        process.terminate()
        process.wait(timeout=10)


VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


def virtuoso_installed() -> bool:
    return shutil.which("virtuoso-t") is not None and VIRTUOSO_INI.exists()


@contextlib.contextmanager
def start_virtuoso(folder: Path) -> Iterator[dict[str, str]]:
    """A private Virtuoso Open Source instance (Debian's virtuoso-opensource), loopback only."""
    binary = shutil.which("virtuoso-t")
    if binary is None or not VIRTUOSO_INI.exists():
        raise RuntimeError("Virtuoso is not installed: apt-get install virtuoso-opensource (.ci/run does)")
    sql_port, http_port = _free_port(), _free_port()
    config = configparser.RawConfigParser(strict=False)
    config.optionxform = str  # keep the keys' case
    config.read(VIRTUOSO_INI)
    db = folder / "db"
    db.mkdir()
    for key, name in (("DatabaseFile", "virtuoso.db"), ("ErrorLogFile", "virtuoso.log"),
                      ("LockFile", "virtuoso.lck"), ("TransactionFile", "virtuoso.trx"),
                      ("xa_persistent_file", "virtuoso.pxa")):
        config.set("Database", key, str(db / name))
    config.set("TempDatabase", "DatabaseFile", str(db / "virtuoso-temp.db"))
    config.set("TempDatabase", "TransactionFile", str(db / "virtuoso-temp.trx"))
    config.set("Parameters", "ServerPort", f"127.0.0.1:{sql_port}")
    config.set("Parameters", "DirsAllowed", f"., {folder}, /usr/share/virtuoso-opensource-7/vad")
    config.set("HTTPServer", "ServerPort", f"127.0.0.1:{http_port}")
    if config.has_section("SPARQL"):
        config.set("SPARQL", "ResultSetMaxRows", "10000")
        config.set("SPARQL", "MaxQueryExecutionTime", "30")
    ini = folder / "virtuoso.ini"
    with ini.open("w") as fh:
        config.write(fh)
    process = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{http_port}/sparql?query=ASK%7B%7D", process, timeout=90)
        yield {
            "sparql_query_url": f"http://127.0.0.1:{http_port}/sparql-auth",
            "sparql_update_url": f"http://127.0.0.1:{http_port}/sparql-auth",
            "sparql_user": "dba",
            "sparql_password": "dba",
            "sparql_auth": "digest",
            "remote_timeout_param": "timeout",
            "remote_max_rows": "10000",
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.environ.get("KEEP_VIRTUOSO_LOG") and print((db / "virtuoso.log").read_text()[-2000:])
