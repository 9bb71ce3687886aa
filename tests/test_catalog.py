"""The DCAT-AP catalog (3.0.1 and 2.1.1 against the official shapes), VoID, /downloads/, robots and sitemap,
and the harvest a portal runs against the SPARQL endpoint."""

from __future__ import annotations

import functools
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, SH, SKOS, VOID, XSD
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from zitkg.catalog import CATALOG_GRAPH
from zitkg.store import GRAPH_BASE

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; rdflib's DCAT namespace is DCAT 2
EU = "http://publications.europa.eu/resource/authority/"
ID = "https://w3id.org/sieci-zit/id/"
BASE = "https://w3id.org/sieci-zit/"
SHAPES = {
    "3.0.1": [f"3.0.1/split/{n}" for n in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl")],
    "2.1.1": [f"2.1.1/dcat-ap_2.1.1_shacl_{n}"
              for n in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl")],
}
HARVEST = """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
CONSTRUCT {
  ?catalog a dcat:Catalog ; dct:title ?catalogTitle ; dcat:dataset ?dataset .
  ?dataset a dcat:Dataset ; ?datasetProperty ?datasetValue .
  ?distribution a dcat:Distribution ; ?distributionProperty ?distributionValue .
}
WHERE {
  ?catalog a dcat:Catalog ; dct:title ?catalogTitle ; dcat:dataset ?dataset .
  {
    ?dataset ?datasetProperty ?datasetValue .
    FILTER(?datasetProperty IN (dct:title, dct:description, dcat:keyword, dcat:theme, dct:license, dct:issued,
                                dct:modified, dcat:distribution))
  } UNION {
    ?dataset dcat:distribution ?distribution .
    ?distribution ?distributionProperty ?distributionValue .
    FILTER(?distributionProperty IN (dct:title, dcat:accessURL, dcat:downloadURL, dct:format, dcat:mediaType,
                                     dcat:byteSize, dct:license))
  }
}"""


@functools.cache
def _shapes(folder: Path, profile: str) -> Graph:
    graph = Graph()
    for name in SHAPES[profile]:
        graph.parse(folder / name, format="turtle")
    return graph


def shapes(shared_dir, profile: str) -> Graph:
    """The official DCAT-AP core shapes, read from ../shared/external (never copied into the repository)."""
    return _shapes(shared_dir / "external" / "dcat-ap", profile)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A test client over one app and store for the tests that only read (the catalog is built once)."""
    from zitkg.bundle import load_bundled
    from zitkg.settings import load_settings
    from zitkg.store import OxigraphStore
    from zitkg.web import create_app

    tmp = tmp_path_factory.mktemp("catalog")
    store = OxigraphStore(tmp / "store")
    load_bundled(store)
    settings = load_settings(environ={}, overrides={"store": tmp / "store", "query_workers": 1})
    application = create_app(settings, store=store)
    application.config["TESTING"] = True
    yield application.test_client(), store
    application.extensions["zitkg"]["sparql"].close()
    store.close()


def catalog_graph(client, profile: str | None = None, accept: str = "text/turtle") -> Graph:
    query = {"profile": profile} if profile else {}
    resp = client.get("/catalog", query_string=query, headers={"Accept": accept})
    assert resp.status_code == 200 and resp.mimetype == accept
    fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}[accept]
    return Graph().parse(data=resp.data, format=fmt)


def conformance(data: Graph, shared_dir, profile: str) -> tuple[bool, list[str]]:
    """(conforms, focus nodes of the violations); warnings (publisher not in the EU table) are allowed."""
    conforms, report, _text = validate(data, shacl_graph=shapes(shared_dir, profile), allow_warnings=True)
    violations = [str(report.value(result, SH.focusNode)) for result in report.objects(None, SH.result)
                  if report.value(result, SH.resultSeverity) == SH.Violation]
    return conforms, violations


def test_catalog_conforms_to_dcat_ap_3_0_1(reader, shared_dir):
    client = reader[0]
    data = catalog_graph(client)
    conforms, violations = conformance(data, shared_dir, "3.0.1")
    assert conforms and violations == []
    # The same triples in every offered format.
    assert isomorphic(catalog_graph(client, accept="application/ld+json"), data)
    assert isomorphic(catalog_graph(client, accept="application/rdf+xml"), data)
    sizes = set(data.objects(None, DCAT.byteSize))
    assert sizes and {s.datatype for s in sizes} == {XSD.nonNegativeInteger}
    assert set(data.objects(None, ADMS.status)) == {URIRef(EU + "distribution-status/COMPLETED")}


def test_catalog_profile_2_1_1_conforms_to_dcat_ap_2_1_1(reader, shared_dir):
    client = reader[0]
    data = catalog_graph(client, "dcat-ap-2.1.1")
    conforms, violations = conformance(data, shared_dir, "2.1.1")
    assert conforms and violations == []
    assert {s.datatype for s in data.objects(None, DCAT.byteSize)} == {XSD.decimal}
    assert set(data.objects(None, ADMS.status)) == {URIRef("http://purl.org/adms/status/Completed")}
    assert set(data.objects(None, SPDX.algorithm)) == {SPDX.checksumAlgorithm_sha1}
    # The two versions disagree: the 3.0.1 catalog does not pass the 2.1.1 shapes.
    assert not conformance(catalog_graph(client), shared_dir, "2.1.1")[0]


def test_catalog_describes_the_dataset_with_typed_vocabulary_values(reader):
    client = reader[0]
    g = catalog_graph(client)
    catalog = URIRef(BASE + "catalog")
    dataset = g.value(catalog, DCAT.dataset)
    assert (catalog, RDF.type, DCAT.Catalog) in g and (dataset, RDF.type, DCAT.Dataset) in g
    assert {t.language for t in g.objects(dataset, DCTERMS.title)} == {"pl", "en"}
    publisher = g.value(catalog, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in g and str(g.value(publisher, FOAF.name)) == "Projekt zitkg"
    contact = g.value(dataset, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in g
    assert g.value(contact, VCARD.hasEmail) is None  # no address configured: none is invented
    assert g.value(contact, VCARD.hasURL) == URIRef(BASE)
    checks = {
        DCTERMS.license: ("licence", DCTERMS.LicenseDocument),
        DCTERMS.language: ("language", DCTERMS.LinguisticSystem),
        DCTERMS.spatial: ("country", DCTERMS.Location),
        DCAT.theme: ("data-theme", SKOS.Concept),
        DCTERMS.accrualPeriodicity: ("frequency", DCTERMS.Frequency),
    }
    for prop, (table, cls) in checks.items():
        values = set(g.objects(dataset, prop))
        assert values, prop
        for value in values:
            assert (value, RDF.type, cls) in g and (value, SKOS.inScheme, URIRef(EU + table)) in g, value
            assert g.value(value, SKOS.prefLabel) is not None and g.value(URIRef(EU + table), DCTERMS.title)
    assert URIRef(EU + "licence/CC_BY_4_0") in set(g.objects(dataset, DCTERMS.license))
    assert URIRef(EU + "country/POL") in set(g.objects(dataset, DCTERMS.spatial))
    languages = {URIRef(EU + "language/POL"), URIRef(EU + "language/ENG")}
    assert set(g.objects(dataset, DCTERMS.language)) == languages
    period = g.value(dataset, DCTERMS.temporal)
    assert g.value(period, DCAT.startDate) == Literal("2024-10-21", datatype=XSD.date)
    assert g.value(period, DCAT.endDate) == Literal("2027-10-31", datatype=XSD.date)
    assert {k.language for k in g.objects(dataset, DCAT.keyword)} == {"pl", "en"}
    assert g.value(dataset, DCTERMS.issued).datatype == XSD.dateTime
    service = g.value(catalog, DCAT.service)
    assert (service, RDF.type, DCAT.DataService) in g
    assert g.value(service, DCAT.endpointURL) == URIRef(BASE + "sparql")
    assert (service, DCAT.servesDataset, dataset) in g
    for distribution in g.objects(dataset, DCAT.distribution):
        fmt, media = g.value(distribution, DCTERMS["format"]), g.value(distribution, DCAT.mediaType)
        assert (fmt, RDF.type, DCTERMS.MediaTypeOrExtent) in g
        assert (fmt, SKOS.inScheme, URIRef(EU + "file-type")) in g
        assert str(media).startswith("https://www.iana.org/assignments/media-types/")
        assert (media, RDF.type, DCTERMS.MediaType) in g
        assert g.value(distribution, DCTERMS.license) == URIRef(EU + "licence/CC_BY_4_0")
        assert g.value(distribution, DCTERMS.issued) and g.value(distribution, DCTERMS.modified)


def _served(client, url: str) -> bytes:
    assert url.startswith(BASE)
    resp = client.get("/" + url[len(BASE):])
    assert resp.status_code == 200, url
    return resp.data


def test_distributions_match_the_files_served(reader):
    client = reader[0]
    g = catalog_graph(client)
    dataset = g.value(URIRef(BASE + "catalog"), DCAT.dataset)
    distributions = list(g.objects(dataset, DCAT.distribution))
    names = set()
    for distribution in distributions:
        url = str(g.value(distribution, DCAT.downloadURL))
        names.add(url.rsplit("/", 1)[-1])
        data = _served(client, url)
        assert int(g.value(distribution, DCAT.byteSize)) == len(data), url
        checksum = g.value(distribution, SPDX.checksum)
        assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest(), url
        assert g.value(distribution, DCAT.accessURL) == URIRef(BASE + "downloads/")
    assert {"zitkg.ttl", "zitkg.nt.gz", "zitkg.jsonld", "zitkg.trig", "zitkg.graphml", "csv-metadata.json",
            "practices.csv", "mofs.csv", "void.ttl", "CHANGELOG.md"} <= names
    # The catalog served is the catalog file of the release, byte for byte.
    assert client.get("/catalog").data == client.get("/downloads/catalog.ttl").data
    sums = client.get("/downloads/SHA256SUMS").data.decode()
    assert f"{hashlib.sha256(client.get('/downloads/zitkg.ttl').data).hexdigest()}  zitkg.ttl" in sums


def test_void_description(reader):
    client, store = reader
    resp = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200
    g = Graph().parse(data=resp.data, format="turtle")
    dataset = URIRef(BASE + "catalog#dataset")
    assert (dataset, RDF.type, VOID.Dataset) in g
    published = sum(1 for graph in store.published_graphs() if graph != CATALOG_GRAPH
                    for _ in store.read_store().quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    assert int(g.value(dataset, VOID.triples)) == published
    assert g.value(dataset, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    dumps = {str(d).rsplit("/", 1)[-1] for d in g.objects(dataset, VOID.dataDump)}
    assert dumps == {"zitkg.ttl", "zitkg.nt.gz", "zitkg.jsonld", "zitkg.trig"}
    classes = {g.value(p, VOID["class"]): int(g.value(p, VOID.entities))
               for p in g.objects(dataset, VOID.classPartition)}
    assert classes[URIRef("https://w3id.org/sieci-zit/ontology#CooperationNetwork")] == 5
    assert URIRef(ID + "network/akademia-partnerstwa") in set(g.objects(dataset, VOID.exampleResource))
    assert str(g.value(dataset, VOID.uriSpace)) == ID
    jsonld = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"


def test_robots_and_sitemap(reader):
    client = reader[0]
    robots = client.get("/robots.txt")
    assert robots.mimetype == "text/plain" and "Sitemap: http://localhost/sitemap.xml" in robots.text
    sitemap = client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text for loc in ET.fromstring(sitemap.data).findall("s:url/s:loc", ns)]
    assert "http://localhost/id/org/bof" in locs and "http://localhost/id/practice/audyt-dostepnosci" in locs
    assert len(locs) == len(set(locs)) > 100
    assert client.get("/id/org/bof", headers={"Accept": "text/turtle"}).status_code == 200


def test_downloads_listing_and_errors(reader):
    client = reader[0]
    page = client.get("/downloads/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "zitkg.nt.gz" in page.text and "SHA256SUMS" in page.text
    manifest = client.get("/downloads/", headers={"Accept": "application/json"}).get_json()
    assert manifest["release"].startswith(manifest["date"]) and len(manifest["files"]) >= 15
    gz = client.get("/downloads/zitkg.nt.gz")
    assert gz.mimetype == "application/gzip" and gz.headers["Zitkg-Release"] == manifest["release"]
    assert client.get("/downloads/practices.csv").mimetype == "text/csv"
    for bad in ("/downloads/nope.ttl", "/downloads/..%2Fstore", "/downloads/.hidden"):
        resp = client.get(bad)
        assert resp.status_code == 404 and resp.get_json()["error"] == "not-found", bad
    assert client.get("/catalog", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/catalog?profile=dcat-ap-9").status_code == 404


def test_catalog_follows_the_published_data(client, app, store):
    before = client.get("/downloads/", headers={"Accept": "application/json"}).get_json()
    s = ox.NamedNode(ID + "practice/nowa-z-katalogu")
    store.replace_graphs({GRAPH_BASE + "submission/catalog-test": [
        ox.Triple(s, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                  ox.NamedNode("https://w3id.org/sieci-zit/ontology#GoodPractice")),
        ox.Triple(s, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                  ox.Literal("Nowa", language="pl")),
    ]})
    after = client.get("/downloads/", headers={"Accept": "application/json"}).get_json()
    assert after["key"] != before["key"] and after["changes"]["previous"] == before["release"]
    assert after["changes"]["subjects_added"] == [str(s.value)]
    assert str(s.value) in client.get("/downloads/zitkg.ttl").text
    g = catalog_graph(client)
    assert str(g.value(URIRef(BASE + "catalog#dataset"), DCAT_VERSION)) == after["release"]
    # The catalog graph in the store follows too (what the endpoint answers harvesters from).
    ask = app.extensions["zitkg"]["sparql"].query(
        f'ASK {{ <{BASE}catalog#dataset> <{DCAT_VERSION}> "{after["release"]}" }}', result_format="python")
    assert ask.boolean is True
    # A write that changes nothing public keeps the release.
    store.replace_graphs({GRAPH_BASE + "submission/hidden": []}, published=False)
    assert client.get("/downloads/", headers={"Accept": "application/json"}).get_json()["key"] == after["key"]


@pytest.fixture
def configured_client(tmp_path, store):
    from zitkg.settings import load_settings
    from zitkg.web import create_app

    settings = load_settings(environ={}, overrides={
        "store": tmp_path / "store", "query_workers": 1, "public_url": "https://dane.example.org/zit",
        "publisher_name": "Związek Przykładowy", "publisher_url": "https://zwiazek.example.org/",
        "contact_email": "kontakt@example.org",
    })
    application = create_app(settings, store=store)
    yield application.test_client()
    application.extensions["zitkg"]["sparql"].close()


def test_publisher_and_contact_come_from_the_settings(configured_client):
    g = catalog_graph(configured_client)
    catalog = URIRef(BASE + "catalog")
    publisher = g.value(catalog, DCTERMS.publisher)
    assert str(g.value(publisher, FOAF.name)) == "Związek Przykładowy"
    assert g.value(publisher, FOAF.homepage) == URIRef("https://zwiazek.example.org/")
    contact = g.value(g.value(catalog, DCAT.dataset), DCAT.contactPoint)
    assert g.value(contact, VCARD.hasEmail) == URIRef("mailto:kontakt@example.org")
    urls = {str(u) for u in g.objects(None, DCAT.downloadURL)}
    assert "https://dane.example.org/zit/downloads/zitkg.ttl" in urls
    assert g.value(g.value(catalog, DCAT.service), DCAT.endpointURL) == URIRef("https://dane.example.org/zit/sparql")


def test_harvester_construct_in_rdf_xml(server):
    """What dane.gov.pl does: rdflib's SPARQLStore sends a CONSTRUCT and asks for RDF/XML."""
    raw = requests.get(server.sparql, params={"query": HARVEST}, headers={"Accept": "application/rdf+xml"},
                       timeout=30)
    assert raw.status_code == 200 and raw.headers["Content-Type"].startswith("application/rdf+xml"), raw.text
    store = SPARQLStore(server.sparql, returnFormat="application/rdf+xml")
    harvested = Graph(store=store).query(HARVEST).graph
    catalog = URIRef(BASE + "catalog")
    dataset = harvested.value(catalog, DCAT.dataset)
    assert dataset is not None
    assert {t.language for t in harvested.objects(dataset, DCTERMS.title)} == {"pl", "en"}
    assert harvested.value(dataset, DCTERMS.license) == URIRef(EU + "licence/CC_BY_4_0")
    assert URIRef(EU + "data-theme/REGI") in set(harvested.objects(dataset, DCAT.theme))
    assert harvested.value(dataset, DCTERMS.issued).datatype == XSD.dateTime
    distributions = set(harvested.objects(dataset, DCAT.distribution))
    assert len(distributions) >= 15
    for distribution in distributions:
        assert harvested.value(distribution, DCAT.accessURL) is not None
        assert harvested.value(distribution, DCTERMS["format"]) is not None
        assert harvested.value(distribution, DCAT.mediaType) is not None
    # The harvested sizes are those of the files the server serves.
    ttl = next(d for d in distributions if str(harvested.value(d, DCAT.downloadURL)).endswith("/zitkg.ttl"))
    served = requests.get(server.url + "/downloads/zitkg.ttl", timeout=30)
    assert int(harvested.value(ttl, DCAT.byteSize)) == len(served.content)
