"""Hypothesis-generated SPARQL against the real endpoint: never a 5xx, never a connection out.

The texts are built from the pieces attackers combine (SERVICE and LOAD in any case, escapes, prefixes
with non-ASCII names, BASE, comments, nested groups, broken brackets), so that most are near-misses of
valid SPARQL: the place where a guard by pattern and the engine's grammar used to disagree.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security.conftest import ADMIN_TOKEN, Listener


@pytest.fixture(scope="module")
def trap():
    listener = Listener()
    yield listener
    listener.close()


def _pieces(port: int) -> st.SearchStrategy[str]:
    url = f"http://127.0.0.1:{port}/x"
    keyword = st.sampled_from(["SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "SERVICE SILENT", "LOAD",
                               "SELECT *", "ASK", "WHERE", "FILTER", "OPTIONAL", "MINUS", "BIND", "VALUES ?e",
                               "GRAPH ?g", "FROM", "FROM NAMED", "LIMIT 1", "{", "}", "(", ")", ".", ";"])
    target = st.sampled_from([f"<{url}>", f"<\\u0068ttp://127.0.0.1:{port}/x>", "é:x", ":x", "p:", "<x>",
                              "?e", f'"{url}"', f"<http://localhost:{port}/>", "<urn:x>", "ex:y"])
    prologue = st.sampled_from(["", f"PREFIX é: <http://127.0.0.1:{port}/> ", f"PREFIX : <{url}/> ",
                                f"BASE <http://127.0.0.1:{port}/> ", f"PREFIX p: <{url}> ",
                                "PREFIX ex: <http://example.org/> "])
    filler = st.sampled_from(["", " ", "\n", "\t", "#c\n", "?s ?p ?o", "?s ?p ?o .", "{}", "{ ?s ?p ?o }"])
    body = st.lists(st.one_of(keyword, target, filler), min_size=1, max_size=14).map(" ".join)
    return st.tuples(prologue, body).map(lambda parts: parts[0] + "SELECT * WHERE { " + parts[1] + " }")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_queries_never_fail_the_server_or_reach_out(target, trap, data) -> None:
    query = data.draw(_pieces(trap.port))
    reply = requests.post(target.sparql, data={"query": query}, timeout=30)
    assert reply.status_code < 500 or reply.json()["error"] == "query-timeout", (query, reply.text[:300])
    assert reply.status_code in {200, 400, 403, 503}
    assert trap.connections == [], query


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_updates_never_fail_the_server_or_reach_out(target, trap, data) -> None:
    text = data.draw(_pieces(trap.port)).replace("SELECT * WHERE", "INSERT { <urn:a> <urn:b> <urn:c> } WHERE", 1)
    load = data.draw(st.sampled_from(["", f"LOAD <http://127.0.0.1:{trap.port}/d> ; ",
                                      f"load silent<http://127.0.0.1:{trap.port}/d>;"]))
    reply = requests.post(target.sparql, data={"update": load + text}, timeout=30,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert reply.status_code < 500, (load + text, reply.text[:300])
    assert trap.connections == [], load + text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_a_clean_error(target, trap, text) -> None:
    reply = requests.post(target.sparql, data=text.encode("utf-8", "surrogatepass"), timeout=30,
                          headers={"Content-Type": "application/sparql-query"})
    assert reply.status_code < 500 or reply.json()["error"] == "query-timeout", (text, reply.text[:300])
    assert trap.connections == []
