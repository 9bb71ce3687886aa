"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol tests, run from their manifests against `zitkg serve`.

Each test's requests are sent as written (method, path, headers, body) to a real server, as the
administrator: paths under /sparql/ go to /sparql, paths under /gsp to /graph-store. A test's
ut:graphData is loaded through the Graph Store Protocol and published first. Where zitkg differs from
the Protocol on purpose, the test is an expected failure with the reason (strict: it must fail).
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import rdflib
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from conftest import start_server, stop_server
from shared_paths import find_shared

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "w3c-admin-token"
SUITE = "external/w3c-sparql11"
MANIFESTS = ("protocol/manifest.ttl", "graph-store-protocol/manifest-direct.ttl",
             "graph-store-protocol/manifest-indirect.ttl")

# zitkg's deliberate differences from the Protocol tests (docs/security.md, issue 14).
EXPECTED_FAILURES: dict[str, str] = {}


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str | None
    statuses: list[str]
    boolean: bool | None = None
    format: str | None = None
    location: str | None = None
    expected_body: str | None = None
    expected_type: str | None = None


@dataclass
class Case:
    id: str
    folder: Path
    requests: list[Request]
    data: list[tuple[Path, str]] = field(default_factory=list)


def _list(graph: Graph, node) -> list:  # noqa: ANN001
    return list(Collection(graph, node)) if node is not None else []


def _headers(graph: Graph, node) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
            for h in _list(graph, graph.value(node, HT.headers))]


def read_manifest(path: Path) -> Iterator[Case]:
    graph = Graph().parse(path, format="turtle")
    for entry in _list(graph, graph.value(URIRef(path.as_uri()), MF.entries)):
        action = graph.value(entry, MF.action)
        requests = []
        for node in _list(graph, graph.value(action, HT.requests)):
            body = graph.value(node, HT.body)
            response = graph.value(node, HT.resp)
            expected = graph.value(response, HT.body)
            requests.append(Request(
                method=str(graph.value(node, HT.methodName)),
                path=str(graph.value(node, HT.absolutePath)),
                headers=_headers(graph, node),
                body=str(graph.value(body, CNT.chars)) if body is not None else None,
                statuses=[str(s).rsplit("#", 1)[-1] for s in graph.objects(response, MF.expectedStatus)],
                boolean=graph.value(response, MF.expectedBoolean).toPython()
                if graph.value(response, MF.expectedBoolean) is not None else None,
                format=str(graph.value(response, MF.expectedFormat) or "") or None,
                location=str(graph.value(response, MF.expectedLocation) or "") or None,
                expected_body=str(graph.value(expected, CNT.chars)) if expected is not None else None,
                expected_type=dict((k.lower(), v) for k, v in _headers(graph, response)).get("content-type"),
            ))
        data = [(path.parent / Path(str(graph.value(d, UT.graph))).name, str(graph.value(d, rdflib.RDFS.label)))
                for d in graph.objects(entry, UT.graphData)]
        yield Case(str(entry).rsplit("#", 1)[-1], path.parent, requests, data)


def _cases() -> list:
    shared = find_shared()
    if shared is None:
        return [pytest.param(None, id="shared-folder-missing")]
    params = []
    for manifest in MANIFESTS:
        for case in read_manifest(shared / SUITE / manifest):
            reason = EXPECTED_FAILURES.get(case.id)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, id=case.id, marks=marks))
    return params


_BY_PHRASE = {s.phrase.replace(" ", "").replace("-", "").lower(): s.value for s in HTTPStatus}


def _status_ok(code: int, expected: list[str]) -> bool:
    if not expected:
        return True
    for name in expected:
        match = re.fullmatch(r"StatusCode(\d)xx", name)
        if match and code // 100 == int(match.group(1)):
            return True
        if _BY_PHRASE.get(name.lower()) == code:  # hts:OK, hts:Created, hts:NoContent, hts:NotFound, ...
            return True
    return False


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("w3c-protocol"), admin_token=TOKEN, load_bundled="false")
    yield server
    stop_server(server)


def _send(server, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None):  # noqa: ANN001
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        sent = {k.lower() for k, _ in headers}
        for key, value in headers:
            conn.putheader(key, value)
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        if body is not None and "content-length" not in sent:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()
    finally:
        conn.close()


def _our_path(path: str) -> str:
    if path.startswith("/sparql/"):
        return "/sparql" + path[len("/sparql/"):]
    if path.startswith("/gsp"):
        return "/graph-store" + path[len("/gsp"):]
    return path


@pytest.mark.parametrize("case", _cases())
def test_w3c_protocol(case: Case | None, w3c_server, shared_dir) -> None:
    assert case is not None
    # Each test is its own connection to a fresh store: start from nothing (DROP ALL keeps zitkg's own graphs)
    status, _h, text = _send(w3c_server, "POST", "/sparql", [("Content-Type", "application/sparql-update")],
                             b"DROP ALL")
    assert status == 204, text[:300]
    for source, graph in case.data:  # the test's data, through the Graph Store, then published
        status, _h, text = _send(w3c_server, "PUT", "/graph-store?graph=" + quote(graph, safe=""),
                                 [("Content-Type", "application/n-triples")], source.read_bytes())
        assert status in (201, 204), text[:300]
        status, _h, text = _send(w3c_server, "POST", "/api/publication?graph=" + quote(graph, safe=""), [], b"")
        assert status == 200, text[:300]
    templates: dict[str, str] = {}
    for number, request in enumerate(case.requests):
        path, body = request.path, request.body
        for template, value in templates.items():
            path = path.replace(template, value)
            body = body.replace(template, value) if body is not None else None
        status, headers, answer = _send(w3c_server, request.method, _our_path(path), request.headers,
                                        body.encode() if body is not None else None)
        where = f"request {number + 1} {request.method} {path[:120]}"
        assert _status_ok(status, request.statuses), (where, status, request.statuses, answer[:300])
        if request.location:
            location = headers.get("location", "")
            assert location, (where, "no Location header")
            templates[request.location] = location  # used as ?graph=$LOCATION$
        media = headers.get("content-type", "").split(";")[0].strip()
        if request.format == "boolean" or request.boolean is not None:
            assert media in {"application/sparql-results+json", "application/sparql-results+xml"}, (where, media)
        elif request.format == "tabular":
            assert media in {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                             "text/tab-separated-values"}, (where, media)
        elif request.format == "RDF":
            assert media in {"text/turtle", "application/n-triples", "application/rdf+xml",
                             "application/ld+json"}, (where, media)
        if request.boolean is not None:
            text = answer.decode()
            value = "true" in text.lower().replace(" ", "") if "json" in media else "<boolean>true<" in text
            assert value == request.boolean, (where, text[:300])
        if request.expected_body is not None and status < 300:
            fmt = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}.get(
                media, "turtle")
            got = Graph().parse(data=answer.decode(), format=fmt)
            expected = Graph().parse(data=request.expected_body, format="turtle")
            assert isomorphic(got, expected), (where, answer.decode()[:500])


SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.mark.parametrize("accept", ["text/turtle", "application/rdf+xml", "application/n-triples",
                                    "application/ld+json"])
def test_w3c_service_description(w3c_server, shared_dir, accept) -> None:
    """The three service-description tests (returns-rdf, has-endpoint-triple, conforms-to-schema), which
    the manifest describes in words, for each RDF format a client may ask for."""
    manifest = Graph().parse(shared_dir / SUITE / "service-description/manifest.ttl", format="turtle")
    assert len(list(manifest.subjects(None, MF.ServiceDescriptionTest))) == 3
    status, headers, body = _send(w3c_server, "GET", "/sparql", [("Accept", accept)], None)
    assert status == 200  # returns-rdf
    media = headers["content-type"].split(";")[0]
    assert media == accept
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/n-triples": "nt",
           "application/ld+json": "json-ld"}[accept]
    graph = Graph().parse(data=body.decode(), format=fmt)
    services = list(graph.subjects(rdflib.RDF.type, SD.Service))
    assert len(services) == 1  # conforms-to-schema: one sd:Service with what the schema requires
    service = services[0]
    assert (service, SD.endpoint, URIRef(w3c_server.sparql)) in graph  # has-endpoint-triple
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    for dataset in graph.objects(service, SD.defaultDataset):
        assert (dataset, rdflib.RDF.type, SD.Dataset) in graph
        assert graph.value(dataset, SD.defaultGraph) is not None
