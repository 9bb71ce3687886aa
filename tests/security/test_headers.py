"""Security headers on every answer, and every page still working under the Content-Security-Policy.

The headers come from one WSGI middleware outside Flask and outside the SPARQL fast lane
(zitkg.web.headers), so the answers the lane gives before Flask carry them as well. The policy allows
scripts from this site only: every page is opened in chromium with its widgets used (YASGUI, Swagger
UI, Leaflet, Cytoscape, the submission form, pyLODE) and must log no CSP violation and no script error.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

from security.browser import (  # noqa: F401 - fixtures used by pytest-playwright
    base_url,
    browser_context_args,
    browser_type_launch_args,
    screenshots,
    unsafe_targets,
    watch,
)
from zitkg.web.fastlane import SparqlFastLane
from zitkg.web.headers import SecurityHeaders, content_security_policy, tile_source

ORG = "https://w3id.org/sieci-zit/id/org/bof"
SELECT = f"SELECT ?p ?o WHERE {{ <{ORG}> ?p ?o }} LIMIT 3"
HTML = {"Accept": "text/html"}

# (name, method, path, request headers, body, expected status)
ROUTES = [
    ("home page", "GET", "/", HTML, None, 200),
    ("entity page", "GET", "/id/org/bof", HTML, None, 200),
    ("entity as Turtle by suffix", "GET", "/id/org/bof.ttl", {}, None, 200),
    ("entity as JSON-LD by Accept", "GET", "/id/org/bof", {"Accept": "application/ld+json"}, None, 200),
    ("ontology page (pyLODE)", "GET", "/ontology", HTML, None, 200),
    ("codebook", "GET", "/codebook", HTML, None, 200),
    ("API JSON", "GET", "/api/queries", {"Accept": "application/json"}, None, 200),
    ("API results CSV", "GET", "/api/queries/networks/results?format=csv", {}, None, 200),
    ("Swagger UI page", "GET", "/api/", HTML, None, 200),
    ("fast lane GET", "GET", "/sparql?" + urlencode({"query": SELECT}), {}, None, 200),
    ("fast lane GET, CSV", "GET", "/sparql?" + urlencode({"query": SELECT}), {"Accept": "text/csv"}, None, 200),
    ("fast lane POST query", "POST", "/sparql", {"Content-Type": "application/sparql-query"}, SELECT, 200),
    ("fast lane POST form", "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"},
     urlencode({"query": SELECT}), 200),
    ("SPARQL through Flask (extra parameter)", "GET", "/sparql?" + urlencode({"query": SELECT, "timeout": "2"}),
     {}, None, 200),
    ("SPARQL editor page", "GET", "/sparql", HTML, None, 200),
    ("service description", "GET", "/sparql", {"Accept": "text/turtle"}, None, 200),
    ("syntax error met in the lane", "GET", "/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p }"}),
     {}, None, 400),
    ("update without a token", "POST", "/sparql", {"Content-Type": "application/sparql-update"},
     "CLEAR ALL", (401, 403)),
    ("submission without a token", "POST", "/api/submissions", {"Content-Type": "text/turtle"}, "<a:b> <c:d> 1 .",
     (401, 403)),
    ("static script", "GET", "/static/links.js", {}, None, 200),
    ("static style", "GET", "/static/zitkg.css", {}, None, 200),
    ("npm asset", "GET", "/assets/leaflet/dist/leaflet.js", {}, None, 200),
    ("not found (JSON)", "GET", "/no/such/page", {"Accept": "application/json"}, None, 404),
    ("not found (HTML error page)", "GET", "/no/such/page", HTML, None, 404),
    ("not acceptable", "GET", "/id/org/bof", {"Accept": "image/png"}, None, 406),
    ("redirect", "GET", "/language/en?next=/", {}, None, 303),
    ("HEAD", "HEAD", "/", HTML, None, 200),
    ("OPTIONS", "OPTIONS", "/sparql", {}, None, (200, 204)),
]


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_secure(headers: object) -> None:
    headers = CaseInsensitiveDict(headers)
    assert "," not in headers["Content-Security-Policy"]  # one policy, not two sent
    csp = policy(headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other host
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in " ".join(sum(csp.values(), []))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in {"no-referrer", "strict-origin-when-cross-origin", "same-origin"}


@pytest.mark.parametrize(("name", "method", "path", "headers", "body", "status"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_kind_of_answer_has_the_headers(target, name, method, path, headers, body, status) -> None:
    reply = requests.request(method, target.url + path, headers=headers, data=body, timeout=30,
                             allow_redirects=False)
    assert reply.status_code in (status if isinstance(status, tuple) else (status,)), (name, reply.text[:300])
    assert_secure(reply.headers)


def test_the_middleware_is_outside_the_fast_lane(loaded_app) -> None:
    """The order that puts the headers on the lane's answers, and a lane answer that never reaches Flask."""
    outermost = loaded_app.wsgi_app
    assert isinstance(outermost, SecurityHeaders) and isinstance(outermost.app, SparqlFastLane)

    def no_flask(environ, start_response):  # noqa: ANN001, ANN202
        start_response("599 Flask", [("Content-Type", "text/plain")])
        return [b"flask"]

    lane = SparqlFastLane(no_flask, loaded_app.extensions["zitkg"]["sparql"], 10_000, 10)
    reply = Client(SecurityHeaders(lane, outermost.headers)).get("/sparql?" + urlencode({"query": SELECT}))
    assert reply.status_code == 200
    assert_secure(reply.headers)


def test_an_answer_keeps_a_header_it_sets_itself() -> None:
    def app(environ, start_response):  # noqa: ANN001, ANN202
        start_response("200 OK", [("Content-Type", "text/plain"), ("content-security-policy", "sandbox")])
        return [b"x"]

    headers = [("Content-Security-Policy", content_security_policy()), ("X-Frame-Options", "DENY")]
    reply = Client(SecurityHeaders(app, headers)).get("/")
    assert reply.headers.getlist("Content-Security-Policy") == ["sandbox"]
    assert reply.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("tile_url", "source"), [
    ("", None),
    ("https://tile.example.org/{z}/{x}/{y}.png", "https://tile.example.org"),
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
    ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
    ("https://tiles.{s}.example.org/{z}/{x}/{y}.png", "https:"),
    ("javascript:alert(1)//{z}", None),
])
def test_the_map_tiles_are_the_only_other_image_source(tile_url, source) -> None:
    assert tile_source(tile_url) == source
    images = policy(content_security_policy(tile_url))["img-src"]
    assert images == ["'self'", "data:", *([source] if source else [])]


# --- every page in chromium under the policy ------------------------------------------------------------

def _yasgui(page) -> None:  # noqa: ANN001
    with page.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST") as answer:
        page.locator("button.example[data-example='networks']").click()
    assert answer.value.status == 200
    page.locator(".yasr").get_by_text("Co4Energy").first.wait_for()


def _matrix(page) -> None:  # noqa: ANN001
    page.locator("a.cell-link").first.click()
    page.locator("#cell-panel h2").wait_for()


def _token_form(page) -> None:  # noqa: ANN001
    page.locator("#token").fill("not-a-real-token")
    page.locator("#token-form button[type=submit]").click()
    page.wait_for_function("document.getElementById('token-status').textContent.length > 0")


PAGES = [
    ("home", "/", "section.network", None),
    ("search", "/search?q=energia", "ol.results > li", None),
    ("map", "/map", "#map[data-loaded]", None),
    ("matrix", "/matrix", "a.cell-link", _matrix),
    ("networks", "/networks", "main h2", None),
    ("network", "/networks/co4energy", "main h1", None),
    ("questions", "/questions", "main li a", None),
    ("question", "/questions/networks", "table.answer tbody tr", None),
    ("entity", "/id/org/bof", "#graph[data-nodes]", None),
    ("sparql", "/sparql", ".yasqe .CodeMirror", _yasgui),
    ("api", "/api/", ".opblock", None),
    ("submit", "/submit", "#record-form", _token_form),
    ("review", "/review", "#token-form", _token_form),
    ("ontology", "/ontology", "#classes, h2", None),
    ("codebook", "/codebook", "main h2", None),
]


@pytest.mark.browser
@pytest.mark.parametrize(("name", "path", "ready", "use"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_works_under_the_policy(page, target, name, path, ready, use) -> None:
    seen = watch(page)
    page.set_default_timeout(15_000)
    response = page.goto(target.url + path)
    assert response.status == 200
    assert_secure(response.headers)
    page.locator(ready).first.wait_for(state="attached")
    if use:
        use(page)
    page.wait_for_load_state("networkidle")
    assert unsafe_targets(page) == []
    screenshots(page, f"csp-{name}")
    assert seen.violations == [], seen.violations
    assert seen.errors == [], seen.errors
    assert seen.outside == [], seen.outside


@pytest.mark.browser
def test_the_policy_stops_an_injected_inline_script(page, target) -> None:
    """The policy is enforced, not only sent: a script injected into a page (as an XSS would) does not run."""
    seen = watch(page)
    page.goto(target.url + "/")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__injected = 1';
        document.body.appendChild(s);
        const a = document.createElement('a');
        a.href = 'javascript:window.__injected = 2';
        a.id = 'injected';
        a.textContent = 'x';
        document.body.appendChild(a);
    }""")
    page.locator("#injected").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__injected") is None
    assert any(re.search("script-src", v) for v in seen.violations)
