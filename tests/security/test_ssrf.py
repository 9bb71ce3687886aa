"""SSRF: no query or update makes the server connect anywhere, however SERVICE or LOAD is spelt.

A listener on a free port records every connection; after each attack it must have none. The guard
decides on the parsed query (sparql/structure.py); behind it, query workers have no network
(sparql/sandbox.py), which is tested on its own by sending a SERVICE straight to a worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from conftest import start_server, stop_server
from security.conftest import ADMIN_TOKEN, Listener

# {url} is the listener's address (http://127.0.0.1:PORT), {host_port} "127.0.0.1:PORT".
QUERY_SPELLINGS = [
    "SELECT * WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE<{url}/sparql>{ ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT<{url}/sparql> { ?s ?p ?o } }",
    "select * where { service silent <{url}/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE\t\r\n<{url}/sparql>\n{ ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE#comment\n<{url}/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <{url}/\\u0041> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <\\u0068ttp://{host_port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <\\U00000068ttp://{host_port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <{url}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0073\\u0065rvice <{url}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { ſervice <{url}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVıCE <{url}/x> { ?s ?p ?o } }",
    "PREFIX é: <{url}/> SELECT * WHERE { SERVICE é:x { ?s ?p ?o } }",
    "PREFIX żółw: <{url}/> SELECT * WHERE { SERVICE SILENT żółw:x { ?s ?p ?o } }",
    "PREFIX : <{url}/> SELECT * WHERE { SERVICE :x { ?s ?p ?o } }",
    "PREFIX p: <{url}/> SELECT * WHERE { SERVICE p: { ?s ?p ?o } }",
    "BASE <{url}/> SELECT * WHERE { SERVICE <x> { ?s ?p ?o } }",
    "BASE <{url}/a/> PREFIX p: <../> SELECT * WHERE { SERVICE p:x { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}/x> { ?a ?b ?c } } }",
    "SELECT * WHERE { { SELECT * WHERE { SERVICE <{url}/x> { ?s ?p ?o } } } }",
    "SELECT * WHERE { OPTIONAL { SERVICE <{url}/x> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?x ?y ?z MINUS { SERVICE <{url}/x> { ?x ?y ?z } } }",
    "SELECT * WHERE { VALUES ?e { <{url}/x> } SERVICE ?e { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<{url}/x> AS ?e) SERVICE SILENT ?e { ?s ?p ?o } }",
    "ASK { SERVICE <{url}/x> { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}/x> { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { SERVICE <{url}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://localhost:{port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://2130706433:{port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://0x7f000001:{port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://user@127.0.0.1:{port}/x> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <HTTP://127.0.0.1:{port}/x> { ?s ?p ?o } }",
]
UPDATE_SPELLINGS = [
    "LOAD <{url}/data.ttl>",
    "LOAD SILENT<{url}/data.ttl>",
    "load silent <{url}/data.ttl> into graph <urn:x>",
    "LOAD <\\u0068ttp://{host_port}/data.ttl>",
    "PREFIX é: <{url}/> LOAD é:data",
    "BASE <{url}/> LOAD <data.ttl>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> } ; LOAD SILENT <{url}/data.ttl>",
    "INSERT { ?s ?p ?o } WHERE { SERVICE <{url}/x> { ?s ?p ?o } }",
    "DELETE { ?s ?p ?o } WHERE { SERVICE SILENT<{url}/x> { ?s ?p ?o } }",
]


def test_texts_without_the_keywords_skip_the_parse_and_others_do_not() -> None:
    """The shortcut is sound: any way of writing SERVICE, LOAD or FROM (in an IRI, a string, a comment,
    an escape, another case) sends the text to the full parse."""
    from zitkg.sparql.structure import without_guarded_keywords

    assert without_guarded_keywords("SELECT * WHERE { ?s ?p ?o }") is not None
    for text in [fill(t, 1) for t in QUERY_SPELLINGS] + [
        "SELECT * { ?s ?p ?o } # load", 'SELECT * { ?s ?p "From" }', "SELECT * { <http://x/download> ?p ?o }",
        "SELECT * { ?s ?p ?o } \\u0046ROM", "SELECT * { ?s ?p ?o } \\U0000004cOAD",
    ]:
        assert without_guarded_keywords(text) is None, text


def fill(template: str, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    return (template.replace("{url}", url).replace("{host_port}", f"127.0.0.1:{port}")
            .replace("{port}", str(port)))


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize("template", QUERY_SPELLINGS)
def test_no_query_spelling_reaches_another_host(target, listener, template, how) -> None:
    query = fill(template, listener.port)
    if how == "get":
        reply = requests.get(target.sparql, params={"query": query}, timeout=30)
    elif how == "form":
        reply = requests.post(target.sparql, data={"query": query}, timeout=30)
    else:
        reply = requests.post(target.sparql, data=query.encode(), timeout=30,
                              headers={"Content-Type": "application/sparql-query"})
    assert reply.status_code in {400, 403}, reply.text[:300]
    assert reply.json()["error"] in {"forbidden", "query-syntax-error"}
    assert listener.connections == []
    assert '"secret"' not in reply.text


@pytest.mark.parametrize("template", UPDATE_SPELLINGS)
def test_no_admin_update_spelling_fetches(target, listener, template) -> None:
    update = fill(template, listener.port)
    reply = requests.post(target.sparql, data={"update": update}, timeout=30,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert reply.status_code in {400, 403}, reply.text[:300]
    assert listener.connections == []
    # nothing of the refused request was applied (the INSERT DATA before the LOAD included)
    ask = requests.get(target.sparql, params={"query": "ASK { GRAPH ?g { <urn:a> ?p ?o } }"}, timeout=30)
    assert ask.json()["boolean"] is False


def test_refusals_do_not_tell_an_open_port_from_a_closed_one(target, listener) -> None:
    closed = listener.port + 1 if listener.port < 65535 else listener.port - 1
    messages = []
    for port in (listener.port, closed):
        reply = requests.get(target.sparql, timeout=30, params={
            "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}"})
        messages.append((reply.status_code, reply.json()["message"]))
    assert messages[0] == messages[1]
    assert str(listener.port) not in messages[0][1]


def test_a_query_the_guard_cannot_parse_is_not_run(target, listener) -> None:
    # Not SPARQL 1.1 (a syntax the guard's grammar refuses): refused as a syntax error with a position.
    reply = requests.get(target.sparql, timeout=30, params={
        "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/x> {{ ?s ?p ?o }} ) }}"})
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] == "query-syntax-error"
    assert body["details"]["line"] == 1
    assert listener.connections == []


def test_ordinary_queries_still_run(target) -> None:
    """The guard refuses calls out, not the queries researchers write (prefixes, FROM, sub-selects)."""
    queries = [
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?l WHERE { ?s rdfs:label ?l } LIMIT 3",
        "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } }",
        "PREFIX service: <https://w3id.org/sieci-zit/ontology#> SELECT ?s WHERE { ?s a service:Network } LIMIT 1",
        "SELECT ?load WHERE { ?load ?p ?o } LIMIT 1",
        'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:1/>" } LIMIT 1',
    ]
    for query in queries:
        reply = requests.get(target.sparql, params={"query": query}, timeout=30)
        assert reply.status_code == 200, (query, reply.text[:300])


def _isolating_pool(tmp_path: Path, allowed: bool):
    import pyoxigraph as ox

    from zitkg.sparql.pool import QueryPool, WorkerLimits

    class Store:  # the pool's view of a store: a lock, a version and the copy queries read
        lock = __import__("threading").Lock()
        version = 0

        def read_store(self):
            return ox.Store()

    return QueryPool(Store(), 1, WorkerLimits(isolate_network=not allowed))


def test_query_workers_have_no_network(tmp_path, listener) -> None:
    """The second line: a SERVICE sent straight to a worker, past the guard, reaches nobody."""
    from zitkg.errors import QueryEvaluationError
    from zitkg.sparql.execute import QueryRequest

    pool = _isolating_pool(tmp_path, allowed=False)
    try:
        request = QueryRequest(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/x> {{ ?s ?p ?o }} }}")
        with pytest.raises(QueryEvaluationError) as raised:
            pool.run(request, 10)
        if not pool.isolation:
            if os.environ.get("CI"):
                pytest.fail("no network isolation mechanism works on this machine")
            pytest.skip("neither namespaces nor seccomp are available here (CI must have one)")
        assert listener.connections == []
        assert "127.0.0.1" not in raised.value.message and "os error" not in raised.value.message
    finally:
        pool.close()


def test_allow_listed_service_reaches_its_host_but_errors_say_nothing_of_it(tmp_path) -> None:
    """With SERVICE allowed to one host, what comes back from it never appears in an error message."""
    listener = Listener(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n"
                        b"\r\nsecret: internal stack trace\n")
    server = start_server(tmp_path, service_allowlist="127.0.0.1", query_timeout="5")
    try:
        closed = listener.port + 1 if listener.port < 65535 else listener.port - 1
        replies = []
        for port in (listener.port, closed):
            reply = requests.get(server.sparql, timeout=30, params={
                "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}"})
            replies.append(reply)
        assert len(listener.connections) == 1  # the allow-listed host was reached
        for reply in replies:
            assert "secret" not in reply.text
            assert "refused" not in reply.text.lower() and "os error" not in reply.text
        # an open port that answers garbage and a closed port look the same to the client
        assert replies[0].status_code == replies[1].status_code
        assert replies[0].json()["message"] == replies[1].json()["message"]
        other = requests.get(server.sparql, timeout=30, params={
            "query": "SELECT * WHERE { SERVICE <http://localhost:9/x> { ?s ?p ?o } }"})
        assert other.status_code == 403
    finally:
        stop_server(server)
        listener.close()


@pytest.mark.remote
def test_on_a_remote_store_the_guard_alone_holds(tmp_path, listener) -> None:
    """With `oxigraph serve` as the store (the documented deployment), the store itself would follow
    SERVICE: the parsed-query guard is the only line, and no spelling may pass it, the store's own
    address (which holds every graph, private ones included) among the targets."""
    from remote_servers import start_oxigraph_server

    (tmp_path / "oxigraph").mkdir()
    with start_oxigraph_server(tmp_path / "oxigraph") as remote:
        server = start_server(tmp_path, **remote)
        try:
            store_url = remote["sparql_query_url"]
            own = f"SELECT * WHERE {{ SERVICE <{store_url}> {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"
            for template in [*QUERY_SPELLINGS[:16], own]:
                query = fill(template, listener.port)
                reply = requests.post(server.sparql, data={"query": query}, timeout=30)
                assert reply.status_code in {400, 403}, (query, reply.text[:300])
            assert listener.connections == []
        finally:
            stop_server(server)
