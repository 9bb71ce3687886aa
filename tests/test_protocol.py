"""The SPARQL 1.1 Protocol to the letter, and the clients researchers use against it (SPARQLWrapper)."""

from __future__ import annotations

import csv
import io

import pytest
import rdflib
import requests
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from zitkg.settings import load_settings

ZIT = "https://w3id.org/sieci-zit/ontology#"
PROGRAMME = "https://w3id.org/sieci-zit/graph/programme"
TOKEN = "protocol-admin-token"


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    from zitkg.web import create_app

    path = tmp_path_factory.mktemp("protocol") / "store"
    application = create_app(load_settings(environ={}, overrides={
        "store": path, "query_workers": 1, "admin_token": TOKEN}))
    yield application
    application.extensions["zitkg"]["sparql"].close()


@pytest.fixture
def web(admin_app):
    return admin_app.test_client()


ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(("method", "kwargs"), [
    ("get", {"query_string": [("query", "ASK {}"), ("query", "ASK {}")]}),
    ("post", {"data": {"query": ["ASK {}", "ASK { ?s ?p ?o }"]}}),
    ("post", {"query_string": {"query": "ASK {}"}, "data": {"query": "ASK {}"}}),
    ("post", {"data": {"update": ["CLEAR DEFAULT", "CLEAR DEFAULT"]}, "headers": ADMIN}),
])
def test_a_repeated_operation_is_400(web, method, kwargs) -> None:
    reply = getattr(web, method)("/sparql", **kwargs)
    assert reply.status_code == 400
    assert "once" in reply.get_json()["message"] or "exactly one" in reply.get_json()["message"]


def test_the_request_url_is_the_base_iri(web) -> None:
    reply = web.get("/sparql", query_string={"query": "SELECT (<x> AS ?iri) WHERE {}"},
                    headers={"Accept": "application/sparql-results+json"})
    assert reply.get_json()["results"]["bindings"][0]["iri"]["value"] == "http://localhost/x"
    posted = web.post("/sparql", data="SELECT (<../y> AS ?iri) WHERE {}",
                      headers={"Content-Type": "application/sparql-query"}, base_url="http://example.org/a/b/")
    assert posted.get_json()["results"]["bindings"][0]["iri"]["value"] == "http://example.org/a/y"


def test_an_update_resolves_against_the_request_url_and_answers_204_without_a_type(web, admin_app) -> None:
    reply = web.post("/sparql", data={"update": 'INSERT DATA { GRAPH <g1> { <s> <p> "o" } }'}, headers=ADMIN)
    assert reply.status_code == 204
    assert "Content-Type" not in reply.headers and reply.data == b""
    store = admin_app.extensions["zitkg"]["store"]
    assert store.quads(graph=__import__("pyoxigraph").NamedNode("http://localhost/g1"))
    options = web.open("/sparql", method="OPTIONS")
    assert options.status_code == 204 and "Content-Type" not in options.headers


def test_using_graph_uri_is_honoured_and_clashes_with_using_in_the_text(web, admin_app) -> None:
    import pyoxigraph as ox

    update = (f"INSERT {{ GRAPH <urn:x:found> {{ ?n a <urn:x:Network> }} }} "
              f"WHERE {{ ?n a <{ZIT}CooperationNetwork> }}")
    reply = web.post("/sparql", data={"update": update, "using-graph-uri": PROGRAMME}, headers=ADMIN)
    assert reply.status_code == 204, reply.get_data(as_text=True)
    store = admin_app.extensions["zitkg"]["store"]
    assert len(store.quads(graph=ox.NamedNode("urn:x:found"))) == 5  # the programme graph's five networks
    clash = web.post("/sparql", headers=ADMIN, data={
        "update": update.replace("WHERE", f"USING <{PROGRAMME}> WHERE"), "using-graph-uri": PROGRAMME})
    assert clash.status_code == 400 and "USING" in clash.get_json()["message"]
    bad = web.post("/sparql", headers=ADMIN, data={"update": update, "using-named-graph-uri": "not an iri>"})
    assert bad.status_code == 400


@pytest.mark.parametrize(("form", "names", "media"), [
    ("CONSTRUCT", ["rdf+xml"], "application/rdf+xml"),
    ("CONSTRUCT", ["xml"], "application/rdf+xml"),
    ("CONSTRUCT", ["application/rdf+xml"], "application/rdf+xml"),
    ("CONSTRUCT", ["n3"], "text/turtle"),
    ("CONSTRUCT", ["json-ld"], "application/ld+json"),
    ("CONSTRUCT", ["nonsense", "turtle"], "text/turtle"),
    ("SELECT", ["xml"], "application/sparql-results+xml"),
    ("SELECT", ["json"], "application/sparql-results+json"),
    ("SELECT", ["csv"], "text/csv"),
    ("SELECT", ["tsv"], "text/tab-separated-values"),
    ("SELECT", ["text/csv"], "text/csv"),
    ("SELECT", ["rdf+xml", "csv"], "text/csv"),
])
def test_format_takes_the_names_clients_send(web, form, names, media) -> None:
    query = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3" if form == "CONSTRUCT"
             else "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")
    reply = web.get("/sparql", query_string=[("query", query), *[("format", n) for n in names]])
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    assert reply.mimetype == media


def test_an_unknown_format_falls_back_to_accept(web) -> None:
    reply = web.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2", "format": "excel"},
                    headers={"Accept": "text/csv"})
    assert reply.status_code == 200 and reply.mimetype == "text/csv"


# --- SPARQLWrapper against the real server, every return format --------------------------------------

SELECT = (f"SELECT ?n ?label WHERE {{ ?n a <{ZIT}CooperationNetwork> ; "
          "<http://www.w3.org/2000/01/rdf-schema#label> ?label FILTER(lang(?label) = 'pl') }")
CONSTRUCT = f"CONSTRUCT {{ ?n a <{ZIT}CooperationNetwork> }} WHERE {{ ?n a <{ZIT}CooperationNetwork> }}"
DESCRIBE = "DESCRIBE <https://w3id.org/sieci-zit/id/org/bof>"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    from conftest import start_server, stop_server

    running = start_server(tmp_path_factory.mktemp("clients"))
    yield running
    stop_server(running)


def _wrapper(server, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select(embedded, fmt, method) -> None:
    client = _wrapper(embedded, SELECT, fmt)
    client.setMethod(method)
    result = client.query().convert()
    if fmt == JSON:
        rows = result["results"]["bindings"]
    elif fmt == XML:
        rows = result.getElementsByTagName("result")
    else:
        text = result.decode() if isinstance(result, bytes) else result
        rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == CSV else "\t"))[1:]
    assert len(rows) == 5


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_ask(embedded, fmt) -> None:
    result = _wrapper(embedded, f"ASK {{ ?n a <{ZIT}CooperationNetwork> }}", fmt).query().convert()
    value = result["boolean"] if fmt == JSON else result.getElementsByTagName("boolean")[0].firstChild.data
    assert value in (True, "true")


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize("fmt", [XML, RDFXML, TURTLE, N3, JSONLD])
def test_sparqlwrapper_graphs(embedded, fmt, query) -> None:
    result = _wrapper(embedded, query, fmt).query().convert()
    if isinstance(result, bytes | str):
        graph = rdflib.Graph().parse(data=result, format={TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt])
    else:
        graph = result
    assert len(graph) >= 5 if query == CONSTRUCT else len(graph) > 5


def test_rdflib_sparqlstore_reads_the_endpoint(server) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(SPARQLStore(server.sparql, returnFormat="json"))
    rows = list(graph.query(SELECT))
    assert len(rows) == 5


def test_service_description_is_turtle_by_default(server) -> None:
    reply = requests.get(server.sparql, headers={"Accept": "text/turtle"}, timeout=30)
    graph = rdflib.Graph().parse(data=reply.text, format="turtle")
    assert (None, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#endpoint"), None) in graph
