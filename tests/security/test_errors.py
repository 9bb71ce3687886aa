"""Every input error is a 4xx with a message, in one shape, and no error grows with its input.

Errors are shaped in one place (web/errors.py), so the caps live there: lists cut to
``ZITKG_ERROR_MAX_ITEMS`` with the rest counted, echoed values cut to ``ZITKG_ERROR_MAX_CHARS``
(sentences to five times that). These tests send 20,000-character values wherever a route echoes
input, and malformed values to every kind of route, against the real server.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

HUGE = "x" * 20_000
MAX_CHARS = 200  # ZITKG_ERROR_MAX_CHARS, default
SENTENCE = 5 * MAX_CHARS


def strings(value: object, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in strings(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in strings(v, key)]
    return []


def assert_error(reply: requests.Response, status: int | None = None) -> dict:
    """4xx (or the given status), the one JSON shape, a message, and nothing longer than the caps."""
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
    if status is not None:
        assert reply.status_code == status, reply.text[:300]
    body = reply.json()
    assert {"status", "error", "message"} <= set(body) <= {"status", "error", "message", "hint", "details"}
    assert body["status"] == reply.status_code and body["message"]
    for key, text in strings(body):
        limit = SENTENCE if key in {"message", "hint", "summary", "pl", "en"} else MAX_CHARS
        assert len(text) <= limit + len("… (20000 characters)") + 10, (key, len(text))
    assert len(reply.content) < 4000
    return body


# --- values echoed back are cut ------------------------------------------------------------------------------------

ECHOES = {
    "query id": ("/api/queries/" + HUGE, {}),
    "lang": ("/api/queries/coverage", {"lang": HUGE}),
    "format": ("/api/queries/coverage/results", {"format": HUGE}),
    "timeout": ("/api/queries/coverage/results", {"timeout": HUGE}),
    "limit": ("/api/queries/coverage/results", {"limit": HUGE}),
    "query parameter": ("/api/queries/pilots-by-theme/results", {"theme": HUGE}),
    "unknown query parameter": ("/api/queries/pilots-by-theme/results", {HUGE: "1"}),
    "linked-data path": ("/id/" + HUGE, {}),
    "linked-data path that is no IRI": ("/id/" + HUGE + " " + HUGE, {}),
    "SPARQL syntax": ("/sparql", {"query": "SELECT " + HUGE}),
    "SPARQL timeout": ("/sparql", {"query": "ASK {}", "timeout": HUGE}),
    "catalog profile": ("/catalog", {"profile": HUGE}),
    "network page": ("/networks/" + HUGE, {}),
}


@pytest.mark.parametrize("name", list(ECHOES))
def test_echoed_values_are_cut(target, name):
    path, params = ECHOES[name]
    assert_error(requests.get(target.url + path, params=params, timeout=30,
                              headers={"Accept": "application/json"}))


def test_html_error_pages_are_cut_too(target):
    reply = requests.get(target.url + "/api/queries/coverage", params={"lang": HUGE}, timeout=30,
                         headers={"Accept": "text/html"})
    assert reply.status_code == 400 and reply.headers["Content-Type"].startswith("text/html")
    assert len(reply.content) < 4000 and "20000 characters" in reply.text


@pytest.fixture(scope="module")
def submitter(target) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "token", "create", "--org", "https://w3id.org/sieci-zit/id/org/bof",
         "--store", str(target.store)], capture_output=True, text=True, check=True, env=target.env)
    return {"Authorization": f"Bearer {result.stdout.strip()}"}


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/turtle", b"<urn:a> <urn:b> " + HUGE.encode() + b" ."),
    ("text/turtle", b'<urn:a> <urn:b> "' + HUGE.encode() + b"\n"),
    ("application/ld+json", b'{"@context": "http://127.0.0.1:1/' + HUGE.encode() + b'", "@id": "urn:a"}'),
    ("application/ld+json", b'{"@id": "' + HUGE.encode() + b'",'),
    ("text/csv", b"type," + HUGE.encode() + b"\npractice,x\n"),
    ("text/csv", b"type,created\npractice,2025-" + HUGE[:9000].encode() + b"\n"),
], ids=["Turtle token", "Turtle string", "JSON-LD context", "JSON-LD syntax", "CSV column", "CSV value"])
def test_submission_errors_echo_little(target, submitter, content_type, body):
    """Parse errors quote the input around the error; spreadsheet errors name columns and values."""
    assert_error(requests.post(target.url + "/api/submissions", data=body, timeout=30,
                               headers={"Content-Type": content_type, "Accept": "application/json", **submitter}))


# --- malformed input anywhere: 4xx with a message ------------------------------------------------------------------

MALFORMED = [
    ("GET", "/id/a%20b", {}, 404),
    ("GET", "/id/a%20b.ttl", {}, 404),
    ("GET", "/id/%00", {}, 404),
    ("GET", "/id/%3Cscript%3E", {}, 404),
    ("GET", "/id/org/bof.xyz", {}, 404),
    ("GET", "/ontology.xyz", {}, 404),
    ("GET", "/api/queries/coverage/results?lang=", {}, 400),
    ("GET", "/api/queries/coverage/results?format=", {}, 406),
    ("GET", "/api/queries/coverage/results?timeout=inf", {}, 400),
    ("GET", "/api/queries/coverage/results?timeout=0.01", {}, 400),
    ("GET", "/api/queries/coverage/results?limit=1_000", {}, 400),
    ("GET", "/api/queries/pilots-by-theme/results?theme=http://x%20y", {}, 400),
    ("GET", "/sparql?query=ASK%20%7B%7D&timeout=nan", {}, 400),
    ("POST", "/sparql", {"data": b"query=ASK%20{}&update=CLEAR%20ALL",
                         "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
    ("POST", "/sparql", {"data": b"--zz\r\n\r\n--zz--\r\n",
                         "headers": {"Content-Type": "multipart/form-data; boundary=zz"}}, 400),
    ("POST", "/sparql", {"data": b'{"query": "ASK {}"}', "headers": {"Content-Type": "application/json"}}, 415),
    ("POST", "/api/submissions", {"data": b"x"}, 401),
    ("GET", "/search?q=x&page=abc", {}, 400),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), MALFORMED,
                         ids=[f"{m} {p[:50]}" for m, p, _k, _s in MALFORMED])
def test_malformed_input_is_4xx_with_a_message(target, method, path, kwargs, status):
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    assert_error(requests.request(method, target.url + path, headers=headers, timeout=30, **kwargs), status)


def test_download_names_the_file_system_refuses_are_404(target):
    assert_error(requests.get(f"{target.url}/downloads/{'x' * 5000}", timeout=30), 404)


def test_caps_follow_the_settings_and_never_cut_the_code(tmp_path):
    """ZITKG_ERROR_MAX_ITEMS=2, ZITKG_ERROR_MAX_CHARS=20: two rows listed and one counted, values cut at
    20 characters and sentences at 100; the error code stays whole."""
    from conftest import start_server, stop_server

    server = start_server(tmp_path, error_max_items="2", error_max_chars="20", query_workers="1")
    try:
        token = subprocess.run(
            [sys.executable, "-m", "zitkg", "token", "create", "--org", "https://w3id.org/sieci-zit/id/org/bof",
             "--store", str(server.store)], capture_output=True, text=True, check=True, env=server.env).stdout.strip()
        reply = requests.post(server.url + "/api/submissions", timeout=30,
                              data=("type,label_pl\n" + "inventory,x\n" * 3).encode(),
                              headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"})
        body = reply.json()
        assert reply.status_code == 400 and body["error"] == "bad-request"
        assert len(body["details"]["errors"]) == 2 and body["details"]["errorsOmitted"] == 1
        assert body["details"]["errors"][0]["message"]["en"] == "unknown record type (practice, pilot, expert)"
        reply = requests.get(server.url + "/api/queries/coverage", params={"lang": HUGE}, timeout=30)
        body = reply.json()
        assert reply.status_code == 400 and body["error"] == "bad-request"
        assert len(body["message"]) <= 100 + len("… (20000 characters)") + 10
        assert len(body["details"]["parameter"]) <= 20
        reply = requests.get(server.url + "/api/queries/" + HUGE, timeout=30)
        assert reply.json()["error"] == "not-found" and len(reply.content) < 1000
    finally:
        stop_server(server)
