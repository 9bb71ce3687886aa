"""Every error, whatever raised it, answers in one JSON shape whose status matches the HTTP status."""

from __future__ import annotations

import pytest

REQUIRED = {"status", "error", "message"}
OPTIONAL = {"hint", "details"}


def _check_shape(resp, status: int) -> dict:
    assert resp.status_code == status
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert REQUIRED <= set(body) <= REQUIRED | OPTIONAL
    assert body["status"] == status and isinstance(body["message"], str) and body["message"]
    assert body["error"] == body["error"].lower() and " " not in body["error"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "error"),
    [
        ("get", "/sparql", {"query_string": {"query": "SELECT ?x WHERE {"}}, 400, "query-syntax-error"),
        ("get", "/sparql", {"query_string": {"query": "ASK {}", "timeout": "soon"}}, 400, "bad-request"),
        ("post", "/sparql", {"data": {"update": "CLEAR ALL"}}, 403, "forbidden"),
        ("get", "/sparql", {"query_string": {"query": "SELECT * { SERVICE <http://x.org/> { ?s ?p ?o } }"}},
         403, "forbidden"),
        ("get", "/no/such/page", {}, 404, "not-found"),
        ("delete", "/sparql", {}, 405, "method-not-allowed"),
        ("get", "/sparql", {"query_string": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}},
         406, "not-acceptable"),
        ("post", "/sparql", {"data": b"x" * 2_000_001, "content_type": "application/sparql-query"},
         413, "request-entity-too-large"),
        ("post", "/sparql", {"data": b"{}", "content_type": "application/json"}, 415, "unsupported-media-type"),
    ],
)
def test_error_shape(client, method, path, kwargs, status, error):
    resp = getattr(client, method)(path, **kwargs)
    body = _check_shape(resp, status)
    assert body["error"] == error


def test_timeout_error_shape(client, app):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    resp = client.get("/sparql", query_string={"query": slow, "timeout": "0.2"})
    body = _check_shape(resp, 503)
    assert body["error"] == "query-timeout" and "0.2" in body["message"]


def test_405_names_allowed_methods(client):
    resp = client.delete("/sparql")
    assert "GET" in resp.headers["Allow"] and "POST" in resp.headers["Allow"]
