"""Personal data of experts is public only by the allow-list of the shapes, or with consent.

An expert is sent with contact data in every vocabulary and spelling an attacker (or a careless
submitter) might use: schema.org over http and https, vCard (hasEmail, hasTelephone with a node of its
own, email), FOAF (mbox, phone), an address node, and a property nobody listed. After a reviewer
publishes it, none of those values may appear on any public route: /sparql, the /id pages (HTML and
every RDF format), the search and UI pages, the REST questions, the graph view and every file of the
current release under /downloads/. An expert with consent for her e-mail and phone is the positive
control: those two values are public everywhere an expert's data is shown.
"""

from __future__ import annotations

import gzip

import pytest
import requests

from conftest import auth, create_token, start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
PREFIXES = """
@prefix zit: <https://w3id.org/sieci-zit/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix s: <https://schema.org/> .
@prefix hs: <http://schema.org/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix x: <http://example.org/x#> .
"""
EXPERT = """
_:{key} a zit:Expert ; rdfs:label "{name}"@pl , "{name} (en)"@en ; foaf:name "{name}" ;
    dcterms:description "Rekord testowy prywatności."@pl , "A privacy test record."@en ;
    zit:competence <https://w3id.org/sieci-zit/id/theme/climate> ;
    s:affiliation "Instytut Jawny Kalinowa" ;
"""
# Each value is unique, so finding it anywhere is a leak of that very statement.
SECRETS = {
    "schema.org over http, e-mail": ('hs:email "poufny-http-email@example.org"', "poufny-http-email"),
    "schema.org over http, phone": ('hs:telephone "+48 600 100 201"', "600 100 201"),
    "schema.org over https, e-mail without consent": ('s:email "poufny-https-email@example.org"', "poufny-https-email"),
    "schema.org over https, phone without consent": ('s:telephone "+48 600 100 202"', "600 100 202"),
    "vCard hasEmail": ("vcard:hasEmail <mailto:poufny-vcard-hasemail@example.org>", "poufny-vcard-hasemail"),
    "vCard email": ('vcard:email "poufny-vcard-email@example.org"', "poufny-vcard-email"),
    "vCard hasTelephone node": ('vcard:hasTelephone [ a vcard:Voice ; vcard:hasValue "+48600100203" ]',
                                "600100203"),
    "FOAF mbox": ("foaf:mbox <mailto:poufny-foaf-mbox@example.org>", "poufny-foaf-mbox"),
    "FOAF phone": ('foaf:phone "+48 600 100 204"', "600 100 204"),
    "a property nobody listed": ('x:privatePhone "+48 600 100 205"', "600 100 205"),
    "schema.org address node": ('s:address [ a s:PostalAddress ; s:streetAddress "ul. Poufna 17" ]', "Poufna 17"),
}
CONSENTED = {"zgoda-email@example.org", "+48 600 100 299"}
REVISION_SECRET = "poufny-rewizja@example.org"  # sent later, about the published expert, without its type


LEAKY = EXPERT.format(key="leaky", name="Ekspertka Poufna") + " ;\n    ".join(
    statement for statement, _ in SECRETS.values()) + " .\n"
# Persons by another class than zit:Expert: schema:Person over http, foaf:Person.
OTHERS = ('_:p a hs:Person ; rdfs:label "Osoba Poufna"@pl ; hs:email "poufny-osoba-http@example.org" .\n'
          '_:f a foaf:Person ; rdfs:label "Osoba FOAF"@pl ; foaf:mbox <mailto:poufny-osoba-foaf@example.org> .\n')
CONSENTING = EXPERT.format(key="open", name="Ekspertka Jawna") + (
    's:email "zgoda-email@example.org" ; s:telephone "+48 600 100 299" ;\n'
    "    zit:consentedField s:email , s:telephone .\n")


def revision_of(iri: str) -> str:
    """A new version of the published expert whose extra statement about her does not repeat her type."""
    record = EXPERT.replace("_:{key}", f"<{iri}>").format(name="Ekspertka Poufna")
    return (record + " ;\n    ".join(statement for statement, _ in SECRETS.values()) + " .\n"
            f"<{iri}> foaf:mbox <mailto:{REVISION_SECRET}> .\n")


def send_and_publish(server, body: str) -> dict:
    created = requests.post(server.url + "/api/submissions", data=body.encode(), timeout=60,
                            headers={"Content-Type": "text/turtle", **auth(server.tokens["bof"])})
    assert created.status_code == 201, created.text
    published = requests.post(created.json()["links"]["publish"], headers=auth(server.tokens["reviewer"]),
                              timeout=60)
    assert published.status_code == 200, published.text
    return created.json()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("privacy"), query_workers="2")
    try:
        server.tokens = {"bof": create_token(server, "bof"),
                         "reviewer": create_token(server, "metropolia-krakowska", "reviewer"),
                         "admin": create_token(server, "metropolia-krakowska", "admin")}
        first = send_and_publish(server, PREFIXES + LEAKY)
        open_ = send_and_publish(server, PREFIXES + CONSENTING + OTHERS)
        leaky_iri = next(d for d in first["describes"] if "/expert/ekspertka-poufna" in d)
        send_and_publish(server, PREFIXES + revision_of(leaky_iri))
        server.experts = {
            "leaky": leaky_iri,
            "open": next(d for d in open_["describes"] if "/expert/ekspertka-jawna" in d),
        }
        yield server
    finally:
        stop_server(server)


def secrets() -> list[str]:
    return [needle for _, needle in SECRETS.values()] + [
        "poufny-osoba-http", "poufny-osoba-foaf", REVISION_SECRET]


def assert_no_secret(text: str, where: str) -> None:
    leaked = [needle for needle in secrets() if needle in text]
    assert leaked == [], f"{where} shows {leaked}"


def test_sparql_shows_no_personal_field_without_consent(published):
    for query in ("SELECT ?o WHERE { ?s ?p ?o }", "SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
                  f"SELECT ?p ?o WHERE {{ <{published.experts['leaky']}> ?p ?o }}",
                  "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
        resp = requests.get(published.sparql, params={"query": query}, timeout=60,
                            headers={"Accept": "text/csv" if query.startswith("SELECT") else "application/n-triples"})
        assert resp.status_code == 200, resp.text
        assert resp.headers.get("Zitkg-Results-Truncated") != "true", query
        assert_no_secret(resp.text, f"/sparql {query}")
        if "<" not in query:  # the whole graph: the consented field is public
            assert "zgoda-email@example.org" in resp.text
    text = requests.get(published.sparql, params={"query": "SELECT ?o WHERE { ?s ?p ?o }"},
                        headers={"Accept": "text/csv"}, timeout=60).text
    assert "+48 600 100 299" in text and "Instytut Jawny Kalinowa" in text  # affiliation is on the allow-list
    # the persons themselves are public: only their private fields are missing
    assert all(name in text for name in ("Ekspertka Poufna", "Osoba Poufna", "Osoba FOAF"))


def test_the_data_is_kept_privately_not_lost(published):
    state = requests.get(published.url + "/api/admin/store", headers=auth(published.tokens["admin"]), timeout=30)
    private = [g for g in state.json()["graphs"] if g.endswith("/private")]
    assert any("/submission/" in g for g in private)
    assert not set(private) & set(state.json()["published"])


@pytest.mark.parametrize("suffix", ["", ".ttl", ".jsonld", ".nt", ".rdf"])
def test_id_pages_show_no_personal_field_without_consent(published, suffix):
    for key, iri in published.experts.items():
        page = requests.get(published.url + "/id/" + iri.split("/id/", 1)[1] + suffix, timeout=30,
                            headers={"Accept": "text/html"} if not suffix else {})
        assert page.status_code == 200, page.text
        assert_no_secret(page.text, f"/id page {key}{suffix}")
        if key == "open":
            assert "zgoda-email@example.org" in page.text
    turtle = requests.get(published.experts["leaky"].replace("https://w3id.org/sieci-zit", published.url),
                          headers={"Accept": "text/turtle"}, timeout=30)
    assert turtle.status_code == 200 and "Ekspertka Poufna" in turtle.text
    assert_no_secret(turtle.text, "/id page by Accept: text/turtle")


def test_search_ui_and_questions_show_no_personal_field(published):
    leaky = published.experts["leaky"]
    climate = ID + "theme/climate"
    routes = [
        ("/search", {"q": "Ekspertka"}), ("/search", {"q": "poufny"}), ("/search.json", {"q": "Ekspertka"}),
        ("/search.csv", {"q": "Ekspertka"}), ("/graph.json", {"resource": leaky}), ("/", {}),
        ("/api/queries/search/results", {"text": "Ekspertka", "format": "csv"}),
        ("/api/queries/search/results", {"text": "poufny", "format": "json"}),
        ("/api/queries/experts-by-competence/results", {"competence": climate}),
        ("/api/queries/experts-by-competence/results", {"competence": climate, "format": "csv"}),
        ("/questions/experts-by-competence", {"competence": climate}),
        ("/api/queries/neighbourhood/results", {"resource": leaky}),
    ]
    seen_expert = False
    for path, params in routes:
        resp = requests.get(published.url + path, params=params, timeout=60)
        assert resp.status_code == 200, (path, resp.text[:300])
        assert_no_secret(resp.text, f"{path} {params}")
        seen_expert |= "Ekspertka Poufna" in resp.text
    assert seen_expert  # the routes did show the expert, without her private fields


def test_no_downloaded_file_holds_a_personal_field_without_consent(published):
    manifest = requests.get(published.url + "/downloads/", headers={"Accept": "application/json"}, timeout=120)
    assert manifest.status_code == 200, manifest.text
    names = [f["name"] for f in manifest.json()["files"]]
    assert any(n.endswith(".csv") for n in names) and any(".nt" in n for n in names)
    found_consented = []
    for name in names:
        resp = requests.get(f"{published.url}/downloads/{name}", timeout=120)
        assert resp.status_code == 200, name
        data = gzip.decompress(resp.content) if name.endswith(".gz") else resp.content
        text = data.decode("utf-8", errors="replace")
        assert_no_secret(text, f"/downloads/{name}")
        if "zgoda-email@example.org" in text:
            found_consented.append(name)
    assert "experts.csv" in found_consented and "zitkg.ttl" in found_consented, found_consented
    for path in ("/catalog", "/.well-known/void", "/sitemap.xml"):
        assert_no_secret(requests.get(published.url + path, timeout=60).text, path)
