"""Generated input against a real server: no 5xx anywhere, and the API answers as its description says.

- Schemathesis (4.x) reads /api/openapi.json and calls every operation with values the description
  allows and values it does not: every answer must be documented (status, media type, body schema) and
  invalid values must be refused with a 4xx. This is what keeps ``lang``, ``timeout``, ``limit`` and the
  query parameters of the description and of the code in step.
- Hypothesis builds Turtle-ish, JSON-ish and CSV-ish bodies from the pieces a careless or hostile
  submitter combines and posts them to /api/submissions with a valid token: a 4xx with a message, or 201.
- Garbage paths under /id/ (spaces, control characters, invalid percent escapes, suffixes): 404 or 400
  with a message, never 500.

Examples are bounded (and the database off) so that the module runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import csv
import io
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from conftest import start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
PRACTICE = (Path(__file__).resolve().parents[1] / "data" / "practice-with-pilot.ttl").read_text().split(
    "@base <https://w3id.org/sieci-zit/id/> .", 1)[1]
FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


def error_shape(reply: requests.Response) -> None:
    """A refusal: 4xx, the one JSON error shape, a message."""
    assert 400 <= reply.status_code < 500, reply.text[:300]
    body = reply.json()
    assert body["status"] == reply.status_code and isinstance(body["message"], str) and body["message"]


# --- the OpenAPI description against the behaviour ---------------------------------------------------------------


def no_server_error_but_a_time_limit(ctx, response, case) -> None:  # noqa: ANN001, ARG001 - schemathesis check
    """No 5xx, except the documented 503 of a query stopped at its time limit (a client may ask for 0.1 s):
    the time limit at work, not a failure."""
    if response.status_code < 500:
        return
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    assert response.status_code == 503 and error in {"query-timeout", "service-unavailable"}, (
        f"{response.status_code} for {case.path} {case.query}: {response.text[:300]}")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_api_answers_as_described(target, mode):
    """Every operation, with values the description allows (positive) and values it does not (negative):
    no 5xx, every answer documented and of the documented shape, invalid values refused with a 4xx."""
    # The Graph Store's "exactly one of ?graph and ?default" is beyond what OpenAPI can say: tests/test_graph_store.py
    schema = schemathesis.openapi.from_url(target.url + "/api/openapi.json").exclude(path_regex="^/graph-store")

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=schema.as_strategy(generation_mode=mode))
    def call(case) -> None:  # noqa: ANN001 - a schemathesis Case
        case.call_and_validate(timeout=30, excluded_checks=[not_a_server_error],
                               additional_checks=[no_server_error_but_a_time_limit])

    call()


def test_description_and_behaviour_agree_on_lang_and_timeout(target):
    """The disagreements the fuzzer found first, pinned: what the description refuses, the API refuses."""
    url = target.url + "/api/queries/coverage/results"
    description = requests.get(target.url + "/api/openapi.json", timeout=10).json()
    params = description["components"]["parameters"]
    assert params["lang"]["schema"]["enum"] == ["pl", "en"]
    assert params["timeout"]["schema"] == {"type": "number", "minimum": 0.1}
    for bad in ({"lang": ""}, {"lang": "de"}, {"timeout": "nan"}, {"timeout": "inf"}, {"timeout": "1e999"},
                {"timeout": "0"}, {"timeout": "-1"}, {"timeout": " 5"}, {"limit": "1_0"}, {"limit": "٣"},
                {"limit": "9" * 5000}, {"offset": "-1"}):
        error_shape(requests.get(url, params=bad, timeout=30))
    for good in ({"lang": "en"}, {"timeout": "0.1"}, {"timeout": "3600"}, {"timeout": "2.5e0"}, {"limit": "3"}):
        assert requests.get(url, params=good, timeout=30).status_code == 200, good


# --- submissions -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def submitter(tmp_path_factory):
    """A fresh server (generated submissions may be stored) and a submitter's token."""
    running = start_server(tmp_path_factory.mktemp("fuzz"), query_workers="2")
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "token", "create", "--org", ID + "org/bof", "--store", str(running.store)],
        capture_output=True, text=True, check=True, env=running.env)
    running.token = result.stdout.strip()
    yield running
    stop_server(running)


def _submit(srv, body: bytes, content_type: str) -> requests.Response:
    reply = requests.post(srv.url + "/api/submissions", data=body, timeout=60, headers={
        "Content-Type": content_type, "Authorization": f"Bearer {srv.token}"})
    assert reply.status_code < 500, (body[:300], reply.text[:500])
    if reply.status_code != 201:
        error_shape(reply)
    return reply


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
IRI = st.one_of(st.sampled_from([
    "<https://w3id.org/sieci-zit/id/org/bof>", "<theme/climate>", "<>", "<#x>", "<a b>", "<\\u0041>",
    "<http://example.org/" + "x" * 3000 + ">", "zit:GoodPractice", "zit:", ":x", "_:b", "[]", "<%zz>",
    "<https://w3id.org/sieci-zit/id/practice/cudzy>", "<urn:x>", "<javascript:alert(1)>"]),
    TEXT.map(lambda t: "<" + t + ">"))
LITERAL = st.one_of(TEXT.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
                    st.sampled_from(['"x"@pl', '"x"@en-GB', '"x"@', '"2025-13-45"^^xsd:date', '"1e999"^^xsd:double',
                                     '""" a\n"b" """', "'''x'''", '"\\uD800"', "42", "-0.0e1", "true", '"x"^^<y>',
                                     '"' + "y" * 20_000 + '"']))
TURTLE_PIECE = st.one_of(IRI, LITERAL, st.sampled_from([
    "a", ";", ",", ".", "[", "]", "(", ")", "{", "}", "<<", ">>",
    "@prefix zit: <https://w3id.org/sieci-zit/ontology#> .", "@base <https://w3id.org/sieci-zit/id/> .",
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>", "#", "\n",
    "rdfs:label", "zit:theme", "zit:originator", "@prefix : <", "\\", "\0", "\ufeff"]))
SUBJECT = st.sampled_from(["_:p", "_:q", "[]", "<practice/x>", "<https://w3id.org/sieci-zit/id/org/bof>", "<urn:x:s>",
                          "[ a zit:Pilot ]"])
PREDICATE = st.one_of(st.sampled_from([
    "a", "rdfs:label", "dcterms:description", "zit:theme", "zit:originator", "zit:lifecycleStatus", "zit:inNetwork",
    "dcterms:created", "zit:pilotOf", "zit:pilotLocation", "zit:implementedBy", "schema:email", "schema:startDate",
    "zit:budget", "<urn:x:p>", "owl:sameAs"]))
OBJECT = st.one_of(st.sampled_from([
    "zit:GoodPractice", "zit:Pilot", "zit:Expert", "<theme/climate>", "<theme/energy-efficiency>", "<org/bof>",
    "<org/lom>", "<practice-status/piloted>", "<network/co4energy>", "<mof/bialystok>", '"2025-09-01"^^xsd:date',
    '"Nazwa praktyki"@pl', '"Practice name"@en', '"Opis."@pl', '"Description."@en', "_:p", "_:q",
    "[ a zit:Pilot ; zit:pilotOf _:p ]", "( 1 2 )", "<https://w3id.org/sieci-zit/id/practice/cudza>"]))


def _statement(parts: tuple[str, list[tuple[str, list[str]]]]) -> str:
    subject, predicates = parts
    return subject + " " + " ;\n  ".join(p + " " + " , ".join(objects) for p, objects in predicates) + " .\n"


def _statements(subject: st.SearchStrategy[str], obj: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.tuples(PREDICATE, st.lists(obj, min_size=1, max_size=3))
    return st.tuples(subject, st.lists(pairs, min_size=1, max_size=8)).map(_statement)


STATEMENT = _statements(SUBJECT, OBJECT)  # well-formed, meaning anything
BROKEN_STATEMENT = _statements(st.one_of(SUBJECT, IRI), st.one_of(OBJECT, LITERAL, IRI))
TURTLE_HEAD = ("@prefix zit: <https://w3id.org/sieci-zit/ontology#> .\n"
               "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
               "@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix schema: <https://schema.org/> .\n"
               "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
               "@base <https://w3id.org/sieci-zit/id/> .\n")


@FAST
@given(parts=st.lists(STATEMENT, min_size=1, max_size=6), valid_start=st.booleans(),
       broken=st.one_of(st.none(), st.tuples(st.integers(0, 6), st.one_of(BROKEN_STATEMENT, TURTLE_PIECE))))
def test_generated_turtle_is_never_a_server_error(submitter, parts, valid_start, broken):
    """Statements about practices, pilots and others' records; in about half the documents a broken one."""
    if broken is not None:
        parts.insert(broken[0], broken[1])
    start = (PRACTICE + "\n") if valid_start else ""
    _submit(submitter, (TURTLE_HEAD + start + " ".join(parts)).encode("utf-8", "surrogatepass"), "text/turtle")


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT,
              st.sampled_from(["@id", "@type", "@context", "@graph", "@list", "@value", "@language"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(TEXT, st.sampled_from(
                                ["@id", "@type", "@context", "@graph", "label", "theme", "@reverse", "@nest"])),
                                inner, max_size=4)),
    max_leaves=30)


@FAST
@given(doc=JSON_VALUE, context=st.sampled_from([None, "/context.jsonld", "http://127.0.0.1:1/ctx", {"@vocab": 5}]))
def test_generated_json_ld_is_never_a_server_error(submitter, doc, context):
    import json

    if context is not None and isinstance(doc, dict):
        doc = {"@context": context, **doc}
    _submit(submitter, json.dumps(doc).encode(), "application/ld+json")


CELL = st.one_of(TEXT, st.sampled_from([
    "practice", "pilot", "expert", "ekspert", "PRACTICE", "bof", "lom", "co4energy", "climate", "energy-efficiency",
    "piloted", "proposed", "bialystok", "P1", "2025-09-15", "2026-03-31", "15.09.2025", "45000.00", "1e999", "NaN",
    "-Infinity", "1 000,50", "=cmd|' /C calc'!A0", '"quoted, with comma"', "a;b", "email;telephone", "email;fax",
    "https://w3id.org/sieci-zit/id/org/bof", "http://[::1", "Nazwa", "Opis.", "x" * 12_000, "\r", "\0"]))
KNOWN = ["type", "key", "label_pl", "label_en", "description_pl", "description_en", "theme", "status", "originator",
         "network", "created", "practice", "mof", "organisation", "start", "end", "budget_pln", "name", "competence",
         "email", "consent"]
HEADER = st.tuples(st.booleans(), st.lists(st.one_of(st.sampled_from(KNOWN), st.sampled_from(["unknown", "", "type "])),
                                           max_size=9)).map(lambda t: (["type"] if t[0] else []) + t[1])


@FAST
@given(header=HEADER, rows=st.lists(st.lists(CELL, max_size=10), max_size=6),
       delimiter=st.sampled_from([",", ";", "\t"]), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_generated_csv_is_never_a_server_error(submitter, header, rows, delimiter, newline):
    text = newline.join(delimiter.join(cells) for cells in [header, *rows]) + newline
    _submit(submitter, text.encode("utf-8", "surrogatepass"), "text/csv")


PRACTICE_ROW = {"type": "practice", "key": "P1", "label_pl": "Praktyka z pliku", "label_en": "Practice from a file",
                "description_pl": "Opis.", "description_en": "Description.", "theme": "energy-efficiency",
                "status": "piloted", "originator": "bof", "network": "co4energy", "created": "2025-09-15"}
PILOT_ROW = {"type": "pilot", "label_pl": "Pilotaż z pliku", "label_en": "Pilot from a file", "network": "co4energy",
             "practice": "P1", "mof": "bialystok", "organisation": "bof", "start": "2025-10-01", "end": "2026-03-31",
             "budget_pln": "45000.00"}


@FAST
@given(changes=st.lists(st.tuples(st.sampled_from(KNOWN), CELL), max_size=3), pilot=st.booleans())
def test_near_valid_csv_is_never_a_server_error(submitter, changes, pilot):
    """A practice (and its pilot) that would be stored, with up to three cells changed."""
    rows = [dict(PRACTICE_ROW), *([dict(PILOT_ROW)] if pilot else [])]
    for column, value in changes:
        rows[len(column) % len(rows)][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KNOWN, restval="")
    writer.writeheader()
    writer.writerows(rows)
    _submit(submitter, out.getvalue().encode("utf-8", "surrogatepass"), "text/csv")


@FAST
@given(junk=st.binary(max_size=300), prefix=st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06" + b"\0" * 18]))
def test_generated_xlsx_is_never_a_server_error(submitter, junk, prefix):
    _submit(submitter, prefix + junk, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- linked-data paths -------------------------------------------------------------------------------------------

PATH_TEXT = st.lists(st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                              st.sampled_from([*" %/.#?<>\"{}|\\^`\t\n\0", "%zz", "%00", "%2F", "..", ".ttl",
                                               ".jsonld", ".rdf", ".nt", "org/bof", "practice/"])),
                     min_size=1, max_size=40).map("".join)


@FAST
@given(path=PATH_TEXT, accept=st.sampled_from(["text/html", "text/turtle", "application/ld+json", "*/*", "",
                                               "image/png", "text/html;q=0.5, application/n-triples"]))
def test_garbage_under_id_is_404_or_400(target, path, accept):
    # Characters an URL cannot carry are escaped; "%" is sent as it is, so broken escapes arrive too.
    url = target.url + "/id/" + quote(path, safe=string.ascii_letters + string.digits + "/%.-_~")
    reply = requests.get(url, headers={"Accept": accept} if accept else {}, timeout=30, allow_redirects=False)
    assert reply.status_code in {200, 301, 308, 400, 404, 406}, (url, reply.status_code, reply.text[:300])
    if reply.status_code >= 400 and reply.headers["Content-Type"].startswith("application/json"):
        error_shape(reply)


@pytest.mark.parametrize("path", ["a%20b", "a b", "%00", "x%0Ay", "<script>", 'a"b', "a{b}", "%zz", "a|b"])
def test_paths_that_are_not_iris_are_404_with_a_message(target, path):
    reply = requests.get(target.url + "/id/" + path, timeout=30, headers={"Accept": "application/json"})
    assert reply.status_code == 404, reply.text[:300]
    error_shape(reply)  # "… is not a valid IRI path", or no route at all (a newline never matches one)
