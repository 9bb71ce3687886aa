"""The Graph Store HTTP Protocol and publication as a protected state (issue 14)."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import URIRef
from rdflib.compare import isomorphic

from zitkg.settings import load_settings

TOKEN = "gsp-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PROGRAMME = "https://w3id.org/sieci-zit/graph/programme"
MINE = "http://example.org/graphs/mine"
TURTLE = b"""@prefix ex: <http://example.org/> .
ex:a ex:p "jeden"@pl ; ex:q ex:b .
ex:b ex:p "dwa"@pl .
"""


@pytest.fixture
def web(tmp_path):
    from zitkg.web import create_app

    app = create_app(load_settings(environ={}, overrides={"store": tmp_path / "s", "query_workers": 1,
                                                          "admin_token": TOKEN}))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["zitkg"]["sparql"].close()


def graph_of(reply) -> rdflib.Graph:
    return rdflib.Graph().parse(data=reply.data, format="turtle")


def ask(web, query: str) -> bool:
    return web.get("/sparql", query_string={"query": query},
                   headers={"Accept": "application/sparql-results+json"}).get_json()["boolean"]


def test_published_graphs_are_readable_by_everyone_and_others_are_not_found(web) -> None:
    reply = web.get("/graph-store", query_string={"graph": PROGRAMME}, headers={"Accept": "text/turtle"})
    assert reply.status_code == 200 and reply.mimetype == "text/turtle"
    assert len(graph_of(reply)) > 100
    head = web.head("/graph-store", query_string={"graph": PROGRAMME})
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) > 1000
    assert web.get("/graph-store", query_string={"graph": "http://example.org/nothing"}).status_code == 404
    union = graph_of(web.get("/graph-store?default", headers={"Accept": "text/turtle"}))
    assert len(union) > len(graph_of(reply))
    assert web.get("/graph-store", query_string={"graph": PROGRAMME + "x", "default": ""}).status_code == 400


def test_an_admin_writes_a_graph_that_stays_private_until_published(web) -> None:
    assert web.put("/graph-store", query_string={"graph": MINE}, data=TURTLE,
                   headers={"Content-Type": "text/turtle"}).status_code == 403
    created = web.put("/graph-store", query_string={"graph": MINE}, data=TURTLE,
                      headers={"Content-Type": "text/turtle", **ADMIN})
    assert created.status_code == 201
    mine = web.get("/graph-store", query_string={"graph": MINE}, headers=ADMIN)
    assert isomorphic(graph_of(mine), rdflib.Graph().parse(data=TURTLE, format="turtle"))
    assert web.get("/graph-store", query_string={"graph": MINE}).status_code == 404  # not published
    assert not ask(web, 'ASK { ?s ?p "jeden"@pl }')

    assert web.post("/api/publication", query_string={"graph": MINE}).status_code == 403
    published = web.post("/api/publication", query_string={"graph": MINE}, headers=ADMIN)
    assert published.status_code == 200 and MINE in published.get_json()["published"]
    assert ask(web, 'ASK { ?s ?p "jeden"@pl }')

    replaced = web.put("/graph-store", query_string={"graph": MINE}, headers={"Content-Type": "text/turtle", **ADMIN},
                       data=b'<http://example.org/c> <http://example.org/p> "trzy"@pl .')
    assert replaced.status_code == 204 and "Content-Type" not in replaced.headers
    assert ask(web, 'ASK { ?s ?p "trzy"@pl }') and not ask(web, 'ASK { ?s ?p "jeden"@pl }')
    merged = web.post("/graph-store", query_string={"graph": MINE}, data=TURTLE,
                      headers={"Content-Type": "text/turtle", **ADMIN})
    assert merged.status_code == 204
    assert ask(web, 'ASK { ?s ?p "trzy"@pl }') and ask(web, 'ASK { ?s ?p "jeden"@pl }')

    assert web.delete("/graph-store", query_string={"graph": MINE}, headers=ADMIN).status_code == 204
    assert not ask(web, 'ASK { ?s ?p "trzy"@pl }')
    assert MINE not in web.get("/api/publication").get_json()["published"]
    assert web.delete("/graph-store", query_string={"graph": MINE}, headers=ADMIN).status_code == 404


def test_bad_writes_change_nothing(web) -> None:
    web.put("/graph-store", query_string={"graph": MINE}, data=TURTLE, headers={"Content-Type": "text/turtle", **ADMIN})
    before = web.get("/graph-store", query_string={"graph": MINE}, headers=ADMIN).data
    broken = web.put("/graph-store", query_string={"graph": MINE}, data=TURTLE + b"ex:c ex:p .",
                     headers={"Content-Type": "text/turtle", **ADMIN})
    assert broken.status_code == 400 and "line" in broken.get_json()["message"].lower()
    wrong_type = web.put("/graph-store", query_string={"graph": MINE}, data=b"a,b",
                         headers={"Content-Type": "text/csv", **ADMIN})
    assert wrong_type.status_code == 415
    assert web.get("/graph-store", query_string={"graph": MINE}, headers=ADMIN).data == before
    managed = web.put("/graph-store", query_string={"graph": PROGRAMME}, data=TURTLE,
                      headers={"Content-Type": "text/turtle", **ADMIN})
    assert managed.status_code == 403
    assert len(graph_of(web.get("/graph-store", query_string={"graph": PROGRAMME}))) > 100


def test_direct_identification_and_creation_by_post(web) -> None:
    put = web.put("/graph-store/people/1", data=TURTLE, headers={"Content-Type": "text/turtle", **ADMIN})
    assert put.status_code == 201
    direct = web.get("/graph-store/people/1", headers=ADMIN)
    indirect = web.get("/graph-store", query_string={"graph": "http://localhost/graph-store/people/1"},
                       headers=ADMIN)
    assert direct.status_code == 200 and direct.data == indirect.data
    created = web.post("/graph-store", data=TURTLE, headers={"Content-Type": "text/turtle", **ADMIN})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith("http://localhost/graph-store/")
    assert web.get("/graph-store", query_string={"graph": location}, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("update", ["CLEAR ALL", "DROP ALL", "CLEAR NAMED", "DROP SILENT NAMED",
                                    "clear all ; INSERT DATA { <http://example.org/n> <http://example.org/p> 1 }",
                                    "# CLEAR ALL in a comment\nDROP  SILENT\tALL"])
def test_clear_or_drop_all_leaves_publication_and_bundled_data_as_they_were(web, update) -> None:
    web.put("/graph-store", query_string={"graph": MINE}, data=TURTLE, headers={"Content-Type": "text/turtle", **ADMIN})
    web.post("/sparql", data={"update": 'INSERT DATA { <http://example.org/d> <http://example.org/p> "domyślny" }'},
             headers=ADMIN)
    published = web.get("/api/publication").get_json()["published"]
    count = web.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                    headers={"Accept": "text/csv"}).data
    reply = web.post("/sparql", data={"update": update}, headers=ADMIN)
    assert reply.status_code == 204, reply.get_data(as_text=True)
    assert web.get("/api/publication").get_json()["published"] == published
    assert web.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                   headers={"Accept": "text/csv"}).data == count
    mine = web.get("/graph-store", query_string={"graph": MINE}, headers=ADMIN)  # CLEAR leaves it empty
    assert mine.status_code == 404 or len(graph_of(mine)) == 0
    default_left = web.get("/graph-store?default", headers=ADMIN)
    assert (b"domy" in default_left.data) == update.endswith("NAMED")
    if "INSERT" in update:  # the rest of the update ran after the scoped CLEAR
        assert b"example.org/n" in default_left.data


@pytest.mark.parametrize(("update", "status"), [
    (f'INSERT DATA {{ GRAPH <{PROGRAMME}> {{ <http://example.org/x> <http://example.org/p> 1 }} }}', 403),
    (f"CLEAR GRAPH <{PROGRAMME}>", 403),
    (f"DROP GRAPH <{PROGRAMME}>", 403),
    ("PREFIX g: <https://w3id.org/sieci-zit/graph/> DROP GRAPH g:meta", 403),
    (f"COPY DEFAULT TO <{PROGRAMME}>", 403),
    (f"MOVE <{PROGRAMME}> TO <http://example.org/stolen>", 403),
    (f"WITH <{PROGRAMME}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", 403),
    ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", 400),
    ("INSERT { GRAPH ?g { <http://example.org/x> <http://example.org/p> 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }", 400),
])
def test_updates_never_touch_the_managed_graphs(web, update, status) -> None:
    before = web.get("/graph-store", query_string={"graph": PROGRAMME}).data
    reply = web.post("/sparql", data={"update": update}, headers=ADMIN)
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert web.get("/graph-store", query_string={"graph": PROGRAMME}).data == before


def test_reading_managed_graphs_in_an_update_is_fine(web) -> None:
    update = (f"INSERT {{ GRAPH <{MINE}> {{ ?n a <http://example.org/Network> }} }} "
              f"WHERE {{ GRAPH <{PROGRAMME}> {{ ?n a <https://w3id.org/sieci-zit/ontology#CooperationNetwork> }} }}")
    assert web.post("/sparql", data={"update": update}, headers=ADMIN).status_code == 204
    assert len(graph_of(web.get("/graph-store", query_string={"graph": MINE}, headers=ADMIN))) == 5


def test_a_researcher_loads_own_data_with_the_cli_and_serves_it(tmp_path) -> None:
    """`zitkg load FILE --graph IRI --publish` then `zitkg query`: own data beside the bundled data."""
    import subprocess
    import sys

    data = tmp_path / "mine.ttl"
    data.write_text('@prefix ex: <http://example.org/> .\nex:a ex:p "własne"@pl .\n', encoding="utf-8")
    store = str(tmp_path / "store")

    def zitkg(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zitkg", *args, "--store", store],
                              capture_output=True, text=True, timeout=120)

    loaded = zitkg("load", str(data), "--graph", MINE, "--publish")
    assert loaded.returncode == 0 and "published" in loaded.stdout
    refused = zitkg("publish", PROGRAMME)
    assert refused.returncode == 2 and "managed" in refused.stderr + refused.stdout
    assert zitkg("query", 'ASK { ?s ?p "własne"@pl }').stdout.strip() == "yes"

    from zitkg.bundle import ensure_loaded
    from zitkg.store import OxigraphStore

    opened = OxigraphStore(tmp_path / "store")
    try:
        assert ensure_loaded(opened) is True  # the bundled data still comes on first start
        assert PROGRAMME in opened.published_graphs() and MINE in opened.published_graphs()
    finally:
        opened.close()


@pytest.mark.remote
def test_on_a_remote_store_clear_all_is_refused_and_managed_graphs_are_kept(tmp_path) -> None:
    """A remote store holds graphs of its own (Virtuoso's system graphs), so 'the administrator's graphs'
    cannot be told from them: CLEAR/DROP ALL and NAMED are refused there, named graphs still work."""
    import requests

    from conftest import start_server, stop_server
    from remote_servers import start_oxigraph_server

    (tmp_path / "ox").mkdir()
    with start_oxigraph_server(tmp_path / "ox") as remote:
        server = start_server(tmp_path, admin_token=TOKEN, **remote)
        try:
            for update in ("CLEAR ALL", "DROP NAMED"):
                reply = requests.post(server.sparql, data={"update": update}, headers=ADMIN, timeout=30)
                assert reply.status_code == 400 and "remote" in reply.json()["message"]
            mine = requests.put(server.url + "/graph-store", params={"graph": MINE}, data=TURTLE, timeout=30,
                                headers={"Content-Type": "text/turtle", **ADMIN})
            assert mine.status_code == 201
            cleared = requests.post(server.sparql, data={"update": f"CLEAR GRAPH <{MINE}>"}, headers=ADMIN,
                                    timeout=30)
            assert cleared.status_code == 204
            programme = requests.get(server.url + "/graph-store", params={"graph": PROGRAMME}, timeout=30)
            assert programme.status_code == 200 and len(programme.content) > 1000
        finally:
            stop_server(server)


def test_common_clients_write_and_read_graphs(tmp_path) -> None:
    """curl -T (Graph Store PUT) and rdflib's SPARQLUpdateStore (HTTP Basic with the token as password)."""
    import shutil
    import subprocess

    import requests
    from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore

    from conftest import start_server, stop_server

    server = start_server(tmp_path, admin_token=TOKEN)
    try:
        data = tmp_path / "data.ttl"
        data.write_bytes(TURTLE)
        if shutil.which("curl"):
            put = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(data),
                                  "-H", "Content-Type: text/turtle", "-H", f"Authorization: Bearer {TOKEN}",
                                  f"{server.url}/graph-store?graph={MINE}"], capture_output=True, text=True)
            assert put.stdout == "201"
        store = SPARQLUpdateStore(server.sparql, server.sparql, auth=("admin", TOKEN), returnFormat="json")
        graph = rdflib.Graph(store, identifier=URIRef("http://example.org/graphs/rdflib"))
        graph.add((URIRef("http://example.org/z"), URIRef("http://example.org/p"), rdflib.Literal("z")))
        seen = requests.get(server.url + "/graph-store", params={"graph": "http://example.org/graphs/rdflib"},
                            headers=ADMIN, timeout=30)
        assert seen.status_code == 200 and b"example.org/z" in seen.content
        assert len(list(graph.triples((None, None, None)))) == 1  # reads back through the admin's view
    finally:
        stop_server(server)
