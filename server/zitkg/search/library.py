"""The ``search`` question of the library answered by the full-text index, in the columns of
queries/search.rq, so that the CLI and ``/api/queries/search/results`` give the search page's hits."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from zitkg.sparql.execute import QueryAnswer

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS_DESCRIPTION = "http://purl.org/dc/terms/description"
XSD_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
VARIABLES = ("resource", "label", "type", "typeLabel", "matchedText", "matchedIn", "example", "text", "lang")


def answer_search(search: Any, _definition: Any, substitutions: dict[str, Any], lang: str) -> QueryAnswer:
    text = substitutions["text"].value if "text" in substitutions else ""
    found = search.find(text, parameter="text")
    index = search.faceted()
    items = {i.iri: i for i in index.items}
    rows = []
    for hit in found.hits:
        item = items.get(hit.iri)
        if item is None:
            continue
        types = sorted(item.types)
        if hit.matched_in == "label":
            where = SKOS + "prefLabel" if SKOS + "Concept" in types else RDFS_LABEL
        elif hit.matched_in == "alt":
            where = SKOS + "altLabel"
        else:
            where = DCTERMS_DESCRIPTION
        names = index.labels.by_iri.get(hit.iri, {})
        label = names.get(lang)
        rows.append((
            ox.NamedNode(hit.iri),
            ox.Literal(label, language=lang) if label else None,
            ox.Literal(" ".join(types)),
            ox.Literal("; ".join(index.label(t, lang) for t in types)),
            ox.Literal(hit.matched_text),
            ox.NamedNode(where),
            ox.Literal("true" if hit.is_example else "false", datatype=XSD_BOOLEAN),
            substitutions.get("text"),
            ox.Literal(lang),
        ))
    return QueryAnswer(kind="solutions", format_key="python", variables=VARIABLES, rows=tuple(rows))
