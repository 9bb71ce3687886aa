"""What the graph says about one resource: its statements (with the graph each comes from), the labels
of what it links to, and the links that point at it. Used by the linked-data pages and their RDF."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from zitkg.errors import NotFound
from zitkg.sparql.service import SparqlService

LABEL_PROPS = ("http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
MAX_INCOMING = 500

# Substitution binds projected variables only, hence ?s in every projection.
_OUTGOING = """
SELECT ?p ?o ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?p ?o
"""
_LABELS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?s ?x ?label WHERE {
  { ?s ?p ?x } UNION { ?x ?p ?s } UNION { BIND(?s AS ?x) }
  ?x rdfs:label|skos:prefLabel ?label
}
"""
_INCOMING = f"""
SELECT ?x ?p ?g ?s WHERE {{ GRAPH ?g {{ ?x ?p ?s }} FILTER(isIRI(?x)) }} ORDER BY ?p ?x LIMIT {MAX_INCOMING}
"""


@dataclass
class Description:
    iri: str
    statements: list[tuple[ox.NamedNode, object, str]]  # predicate, object, graph
    incoming: list[tuple[ox.NamedNode, ox.NamedNode, str]]  # subject, predicate, graph
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # iri -> lang -> label
    submissions: dict[str, tuple[str, str]] = field(default_factory=dict)  # graph -> (organisation, time)

    def source(self, graph: str, lang: str) -> str | None:
        """'submission by <organisation>, <date>' for a statement from a published submission."""
        if graph not in self.submissions:
            return None
        organisation, when = self.submissions[graph]
        name = self.label(organisation, lang) or organisation
        return (f"zgłoszenie: {name}, {when[:10]}" if lang == "pl" else f"submission by {name}, {when[:10]}")

    def label(self, iri: str, lang: str) -> str | None:
        by_lang = self.labels.get(iri, {})
        return by_lang.get(lang) or by_lang.get("pl") or by_lang.get("en") or by_lang.get("")

    @property
    def types(self) -> list[str]:
        return [o.value for p, o, _g in self.statements if p == RDF_TYPE and isinstance(o, ox.NamedNode)]

    def triples(self) -> list[ox.Triple]:
        """The description plus the labels of everything it links to (for the RDF answers)."""
        subject = ox.NamedNode(self.iri)
        out = {ox.Triple(subject, p, o) for p, o, _g in self.statements}
        for iri, by_lang in self.labels.items():
            for lang, text in by_lang.items():
                literal = ox.Literal(text, language=lang) if lang else ox.Literal(text)
                out.add(ox.Triple(ox.NamedNode(iri), ox.NamedNode(LABEL_PROPS[0]), literal))
        return sorted(out, key=str)


_PROVENANCE = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX zit: <https://w3id.org/sieci-zit/ontology#>
SELECT ?g ?org ?when ?label WHERE {
  ?submission zit:submissionGraph ?g ; prov:wasAttributedTo ?org ; prov:generatedAtTime ?when .
  FILTER(?g IN (GRAPHS))
  OPTIONAL { ?org rdfs:label ?label }
}
"""
SUBMISSION_GRAPHS = "https://w3id.org/sieci-zit/graph/submission/"


def describe(service: SparqlService, iri: str) -> Description:
    """Everything public about ``iri``; 404 when the graph says nothing about it."""
    subject = {"s": ox.NamedNode(iri)}
    rows = service.query(_OUTGOING, result_format="python", substitutions=subject, trusted=True).rows
    if not rows:
        raise NotFound(f"the graph has no statements about {iri}")
    incoming = service.query(_INCOMING, result_format="python", substitutions=subject, trusted=True).rows
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for _s, x, label in service.query(_LABELS, result_format="python", substitutions=subject, trusted=True).rows:
        if isinstance(x, ox.NamedNode) and isinstance(label, ox.Literal):
            labels[x.value].setdefault(label.language or "", label.value)
    graphs = {g.value for *_x, g, _s in rows} | {g.value for _x, _p, g, _s in incoming}
    submissions = {}
    submitted = sorted(g for g in graphs if g.startswith(SUBMISSION_GRAPHS))
    if submitted:
        listed = ", ".join(str(ox.NamedNode(g)) for g in submitted)
        query = _PROVENANCE.replace("GRAPHS", listed)
        for graph, organisation, when, label in service.query(query, result_format="python", trusted=True).rows:
            submissions[graph.value] = (organisation.value, when.value)
            if label is not None:
                labels[organisation.value].setdefault(label.language or "", label.value)
    return Description(
        submissions=submissions,
        iri=iri,
        statements=[(p, o, g.value) for p, o, g, _s in rows],
        incoming=[(x, p, g.value) for x, p, g, _s in incoming],
        labels=dict(labels),
    )
