"""The mapping workbench without a browser: every page answers, escapes data, works without JavaScript,
follows the language, and its downloads are what the page shows. (tests/test_ui_browser.py drives it in
chromium.)"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGES = ["/", "/search", "/search?q=rower", "/map", "/matrix", "/networks", "/networks/co4energy", "/questions",
         "/questions/pilots-by-theme", "/questions/neighbourhood", "/sparql", "/submit", "/submit?class=Pilot",
         "/review", "/id/network/co4energy",
         f"/matrix/cell?organisation={ID}org/bof&theme={ID}theme/energy-efficiency"]


@pytest.fixture
def web(loaded_app):
    return loaded_app.test_client()


def status(web, path: str) -> int:
    """The status of a GET, closing the response (files are streamed)."""
    with web.get(path) as resp:
        return resp.status_code


def page(web, path: str, **headers: str) -> str:
    resp = web.get(path, headers={**BROWSER, **headers})
    assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_in_polish_and_english(web, path):
    polish = page(web, path)
    assert '<html lang="pl">' in polish and "Szukaj" in polish and 'href="#main"' in polish
    english = page(web, path + ("&" if "?" in path else "?") + "lang=en")
    assert '<html lang="en">' in english and ">Search<" in english


@pytest.mark.parametrize("path", PAGES)
def test_nothing_is_loaded_from_another_site(web, path):
    html = page(web, path)
    external = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?:)?//[^"]*"', html)
    assert external == []
    for asset in re.findall(r'(?:src|href)="(/(?:assets|static)/[^"]+)"', html):
        assert status(web, asset) == 200, asset


def test_home_lists_networks_members_counts_and_marks_examples(web):
    html = page(web, "/")
    assert html.count('class="card network"') == 5
    assert 'href="/networks/co4energy"' in html and 'href="/id/org/bof"' in html
    assert "(Lider)" in html and "(Partner)" in html
    assert 'class="badge">przykład<' in html  # the latest practices are illustrative records
    assert re.search(r'>Dobra praktyka</a> <span>\d+</span>', html)
    english = page(web, "/?lang=en")
    assert "Białystok Functional Area Association" in english and "(Leader)" in english


def test_search_folds_case_and_polish_letters(web):
    for text in ("efektywnosc energetyczna", "EFEKTYWNOŚĆ ENERGETYCZNA", "Efektywność energetyczna"):
        html = page(web, "/search?q=" + text)
        assert 'href="/id/practice/energetyk-mof"' in html, text
    assert 'href="/id/org/bof"' in page(web, "/search?q=bof")  # short names count too


def test_search_facets_filter_and_downloads_are_exactly_as_filtered(web):
    query = "/search?" + urlencode({"q": "termomodernizacja", "type": ZIT + "Pilot",
                                    "voivodeship": ID + "voivodeship/20"})
    html = page(web, query)
    total = int(re.search(r"<h2 id=\"results-heading\">(\d+) wynik", html).group(1))
    shown = re.findall(r'<li><a href="(/id/[^"]+)">', html.split('id="results-heading"')[1])
    assert total == len(shown) >= 1 and all(s.startswith("/id/pilot/") for s in shown)
    data = web.get(query.replace("/search", "/search.json")).get_json()
    assert data["total"] == total and {i["iri"].removeprefix(ID) for i in data["items"]} == {
        s.removeprefix("/id/") for s in shown}
    assert data["filters"] == {"type": [ZIT + "Pilot"], "voivodeship": [ID + "voivodeship/20"]}
    rows = list(csv.DictReader(io.StringIO(web.get(query.replace("/search", "/search.csv")).get_data(as_text=True))))
    assert [r["iri"] for r in rows] == [i["iri"] for i in data["items"]]
    assert all("województwo podlaskie" in r["voivodeship"] for r in rows)


def test_search_facet_links_toggle_a_value(web):
    html = page(web, f"/search?theme={ID}theme/climate")
    assert 'aria-current="true" data-facet="theme"' in html
    # the selected value's link removes it again
    link = re.search(r'<a href="([^"]*)" aria-current="true" data-facet="theme"', html).group(1)
    assert "theme=" not in link.replace("&amp;", "&")


def test_data_is_escaped(web, loaded_app):
    import pyoxigraph as ox

    store = loaded_app.extensions["zitkg"]["store"]
    iri = ox.NamedNode(ID + "practice/xss")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    evil = "<script>alert(1)</script>"
    store.replace_graphs({"https://w3id.org/sieci-zit/graph/test": [
        ox.Triple(iri, ox.NamedNode(RDF_TYPE), ox.NamedNode(ZIT + "GoodPractice")),
        ox.Triple(iri, label, ox.Literal(evil, language="pl")),
        ox.Triple(iri, ox.NamedNode(ZIT + "originator"), ox.NamedNode(ID + "org/bof")),
        ox.Triple(iri, ox.NamedNode(ZIT + "theme"), ox.NamedNode(ID + "theme/climate")),
    ]})
    try:
        for path in ("/search?q=alert", f"/matrix/cell?organisation={ID}org/bof&theme={ID}theme/climate",
                     "/questions/transfer-candidates?practice=" + ID + "practice/xss", "/id/practice/xss"):
            html = page(web, path)
            assert evil not in html, path
            html = html.replace("<mark>", "").replace("</mark>", "")  # the search marks the matched word
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        graph = web.get(f"/graph.json?resource={ID}org/bof").get_json()
        assert evil in {n["label"] for n in graph["nodes"]}  # JSON carries data; the page sets it as text
    finally:
        store.drop_graphs(["https://w3id.org/sieci-zit/graph/test"])


def test_map_page_lists_places_without_javascript_and_its_data_filters(web):
    html = page(web, "/map")
    assert html.count('<tr><td><a href="/id/org/') == 11 and 'data-tiles=""' in html
    layers = web.get("/map/data.json").get_json()
    kinds = [f["properties"]["kind"] for f in layers["features"]]
    assert kinds.count("association") == 11 and kinds.count("mof") == 11 and kinds.count("link") == 6
    assert all(f["properties"]["approximate"] for f in layers["features"] if f["properties"]["kind"] == "association")
    co4 = web.get(f"/map/data.json?network={ID}network/co4energy").get_json()["features"]
    assert {f["properties"]["iri"] for f in co4 if f["properties"]["kind"] == "association"} == {
        ID + "org/bof", ID + "org/aglomeracja-opolska"}
    climate = web.get(f"/map/data.json?theme={ID}theme/climate").get_json()["features"]
    links = [f for f in climate if f["properties"]["kind"] == "link"]
    assert {f["properties"]["iri"] for f in links} == {ID + "network/park"}
    assert web.get("/map/data.json?theme=https://example.org/x").status_code == 400


def test_matrix_cells_link_to_their_lists_and_csv(web):
    html = page(web, "/matrix")
    assert html.count('class="cell-link"') == 11 * 5
    assert 'href="/api/queries/coverage/results?format=csv&amp;lang=pl"' in html
    cell = page(web, f"/matrix/cell?organisation={ID}org/bof&theme={ID}theme/energy-efficiency")
    practices = cell.split('class="cell-practices"')[1].split("</ul>")[0]
    assert practices.count("<li>") == 3 and 'href="/id/practice/energetyk-mof"' in practices
    nope = web.get(f"/matrix/cell?organisation={ID}org/nope&theme={ID}theme/climate", headers=BROWSER)
    assert nope.status_code == 400


def test_network_dashboard(web):
    html = page(web, "/networks/co4energy")
    for heading in ("Członkowie", "Dobre praktyki", "Pilotaże", "Eksperci", "Oś czasu", "Luki"):
        assert f">{heading}</h2>" in html
    assert 'href="/id/pilot/energetyk-mof-bialystok"' in html and "814" in html
    assert web.get("/networks/nope", headers=BROWSER).status_code == 404


def test_question_page_form_table_sparql_and_links(web):
    html = page(web, f"/questions/pilots-by-theme?theme={ID}theme/climate")
    assert f'<option value="{ID}theme/climate" selected>' in html  # a dropdown of the scheme, not a free IRI
    assert html.count("<tr><td>") >= 3 and 'href="/id/pilot/' in html
    assert "?theme" in html and "SELECT DISTINCT ?pilot" in html  # the SPARQL is shown
    csv_link = re.search(r'<a href="([^"]+format=csv[^"]*)" download>', html).group(1).replace("&amp;", "&")
    assert "theme=https" in csv_link and "lang=pl" in csv_link
    rows = list(csv.reader(io.StringIO(web.get(csv_link).get_data(as_text=True))))
    assert len(rows) - 1 == html.count("<tr><td>")
    permalink = urlsplit(re.search(r'<a href="([^"]+)" rel="bookmark">', html).group(1).replace("&amp;", "&"))
    assert permalink.path == "/questions/pilots-by-theme"
    assert parse_qs(permalink.query) == {"theme": [ID + "theme/climate"], "lang": ["pl"]}
    bad = web.get("/questions/pilots-by-theme?theme=https://example.org/x", headers=BROWSER)
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    assert web.get("/questions/nope", headers=BROWSER).status_code == 404


def test_every_library_query_has_a_page_with_rows(web, loaded_app):
    for definition in loaded_app.extensions["zitkg"]["library"].registry:
        html = page(web, f"/questions/{definition.id}")
        assert "<tbody>" in html and "<tr><td>" in html, definition.id


def test_sparql_endpoint_shows_the_editor_to_browsers_only(web):
    html = page(web, "/sparql")
    assert 'id="yasgui"' in html and "/assets/@zazuko/yasgui/build/yasgui.min.js" in html
    examples = json.loads(re.search(r'id="examples">(.*?)</script>', html, re.S).group(1))
    assert {e["id"] for e in examples} >= {"networks", "coverage", "pilots-by-theme"}
    for headers in ({"Accept": "text/turtle"}, {"Accept": "*/*"}, {}):
        resp = web.get("/sparql", headers=headers)
        assert resp.mimetype == "text/turtle" and "sparql-service-description" in resp.get_data(as_text=True)


def test_editor_examples_run_as_they_are(web):
    html = page(web, "/sparql")
    examples = json.loads(re.search(r'id="examples">(.*?)</script>', html, re.S).group(1))
    for example in examples:
        resp = web.post("/sparql", data={"query": example["query"]},
                        headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
        assert resp.status_code == 200, (example["id"], resp.get_data(as_text=True)[:300])
        if resp.mimetype == "application/sparql-results+json":
            assert resp.get_json()["results"]["bindings"], example["id"]


def test_submit_form_is_generated_from_the_shapes(web):
    from zitkg.forms import SHAPE_OF, SUBMITTABLE, codebook

    for cls in SUBMITTABLE:
        html = page(web, f"/submit?class={cls}")
        entries = [e for e in codebook("pl") if e.iri == ZIT + SHAPE_OF.get(cls, cls)]
        required = {f.path for e in entries for f in e.fields if f.required}
        for path in required:
            assert f'data-path="{path}"' in html, (cls, path)
        for input_id in re.findall(r'<(?:input|select|textarea) [^>]*id="(in-[^"]+)"', html):
            assert f'for="{input_id}"' in html, (cls, input_id)  # every input has a label
    practice = page(web, "/submit?class=GoodPractice")
    assert f'<option value="{ID}theme/energy-efficiency">Efektywność energetyczna</option>' in practice
    assert f'<option value="{ID}org/bof">' in practice
    assert web.get("/submit?class=Programme", headers=BROWSER).status_code == 400


def test_graph_data_for_the_entity_view(web):
    data = web.get(f"/graph.json?resource={ID}network/co4energy&lang=en").get_json()
    ids = {n["id"] for n in data["nodes"]}
    assert ID + "network/co4energy" in ids and ID + "membership/co4energy-bof" in ids
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    network = next(n for n in data["nodes"] if n["id"] == ID + "network/co4energy")
    assert network["classLabel"] == "Cooperation network" and network["href"] == "/id/network/co4energy"
    assert web.get("/graph.json?resource=https://example.org/x").status_code == 400
    assert "/static/graph.js" in page(web, "/id/network/co4energy")


def test_language_switch_remembers_the_choice(web):
    resp = web.get("/language/en?next=/map?theme=x")
    assert resp.status_code == 303 and resp.headers["Location"] == "/map?theme=x"
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert '<html lang="en">' in page(web, "/map")
    web.get("/language/pl?next=/")
    assert '<html lang="pl">' in page(web, "/map")
    switch = re.search(r'<a class="lang-switch" href="([^"]+)"', page(web, "/search?q=a&type=b")).group(1)
    assert switch.replace("&amp;", "&").startswith("/language/en?next=") and "q%3Da" in switch
    facet = page(web, "/search?" + urlencode({"type": ZIT + "Pilot"}))
    switch = re.search(r'<a class="lang-switch" href="([^"]+)"', facet).group(1).replace("&amp;", "&")
    back = web.get(switch).headers["Location"]  # the facet value keeps its '#', encoded
    assert parse_qs(urlsplit(back).query) == {"type": [ZIT + "Pilot"]}
    for target in ("https://example.org/", "//example.org/", "javascript:alert(1)"):
        assert web.get(f"/language/en?next={target}").headers["Location"] == "/"
    assert web.get("/language/de").status_code == 404


def test_assets_are_served_from_the_allow_list_only(web):
    assert status(web, "/assets/@zazuko/yasgui/build/yasgui.min.js") == 200
    assert status(web, "/assets/leaflet/dist/leaflet.js") == 200
    assert status(web, "/assets/cytoscape/dist/cytoscape.min.js") == 200
    assert status(web, "/assets/leaflet/package.json") == 404
    assert status(web, "/assets/@zazuko/yasgui/package.json") == 404
    assert status(web, "/assets/axe-core/axe.min.js") == 404  # tests only


def test_every_ui_message_has_a_polish_translation():
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1]
    method_map = [("server/zitkg/web/**.py", "python"), ("server/zitkg/web/templates/**.html", "jinja2")]
    found = {m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(str(root), method_map)
             if str(m[0]).startswith("server")}
    with (root / "server/zitkg/web/translations/pl/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="pl")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy}
    assert sorted(found - translated) == []
    assert not list((root / "server/zitkg/web/translations").rglob("*.mo"))  # compiled at run time only


def test_every_ui_route_is_documented(loaded_app):
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "ui.md").read_text(encoding="utf-8")
    routes = sorted(r.rule for r in loaded_app.url_map.iter_rules() if r.endpoint.startswith("ui."))
    assert [r for r in routes if f"`{r}" not in docs] == []


def test_error_pages_speak_the_ui_language(loaded_app):
    client = loaded_app.test_client()
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = client.get("/id/org/no-such-organisation", headers=browser)
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="pl">' in html and "404 Nie znaleziono" in html and "Wróć na stronę główną" in html
    assert '<p lang="en">' in html  # the detail is the service's English message, marked as such
    english = client.get("/id/org/no-such-organisation?lang=en", headers=browser).get_data(as_text=True)
    assert '<html lang="en">' in english and "404 Not found" in english and "Back to the home page" in english
    script = client.get("/id/org/<script>", headers=browser).get_data(as_text=True)
    assert "<script>" not in script
    assert client.get("/id/org/no-such-organisation").get_json()["status"] == 404  # clients still get JSON
