"""What is public about a person is an allow-list taken from the shapes; everything else stays private.

Experts are people. The public statements about a person are those whose property a shape that applies
to persons names as an ``sh:path`` (the expert shape: name, labels, competences, affiliation, ...), less
the properties such a shape marks ``zitsh:needsConsent true`` (e-mail, telephone): those are public only
where ``zit:consentedField`` names that very property for that person. Any other statement about a
person (an e-mail, phone or address under any vocabulary or spelling: ``http://schema.org/email``, vCard,
FOAF, a property nobody listed) is moved into a private graph when it is written, together with the
nodes that hang off it (a vCard address, a telephone node). The public graphs never hold it, so the
endpoint, the pages, the search and the exports cannot leak it, whatever query they run.

Who is a person: a subject typed with a person class (``foaf:Person``, ``schema:Person`` over http or
https, ``vcard:Individual``, ``prov:Person`` and every subclass the ontology declares, e.g.
``zit:Expert``), a subject of a property whose ``rdfs:domain`` is a person class, an object of one
whose ``rdfs:range`` is, and any subject the caller knows to be a person (typed in the store).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import RDFS, SH, Graph, Literal, URIRef
from rdflib.collection import Collection

FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ZITSH = "https://w3id.org/sieci-zit/shapes#"
NEEDS_CONSENT = URIRef(ZITSH + "needsConsent")
PERSON_CLASSES = frozenset({
    FOAF + "Person", "https://schema.org/Person", "http://schema.org/Person", VCARD + "Individual",
    "http://www.w3.org/ns/prov#Person",
})
# Usual contact properties, for messages and tests; what is withheld is decided by the allow-list.
CONTACT_PROPERTIES = frozenset(
    {
        "https://schema.org/email",
        "https://schema.org/telephone",
        "https://schema.org/faxNumber",
        "https://schema.org/address",
        "http://schema.org/email",
        "http://schema.org/telephone",
        "http://schema.org/faxNumber",
        "http://schema.org/address",
        FOAF + "mbox",
        FOAF + "mbox_sha1sum",
        FOAF + "phone",
        VCARD + "email",
        VCARD + "hasEmail",
        VCARD + "tel",
        VCARD + "hasTelephone",
        VCARD + "hasAddress",
    }
)
CONSENTED_FIELD = "https://w3id.org/sieci-zit/ontology#consentedField"
PRIVATE_GRAPH_SUFFIX = "/private"
GENID = "/.well-known/genid/"


@dataclass(frozen=True)
class PersonPolicy:
    """The allow-list, derived once from the shapes and the ontology."""

    person_classes: frozenset[str]
    public: frozenset[str]  # properties public about any person
    needs_consent: frozenset[str]  # public only with zit:consentedField naming them
    person_subject_of: frozenset[str]  # properties whose rdfs:domain is a person class
    person_object_of: frozenset[str]  # properties whose rdfs:range is a person class


def _subclasses(vocabulary: Graph, roots: Iterable[str]) -> set[str]:
    found = set(roots)
    for root in roots:
        found |= {str(c) for c in vocabulary.transitive_subjects(RDFS.subClassOf, URIRef(root))
                  if isinstance(c, URIRef)}
    return found


def _node_shapes(shapes: Graph, shape: object, seen: set[object]) -> set[object]:
    """The shape and those it requires of the same focus node (sh:node, sh:and)."""
    if shape in seen:
        return seen
    seen.add(shape)
    for other in shapes.objects(shape, SH.node):
        _node_shapes(shapes, other, seen)
    for members in shapes.objects(shape, SH["and"]):
        for other in Collection(shapes, members):
            _node_shapes(shapes, other, seen)
    return seen


def derive_policy(shapes: Graph, vocabulary: Graph) -> PersonPolicy:
    """Public person properties: the IRI paths of the shapes that apply to persons.

    A shape applies to persons when it targets a person class, or targets the subjects of a property
    (such shapes apply to any resource: the source, example flag, reading status of a record).
    """
    classes = _subclasses(vocabulary, PERSON_CLASSES)
    applying: set[object] = set()
    for cls in classes:
        for shape in shapes.subjects(SH.targetClass, URIRef(cls)):
            _node_shapes(shapes, shape, applying)
    public = {RDF_TYPE}
    for shape in set(shapes.subjects(SH.targetSubjectsOf, None)):
        public |= {str(p) for p in shapes.objects(shape, SH.targetSubjectsOf) if isinstance(p, URIRef)}
        _node_shapes(shapes, shape, applying)
    consent = set()
    for shape in applying:
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            if not isinstance(path, URIRef):  # inverse or sequence paths say nothing about the person itself
                continue
            flag = shapes.value(prop, NEEDS_CONSENT)
            if isinstance(flag, Literal) and flag.toPython() is True:
                consent.add(str(path))
            else:
                public.add(str(path))
    subject_of = {str(p) for c in classes for p in vocabulary.subjects(RDFS.domain, URIRef(c))
                  if isinstance(p, URIRef)}
    object_of = {str(p) for c in classes for p in vocabulary.subjects(RDFS.range, URIRef(c))
                 if isinstance(p, URIRef)}
    return PersonPolicy(frozenset(classes), frozenset(public - consent), frozenset(consent),
                        frozenset(subject_of), frozenset(object_of))


@lru_cache(maxsize=1)
def person_policy() -> PersonPolicy:
    from zitkg import validation  # here, not at the top: validation -> bundle -> privacy

    return derive_policy(validation.shapes_graph(), validation.vocabulary_graph())


def persons_in(triples: Iterable[ox.Triple], policy: PersonPolicy | None = None) -> set[ox.NamedNode | ox.BlankNode]:
    """The subjects and objects of ``triples`` that are persons by their type, or by a property's domain/range."""
    policy = policy or person_policy()
    found: set[ox.NamedNode | ox.BlankNode] = set()
    for t in triples:
        predicate = t.predicate.value
        if predicate == RDF_TYPE and t.object.value in policy.person_classes:
            found.add(t.subject)
        elif predicate in policy.person_subject_of:
            found.add(t.subject)
        elif predicate in policy.person_object_of and isinstance(t.object, ox.NamedNode | ox.BlankNode):
            found.add(t.object)
    return found


def split_private(
    triples: Iterable[ox.Triple], known_persons: Iterable[ox.NamedNode | ox.BlankNode] = (),
    policy: PersonPolicy | None = None,
) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(public, private): a person's statements outside the allow-list, and what hangs off them, go private."""
    policy = policy or person_policy()
    triples = list(triples)
    persons = persons_in(triples, policy) | set(known_persons)
    consent = {
        (t.subject, t.object.value)
        for t in triples
        if t.predicate.value == CONSENTED_FIELD and isinstance(t.object, ox.NamedNode)
    }
    private_index = {
        i for i, t in enumerate(triples)
        if t.subject in persons and t.predicate.value not in policy.public
        and (t.subject, t.predicate.value) not in consent
    }
    _withhold_dependants(triples, private_index, persons)
    public = [t for i, t in enumerate(triples) if i not in private_index]
    private = [t for i, t in enumerate(triples) if i in private_index]
    return public, private


def _withhold_dependants(triples: list[ox.Triple], private_index: set[int], persons: set) -> None:
    """Nodes reached only through withheld statements (a vCard address, a phone node) are withheld whole.

    A node qualifies when it is a blank node or a minted skolem IRI, or is described here without a
    type; a node that a public statement also points to, or that is a person itself, stays as it is.
    Each node is looked at once per statement pointing to it, so long chains cost linear time.
    """
    by_subject: dict[object, list[int]] = {}
    by_object: dict[object, list[int]] = {}
    typed = set()
    for i, t in enumerate(triples):
        by_subject.setdefault(t.subject, []).append(i)
        by_object.setdefault(t.object, []).append(i)
        if t.predicate.value == RDF_TYPE:
            typed.add(t.subject)

    def dependant(node: object) -> bool:
        if node not in by_subject or node in persons:
            return False
        if isinstance(node, ox.BlankNode) or (isinstance(node, ox.NamedNode) and GENID in node.value):
            return True
        return node not in typed

    pending = [triples[i].object for i in private_index]
    while pending:
        node = pending.pop()
        if not dependant(node) or any(j not in private_index for j in by_object[node]):
            continue
        for j in by_subject[node]:
            if j not in private_index:
                private_index.add(j)
                pending.append(triples[j].object)


def private_graph(graph_iri: str) -> str:
    return graph_iri + PRIVATE_GRAPH_SUFFIX
