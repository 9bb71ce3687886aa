"""Request bodies arrive whole or are refused, whatever their framing (security issue 12).

Found against a fresh server: a Turtle body sent with ``Transfer-Encoding: chunked`` was cut at the
size limit and the cut document was stored (201), while the same body with a Content-Length got 413.
Every body here is built so that its first ``limit`` bytes are themselves a valid request (a valid
document followed by a long comment): a server that cuts instead of refusing stores or runs it, which
the assertions on the store would catch. Bodies go over raw sockets or ``requests`` with a generator
(chunked), to a fresh server with a small limit, on every route that reads a body.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import requests

from conftest import auth, create_token, start_server, stop_server
from security.conftest import ADMIN_TOKEN

ID = "https://w3id.org/sieci-zit/id/"
LIMIT = 100_000
BODY_TIMEOUT = 3
PRACTICE = (Path(__file__).resolve().parents[1] / "data" / "practice-with-pilot.ttl").read_bytes()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("bodies"), max_body_bytes=str(LIMIT),
                           body_timeout=str(BODY_TIMEOUT), admin_token=ADMIN_TOKEN, query_workers="2")
    running.tokens = {"bof": create_token(running, "bof"),
                      "reviewer": create_token(running, "metropolia-krakowska", "reviewer"),
                      "admin": create_token(running, "metropolia-krakowska", "admin")}
    yield running
    stop_server(running)


def store_state(srv) -> tuple[int, list[str]]:
    state = requests.get(srv.url + "/api/admin/store", headers=auth(srv.tokens["admin"]), timeout=10).json()
    return state["quads"], state["graphs"]


def padded(valid: bytes, total: int, comment: bytes = b"#") -> bytes:
    """A valid document followed by a comment up to ``total`` bytes: cut anywhere past the document, it
    is still valid, so only a refusal (not a cut) keeps it from being stored or run."""
    return valid + b"\n" + comment + b"x" * (total - len(valid) - 2) + b"\n"


def chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def raw_exchange(srv, head: str, parts: Iterable[bytes], *, delay: float = 0.0, half_close: bool = False,
                 timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Send a hand-made request over a socket (whatever its framing claims) and read one response."""
    host, port = srv.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        for part in parts:
            if delay:
                time.sleep(delay)
            sock.sendall(part)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            raise ConnectionError(f"connection closed before a response: {data!r}")
        data += got
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        got = sock.recv(65536)
        if not got:
            break
        rest += got
    return status, headers, rest[:length]


def request_head(method: str, path: str, headers: dict[str, str]) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n"


def assert_too_large(resp: requests.Response) -> None:
    assert resp.status_code == 413, resp.text[:500]
    body = resp.json()
    assert body["status"] == 413 and body["error"] == "request-entity-too-large"
    assert str(LIMIT) in body["message"]


# --- chunked bodies over the limit: 413 on every route that reads a body, nothing stored or run -------------


@pytest.fixture(scope="module")
def pending(srv) -> str:
    """A pending submission of bof's, for the routes that change one."""
    resp = requests.post(srv.url + "/api/submissions", data=PRACTICE, timeout=60,
                         headers={"Content-Type": "text/turtle", **auth(srv.tokens["bof"])})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def routes(srv, sid: str) -> dict[str, tuple[str, str, dict[str, str], bytes]]:
    """(method, path, headers, body over the limit whose first LIMIT bytes are valid) per route."""
    bof, admin = auth(srv.tokens["bof"]), {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    insert = b"INSERT DATA { GRAPH <urn:x:cut> { <urn:x:s> <urn:x:p> <urn:x:o> } }"
    form_reason = b"reason=" + b"x" * (LIMIT // 2) + b"&ignored=" + b"y" * LIMIT
    return {
        "submission (Turtle)": ("POST", "/api/submissions", {"Content-Type": "text/turtle", **bof},
                                padded(PRACTICE, 2 * LIMIT)),
        "submission (CSV)": ("POST", "/api/submissions", {"Content-Type": "text/csv", **bof},
                             b"type,label_pl\n" + b"practice,x\n" * (2 * LIMIT // 11)),
        "replace a submission": ("PUT", f"/api/submissions/{sid}", {"Content-Type": "text/turtle", **bof},
                                 padded(PRACTICE, 2 * LIMIT)),
        "SPARQL update": ("POST", "/sparql", {"Content-Type": "application/sparql-update", **admin},
                          padded(insert, 2 * LIMIT)),
        "SPARQL update (form)": ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded",
                                                     **admin},
                                 b"update=" + padded(insert, 2 * LIMIT, b"%23").replace(b" ", b"+")),
        "SPARQL query": ("POST", "/sparql", {"Content-Type": "application/sparql-query"},
                         padded(b"ASK {}", 2 * LIMIT)),
        "reject with a form": ("POST", f"/api/submissions/{sid}/reject",
                               {"Content-Type": "application/x-www-form-urlencoded",
                                **auth(srv.tokens["reviewer"])}, form_reason),
    }


ROUTES = ["submission (Turtle)", "submission (CSV)", "replace a submission", "SPARQL update",
          "SPARQL update (form)", "SPARQL query", "reject with a form"]


@pytest.mark.parametrize("route", ROUTES)
def test_chunked_body_over_the_limit_is_413_and_changes_nothing(srv, pending, route):
    method, path, headers, body = routes(srv, pending)[route]
    before = store_state(srv)
    shown = requests.get(f"{srv.url}/api/submissions/{pending}", headers=auth(srv.tokens["bof"]), timeout=10).json()
    resp = requests.request(method, srv.url + path, data=chunks(body), headers=headers, timeout=60)
    assert_too_large(resp)
    assert store_state(srv) == before
    after = requests.get(f"{srv.url}/api/submissions/{pending}", headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert (after["status"], after["content"]) == (shown["status"], shown["content"])


@pytest.mark.parametrize("route", ROUTES)
def test_same_body_with_content_length_is_413_too(srv, pending, route):
    method, path, headers, body = routes(srv, pending)[route]
    before = store_state(srv)
    assert_too_large(requests.request(method, srv.url + path, data=body, headers=headers, timeout=60))
    assert store_state(srv) == before


def test_chunked_body_far_over_the_limit_still_gets_its_413(srv):
    """Ten times the limit in small chunks: the server reads one byte past the limit, answers, and drops
    what the client still sends, so the client reads a 413 rather than a reset connection."""
    body = padded(PRACTICE, 10 * LIMIT)
    resp = requests.post(srv.url + "/api/submissions", data=chunks(body, 1000), timeout=60,
                         headers={"Content-Type": "text/turtle", **auth(srv.tokens["bof"])})
    assert_too_large(resp)


def test_declared_length_over_the_limit_is_413_before_the_body_is_sent(srv):
    """With ``Expect: 100-continue`` the client waits: the 413 comes first, no byte of the body is read."""
    head = request_head("POST", "/api/submissions", {
        "Content-Type": "text/turtle", "Content-Length": str(50 * LIMIT), "Expect": "100-continue",
        **auth(srv.tokens["bof"])})
    status, _headers, body = raw_exchange(srv, head, [])
    assert status == 413 and json.loads(body)["error"] == "request-entity-too-large"


# --- bodies under the limit arrive whole, however they are framed ------------------------------------------


def test_chunked_body_under_the_limit_arrives_whole(srv):
    """Many small chunks, some of them slow: every statement is stored, not only the first chunk's."""
    extra = b"".join(f'<https://w3id.org/sieci-zit/id/practice/n{i}> <https://example.org/note> "{i}" .\n'.encode()
                     for i in range(400))
    body = PRACTICE + b"\n" + extra
    assert len(body) < LIMIT
    status, _headers, answer = raw_exchange(srv, request_head("POST", "/api/submissions", {
        "Content-Type": "text/turtle", "Transfer-Encoding": "chunked", **auth(srv.tokens["bof"])}),
        [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks(body, 997)] + [b"0\r\n\r\n"])
    assert status == 201, answer[:500]
    sid = json.loads(answer)["id"]
    content = requests.get(f"{srv.url}/api/submissions/{sid}", headers=auth(srv.tokens["bof"]),
                           timeout=10).json()["content"]
    assert '"0"' in content and '"399"' in content  # the first chunk's statement and the last one's


def test_sparql_query_in_chunks_is_read_whole(srv):
    query = b"SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }" + b" " * 30_000 + b"LIMIT 1"
    resp = requests.post(srv.sparql, data=chunks(query, 1000), timeout=30,
                         headers={"Content-Type": "application/sparql-query",
                                  "Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["results"]["bindings"]


# --- a Content-Length that lies ------------------------------------------------------------------------------


def test_content_length_smaller_than_the_body_reads_exactly_that_many_bytes(srv):
    """What follows the announced length is not part of the body (HTTP/1.1 reads it as the next request),
    so it is never stored with it."""
    evil = b'<https://w3id.org/sieci-zit/id/practice/smuggled> <urn:x:p> "smuggled" .\n'
    head = request_head("POST", "/api/submissions", {
        "Content-Type": "text/turtle", "Content-Length": str(len(PRACTICE)), **auth(srv.tokens["bof"])})
    status, _headers, answer = raw_exchange(srv, head, [PRACTICE + evil])
    assert status == 201, answer[:500]
    sid = json.loads(answer)["id"]
    content = requests.get(f"{srv.url}/api/submissions/{sid}", headers=auth(srv.tokens["bof"]),
                           timeout=10).json()["content"]
    assert "smuggled" not in content


def test_content_length_cut_mid_document_is_400_not_a_shorter_document(srv):
    before = store_state(srv)
    head = request_head("POST", "/api/submissions", {
        "Content-Type": "text/turtle", "Content-Length": str(len(PRACTICE) // 2), **auth(srv.tokens["bof"])})
    status, _headers, _answer = raw_exchange(srv, head, [PRACTICE])
    assert status == 400
    assert store_state(srv) == before


def test_body_shorter_than_its_content_length_is_400(srv):
    """The client announces more than it sends and half-closes: granian ends the stream without an error;
    the count against Content-Length is what notices."""
    before = store_state(srv)
    head = request_head("POST", "/api/submissions", {
        "Content-Type": "text/turtle", "Content-Length": str(len(PRACTICE) + 5000), **auth(srv.tokens["bof"])})
    status, _headers, answer = raw_exchange(srv, head, [PRACTICE], half_close=True)
    assert status == 400, answer[:300]
    body = json.loads(answer)
    assert body["details"]["receivedBytes"] == len(PRACTICE)
    assert str(len(PRACTICE) + 5000) in body["message"]
    assert store_state(srv) == before


@pytest.mark.parametrize("path,content_type,body", [
    ("/api/submissions", "text/turtle", PRACTICE),
    ("/sparql", "application/sparql-update", b"INSERT DATA { GRAPH <urn:x:stall> { <urn:x:a> <urn:x:b> 1 } }"),
])
def test_body_that_stalls_is_408_after_the_body_timeout(srv, path, content_type, body):
    before = store_state(srv)
    token = srv.tokens["bof"] if path != "/sparql" else ADMIN_TOKEN
    head = request_head("POST", path, {"Content-Type": content_type, "Content-Length": str(len(body) + 100),
                                       "Authorization": f"Bearer {token}"})
    started = time.monotonic()
    status, _headers, answer = raw_exchange(srv, head, [body], timeout=BODY_TIMEOUT + 20)
    assert status == 408, answer[:300]
    assert json.loads(answer)["error"] == "request-timeout"
    assert BODY_TIMEOUT - 0.5 < time.monotonic() - started < BODY_TIMEOUT + 15
    assert store_state(srv) == before


# --- compression, trickles, stalls ------------------------------------------------------------------------------


def test_gzip_body_is_refused_and_never_expanded(srv):
    """Nothing decodes Content-Encoding, so a compressed body is refused as such (415), whether it would
    expand to a valid document or to a gigabyte of zeros."""
    before = store_state(srv)
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # ~200 KB that would expand 1000 times
    for body in (gzip.compress(PRACTICE), bomb[:LIMIT - 1]):
        resp = requests.post(srv.url + "/api/submissions", data=body, timeout=30, headers={
            "Content-Type": "text/turtle", "Content-Encoding": "gzip", **auth(srv.tokens["bof"])})
        assert resp.status_code == 415 and "Content-Encoding" in resp.json()["message"]
    resp = requests.post(srv.sparql, data=gzip.compress(b"ASK {}"), timeout=30,
                         headers={"Content-Type": "application/sparql-query", "Content-Encoding": "gzip"})
    assert resp.status_code == 415
    assert store_state(srv) == before


def test_slow_trickle_within_the_timeout_arrives_whole(srv):
    body = PRACTICE
    head = request_head("POST", "/api/submissions", {"Content-Type": "text/turtle", "Transfer-Encoding": "chunked",
                                                     **auth(srv.tokens["bof"])})
    parts = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks(body, len(body) // 8 + 1)] + [b"0\r\n\r\n"]
    status, _headers, answer = raw_exchange(srv, head, parts, delay=0.15)
    assert status == 201, answer[:300]


def test_slow_trickle_past_the_timeout_is_408_and_the_service_keeps_answering(srv):
    """More stalled bodies than the server has request threads (8): each is given up at the body
    timeout, and an unrelated request answers meanwhile."""
    before = store_state(srv)
    head = request_head("POST", "/api/submissions", {"Content-Type": "text/turtle", "Transfer-Encoding": "chunked",
                                                     **auth(srv.tokens["bof"])})
    statuses: list[int] = []

    def trickle() -> None:
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=BODY_TIMEOUT + 20) as sock:
            sock.sendall(head.encode())
            sock.sendall(b"5\r\n@pref\r\n")  # then nothing more, keeping the connection open
            statuses.append(read_response(sock)[0])

    threads = [threading.Thread(target=trickle) for _ in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert requests.get(srv.url + "/api/queries", timeout=BODY_TIMEOUT + 10).status_code == 200
    assert time.monotonic() - started < BODY_TIMEOUT + 5  # generous: answered while the trickles wait
    for thread in threads:
        thread.join(timeout=BODY_TIMEOUT + 30)
    assert statuses == [408] * 10
    assert store_state(srv) == before


# --- JSON bodies of the review API ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 500, 40_000])
def test_deep_json_on_the_review_api_is_400(srv, pending, depth):
    body = '{"reason": ' + "[" * depth + "]" * depth + "}"
    resp = requests.post(f"{srv.url}/api/submissions/{pending}/reject", data=body, timeout=30,
                         headers={"Content-Type": "application/json", **auth(srv.tokens["reviewer"])})
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["details"]["maxDepth"] == 32
    shown = requests.get(f"{srv.url}/api/submissions/{pending}", headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert shown["status"] == "pending"


def test_malformed_json_on_the_review_api_is_400(srv, pending):
    resp = requests.post(f"{srv.url}/api/submissions/{pending}/reject", data=b'{"reason": "x",,}', timeout=30,
                         headers={"Content-Type": "application/json", **auth(srv.tokens["reviewer"])})
    assert resp.status_code == 400 and "JSON" in resp.json()["message"]


# --- the SPARQL fast lane reads plain query bodies through the same reader (web/fastlane.py) ---------------

def test_query_body_shorter_than_its_content_length_is_400(srv):
    """A query cut short is not run as if it were the whole query."""
    query = b"ASK { ?s ?p ?o }"
    head = request_head("POST", "/sparql", {"Content-Type": "application/sparql-query",
                                            "Content-Length": str(len(query) + 50)})
    status, _headers, _answer = raw_exchange(srv, head, [query], half_close=True)
    assert status == 400


def test_query_body_that_stalls_is_408(srv):
    query = b"ASK { ?s ?p ?o }"
    head = request_head("POST", "/sparql", {"Content-Type": "application/sparql-query",
                                            "Content-Length": str(len(query) + 50)})
    status, _headers, _answer = raw_exchange(srv, head, [query], timeout=BODY_TIMEOUT + 5)
    assert status == 408
