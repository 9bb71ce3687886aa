"""Search on the full-text index (zitkg.search), on the real index of the bundled data and on real servers.

The expected hits are read from data/programme.ttl and data/examples/: each query names resources whose
names or descriptions hold the words in another form, without Polish letters, as a prefix, or in English.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]


def hits(library, text: str) -> list[str]:
    return [h.iri.removeprefix(ID) for h in library.search.find(text).hits]


# (query, resources that must be found): word forms, no diacritics, prefixes, several words, English.
QUERIES = [
    # word forms: the label says "roweru miejskiego", "konsultacji społecznych", "audyt dostępności"...
    ("rowery miejskie", {"practice/integracja-roweru-miejskiego", "pilot/rower-miejski-lublin",
                         "pilot/rower-miejski-warszawa"}),
    ("miejskich rowerów", {"practice/integracja-roweru-miejskiego", "pilot/rower-miejski-lublin"}),
    ("audyty dostępności", {"practice/audyt-dostepnosci", "pilot/audyt-dostepnosci-walbrzych"}),
    ("konsultacje społeczne", {"practice/standard-konsultacji", "pilot/standard-konsultacji-walbrzych"}),
    ("energetyczny", {"theme/energy-efficiency", "practice/energetyk-mof", "network/co4energy"}),
    ("termomodernizacji", {"practice/termomodernizacja-szkol", "pilot/termomodernizacja-szkol-opole"}),
    ("szkoły", {"practice/termomodernizacja-szkol"}),
    ("klastry energii", {"practice/klaster-energii"}),
    ("eksperci", {"expert/marek-modelowy", "expert/piotr-przykladowy"}),  # "Ekspert ..." in the description
    ("ekspertki", {"expert/anna-przykladowa", "expert/joanna-testowa"}),
    ("pilotaże", {"pilot/rower-miejski-lublin", "pilot/teleopieka-wroclaw"}),
    ("wizyty studyjne", {"activity/wizyta-studyjna-lublin-rower-miejski",
                         "activity/wizyta-studyjna-wroclaw-teleopieka"}),
    ("warsztat", {"activity/warsztaty-energetyk-opole", "activity/warsztaty-standard-konsultacji-kalisz"}),
    ("zielony przystanek", {"practice/zielone-przystanki"}),
    ("Wałbrzychu", {"mof/walbrzych", "pilot/audyt-dostepnosci-walbrzych"}),
    ("mieszkania wspomagane", {"practice/mieszkania-wspomagane", "pilot/mieszkania-wspomagane-wroclaw"}),
    ("czujnikami jakości powietrza", {"practice/czujniki-jakosci-powietrza"}),
    # without Polish letters
    ("konsultacje spoleczne", {"practice/standard-konsultacji", "pilot/standard-konsultacji-walbrzych"}),
    ("audyt dostepnosci", {"practice/audyt-dostepnosci"}),
    ("EFEKTYWNOSC ENERGETYCZNA", {"theme/energy-efficiency", "practice/energetyk-mof"}),
    ("laki kwietnej", {"practice/zielone-przystanki"}),
    ("walbrzycha", {"mof/walbrzych", "org/aglomeracja-walbrzyska"}),
    ("zrownowazona mobilnosc", {"network/zrownowazona-mobilnosc", "practice/plan-mobilnosci-mof"}),
    ("lodzkie", {"voivodeship/10"}),
    ("oswietlenie", {"practice/oswietlenie-led", "theme/street-lighting"}),
    # the last word as a prefix (search as you type)
    ("rowe", {"practice/integracja-roweru-miejskiego", "theme/cycling"}),
    ("termomod", {"practice/termomodernizacja-szkol"}),
    ("teleopieka wroc", {"pilot/teleopieka-wroclaw"}),
    ("bilet aglomeracyj", {"practice/wspolny-bilet-aglomeracyjny", "pilot/bilet-aglomeracyjny-warszawa"}),
    # several words: every one must occur
    ("rower w lublinie", {"pilot/rower-miejski-lublin"}),
    ("strategia ponadlokalna", {"practice/strategia-ponadlokalna", "pilot/strategia-ponadlokalna-krakow"}),
    ("adaptacja do zmian klimatu", {"practice/plan-adaptacji-mof", "theme/climate-adaptation"}),
    # English
    ("energy efficiency", {"theme/energy-efficiency", "practice/energetyk-mof"}),
    ("schools", {"practice/termomodernizacja-szkol"}),
    ("accessibility audit", {"practice/audyt-dostepnosci"}),
    ("supported housing", {"practice/mieszkania-wspomagane"}),
    ("street lighting", {"practice/oswietlenie-led", "theme/street-lighting"}),
    ("park and ride", {"practice/parkuj-i-jedz", "theme/park-and-ride"}),
]


@pytest.mark.parametrize(("text", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_polish_queries_find_their_resources(library, text, expected):
    found = set(hits(library, text))
    assert expected <= found, sorted(expected - found)


def test_several_words_are_all_required(library):
    lublin = set(hits(library, "rower lublin"))
    assert "pilot/rower-miejski-lublin" in lublin
    assert "pilot/rower-miejski-warszawa" not in lublin
    assert hits(library, "rower teleopieka") == []


def test_main_kinds_come_before_budget_lines_and_indicator_values(library):
    found = library.search.find("audyt dostępności").hits
    order = [h.iri.removeprefix(ID) for h in found]
    assert order.index("practice/audyt-dostepnosci") < order.index("amount/pilot-audyt-dostepnosci-walbrzych")
    tiers = [h.tier for h in found]
    assert tiers == sorted(tiers)


def test_names_come_before_descriptions_and_close_words_before_far_ones(library):
    found = library.search.find("klimat").hits
    first_description = next(i for i, h in enumerate(found) if h.matched_in == "description")
    same_tier = [h for h in found if h.tier == found[first_description].tier]
    kinds = [h.matched_in != "description" for h in same_tier]
    assert kinds == sorted(kinds, reverse=True)  # within a kind: names, alternative names, then descriptions
    from zitkg.search import Group, _span

    near = [Group("a", frozenset({"rower"}), None), Group("b", frozenset({"lublin"}), None)]
    assert _span(near, ["rower w Lublinie"]) == 3
    assert _span(near, ["rower i długi tekst o czymś innym w Lublinie"]) == 9


def test_a_miss_suggests_the_nearest_words(library):
    found = library.search.find("rowre")
    assert found.hits == [] and "rower" in found.suggestions
    assert library.search.find("energetyczy").suggestions[0].startswith("energetyczn")
    assert library.search.find("zzz").suggestions == []


def test_examples_carry_their_flag(library):
    found = {h.iri.removeprefix(ID): h.is_example for h in library.search.find("energetyczny").hits}
    assert found["practice/energetyk-mof"] is True  # an illustrative record (zit:isExample)
    assert found["network/co4energy"] is False  # a programme fact


def test_the_search_question_gives_the_index_hits(library):
    _d, answer, _b = library.run("search", {"text": "konsultacje spoleczne"})
    resources = [row[0].value.removeprefix(ID) for row in answer.rows]
    assert resources == hits(library, "konsultacje spoleczne")


# --- hostile input ------------------------------------------------------------------------------------------

HOSTILE = ['"', '""', "'", "NEAR(a b)", "a AND b OR NOT c", "*", "rower*", "^rower", "rower:*", "label:rower",
           "(((", ")", "{}", "-rower", "+", "\\", "%", "_", "rower\x00miejski", "\x01\x02\x1f", "\u202e\u200b",
           "a" * 499, "🚲 rower", "NEAR/3", "\"rower\" NEAR \"lublin\"", " ", "\t\n"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("search"), max_body_bytes="300000")
    running.tokens = {org: create_token(running, org, role) for org, role in
                      (("bof", "submitter"), ("metropolia-krakowska", "reviewer"))}
    yield running
    stop_server(running)


def create_token(server, org: str, role: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "token", "create", "--org", ID + "org/" + org, "--role", role,
         "--store", str(server.store)], capture_output=True, text=True, check=True, env=server.env)
    return result.stdout.strip()


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t)[:30] for t in HOSTILE])
def test_hostile_input_is_200_or_400_never_500(srv, text):
    for path in ("/api/search", "/search", "/search.json"):
        resp = requests.get(srv.url + path, params={"q": text}, timeout=30)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    api = requests.get(srv.url + "/api/queries/search/results", params={"text": text or "x"}, timeout=30)
    assert api.status_code in {200, 400}


@pytest.mark.parametrize("length", [501, 10_000])
def test_a_very_long_text_is_400_with_a_message(srv, length):
    for path in ("/api/search", "/search"):
        resp = requests.get(srv.url + path, params={"q": "rower " * (length // 6 + 1)}, timeout=30)
        assert resp.status_code == 400
    body = requests.get(srv.url + "/api/search", params={"q": "a" * length}, timeout=30).json()
    assert "at most 500" in body["message"] and body["details"]["parameter"] == "q"


def test_rest_json_and_csv_and_page_agree(srv, library):
    expected = hits(library, "rowery miejskie")
    body = requests.get(srv.url + "/api/search", params={"q": "rowery miejskie", "limit": 100}, timeout=30).json()
    assert [i["iri"].removeprefix(ID) for i in body["items"]] == expected
    assert body["total"] == len(expected)
    first = body["items"][0]
    assert first["matchedIn"] == "label" and first["isExample"] in {True, False}
    assert {f["iri"] for f in body["facets"]["type"]} >= {ZIT + "Pilot", ZIT + "GoodPractice"}
    table = requests.get(srv.url + "/api/search", params={"q": "rowery miejskie", "format": "csv", "limit": 100},
                         timeout=30)
    assert table.headers["Content-Type"].startswith("text/csv")
    assert [r["iri"].removeprefix(ID) for r in csv.DictReader(io.StringIO(table.text))] == expected
    page = requests.get(srv.url + "/search", params={"q": "rowery miejskie"}, timeout=30).text
    assert "<mark>roweru</mark> <mark>miejskiego</mark>" in page
    cli = subprocess.run([sys.executable, "-m", "zitkg", "query", "search", "--param", "text=rowery miejskie",
                          "--format", "csv", "--store", str(srv.store)],
                         capture_output=True, text=True, env=srv.env, check=True)
    rows = list(csv.DictReader(io.StringIO(cli.stdout)))
    assert [r["resource"].removeprefix(ID) for r in rows] == expected
    rest = requests.get(srv.url + "/api/queries/search/results", params={"text": "rowery miejskie"}, timeout=30)
    assert [r["resource"].removeprefix(ID) for r in rest.json()["rows"]] == expected


def test_a_miss_says_so_and_offers_terms(srv):
    page = requests.get(srv.url + "/search", params={"q": "rowre"}, timeout=30).text
    assert "Nic nie pasuje do „rowre”." in page and "Czy chodziło o:" in page
    assert 'href="/search?q=rower"' in page
    english = requests.get(srv.url + "/search", params={"q": "rowre", "lang": "en"}, timeout=30).text
    assert "Nothing matches “rowre”." in english and "Did you mean:" in english
    assert requests.get(srv.url + "/api/search", params={"q": "rowre"}, timeout=30).json()["suggestions"][0] == "rower"


# --- in step with the data ----------------------------------------------------------------------------------

PRACTICE = (DATA / "practice-with-pilot.ttl").read_bytes()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _search(srv, text: str) -> list[str]:
    return [i["iri"] for i in requests.get(srv.url + "/api/search", params={"q": text}, timeout=30).json()["items"]]


def test_a_published_submission_is_found_at_once_and_a_replaced_text_is_gone(srv):
    body = PRACTICE.replace("Wspólne zakupy energii dla gmin MOF".encode(),
                            "Wspólne zakupy storczyków dla gmin MOF".encode())
    created = requests.post(srv.url + "/api/submissions", data=body, timeout=60,
                            headers={"Content-Type": "text/turtle", **_auth(srv.tokens["bof"])})
    assert created.status_code == 201, created.text
    first = created.json()
    practice = next(d for d in first["describes"] if "/practice/" in d)
    assert _search(srv, "storczyki") == []  # pending: not public, not findable
    published = requests.post(first["links"]["publish"], headers=_auth(srv.tokens["metropolia-krakowska"]),
                              timeout=30)
    assert published.status_code == 200, published.text
    assert practice in _search(srv, "storczyki")  # the next request finds it, in another form
    assert practice in _search(srv, "storczykow zakup")
    revised = body.decode().replace("_:practice a", f"<{practice}> a").replace("_:practice ;", f"<{practice}> ;")
    revised = revised.replace("storczyków", "tulipanów")
    second = requests.post(srv.url + "/api/submissions", data=revised.encode(), timeout=60,
                           headers={"Content-Type": "text/turtle", **_auth(srv.tokens["bof"])}).json()
    assert practice in _search(srv, "storczyk")  # the old version stays until the new one is published
    requests.post(second["links"]["publish"], headers=_auth(srv.tokens["metropolia-krakowska"]),
                  timeout=30).raise_for_status()
    assert practice not in _search(srv, "storczyki")
    assert practice in _search(srv, "tulipany")


def test_a_withdrawn_graph_disappears_and_comes_back(loaded_app):
    client = loaded_app.test_client()
    ext = loaded_app.extensions["zitkg"]
    store = ext["store"]
    graph = "https://w3id.org/sieci-zit/graph/test-search"
    iri = ox.NamedNode(ID + "practice/test-search-kolibry")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.replace_graphs({graph: [ox.Triple(iri, rdf_type, ox.NamedNode(ZIT + "GoodPractice")),
                                  ox.Triple(iri, label, ox.Literal("Liczenie kolibrów", language="pl"))]})
    try:
        def found() -> list[str]:
            return [i["iri"] for i in client.get("/api/search?q=koliber").get_json()["items"]]

        assert found() == [iri.value]
        store.publish_graphs([], unpublish=[graph])
        assert found() == []
        store.publish_graphs([graph])
        assert found() == [iri.value]
        written = ext["library"].search.last_sync[1]
        assert written <= 2  # only what changed is indexed again
    finally:
        store.drop_graphs([graph])
    assert client.get("/api/search?q=koliber").get_json()["items"] == []


# --- crashes and damage ---------------------------------------------------------------------------------------

def _service(path: Path):
    """A store with the bundled data and its search service (index beside the store)."""
    from zitkg import bundle
    from zitkg.settings import load_settings
    from zitkg.sparql.service import SparqlService
    from zitkg.store import OxigraphStore

    store = OxigraphStore(path)
    if not store.published_graphs():
        bundle.load_bundled(store)
    return store, SparqlService(store, load_settings(environ={}, overrides={"store": path, "query_workers": 1}))


def _searcher(service):
    from zitkg.search import SearchService

    return SearchService.for_service(service)


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_search import _service, _searcher
    from zitkg.search import index
    written = 0
    original = index._stream
    def dying(texts):
        global written
        written += 1
        if written == {after}:
            os.kill(os.getpid(), signal.SIGKILL)  # the indexer dies half-way through its file
        return original(texts)
    index._stream = dying
    store, service = _service(Path({store!r}))
    {prepare}
    _searcher(service).faceted()
""")


def _kill_indexer(store: Path, after: int, prepare: str = "", returncode: int = -signal.SIGKILL) -> None:
    """Index the store in another process that kills itself at the ``after``-th text (-1: never)."""
    code = KILLER.format(tests=str(Path(__file__).parent), store=str(store), after=after, prepare=prepare)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == returncode, result.stderr[-2000:]


@pytest.mark.slow
def test_a_killed_first_build_leaves_no_broken_index(tmp_path):
    store_path = tmp_path / "store"
    _kill_indexer(store_path, after=200)  # in the middle of the first build (a new file)
    index = Path(f"{store_path}.search") / "index.sqlite"
    assert not index.exists() or index.stat().st_size < 200_000
    store, service = _service(store_path)
    try:
        searcher = _searcher(service)
        assert "practice/integracja-roweru-miejskiego" in [h.iri.removeprefix(ID) for h in searcher.find("rowery").hits]
        assert not list(index.parent.glob("*.tmp-*"))  # the half-written file was cleared away
    finally:
        service.close()
        store.close()


@pytest.mark.slow
def test_a_killed_update_leaves_the_old_index(tmp_path):
    store_path = tmp_path / "store"
    _kill_indexer(store_path, after=-1, returncode=0)  # a whole first build
    # an update of a few rows, killed before its transaction commits
    prepare = ("import pyoxigraph as ox; store.replace_graphs({'https://w3id.org/sieci-zit/graph/t': [ox.Triple("
               "ox.NamedNode('" + ID + "practice/t'), ox.NamedNode('http://www.w3.org/2000/01/rdf-schema#label'), "
               "ox.Literal('Hodowla jeżozwierzy', language='pl'))]})")
    _kill_indexer(store_path, after=2, prepare=prepare)
    store, service = _service(store_path)
    try:
        searcher = _searcher(service)
        assert searcher.file.size() > 300  # the old index, whole
        assert [h.iri for h in searcher.find("jeżozwierz").hits] == [ID + "practice/t"]  # then brought in step
    finally:
        service.close()
        store.close()


def test_a_corrupted_index_file_is_logged_and_rebuilt(tmp_path, caplog):
    store_path = tmp_path / "store"
    store, service = _service(store_path)
    _searcher(service).faceted()
    index = Path(f"{store_path}.search") / "index.sqlite"
    data = bytearray(index.read_bytes())
    data[0:100] = os.urandom(100)  # the header is gone
    index.write_bytes(bytes(data))
    try:
        with caplog.at_level(logging.WARNING, logger="zitkg.search"):
            searcher = _searcher(service)
        assert any("damaged" in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
        assert "practice/audyt-dostepnosci" in [h.iri.removeprefix(ID) for h in searcher.find("audyty").hits]
        # a page in the middle overwritten: the check at start finds it too
        searcher.file.close()
        data = bytearray(index.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 8192] = b"\xff" * 8192
        index.write_bytes(bytes(data))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="zitkg.search"):
            again = _searcher(service)
        assert "practice/audyt-dostepnosci" in [h.iri.removeprefix(ID) for h in again.find("audyty").hits]
    finally:
        service.close()
        store.close()


# --- the remote backend -------------------------------------------------------------------------------------

REMOTE_QUERIES = ["rowery miejskie", "konsultacje spoleczne", "energy efficiency", "termomod", "rowre"]


def test_every_backend_gives_the_same_hits(server, library):
    """The session server runs on the embedded store, oxigraph serve and Virtuoso (marker remote)."""
    for text in REMOTE_QUERIES:
        body = requests.get(server.url + "/api/search", params={"q": text, "limit": 500}, timeout=60).json()
        assert [i["iri"].removeprefix(ID) for i in body["items"]] == hits(library, text), (server.backend, text)
        assert body["suggestions"] == library.search.find(text).suggestions
