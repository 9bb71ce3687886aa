"""Queries that try to exhaust the server: huge answers, memory, every worker at once, cached shortcuts."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from conftest import start_server, stop_server


def doubling(times: int, seed: str = "abcdefghijklmnop") -> str:
    """A few hundred bytes whose answer is len(seed) * 2**times bytes: each BIND doubles a string."""
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(times))
    return f'SELECT ?a{times} WHERE {{ BIND("{seed}" AS ?a0) {binds} }}'


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("limits"), max_answer_bytes="1000000", query_memory_mb="512",
                          query_timeout="10", query_workers="2")
    yield server
    stop_server(server)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_a_doubling_query_is_cut_at_the_byte_cap(small_server, accept) -> None:
    query = doubling(17)  # 2 MB in one row, from a text of 600 bytes
    assert len(query) < 1000
    reply = requests.post(small_server.sparql, data={"query": query}, headers={"Accept": accept}, timeout=60)
    assert reply.status_code == 200
    assert reply.headers["Zitkg-Results-Truncated"] == "true"
    assert len(reply.content) <= 1_000_000
    if "json" in accept:
        assert json.loads(reply.content)["results"]["bindings"] == []


def test_the_byte_cap_keeps_the_rows_that_fit(small_server) -> None:
    query = ('SELECT ?s ?big WHERE { ?s ?p ?o BIND(CONCAT(STR(?s), "' + "x" * 4000 + '") AS ?big) } LIMIT 400')
    reply = requests.get(small_server.sparql, params={"query": query}, timeout=60)
    assert reply.status_code == 200
    rows = reply.json()["results"]["bindings"]
    assert 100 < len(rows) < 400  # ~4 KB a row: some fit in 1 MB, not all
    assert reply.headers["Zitkg-Results-Truncated"] == "true"
    assert len(reply.content) <= 1_000_000


def test_a_query_past_the_memory_ceiling_is_stopped_and_the_server_lives_on(small_server) -> None:
    reply = requests.post(small_server.sparql, data={"query": doubling(27)}, timeout=60)  # 2 GB of string
    assert reply.status_code == 503
    assert "memory" in reply.json()["message"]
    after = requests.get(small_server.sparql, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert after.json()["boolean"] is True


def test_a_cached_answer_still_checks_the_timeout(small_server) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert requests.get(small_server.sparql, params={"query": query}, timeout=30).status_code == 200
    for bad in ("-1", "0", "nan", "abc"):
        reply = requests.get(small_server.sparql, params={"query": query, "timeout": bad}, timeout=30)
        assert reply.status_code == 400, bad
        assert "timeout" in reply.json()["message"]


HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


RETRY_AFTER: set[str] = set()


def _get(url: str, query: str, source: str = "127.0.0.1", timeout: float = 30) -> tuple[int, float]:
    """One GET from a chosen loopback address (each 127.0.0.x is another client to the server)."""
    parts = urlsplit(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", parts.path + "?" + urlencode({"query": query}))
        response = conn.getresponse()
        response.read()
        if response.status == 429:
            RETRY_AFTER.add(response.getheader("Retry-After") or "")
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def _latencies(url: str, rounds: int) -> list[float]:
    """Latencies of what a mapping team does: a lookup, a small query (unique texts: no cache) and a page."""
    org = "https://w3id.org/sieci-zit/id/org/bof"
    out = []
    for _ in range(rounds):
        nonce = f"# {time.monotonic_ns()}\n"
        for query in (f"SELECT ?p ?o WHERE {{ <{org}> ?p ?o }} {nonce}",  # a bounded lookup (web process)
                      f"SELECT DISTINCT ?p WHERE {{ <{org}> ?p ?o }} ORDER BY ?p {nonce}"):  # a worker's
            status, seconds = _get(url, query)
            assert status == 200
            out.append(seconds)
        started = time.monotonic()
        assert requests.get(url.replace("/sparql", "/id/org/bof"), headers={"Accept": "text/html"},
                            timeout=30).status_code == 200
        out.append(time.monotonic() - started)
    return out


@pytest.mark.slow
def test_heavy_queries_of_a_few_clients_do_not_stall_everyone_else(tmp_path) -> None:
    """Fairness: while 3 clients each keep 2 heavy queries going, a fourth client's lookups, small queries
    and pages stay within a small multiple of their idle latency, and no heavy client holds more than its
    share (its extra queries are refused with 429 while the service is busy)."""
    server = start_server(tmp_path, query_workers="2", query_slots_per_client="1", query_overflow_workers="2",
                          query_timeout="4")
    try:
        _latencies(server.sparql, 3)  # warm: workers forked
        idle = statistics.median(_latencies(server.sparql, 8))

        stop = threading.Event()
        statuses: list[int] = []

        def hammer(source: str) -> None:
            while not stop.is_set():
                statuses.append(_get(server.sparql, HEAVY, source=source)[0])
                if statuses[-1] == 429:
                    time.sleep(0.2)  # as told by Retry-After, roughly

        heavy = [threading.Thread(target=hammer, args=(f"127.0.0.{2 + i // 2}",), daemon=True) for i in range(6)]
        for thread in heavy:
            thread.start()
        time.sleep(1.0)  # the heavy queries are running
        loaded = statistics.median(_latencies(server.sparql, 8))
        stop.set()
        for thread in heavy:
            thread.join(timeout=30)
        assert loaded <= max(5 * idle, idle + 0.25), (idle, loaded)
        assert 429 in statuses  # the second query of a heavy client was refused while the service was busy
        assert set(statuses) <= {429, 503}
        assert RETRY_AFTER == {"1"}
    finally:
        stop_server(server)
