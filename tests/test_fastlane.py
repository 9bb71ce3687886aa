"""The SPARQL fast lane answers exactly as the Flask route would, and leaves everything else to it."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from werkzeug.test import Client

from zitkg.web.fastlane import SparqlFastLane
from zitkg.web.headers import SecurityHeaders

ORG = "https://w3id.org/sieci-zit/id/org/bof"
SELECT = f"SELECT ?p ?o WHERE {{ <{ORG}> ?p ?o }} ORDER BY ?p ?o"
CONSTRUCT = f"CONSTRUCT {{ <{ORG}> ?p ?o }} WHERE {{ <{ORG}> ?p ?o }}"

# (method, query, Accept, body media type)
CASES = [
    ("GET", SELECT, None, None),
    ("GET", SELECT, "application/sparql-results+json", None),
    ("GET", SELECT, "text/csv", None),
    ("GET", SELECT, "application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.5", None),
    ("GET", SELECT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None),
    ("GET", f"ASK {{ <{ORG}> ?p ?o }}", "application/json", None),
    ("GET", CONSTRUCT, "text/turtle", None),
    ("GET", CONSTRUCT, "application/ld+json", None),
    ("POST", SELECT, "application/sparql-results+json", "application/sparql-query"),
    ("POST", CONSTRUCT, "application/n-triples", "application/sparql-query; charset=utf-8"),
    ("POST", SELECT, "text/csv", "application/x-www-form-urlencoded"),
]


def _request(client: Client, method: str, query: str, accept: str | None, media: str | None):
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        return client.get("/sparql?" + urlencode({"query": query}), headers=headers)
    body = urlencode({"query": query}) if media.startswith("application/x-www") else query
    return client.post("/sparql", data=body.encode(), headers={**headers, "Content-Type": media})


@pytest.fixture(scope="module")
def clients(loaded_app):
    outermost = loaded_app.wsgi_app
    assert isinstance(outermost, SecurityHeaders)  # around the lane: its answers get the headers too
    lane = outermost.app
    assert isinstance(lane, SparqlFastLane)
    return Client(lane), Client(lane.app)  # with the lane, and Flask alone


@pytest.mark.parametrize(("method", "query", "accept", "media"), CASES)
def test_same_answer_and_headers_as_the_flask_route(clients, method, query, accept, media) -> None:
    lane, flask_only = clients
    fast = _request(lane, method, query, accept, media)
    slow = _request(flask_only, method, query, accept, media)
    assert fast.status_code == slow.status_code == 200
    assert fast.get_data() == slow.get_data()
    assert len(fast.get_data()) > 20  # a real answer, not an empty body
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())


def test_the_lane_answers_without_flask(loaded_app) -> None:
    """Plain queries never reach Flask; the rest does (proved by a Flask app that cannot answer)."""
    def unreachable(environ, start_response):  # noqa: ANN001, ANN202
        start_response("599 Flask", [("Content-Type", "text/plain")])
        return [b"flask"]

    lane = SparqlFastLane(unreachable, loaded_app.extensions["zitkg"]["sparql"], 1000, 10)
    client = Client(lane)
    assert client.get("/sparql?" + urlencode({"query": SELECT})).status_code == 200
    for path in (
        "/sparql?" + urlencode({"query": SELECT, "format": "csv"}),  # other parameters
        "/sparql?" + urlencode({"query": SELECT, "default-graph-uri": ORG}),
        "/sparql",  # service description or editor
        "/sparql?" + urlencode({"query": "  "}),
        "/api/queries",
    ):
        assert client.get(path).status_code == 599, path
    assert client.post("/sparql", data="x" * 2000, headers={"Content-Type": "application/sparql-query"}) \
        .status_code == 599  # over the body limit: Flask answers 413
    assert client.post("/sparql", data="update=CLEAR ALL",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 599
    assert client.head("/sparql?" + urlencode({"query": SELECT})).status_code == 599


def test_row_cap_headers_from_the_lane(loaded_app) -> None:
    service = loaded_app.extensions["zitkg"]["sparql"]
    limit = service.settings.max_rows
    lane = SparqlFastLane(None, service, 1000, limit)
    reply = Client(lane).get("/sparql?" + urlencode({"query": f"SELECT * {{ ?s ?p ?o . ?a ?b ?c }} LIMIT {limit + 5}"}))
    assert reply.status_code == 200
    assert reply.headers["Zitkg-Results-Truncated"] == "true"
    assert reply.headers["Zitkg-Row-Limit"] == str(limit)
    assert reply.get_json()["results"]["bindings"].__len__() == limit


def test_errors_met_in_the_lane_are_shaped_by_flask_once(loaded_app) -> None:
    """A syntax error found in the lane is answered by the one error path, and the query is not run again."""
    service = loaded_app.extensions["zitkg"]["sparql"]
    calls = []
    original = service.query

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args[0])
        return original(*args, **kwargs)

    service.query = counting
    try:
        reply = Client(loaded_app.wsgi_app).get("/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p }"}))
    finally:
        del service.query
    assert reply.status_code == 400
    body = reply.get_json()
    assert body["error"] == "query-syntax-error"
    assert body["details"]["line"] == 1
    assert len(calls) == 1


@pytest.mark.parametrize(("query", "bounded"), [
    (f"ASK {{ <{ORG}> ?p ?o }}", True),
    (f"SELECT ?p ?o WHERE {{ <{ORG}> ?p ?o }} LIMIT 50", True),
    ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?l WHERE { <x:y> rdfs:label ?l . }", True),
    (f"SELECT ?s ?p WHERE {{ ?s ?p <{ORG}> }} LIMIT 20 OFFSET 5", True),
    ('SELECT * { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Kraków"@pl }', True),
    ("SELECT * WHERE { ?s a zit:Pilot } # LIMIT\n", True),
    ("SELECT * WHERE { ?s ?p ?o }", False),
    ("SELECT * WHERE { ?s a ?o }", False),
    (f"SELECT DISTINCT ?p WHERE {{ ?s ?p <{ORG}> }}", False),
    (f"SELECT * WHERE {{ <{ORG}> ?p ?o . ?o ?q ?r }}", False),
    (f"SELECT * WHERE {{ <{ORG}> ?p ?o ; ?q ?r }}", False),
    (f"SELECT * WHERE {{ <{ORG}> ?p ?o }} ORDER BY ?o", False),
    (f"SELECT * WHERE {{ <{ORG}> ?p ?o FILTER(isIRI(?o)) }}", False),
    (f"SELECT * WHERE {{ <{ORG}> <http://x/p>* ?o }}", False),
    (f"SELECT (COUNT(*) AS ?n) WHERE {{ <{ORG}> ?p ?o }}", False),
    (f"SELECT * FROM <http://g> WHERE {{ <{ORG}> ?p ?o }}", False),
    (f"SELECT * WHERE {{ GRAPH ?g {{ <{ORG}> ?p ?o }} }}", False),
    (f"SELECT * WHERE {{ SERVICE <http://e/> {{ <{ORG}> ?p ?o }} }}", False),
    (f"SELECT * WHERE {{ [] ?p <{ORG}> }}", False),
    (f"CONSTRUCT WHERE {{ <{ORG}> ?p ?o }}", False),
])
def test_which_queries_run_without_a_worker(query, bounded) -> None:
    from zitkg.sparql.guard import is_bounded_lookup

    assert is_bounded_lookup(query) == bounded


def test_bounded_lookups_answer_as_a_worker_would(loaded_app) -> None:
    """In the web process (and with pyoxigraph's own JSON writer under a LIMIT) the answer is the same."""
    service = loaded_app.extensions["zitkg"]["sparql"]
    for template in ("SELECT ?p ?o WHERE {{ <{0}> ?p ?o }} LIMIT 500", "SELECT ?p ?o WHERE {{ <{0}> ?p ?o }}",
                     "SELECT ?s ?p WHERE {{ ?s ?p <{0}> }}", "ASK {{ <{0}> ?p ?o }}"):
        here = json.loads(service.query(template.format(ORG)).body)
        # the same query made unbounded by a no-op FILTER goes to a worker
        there = json.loads(service.query(template.format(ORG).replace("}", "FILTER(true) }", 1)).body)
        assert here.get("boolean") == there.get("boolean")
        if "results" in here:
            assert len(here["results"]["bindings"]) > 3
            key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731
            assert sorted(here["results"]["bindings"], key=key) == sorted(there["results"]["bindings"], key=key)


def test_bounded_lookups_stop_at_the_row_cap(tmp_path) -> None:
    from zitkg.settings import load_settings
    from zitkg.web import create_app

    app = create_app(load_settings(environ={}, overrides={"store": tmp_path / "s", "max_rows": 5}))
    try:
        client = app.test_client()
        for query in ("SELECT ?s WHERE { ?s a <https://w3id.org/sieci-zit/ontology#GoodPractice> }",
                      "SELECT ?s WHERE { ?s a <https://w3id.org/sieci-zit/ontology#GoodPractice> } LIMIT 50"):
            reply = client.get("/sparql?" + urlencode({"query": query}))
            assert len(reply.get_json()["results"]["bindings"]) == 5
            assert reply.headers["Zitkg-Results-Truncated"] == "true"
    finally:
        app.extensions["zitkg"]["sparql"].close()


def test_a_lookup_never_sees_a_write_half_way(tmp_path) -> None:
    """While a published graph is replaced, an in-process lookup sees the old or the new graph, never none."""
    import threading

    import pyoxigraph as ox

    from zitkg.settings import load_settings
    from zitkg.sparql.service import SparqlService
    from zitkg.store import OxigraphStore

    store = OxigraphStore(tmp_path / "store")
    service = SparqlService(store, load_settings(environ={}, overrides={"store": tmp_path / "store"}))
    graph, subject = "https://example.org/g", ox.NamedNode("https://example.org/s")
    filler = [ox.Triple(ox.NamedNode(f"https://example.org/x{i}"), ox.NamedNode("https://example.org/p"),
                        ox.Literal(str(i))) for i in range(20000)]

    def version(n: int) -> list[ox.Triple]:
        return [ox.Triple(subject, ox.NamedNode("https://example.org/v"), ox.Literal(str(n))), *filler]

    store.replace_graphs({graph: version(0)})
    lookup = "ASK { <https://example.org/s> ?p ?o }"
    seen, done = [], threading.Event()

    def read() -> None:
        while not done.is_set():
            text = lookup + f" # {len(seen)}"  # a new text each time: no answer from the cache
            seen.append(json.loads(service.query(text).body)["boolean"])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 4):
            store.replace_graphs({graph: version(n)})
    finally:
        done.set()
        reader.join()
        service.close()
        store.close()
    assert len(seen) > 20
    assert all(seen), f"{seen.count(False)} of {len(seen)} lookups saw the graph missing"


@pytest.mark.parametrize(("query", "plan"), [
    ("SELECT * { ?s ?p ?o }", ("SELECT * { ?s ?p ?o }\nLIMIT 11", True)),
    ("SELECT * { ?s ?p ?o } ORDER BY ?s OFFSET 3", ("SELECT * { ?s ?p ?o } ORDER BY ?s OFFSET 3\nLIMIT 11", True)),
    ("SELECT * { ?s ?p ?o } LIMIT 5", ("SELECT * { ?s ?p ?o } LIMIT 5", False)),
    ("SELECT * { ?s ?p ?o } # LIMIT 5", ("SELECT * { ?s ?p ?o } # LIMIT 5\nLIMIT 11", True)),
    ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 99 } }",
     ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 99 } }\nLIMIT 11", True)),
    ("SELECT * { ?s ?p ?o } LIMIT 50", None),  # over the cap: the rows are counted in Python
    ("SELECT * { ?s ?p ?o } VALUES ?s { <x:y> }", None),
    ("SELECT * { ?s ?p ?o } ORDER BY (EXISTS { ?s ?q ?r }) LIMIT 50", None),
    ("SELECT * { ?s ?p ?o", None),
    ("ASK { ?s ?p ?o }", None),
    ("CONSTRUCT WHERE { ?s ?p ?o }", None),
])
def test_which_answers_the_engine_writes(query, plan) -> None:
    from zitkg.sparql.guard import capped_select

    assert capped_select(query, 10) == plan


def test_engine_written_answers_are_byte_identical_to_ours(loaded_app) -> None:
    from zitkg.queries import bind
    from zitkg.remote import with_values
    from zitkg.sparql import results
    from zitkg.sparql.execute import QueryRequest, execute

    store = loaded_app.extensions["zitkg"]["store"].read_store()
    library = loaded_app.extensions["zitkg"]["library"]
    checked = 0
    for definition in library.registry:
        if definition.form != "SELECT":
            continue
        text = with_values(definition.sparql, bind(definition, {}, library.ask, "pl"))
        engine = execute(store, QueryRequest(text, union_default=True, max_rows=100000)).body
        answer = store.query(text, use_default_graph_as_union=True)
        ours = results.write_json(tuple(v.value for v in answer.variables), [tuple(row) for row in answer])
        assert engine == ours, definition.id
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(("values", "truncated"), [
    ('"a" "b" "c"', True),
    ('"a},{" "b"', False),  # the row separator inside a string: counted exactly, not cut
    ('"a},{" "b},{" "c"', True),
])
def test_engine_written_answers_keep_the_row_cap(tmp_path, values, truncated) -> None:
    import pyoxigraph as ox

    from zitkg.sparql.execute import QueryRequest, execute

    answer = execute(ox.Store(), QueryRequest(f"SELECT ?x {{ VALUES ?x {{ {values} }} }}", max_rows=2))
    rows = json.loads(answer.body)["results"]["bindings"]
    assert len(rows) == 2
    assert answer.truncated == truncated
    assert rows[0]["x"]["value"] == ("a" if values.startswith('"a"') else "a},{")
