"""The ontology and vocabularies: parse, are documented in both languages, and cover every term used."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, PROV, SDO, TIME, VANN, XSD, DefinedNamespace

from zitkg import resources
from zitkg.validation import parse_files

ZIT = Namespace("https://w3id.org/sieci-zit/ontology#")
ONTOLOGY = URIRef("https://w3id.org/sieci-zit/ontology")
GEO = "http://www.opengis.net/ont/geosparql#"
GEO_TERMS = {"Feature", "Geometry", "hasGeometry", "asWKT", "wktLiteral", "sfWithin", "sfContains"}
LOCN = "http://www.w3.org/ns/locn#"
LOCN_TERMS = {"Address", "address", "adminUnitL1", "adminUnitL2", "geometry"}
SH = "http://www.w3.org/ns/shacl#"
STANDARD = (ORG, SKOS, PROV, FOAF, DCTERMS, TIME, DCAT, VANN, SDO)
CORE_NS = (str(RDF), str(RDFS), str(OWL), str(XSD), SH)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return parse_files(sorted(resources.ontology_dir().glob("*.ttl")))


@pytest.fixture(scope="module")
def data() -> Graph:
    files = [resources.data_dir() / "programme.ttl", *sorted((resources.data_dir() / "examples").glob("*.ttl"))]
    return parse_files(files)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return parse_files(sorted(resources.shapes_dir().glob("*.ttl")))


def zit_terms(ontology: Graph) -> set[URIRef]:
    return {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(str(ZIT))}


def test_header(ontology):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY, OWL.versionInfo) is not None
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert str(ontology.value(ONTOLOGY, VANN.preferredNamespacePrefix)) == "zit"
    assert str(ontology.value(ONTOLOGY, VANN.preferredNamespaceUri)) == str(ZIT)


def test_every_zit_term_has_labels_and_definitions_in_pl_and_en(ontology):
    missing = []
    for term in sorted(zit_terms(ontology)):
        for prop in (RDFS.label, SKOS.definition):
            langs = {o.language for o in ontology.objects(term, prop) if isinstance(o, Literal)}
            missing += [f"{term} {prop} @{lang}" for lang in ("pl", "en") if lang not in langs]
    assert missing == []


def test_zit_terms_specialise_standard_terms(ontology):
    """Classes sit under a standard class (directly or through another zit: class)."""
    orphans = []
    for cls in ontology.subjects(RDF.type, OWL.Class):
        if isinstance(cls, URIRef) and cls.startswith(str(ZIT)):
            supers = set(ontology.transitive_objects(cls, RDFS.subClassOf)) - {cls}
            if not any(not str(s).startswith(str(ZIT)) for s in supers):
                orphans.append(str(cls))
    assert orphans == []


def _is_known(term: URIRef, ontology: Graph) -> bool:
    text = str(term)
    if text.startswith(str(ZIT)):
        return term in zit_terms(ontology)
    if text.startswith(CORE_NS):
        return True
    if text.startswith(GEO):
        return text[len(GEO):] in GEO_TERMS
    if text.startswith(LOCN):
        return text[len(LOCN):] in LOCN_TERMS
    for ns in STANDARD:
        if text.startswith(str(ns)):
            if isinstance(ns, type) and issubclass(ns, DefinedNamespace):
                return term in ns
            return True
    return False


def _used_terms(graph: Graph) -> set[URIRef]:
    used = {p for p in graph.predicates()}
    used |= {o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)}
    for prop in (URIRef(SH + "path"), URIRef(SH + "targetClass"), URIRef(SH + "class"), URIRef(SH + "datatype")):
        used |= {o for o in graph.objects(None, prop) if isinstance(o, URIRef)}
    return used


def test_every_term_in_data_is_defined(ontology, data):
    unknown = sorted(str(t) for t in _used_terms(data) if not _is_known(t, ontology))
    assert unknown == []


def test_every_term_in_shapes_is_defined(ontology, shapes):
    # the shapes' own annotations (e.g. zitsh:needsConsent) are declared, with labels, in the shapes
    declared = {s for s in shapes.subjects(RDF.type, OWL.AnnotationProperty) if (s, RDFS.label, None) in shapes}
    unknown = sorted(str(t) for t in _used_terms(shapes) if t not in declared and not _is_known(t, ontology))
    assert unknown == []


def test_a_misspelt_term_would_be_caught(ontology):
    assert not _is_known(ZIT.CooperationNetwerk, ontology)
    assert not _is_known(URIRef(str(SKOS) + "prefLable"), ontology)
    assert _is_known(SKOS.prefLabel, ontology) and _is_known(ZIT.CooperationNetwork, ontology)


def test_theme_scheme_has_five_top_concepts_with_narrower_ones(ontology):
    scheme = URIRef("https://w3id.org/sieci-zit/id/scheme/themes")
    tops = set(ontology.objects(scheme, SKOS.hasTopConcept))
    assert len(tops) == 5
    for top in tops:
        assert len(set(ontology.objects(top, SKOS.narrower))) >= 3, top
    energy = URIRef("https://w3id.org/sieci-zit/id/theme/energy-efficiency")
    assert Literal("Efektywność energetyczna", lang="pl") in set(ontology.objects(energy, SKOS.prefLabel))
