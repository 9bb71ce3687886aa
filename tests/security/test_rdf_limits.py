"""Deep and huge RDF: depth and statement limits on submissions, and no input error is ever a 500.

Before the limits, 850 KB of nested Turtle took 20 s and 800 MB that stayed, a 500-deep JSON(-LD)
answered 500, and a few thousand levels of JSON-LD crashed the parser (and the web worker) outright.
The depth is checked before any parser sees the text (413, bilingual message, nothing stored); the
statement count stops the parser at the first statement past the limit.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from conftest import auth, create_token, start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
PRACTICE = (Path(__file__).resolve().parents[1] / "data" / "practice-with-pilot.ttl").read_text()
DEPTH = 64  # the default ZITKG_MAX_RDF_DEPTH
STATEMENTS = 10_000  # the default ZITKG_MAX_RDF_STATEMENTS
TTL = "text/turtle"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("rdf-limits"), query_workers="2")  # default limits
    try:
        server.tokens = {"bof": create_token(server, "bof"),
                         "reviewer": create_token(server, "metropolia-krakowska", "reviewer"),
                         "admin": create_token(server, "metropolia-krakowska", "admin")}
        yield server
    finally:
        stop_server(server)


def submit(srv, body: bytes | str, content_type: str = TTL, method: str = "post",
           url: str | None = None) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    return requests.request(method, url or srv.url + "/api/submissions", data=data, timeout=120,
                            headers={"Content-Type": content_type, **auth(srv.tokens["bof"])})


def store_state(srv) -> tuple[int, list[str]]:
    state = requests.get(srv.url + "/api/admin/store", headers=auth(srv.tokens["admin"]), timeout=30).json()
    return state["quads"], state["graphs"]


def rss_mb(pid: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_refused(resp: requests.Response, code: str) -> None:
    assert resp.status_code == 413, resp.text[:500]
    body = resp.json()
    assert body["error"] == code, body
    assert body["message"] and body["details"]["summary"]["pl"] and body["details"]["summary"]["en"]
    assert "nic nie zapisano" in body["details"]["summary"]["pl"]


def practice_and_note(extra: str) -> str:
    """The valid test practice and an untyped note beside it that says ``extra``: a practice may hold only
    the properties its shape gives it (closed shapes for submissions), an untyped node any property."""
    return PRACTICE + f"\n[] {extra} .\n"


def nested(open_: str, close: str, inner: str, levels: int) -> str:
    return open_ * levels + inner + close * levels


# --- depth ---------------------------------------------------------------------------------------------

def test_850_kb_of_nested_blank_nodes_is_refused_at_once_and_costs_no_memory(srv):
    before = store_state(srv)
    levels = 850_000 // len("[ <urn:p> ")
    body = "<urn:s> <urn:p> " + nested("[ <urn:p> ", " ]", "1", levels) + " .\n"
    assert len(body) > 850_000
    pid = requests.get(srv.url + "/context.jsonld", timeout=30).headers["Zitkg-Worker"]
    rss_before = rss_mb(pid)
    started = time.monotonic()
    resp = submit(srv, body)
    elapsed = time.monotonic() - started
    assert_refused(resp, "nesting-too-deep")
    assert resp.json()["details"]["limit"] == DEPTH
    assert resp.headers["Zitkg-Worker"] == pid
    assert elapsed < 3, elapsed
    assert rss_mb(pid) - rss_before < 60
    assert store_state(srv) == before


@pytest.mark.parametrize(("name", "body"), [
    ("collections", "<urn:s> <urn:p> " + nested("( ", " )", "1", 20_000) + " .\n"),
    ("no spaces", "<urn:s> <urn:p> " + nested("[<urn:p>", "]", "1", 20_000) + ".\n"),
    ("mixed brackets", "<urn:s> <urn:p> " + nested("( [ <urn:p> ", " ] )", "1", 5_000) + " .\n"),
    ("prefixed names over lines", "@prefix : <http://example.org/> .\n:s :p "
     + nested("[\r\n  :p # comment [\r\n", "\r\n]", "1", 5_000) + " .\n"),
    ("quoted triples", "<urn:s> <urn:p> " + nested("<< <urn:a> <urn:b> ", " >>", "<urn:c>", 5_000) + " .\n"),
    ("triple terms", "<urn:s> <urn:p> " + nested("<<( <urn:a> <urn:b> ", " )>>", "<urn:c>", 5_000) + " .\n"),
    ("just past the limit", "<urn:s> <urn:p> " + nested("[ <urn:p> ", " ]", "1", DEPTH + 1) + " .\n"),
])
def test_deep_turtle_in_any_spelling_is_413(srv, name, body):
    before = store_state(srv)
    assert_refused(submit(srv, body), "nesting-too-deep")
    assert store_state(srv) == before


@pytest.mark.parametrize("content_type", ["application/x-turtle", "text/turtle; charset=utf-8"])
def test_deep_turtle_under_other_media_types_is_413(srv, content_type):
    body = "<urn:s> <urn:p> " + nested("( ", " )", "1", 1_000) + " .\n"
    assert_refused(submit(srv, body, content_type), "nesting-too-deep")


def test_nesting_within_the_limit_is_accepted(srv):
    inner = nested("[ <https://example.org/p> ", " ]", "1", DEPTH - 4)
    resp = submit(srv, practice_and_note(f"<https://example.org/p> {inner}"))
    assert resp.status_code == 201, resp.text[:500]


def test_brackets_in_strings_comments_and_iris_do_not_count(srv):
    many = "[( " * 3_000
    extra = (f'rdfs:comment """{many}\n{many}"""@pl , "{many}"@en , \'\'\'{many}\'\'\'@de ;\n'
             f"    # {many}\n"
             f"    <https://example.org/p> <https://example.org/a(b)c?d=((e>")
    resp = submit(srv, practice_and_note(extra))
    assert resp.status_code == 201, resp.text[:500]


@pytest.mark.parametrize(("name", "content_type", "body"), [
    ("JSON-LD, 500 deep", "application/ld+json",
     nested('{"@id": "urn:a", "urn:p": ', "}", '"x"', 500)),
    ("JSON-LD, 5000 deep (crashed the parser)", "application/ld+json",
     nested('{"urn:p": ', "}", '"x"', 5_000)),
    ("plain JSON with the context, 500 deep", "application/json",
     '{"@context": "http://127.0.0.1/context.jsonld", "type": "GoodPractice", "label": '
     + nested('{"pl": ', "}", '"x"', 500) + "}"),
    ("plain JSON, 500 nested arrays", "application/json", nested("[", "]", "1", 500)),
    ("plain JSON, 100000 nested arrays", "application/json", nested("[", "]", "", 100_000)),
    ("JSON-LD lists of lists", "application/ld+json",
     '{"@id": "urn:a", "urn:p": ' + nested('{"@list": [', "]}", "1", 200) + "}"),
    ("JSON, spaces and newlines", "application/json", nested('{\n  "a" :\r\n [ ', " ]\n}", "1", 200)),
])
def test_deep_json_is_413_and_the_worker_lives(srv, name, content_type, body):
    before = store_state(srv)
    assert_refused(submit(srv, body, content_type), "nesting-too-deep")
    assert store_state(srv) == before
    assert requests.get(srv.url + "/context.jsonld", timeout=30).status_code == 200


def test_braces_inside_json_strings_do_not_count(srv):
    record = {
        "@context": srv.url + "/context.jsonld", "type": "GoodPractice",
        "label": {"pl": "Praktyka z nawiasami " + "{[" * 2_000, "en": "A practice with brackets"},
        "description": {"pl": "Opis \"w cudzysłowie\" {[", "en": "A description \\ with a backslash"},
        "theme": "theme/accessibility", "lifecycleStatus": "practice-status/proposed",
        "originator": "org/bof", "created": "2025-11-02",
    }
    resp = submit(srv, json.dumps(record), "application/json")
    assert resp.status_code == 201, resp.text[:500]


def test_a_deep_reject_reason_is_4xx_not_500(srv):
    created = submit(srv, PRACTICE)
    assert created.status_code == 201
    for body in (nested("[", "]", "", 100_000), '{"reason": ' + nested('{"a": ', "}", "1", 5_000) + "}"):
        resp = requests.post(created.json()["links"]["reject"], data=body, timeout=60,
                             headers={"Content-Type": "application/json", **auth(srv.tokens["reviewer"])})
        assert resp.status_code in (400, 413), resp.text[:300]
        assert resp.json()["message"]
    shown = requests.get(created.json()["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=30).json()
    assert shown["status"] == "pending"


# --- statement count -------------------------------------------------------------------------------------

def test_too_many_statements_in_turtle_is_413(srv):
    before = store_state(srv)
    body = "<urn:s> <urn:p> " + ", ".join(str(i) for i in range(STATEMENTS + 1)) + " .\n"
    started = time.monotonic()
    resp = submit(srv, body)
    assert_refused(resp, "too-many-statements")
    assert resp.json()["details"]["limit"] == STATEMENTS
    assert time.monotonic() - started < 5
    assert store_state(srv) == before


def test_too_many_statements_from_one_collection_is_413(srv):
    # Few bytes per item, two statements each (rdf:first, rdf:rest): depth 1, twice the limit.
    body = "<urn:s> <urn:p> ( " + " ".join(["1"] * STATEMENTS) + " ) .\n"
    assert_refused(submit(srv, body), "too-many-statements")


def test_too_many_statements_in_json_ld_is_413(srv):
    doc = {"@id": "urn:s", "urn:p": list(range(STATEMENTS + 1))}
    assert_refused(submit(srv, json.dumps(doc), "application/ld+json"), "too-many-statements")


def test_too_many_statements_from_a_spreadsheet_is_413(srv):
    header = ("type,key,label_pl,label_en,description_pl,description_en,theme,status,originator,network,created,"
              "practice,mof,organisation,start,end,budget_pln\n")
    row = ("practice,P{i},Praktyka {i},Practice {i},Opis.,Description.,energy-efficiency,piloted,bof,co4energy,"
           "2025-09-15,,,,,,\n")
    body = header + "".join(row.format(i=i) for i in range(STATEMENTS // 8))  # about ten statements a row
    assert_refused(submit(srv, body, "text/csv"), "too-many-statements")


def test_a_replacement_is_held_to_the_same_limits(srv):
    created = submit(srv, PRACTICE)
    assert created.status_code == 201
    body = "<urn:s> <urn:p> " + nested("[ <urn:p> ", " ]", "1", 1_000) + " .\n"
    assert_refused(submit(srv, body, method="put", url=created.json()["links"]["self"]), "nesting-too-deep")


# --- every input error is a 4xx with a message -------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MALFORMED = [
    (TTL, b"\xff\xfe\x00 not UTF-8"),
    (TTL, b"\xef\xbb\xbf<urn:a> <urn:b> <urn:c> ."),
    (TTL, b""),
    (TTL, b"<urn:a> <urn:b> \"unterminated ."),
    (TTL, b"<urn:a> <urn:b> \"x\"@en--ltr ."),
    (TTL, b"<< <urn:a> <urn:b> <urn:c> >> <urn:p> <urn:o> ."),
    (TTL, b"<urn:a> <urn:b> <<( <urn:a> <urn:b> <urn:c> )>> ."),
    (TTL, b"<urn:a> <urn:b> ]]]]]] ."),
    (TTL, b"@prefix : <http://e/> . :a :b " + b")" * 1000 + b"(" * 1000),
    ("application/ld+json", b"5"),
    ("application/ld+json", b'{"@context": 5, "@id": "urn:a"}'),
    ("application/ld+json", b'{"@context": "http://attacker.example/ctx.jsonld", "@id": "urn:a"}'),
    ("application/ld+json", b'{"@context": {"@import": "http://attacker.example/"}, "@id": "urn:a"}'),
    ("application/ld+json", b'{"@id": "urn:a", "urn:p": {"@value": {"a": 1}}}'),
    ("application/ld+json", b'{"@id": "urn:a", "urn:p": 1e999}'),
    ("application/ld+json", b'{"@id": "urn:a", "urn:p": "x", '),
    ("application/ld+json", b"]]]]}}}}"),
    ("application/json", b'{"type": 5}'),
    ("application/json", b'{"id": "\xed\xb2\x80"}'),
    ("text/csv", b"\xff\xfe not UTF-8,,,\n"),
    ("text/csv", b""),
    (XLSX, b"PK\x03\x04 not a zip"),
    ("application/n-triples", b"<urn:a> <urn:b> <urn:c> ."),
    ("", b"<urn:a> <urn:b> <urn:c> ."),
]


@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_malformed_submissions_are_4xx_with_a_message(srv, content_type, body):
    before = store_state(srv)
    resp = submit(srv, body, content_type)
    assert 400 <= resp.status_code < 500, resp.text[:500]
    assert resp.json()["message"]
    assert store_state(srv) == before


@pytest.mark.parametrize(("path", "body", "content_type"), [
    ("/api/submissions/0123456789abcdef/publish", None, None),
    ("/api/submissions/../../etc/publish", None, None),
    ("/api/submissions/0123456789abcdef/reject", b"[1, 2]", "application/json"),
    ("/api/submissions/0123456789abcdef/reject", b'{"reason": 5}', "application/json"),
    ("/api/submissions/0123456789abcdef/reject", b'{"reason": "x"', "application/json"),
    ("/api/submissions/0123456789abcdef/reject", b"reason=%ff%fe", "application/x-www-form-urlencoded"),
])
def test_malformed_review_requests_are_4xx_with_a_message(srv, path, body, content_type):
    headers = {**auth(srv.tokens["reviewer"]), **({"Content-Type": content_type} if content_type else {})}
    resp = requests.post(srv.url + path, data=body, headers=headers, timeout=30)
    assert 400 <= resp.status_code < 500, resp.text[:500]
    assert resp.json()["message"]


def test_after_all_that_a_normal_submission_still_works(srv):
    assert submit(srv, PRACTICE).status_code == 201
