"""Dereferenceable IRIs: the content-negotiation matrix over every kind of IRI, suffixes, 404 and 406."""

from __future__ import annotations

import pytest
from rdflib import RDFS, Graph, Literal, URIRef

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
RDF_TYPES = {
    "text/turtle": ("ttl", "turtle"),
    "application/n-triples": ("nt", "nt"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/rdf+xml": ("rdf", "xml"),
}
KINDS = {  # one IRI of each kind, with a type it must carry
    "org/bof": ZIT + "RegisteredAssociation",
    "network/co4energy": ZIT + "CooperationNetwork",
    "membership/co4energy-bof": ZIT + "NetworkMembership",
    "theme/energy-efficiency": "http://www.w3.org/2004/02/skos/core#Concept",
    "gmina/2061011": ZIT + "Municipality",
    "practice/audyt-dostepnosci": ZIT + "GoodPractice",
    "programme/sieciowanie-zit": ZIT + "Programme",
}


@pytest.fixture
def web(loaded_app):
    return loaded_app.test_client()


@pytest.mark.parametrize("path", sorted(KINDS))
@pytest.mark.parametrize("media_type", sorted(RDF_TYPES))
def test_rdf_by_accept_and_by_suffix(web, path, media_type):
    suffix, parser = RDF_TYPES[media_type]
    by_accept = web.get(f"/id/{path}", headers={"Accept": media_type})
    by_suffix = web.get(f"/id/{path}.{suffix}")
    for resp in (by_accept, by_suffix):
        assert resp.status_code == 200 and resp.mimetype == media_type
        graph = Graph().parse(data=resp.data, format=parser)
        subject = URIRef(ID + path)
        assert (subject, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(KINDS[path])) in graph
    assert len(Graph().parse(data=by_accept.data, format=parser)) == len(Graph().parse(data=by_suffix.data,
                                                                                         format=parser))


def test_rdf_includes_labels_of_linked_resources(web):
    graph = Graph().parse(data=web.get("/id/network/co4energy.ttl").data, format="turtle")
    theme = URIRef(ID + "theme/energy-efficiency")
    assert Literal("Efektywność energetyczna", lang="pl") in set(graph.objects(theme, RDFS.label))


@pytest.mark.parametrize("path", sorted(KINDS))
def test_html_for_browsers(web, path):
    resp = web.get(f"/id/{path}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert f"{ID}{path}" in page and 'rel="alternate" type="text/turtle"' in page


def test_html_labels_follow_language_and_show_sources(web):
    pl = web.get("/id/org/bof").get_data(as_text=True)
    en = web.get("/id/org/bof?lang=en").get_data(as_text=True)
    assert "<h1>Stowarzyszenie Białostockiego Obszaru Funkcjonalnego</h1>" in pl
    assert "<h1>Białystok Functional Area Association</h1>" in en
    assert "dokument programu" in pl and "programme document" in en
    assert 'href="/id/site/bof"' in pl  # links stay on this server
    assert 'href="/ontology#RegisteredAssociation"' in pl


def test_example_records_are_marked(web):
    page = web.get("/id/practice/audyt-dostepnosci").get_data(as_text=True)
    assert "Przykład (rekord ilustracyjny" in page
    assert "Przykład (rekord ilustracyjny" not in web.get("/id/org/bof").get_data(as_text=True)


def test_incoming_links_are_listed(web):
    page = web.get("/id/network/co4energy?lang=en").get_data(as_text=True)
    assert "Links to this resource" in page and 'href="/id/membership/co4energy-bof"' in page


def test_unknown_iri_is_404_and_unknown_type_406(web):
    assert web.get("/id/org/does-not-exist").status_code == 404
    assert web.get("/id/org/does-not-exist.ttl").status_code == 404
    resp = web.get("/id/org/bof", headers={"Accept": "image/png"})
    assert resp.status_code == 406 and "text/turtle" in resp.get_json()["details"]["offered"]


def test_html_escapes_data(web, loaded_app):
    import pyoxigraph as ox

    store = loaded_app.extensions["zitkg"]["store"]
    iri = ox.NamedNode(ID + "test/xss")
    store.replace_graphs({"https://w3id.org/sieci-zit/graph/test": [
        ox.Triple(iri, ox.NamedNode(str(RDFS.label)), ox.Literal("<script>alert(1)</script>", language="pl"))]})
    page = web.get("/id/test/xss").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    store.drop_graphs(["https://w3id.org/sieci-zit/graph/test"])


def test_ontology_iri_and_terms(web):
    page = web.get("/ontology").get_data(as_text=True)
    assert 'id="CooperationNetwork"' in page and "Sieć współpracy" in page
    assert "Cooperation network" in web.get("/ontology?lang=en").get_data(as_text=True)
    turtle = web.get("/ontology", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=turtle.data, format="turtle")
    assert (URIRef(ZIT + "CooperationNetwork"), None, None) in graph
    assert web.get("/ontology.jsonld").mimetype == "application/ld+json"
    assert web.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


def test_ontology_page_anchors_every_term(web):
    from rdflib import OWL, RDF

    from zitkg.validation import vocabulary_graph

    page = web.get("/ontology").get_data(as_text=True)
    vocab = vocabulary_graph()
    terms = {t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in vocab.subjects(RDF.type, kind) if str(t).startswith(ZIT)}
    missing = sorted(str(t) for t in terms if f'id="{str(t)[len(ZIT):]}"' not in page)
    assert len(terms) > 60 and missing == []


def test_codebook_covers_every_shaped_class_and_field(web):
    from rdflib import SH

    from zitkg.validation import shapes_graph

    page = web.get("/codebook").get_data(as_text=True)
    shapes = shapes_graph()
    for cls in set(shapes.objects(None, SH.targetClass)):
        assert f'href="{cls}"' in page or str(cls) in page, cls
    for shape in shapes.subjects(SH.targetClass, None):
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            if isinstance(path, URIRef):
                assert str(path) in page, path
    assert "Wybierz co najmniej jeden obszar tematyczny praktyki z listy." in page
    english = web.get("/codebook?lang=en").get_data(as_text=True)
    assert "Choose at least one thematic area of the practice from the list." in english
