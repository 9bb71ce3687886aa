"""The REST API over the query library and its OpenAPI description, checked in process and by schemathesis."""

from __future__ import annotations

import csv
import io

import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import validate

ID = "https://w3id.org/sieci-zit/id/"


@pytest.fixture
def api(loaded_app):
    return loaded_app.test_client()


def test_list_in_both_languages(api):
    pl = api.get("/api/queries").get_json()
    en = api.get("/api/queries", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()
    assert pl["lang"] == "pl" and en["lang"] == "en"
    by_id_pl = {q["id"]: q for q in pl["queries"]}
    by_id_en = {q["id"]: q for q in en["queries"]}
    assert by_id_pl["networks"]["title"].startswith("Sieci współpracy")
    assert by_id_en["networks"]["title"].startswith("Cooperation networks")
    assert api.get("/api/queries?lang=en").get_json()["lang"] == "en"
    assert api.get("/api/queries?lang=de").status_code == 400


def test_metadata_shows_the_sparql(api):
    meta = api.get("/api/queries/networks").get_json()
    assert "SELECT" in meta["sparql"] and meta["results"].endswith("/api/queries/networks/results")
    assert api.get("/api/queries/nope").status_code == 404


def test_rows_with_labels_in_the_requested_language(api):
    body = api.get("/api/queries/organisations/results?lang=en").get_json()
    assert "lang" not in body["columns"]
    bof = next(r for r in body["rows"] if r["organisation"] == f"{ID}org/bof")
    assert bof["organisationLabel"] == "Białystok Functional Area Association"
    assert bof["seatTerc"] == "2061011" and bof["voivodeshipLabel"] == "Podlaskie Voivodeship"


def test_csv_tsv_and_sparql_json(api):
    csv_resp = api.get("/api/queries/budget/results", headers={"Accept": "text/csv"})
    assert csv_resp.mimetype == "text/csv" and "attachment" in csv_resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True))))
    assert {r["kind"] for r in rows} >= {"programme-total", "budget-line", "network", "difference"}
    tsv = api.get("/api/queries/budget/results?format=tsv").get_data(as_text=True)
    assert tsv.splitlines()[0].split("\t")[0] == "kind"
    srj = api.get("/api/queries/budget/results?format=sparql-json").get_json()
    assert "kind" in srj["head"]["vars"] and srj["results"]["bindings"]


def test_paging_with_link_headers(api):
    first = api.get("/api/queries/organisations/results?limit=4")
    body = first.get_json()
    assert len(body["rows"]) == 4 and body["total"] == 11 and first.headers["X-Total-Count"] == "11"
    assert 'rel="next"' in first.headers["Link"] and "offset=4" in first.headers["Link"]
    last = api.get("/api/queries/organisations/results?limit=4&offset=8")
    assert len(last.get_json()["rows"]) == 3 and 'rel="prev"' in last.headers["Link"]
    all_rows = api.get("/api/queries/organisations/results").get_json()["rows"]
    assert body["rows"] + api.get("/api/queries/organisations/results?limit=4&offset=4").get_json()["rows"] \
        + last.get_json()["rows"] == all_rows
    assert api.get("/api/queries/organisations/results?limit=-1").status_code == 400


def test_geojson_only_for_questions_with_places(api):
    no_geo = api.get("/api/queries/budget/results?format=geojson")
    assert no_geo.status_code == 406


def test_csv_cells_that_look_like_formulas_are_defused():
    import pyoxigraph as ox

    from zitkg.tabular import write_table

    rows = [(ox.Literal("=HYPERLINK(\"http://evil\")"), ox.Literal("-1+2"), ox.Literal("@SUM(A1)"),
             ox.Literal("fine"))]
    text = write_table(["a", "b", "c", "d"], rows).decode()
    cells = next(csv.reader(io.StringIO(text.splitlines()[1])))
    assert cells == ["'=HYPERLINK(\"http://evil\")", "'-1+2", "'@SUM(A1)", "fine"]


def test_openapi_is_valid_and_lists_every_query(api, loaded_app):
    spec = api.get("/api/openapi.json").get_json()
    validate(spec)
    ids = {q.id for q in loaded_app.extensions["zitkg"]["library"].registry}
    assert {f"/api/queries/{i}/results" for i in ids} <= set(spec["paths"])
    assert api.get("/api/").status_code == 200 and b"swagger-ui" in api.get("/api/").data


def test_interactive_page_assets_are_served_locally(api):
    with api.get("/assets/swagger-ui-dist/swagger-ui.css") as css:
        assert css.status_code == 200 and b".swagger-ui" in css.data
    assert api.get("/assets/swagger-ui-dist/package.json").status_code == 404


def test_schemathesis_finds_no_server_error_and_no_schema_violation(loaded_app):
    """Every operation of the OpenAPI description, fed generated values: no 5xx, no answer off the schema."""
    # The Graph Store's "exactly one of ?graph and ?default" is beyond what OpenAPI can say: tests/test_graph_store.py
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", loaded_app).exclude(path_regex="^/graph-store")
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=12, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def check(case):
            case.call_and_validate()

        check()
        checked += 1
    assert checked >= 9  # list + describe and results for each library query
