"""Personal contact data is public only where consent is recorded for that very field.

Experts are people. A contact statement (e-mail, phone) whose subject has no ``zit:consentedField``
naming that property is moved into a private graph when it is written, so the public graphs never hold
it: the endpoint, the pages and the exports cannot leak it, whatever query they run.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

CONTACT_PROPERTIES = frozenset(
    {
        "https://schema.org/email",
        "https://schema.org/telephone",
        "https://schema.org/faxNumber",
        "https://schema.org/address",
        "http://xmlns.com/foaf/0.1/mbox",
        "http://xmlns.com/foaf/0.1/phone",
        "http://www.w3.org/2006/vcard/ns#hasEmail",
        "http://www.w3.org/2006/vcard/ns#hasTelephone",
    }
)
CONSENTED_FIELD = "https://w3id.org/sieci-zit/ontology#consentedField"
PRIVATE_GRAPH_SUFFIX = "/private"


def split_private(triples: Iterable[ox.Triple]) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(public, private): contact statements without consent for their property go private."""
    triples = list(triples)
    consent = {
        (t.subject, t.object.value)
        for t in triples
        if t.predicate.value == CONSENTED_FIELD and isinstance(t.object, ox.NamedNode)
    }
    public, private = [], []
    for t in triples:
        if t.predicate.value in CONTACT_PROPERTIES and (t.subject, t.predicate.value) not in consent:
            private.append(t)
        else:
            public.append(t)
    return public, private


def private_graph(graph_iri: str) -> str:
    return graph_iri + PRIVATE_GRAPH_SUFFIX
