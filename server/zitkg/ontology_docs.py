"""Documentation generated from the ontology (pyLODE) and from the shapes (the codebook).

pyLODE concatenates labels of all languages, so it renders one page per language from a graph
filtered to that language. Its anchors come from labels; they are renamed to the terms' local names
so that ``/ontology#CooperationNetwork`` lands on the term. Both are built on first request and kept.
"""

from __future__ import annotations

import gc
import logging
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rdflib import RDF, RDFS, SH, SKOS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from zitkg.validation import parse_files, shapes_graph, vocabulary_graph

ZIT = "https://w3id.org/sieci-zit/ontology#"
_ENTITY = re.compile(r'<div class="([^"]*entity[^"]*)" id="([^"]+)">(.*?)<code>' + re.escape(ZIT) + r"(\w+)</code>",
                     re.DOTALL)


@lru_cache(maxsize=2)
def ontology_html(lang: str) -> str:
    from zitkg import resources

    level = logging.getLogger().level
    from pylode import OntPub  # importing pyLODE sets the root logger to DEBUG

    logging.getLogger().setLevel(level)
    source = parse_files([resources.ontology_dir() / "zit.ttl"])
    graph = Graph()
    for s, p, o in source:
        if isinstance(o, Literal) and o.language and o.language != lang:
            continue
        graph.add((s, p, o))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # pyLODE leaves its CSS file open
        html = OntPub(ontology=graph).make_html()
        gc.collect()
    renames: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        renames[match.group(2)] = match.group(4)
        return f'<div class="{match.group(1)}" id="{match.group(4)}">{match.group(3)}<code>{ZIT}{match.group(4)}</code>'

    html = _ENTITY.sub(rename, html)
    for old, new in renames.items():
        html = html.replace(f'href="#{old}"', f'href="#{new}"')
    return html.replace('<html>', f'<html lang="{lang}">', 1)


@dataclass
class Field:
    path: str
    name: str
    description: str
    required: bool
    max_count: int | None
    kind: str  # what values are allowed, in words
    allowed: list[tuple[str, str]] = field(default_factory=list)  # (IRI, label)
    severity: str = "Violation"
    messages: list[str] = field(default_factory=list)
    order: float = 999
    datatypes: list[str] = field(default_factory=list)  # allowed datatype IRIs (sh:datatype, also inside sh:or)
    classes: list[str] = field(default_factory=list)  # allowed class IRIs of linked resources
    node_kinds: list[str] = field(default_factory=list)  # sh:IRI, sh:Literal, ... (also inside sh:or)


@dataclass
class ClassEntry:
    iri: str
    label: str
    definition: str
    shape: str
    fields: list[Field]
    rules: list[str]


def _text(graph: Graph, node: object, prop: URIRef, lang: str) -> str:
    values = [o for o in graph.objects(node, prop) if isinstance(o, Literal)]
    chosen = [v for v in values if v.language == lang] or [v for v in values if not v.language] or values
    return str(chosen[0]) if chosen else ""


def _label(graph: Graph, node: object, lang: str) -> str:
    return _text(graph, node, RDFS.label, lang) or _text(graph, node, SKOS.prefLabel, lang) or str(node)


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def codebook(lang: str) -> list[ClassEntry]:
    """Per class: its fields, what is required, allowed values and the messages a submitter may see."""
    shapes, vocab = shapes_graph(), vocabulary_graph()
    words = {
        "pl": {"datatype": "wartość typu", "class": "odnośnik do zasobu klasy", "in": "jedna z wartości",
               "scheme": "pojęcie ze schematu", "or": "jedno z", "any": "dowolna wartość"},
        "en": {"datatype": "a value of type", "class": "a link to a resource of class", "in": "one of",
               "scheme": "a concept of the scheme", "or": "one of", "any": "any value"},
    }[lang]
    entries = []
    for shape in sorted(set(shapes.subjects(SH.targetClass, None)), key=str):
        for cls in shapes.objects(shape, SH.targetClass):
            fields: list[Field] = []
            for prop in shapes.objects(shape, SH.property):
                path = shapes.value(prop, SH.path)
                if not isinstance(path, URIRef):
                    continue
                kind, allowed = _allowed(shapes, vocab, prop, lang, words)
                min_count = shapes.value(prop, SH.minCount) or shapes.value(prop, SH.qualifiedMinCount)
                max_count = shapes.value(prop, SH.maxCount)
                severity = shapes.value(prop, SH.severity)
                fields.append(Field(
                    path=str(path),
                    name=_text(shapes, prop, SH.name, lang) or _label(vocab, path, lang) or _short(str(path)),
                    description=_text(shapes, prop, SH.description, lang),
                    required=bool(min_count and int(min_count) > 0) and severity in (None, SH.Violation),
                    max_count=int(max_count) if max_count is not None else None,
                    kind=kind,
                    allowed=allowed,
                    severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                    messages=[str(m) for m in shapes.objects(prop, SH.message)
                              if isinstance(m, Literal) and m.language == lang],
                    order=float(shapes.value(prop, SH.order) or 999),
                    **_structure(shapes, prop),
                ))
            rules = [str(m) for c in shapes.objects(shape, SH.sparql) for m in shapes.objects(c, SH.message)
                     if isinstance(m, Literal) and m.language == lang]
            rules += [str(m) for m in shapes.objects(shape, SH.message)
                      if isinstance(m, Literal) and m.language == lang]
            entries.append(ClassEntry(
                iri=str(cls), label=_label(vocab, cls, lang),
                definition=_text(vocab, cls, SKOS.definition, lang), shape=str(shape),
                fields=sorted(fields, key=lambda f: (f.order, f.name)), rules=rules,
            ))
    return sorted(entries, key=lambda e: e.label.lower())


def _allowed(shapes: Graph, vocab: Graph, prop: object, lang: str, words: dict[str, str]):
    datatype = shapes.value(prop, SH.datatype)
    if datatype is not None:
        return f"{words['datatype']} {_short(str(datatype))}", []
    cls = shapes.value(prop, SH["class"])
    if cls is not None:
        return f"{words['class']} {_label(vocab, cls, lang)}", []
    members = shapes.value(prop, SH["in"])
    if isinstance(members, BNode):
        items = list(Collection(shapes, members))
        return words["in"], [(str(i), _label(vocab, i, lang)) for i in items]
    node = shapes.value(prop, SH.node)
    if node is not None:
        for value in shapes.objects(node, SH.property):
            scheme = shapes.value(value, SH.hasValue)
            if scheme is not None and (scheme, RDF.type, SKOS.ConceptScheme) in vocab:
                concepts = sorted(vocab.subjects(SKOS.inScheme, scheme), key=lambda c: _label(vocab, c, lang))
                return f"{words['scheme']} {_label(vocab, scheme, lang)}", [
                    (str(c), _label(vocab, c, lang)) for c in concepts]
    if shapes.value(prop, SH["or"]) is not None:
        options = list(Collection(shapes, shapes.value(prop, SH["or"])))
        names = [_short(str(shapes.value(o, SH["class"]) or shapes.value(o, SH.datatype) or "")) for o in options]
        return f"{words['or']} {', '.join(n for n in names if n)}", []
    return words["any"], []


def _structure(shapes: Graph, prop: object) -> dict[str, Any]:
    """Datatypes and classes a property shape allows, looking into sh:or and a node shape's sh:or
    (what a form needs to pick an input; the codebook shows the same in words)."""
    alternatives = [prop]
    for holder in (prop, shapes.value(prop, SH.node)):
        if holder is not None and shapes.value(holder, SH["or"]) is not None:
            alternatives += list(Collection(shapes, shapes.value(holder, SH["or"])))
    datatypes = [str(d) for a in alternatives for d in shapes.objects(a, SH.datatype)]
    classes = [str(c) for a in alternatives for c in shapes.objects(a, SH["class"])]
    kinds = [str(k).rsplit("#", 1)[-1] for a in alternatives for k in shapes.objects(a, SH.nodeKind)]
    return {"datatypes": list(dict.fromkeys(datatypes)), "classes": list(dict.fromkeys(classes)),
            "node_kinds": list(dict.fromkeys(kinds))}


def shapes_files() -> Graph:
    from zitkg import resources

    return parse_files(sorted(resources.shapes_dir().glob("*.ttl")))
