"""Every value of a submission is stored or refused, never dropped (issue 15).

For each route (Turtle, JSON-LD, the form's JSON-LD, CSV, XLSX): an unknown class, an unknown property,
a value of the wrong kind and a value the form cannot hold are refused with one plain message at the
right place, and nothing is stored; a valid submission stores every statement it sent, triple by triple.
Also: the token check of the form (/api/whoami) and credit only with consent.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests

from conftest import start_server, stop_server
from test_submissions import PRACTICE, auth, create_token, store_state, submit

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
SCHEMA = "https://schema.org/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREFIXES = """@prefix zit: <https://w3id.org/sieci-zit/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@base <https://w3id.org/sieci-zit/id/> .
"""
PILOT = PREFIXES + """
_:pilot a zit:Pilot ;
    rdfs:label "Pilotaż testowy"@pl , "Test pilot"@en ;
    zit:pilotOf <practice/energetyk-mof> ;
    zit:pilotLocation <mof/bialystok> ;
    zit:implementedBy <org/bof> ;
    zit:inNetwork <network/co4energy> ;
    schema:startDate {start} ;
    schema:endDate "2026-06-30"^^xsd:date .
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("values"))
    running.tokens = {
        "bof": create_token(running, "bof"),
        "opolska": create_token(running, "aglomeracja-opolska"),
        "opolska-reviewer": create_token(running, "aglomeracja-opolska", "reviewer"),
        "lom-reviewer": create_token(running, "lom", "reviewer"),
        "admin": create_token(running, "metropolia-krakowska", "admin"),
    }
    yield running
    stop_server(running)


def refused(srv, body: bytes | str, content_type: str = "text/turtle") -> list[dict]:
    """Send as BOF; assert a 422 that stored nothing; its violations (warnings left out)."""
    before = store_state(srv)
    resp = submit(srv, body.encode() if isinstance(body, str) else body, srv.tokens["bof"], content_type)
    assert resp.status_code == 422, resp.text
    assert store_state(srv) == before
    return [r for r in resp.json()["details"]["results"] if r["severity"] == "Violation"]


def plain(result: dict) -> None:
    """No validator words in a message meant for people."""
    for text in result["message"].values():
        for word in ("Node ", "Literal(", "sh:", "xsd:", "@pl", "must conform", "^^"):
            assert word not in text, text


@pytest.mark.parametrize("kind", ["turtle", "json-ld"])
def test_an_unknown_class_is_refused_with_the_nearest_term(srv, kind):
    if kind == "turtle":
        body, ctype = PRACTICE.decode().replace("a zit:GoodPractice", "a zit:Practise"), "text/turtle"
    else:
        body = json.dumps({"@context": "/context.jsonld", "@id": "_:p", "@type": "Practise",
                           "label": {"pl": "Praktyka"}})
        ctype = "application/ld+json"
    results = refused(srv, body, ctype)
    found = [r for r in results if r["component"] == "UnknownClass"]
    assert len(found) == 1, results
    assert "zit:Practise" in found[0]["message"]["pl"] and "zit:GoodPractice" in found[0]["message"]["pl"]
    assert "czy chodziło o" in found[0]["message"]["pl"].lower() and "Did you mean" in found[0]["message"]["en"]


def test_an_unknown_property_of_our_namespace_is_refused_with_the_nearest_term(srv):
    body = PRACTICE.decode().replace("zit:originator", "zit:orginator")
    results = refused(srv, body)
    unknown = [r for r in results if r["component"] == "UnknownProperty"]
    assert [r["path"] for r in unknown] == [ZIT + "orginator"]
    assert "zit:originator" in unknown[0]["message"]["pl"]


def test_a_foreign_property_the_shapes_do_not_allow_is_refused(srv):
    body = PRACTICE.decode().replace('dcterms:created "2025-09-01"^^xsd:date .',
                                     'dcterms:created "2025-09-01"^^xsd:date ; schema:color "zielony" .')
    results = refused(srv, body)
    assert [(r["component"], r["path"]) for r in results] == [("NotAllowedHere", SCHEMA + "color")]
    assert "nie zostałoby zapisane" in results[0]["message"]["pl"]
    assert results[0]["focusNode"].startswith(ID + "practice/")


@pytest.mark.parametrize("start", ['"31.02.2025"', '"2025-02-31"^^xsd:date', '"wiosna"'])
def test_a_date_of_the_wrong_form_gets_one_plain_message(srv, start):
    results = refused(srv, PILOT.replace("{start}", start))
    assert len(results) == 1, results  # not also "later than the end", "at most one", "missing"
    (result,) = results
    assert result["path"] == SCHEMA + "startDate" and result["component"] == "WrongForm"
    assert result["message"]["pl"].startswith("Data rozpoczęcia: ")
    assert "nie jest poprawną datą. Wpisz RRRR-MM-DD, RRRR-MM albo RRRR." in result["message"]["pl"]
    assert "Enter YYYY-MM-DD, YYYY-MM or YYYY." in result["message"]["en"]
    plain(result)


def test_a_value_the_form_cannot_hold_is_refused_not_dropped(srv):
    """The form's JSON-LD with an address that is no IRI: a JSON-LD processor drops it without a word."""
    body = json.dumps({"@context": "/context.jsonld", "@id": "_:p", "@type": "GoodPractice",
                       "label": {"pl": "Praktyka z linkiem"},
                       "https://schema.org/url": [{"@id": "projekt dofinansowany"}]})
    results = refused(srv, body, "application/ld+json")
    assert [(r["component"], r["path"]) for r in results] == [("NotAnIri", SCHEMA + "url")]
    assert "„projekt dofinansowany” nie jest adresem" in results[0]["message"]["pl"]


def test_csv_wrong_date_is_placed_at_its_row_and_column(srv):
    csv_text = ("type,key,label_pl,practice,mof,organisation,network,start,end\n"
                "pilot,X1,Pilotaż CSV,https://w3id.org/sieci-zit/id/practice/energetyk-mof,bialystok,bof,"
                "co4energy,31.02.2025,2026-06-30\n")
    before = store_state(srv)
    resp = submit(srv, csv_text.encode(), srv.tokens["bof"], "text/csv")
    assert resp.status_code == 400 and store_state(srv) == before  # the template reader refuses the cell
    (error,) = resp.json()["details"]["errors"]
    assert (error["row"], error["column"]) == (2, "start")
    assert "31.02.2025" in error["message"]["pl"] and "RRRR-MM-DD" in error["message"]["pl"]


def test_json_ld_unknown_property_and_wrong_date_are_refused_at_their_fields(srv):
    body = json.dumps({"@context": "/context.jsonld", "@id": "_:p", "@type": "Pilot",
                       "label": {"pl": "Pilotaż JSON"}, "pilotOf": "practice/energetyk-mof",
                       "pilotLocation": "mof/bialystok", "implementedBy": "org/bof",
                       "startDate": "31.02.2025", "endDate": "2026-06-30", "implementer": "org/bof"})
    results = refused(srv, body, "application/ld+json")
    found = {(r["component"], r["path"]) for r in results}
    assert found == {("WrongForm", SCHEMA + "startDate"), ("UnknownProperty", ZIT + "implementer")}, results
    by_path = {r["path"]: r["message"]["pl"] for r in results}
    assert "zit:implementedBy" in by_path[ZIT + "implementer"]


def test_a_number_of_the_wrong_kind_in_a_nested_budget_is_refused_at_its_field(srv):
    body = PILOT.replace("{start}", '"2025-10-01"^^xsd:date').replace(
        'schema:endDate "2026-06-30"^^xsd:date .',
        'schema:endDate "2026-06-30"^^xsd:date ; zit:budget [ a schema:MonetaryAmount ; '
        'rdfs:label "Budżet"@pl ; schema:value "sto tysięcy"^^xsd:decimal ; schema:currency "PLN" ] .')
    results = refused(srv, body)
    assert [(r["component"], r["path"]) for r in results] == [("WrongForm", SCHEMA + "value")], results
    assert "nie jest liczbą" in results[0]["message"]["pl"]
    plain(results[0])


def _xlsx(rows: list[list[str]]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["type", "key", "label_pl", "practice", "mof", "organisation", "network", "start", "end", "budget_pln"]
GOOD_ROW = ["pilot", "X1", "Pilotaż z arkusza", ID + "practice/energetyk-mof", "bialystok", "bof", "co4energy",
            "2025-10-01", "2026-06-30", "120000.50"]


@pytest.mark.parametrize("media", ["csv", "xlsx"])
@pytest.mark.parametrize(("column", "value", "expected"), [
    ("colour", "zielony", "nieznana kolumna"),        # a column (a property) the template does not know
    ("start", "31.02.2025", "nie jest datą"),         # a value of the wrong form
    ("budget_pln", "sto tysięcy", "nie jest liczbą"),  # a value of the wrong kind
])
def test_spreadsheets_refuse_at_the_row_and_column(srv, media, column, value, expected):
    header, row = list(HEADER), list(GOOD_ROW)
    if column in header:
        row[header.index(column)] = value
    else:
        header.append(column)
        row.append(value)
    if media == "csv":
        import csv
        import io

        text = io.StringIO()
        csv.writer(text).writerows([header, row])
        body, ctype = text.getvalue().encode(), "text/csv"
    else:
        body, ctype = _xlsx([header, row]), XLSX
    before = store_state(srv)
    resp = submit(srv, body, srv.tokens["bof"], ctype)
    assert resp.status_code == 400, resp.text
    assert store_state(srv) == before
    errors = resp.json()["details"]["errors"]
    assert len(errors) == 1, errors
    assert expected in errors[0]["message"]["pl"] and errors[0]["column"].strip("'") == column
    assert errors[0]["row"] == (1 if column == "colour" else 2)


@pytest.mark.parametrize("media", ["csv", "xlsx"])
def test_a_valid_spreadsheet_row_stores_every_value(srv, media):
    row = list(GOOD_ROW)
    row[2] = f"Pilotaż z arkusza {media}"
    if media == "csv":
        body, ctype = (",".join(HEADER) + "\n" + ",".join(row) + "\n").encode(), "text/csv"
    else:
        body, ctype = _xlsx([HEADER, row]), XLSX
    resp = submit(srv, body, srv.tokens["bof"], ctype)
    assert resp.status_code == 201, resp.text
    stored = requests.get(resp.json()["links"]["self"], timeout=30,
                          headers={"Accept": "text/turtle", **auth(srv.tokens["bof"])}).content
    kept = list(ox.parse(stored, format=ox.RdfFormat.TURTLE))
    values = {(t.predicate.value, t.object.value) for t in kept}
    for column, value in zip(HEADER, row, strict=True):
        if column in {"type", "key"}:
            continue
        wanted = {"label_pl": (RDFS_LABEL, value), "practice": (ZIT + "pilotOf", value),
                  "mof": (ZIT + "pilotLocation", ID + "mof/" + value),
                  "organisation": (ZIT + "implementedBy", ID + "org/" + value),
                  "network": (ZIT + "inNetwork", ID + "network/" + value),
                  "start": (SCHEMA + "startDate", value), "end": (SCHEMA + "endDate", value),
                  "budget_pln": (SCHEMA + "value", "120000.5")}[column]  # the canonical form of 120000.50
        assert wanted in values, (column, sorted(values))


def test_a_valid_submission_stores_every_statement_it_sent(srv):
    body = PILOT.replace("{start}", '"2025-10"^^xsd:gYearMonth').replace(
        "<practice/energetyk-mof>", "<practice/energetyk-mof>").encode()
    resp = submit(srv, body, srv.tokens["bof"])
    if resp.status_code == 422:  # the practice IRI of the examples may differ: take any practice
        pytest.fail(resp.text)
    assert resp.status_code == 201, resp.text
    stored = requests.get(resp.json()["links"]["self"], timeout=30,
                          headers={"Accept": "text/turtle", **auth(srv.tokens["bof"])}).content
    sent = list(ox.parse(body, format=ox.RdfFormat.TURTLE, base_iri=ID))
    kept = list(ox.parse(stored, format=ox.RdfFormat.TURTLE))
    (pilot,) = {t.subject for t in kept}

    def key(t) -> tuple[str, str]:
        return t.predicate.value, str(t.object)

    assert sorted(key(t) for t in sent) == sorted(key(t) for t in kept), "a statement was lost or added"
    assert pilot.value.startswith(ID + "pilot/")


def test_whoami_names_the_organisation_and_refuses_a_wrong_token_in_both_languages(srv):
    resp = requests.get(srv.url + "/api/whoami", headers=auth(srv.tokens["bof"]), timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["organisation"] == ID + "org/bof" and resp.json()["role"] == "submitter"
    for wrong in ("zitkg_nope_nope", "pasted by mistake"):
        bad = requests.get(srv.url + "/api/whoami", headers=auth(wrong), timeout=10)
        assert bad.status_code == 401
        summary = bad.json()["details"]["summary"]
        assert "token" in summary["pl"].lower() and "token" in summary["en"].lower()


def test_credit_for_another_organisation_waits_for_its_confirmation(srv):
    body = PRACTICE.replace(b"zit:implementedBy <org/bof>", b"zit:implementedBy <org/aglomeracja-opolska>")
    resp = submit(srv, body, srv.tokens["bof"])
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["confirmation"]["waitingFor"] == [ID + "org/aglomeracja-opolska"]
    # not publishable yet, not even by an admin
    for who in ("lom-reviewer", "admin"):
        early = requests.post(created["links"]["publish"], headers=auth(srv.tokens[who]), timeout=30)
        assert early.status_code == 409, early.text
        assert "Aglomeracja Opolska" in early.json()["details"]["summary"]["pl"]
    # BOF cannot confirm for Opolska; a third organisation cannot either
    for who in ("bof", "lom-reviewer"):
        assert requests.post(created["links"]["confirm"], headers=auth(srv.tokens[who]),
                             timeout=30).status_code == 403
    # Opolska sees it and confirms (any of its tokens)
    shown = requests.get(created["links"]["self"], headers=auth(srv.tokens["opolska"]), timeout=30)
    assert shown.status_code == 200
    confirmed = requests.post(created["links"]["confirm"], headers=auth(srv.tokens["opolska"]), timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmation"]["waitingFor"] == []
    # the four-eyes rule still holds: a reviewer of another organisation publishes
    published = requests.post(created["links"]["publish"], headers=auth(srv.tokens["lom-reviewer"]), timeout=30)
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_own_credit_needs_no_confirmation(srv):
    resp = submit(srv, PRACTICE.replace("Wspólne zakupy".encode(), "Własne zakupy".encode()), srv.tokens["bof"])
    assert resp.status_code == 201 and resp.json()["confirmation"]["needed"] == []


def test_every_message_a_submitter_can_meet_is_in_plain_words():
    """The messages of the shapes of every class a submission may describe: no prefixes, datatypes, tags."""
    import re

    from rdflib import RDFS, SH, Literal, URIRef

    from zitkg.forms import SHAPE_OF, SUBMITTABLE
    from zitkg.validation import shapes_graph

    shapes = shapes_graph()
    classes = {URIRef(ZIT + SHAPE_OF.get(c, c)) for c in SUBMITTABLE} | {
        URIRef(SCHEMA + "MonetaryAmount"), URIRef(ZIT + "IndicatorValue")}
    seen, todo, problems = set(), [s for c in classes for s in shapes.subjects(SH.targetClass, c)], []
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for predicate in (SH.property, SH.node, SH.sparql):
            todo += list(shapes.objects(node, predicate))
        for message in shapes.objects(node, SH.message):
            text = str(message) if isinstance(message, Literal) else ""
            if re.search(r"\b(zit|schema|dcterms|skos|rdfs|foaf|org|xsd|id):\w|@(pl|en)\b|\btag|id/scheme", text):
                problems.append(f"{node}: {text}")
    assert not problems, "\n".join(sorted(problems))
    assert RDFS  # the shapes were read


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_every_field_description_of_the_forms_is_in_plain_words(lang):
    import re

    from zitkg import forms

    problems = []
    for cls in forms.SUBMITTABLE:
        form = forms.build_form(cls, lang, lambda classes: [])
        for field in [*form.fields, *(sub for f in form.fields for sub in f.subfields)]:
            if re.search(r"\b(zit|schema|dcterms|skos|rdfs|foaf|org|xsd|id):\w|@(pl|en)\b|id/scheme",
                         field.description):
                problems.append(f"{cls} {field.key}: {field.description}")
    assert not problems, "\n".join(problems)


def test_a_json_ld_key_no_context_defines_is_refused_not_dropped(srv):
    body = json.dumps({"@context": {"label": "http://www.w3.org/2000/01/rdf-schema#label"},
                       "@id": "_:p", "@type": ZIT + "GoodPractice", "label": "Praktyka", "opis": "zgubiony"})
    results = refused(srv, body, "application/ld+json")
    assert [(r["component"], r["value"]) for r in results] == [("UnknownKey", "opis")], results
    assert "nie zostałoby zapisane" in results[0]["message"]["pl"]
