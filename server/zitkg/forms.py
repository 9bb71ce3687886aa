"""Submission forms generated from the SHACL shapes (through the codebook), one per submittable class.

The shapes are the single definition of valid data, so the form only chooses an input for each field
(text per language, a list of allowed values, a link to an existing resource, a date) and leaves the
checking to the server, whose messages the page then shows next to the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from zitkg.naming import slug
from zitkg.ontology_docs import ClassEntry, Field
from zitkg.ontology_docs import codebook as _codebook

ZIT = "https://w3id.org/sieci-zit/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DESCRIPTION = "http://purl.org/dc/terms/description"
XSD = "http://www.w3.org/2001/XMLSchema#"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
codebook = lru_cache(maxsize=4)(_codebook)  # the shapes do not change while the server runs

# Classes a submission may describe; the activity kinds share the NetworkActivity shape.
SUBMITTABLE = ("GoodPractice", "Pilot", "Expert", "ExpertSupport", "Transfer",
               "StudyVisit", "Workshop", "Training", "Consultation")
SHAPE_OF = {"StudyVisit": "NetworkActivity", "Workshop": "NetworkActivity", "Training": "NetworkActivity",
            "Consultation": "NetworkActivity"}
# Nested records the form offers as repeatable groups of fields; their names are made from the record's.
GROUPS = {"https://schema.org/MonetaryAmount", ZIT + "IndicatorValue"}
# Fields of a nested amount that only the programme's own budget data uses.
PROGRAMME_ONLY = {"position", "allocatedTo", "equalsSumOf", "inReading", "readFrom"}
# Links to records that are described inside the submission itself (use Turtle, JSON-LD or the CSV template).
NESTED = {"https://schema.org/MonetaryAmount", ZIT + "IndicatorValue", "http://www.opengis.net/ont/geosparql#Geometry"}
_NUMBERS = {XSD + t for t in ("integer", "nonNegativeInteger", "decimal", "positiveInteger")}


@dataclass
class FormField:
    key: str
    path: str
    name: str
    description: str
    required: bool
    multiple: bool
    widget: str  # lang-text | lang-area | select | text | period | date | number | iri | email | tel
    datatype: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    recommended_en: bool = False
    group_class: str | None = None  # a nested record (widget "group"): its class and its own fields
    subfields: list[FormField] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)  # suggested literal values (a currency)


@dataclass
class Form:
    cls: str  # local name of the class
    iri: str
    label: str
    definition: str
    fields: list[FormField]


def _merge(fields: list[Field]) -> list[Field]:
    """The codebook lists a path once per property shape; a form wants one input per path."""
    merged: dict[str, Field] = {}
    for f in fields:
        first = merged.get(f.path)
        if first is None:
            merged[f.path] = Field(**{**f.__dict__, "allowed": list(f.allowed), "messages": list(f.messages),
                                      "datatypes": list(f.datatypes), "classes": list(f.classes),
                                      "node_kinds": list(f.node_kinds)})
            continue
        if first.name.startswith("http") and not f.name.startswith("http"):
            first.name = f.name
        first.description = first.description or f.description
        first.required = first.required or f.required
        if f.max_count is not None:
            first.max_count = min(first.max_count or f.max_count, f.max_count)
        first.allowed += [a for a in f.allowed if a not in first.allowed]
        first.datatypes += [d for d in f.datatypes if d not in first.datatypes]
        first.classes += [c for c in f.classes if c not in first.classes]
        first.node_kinds += [k for k in f.node_kinds if k not in first.node_kinds]
        first.messages += f.messages
        first.severity = "Violation" if "Violation" in (first.severity, f.severity) else first.severity
        first.order = min(first.order, f.order)
    return sorted(merged.values(), key=lambda f: f.order)


def _widget(f: Field) -> tuple[str, str | None] | None:
    """The input for a field and the datatype of its literal; None when the form cannot offer it."""
    if f.classes and set(f.classes) <= GROUPS:
        return "group", None
    if f.classes and set(f.classes) <= NESTED:
        return None
    if f.path == DESCRIPTION:
        return "lang-area", None
    if f.path == RDFS_LABEL or f.datatypes == [LANG_STRING]:
        return "lang-text", None
    if f.allowed:
        return "select", None
    if f.classes and all(c.startswith(ZIT) for c in f.classes):
        return "select", None
    if XSD + "gYear" in f.datatypes:
        return "period", None
    if f.datatypes == [XSD + "date"]:
        return "date", XSD + "date"
    if f.datatypes == [XSD + "string"] and f.path.endswith(("/currency", "/unitCode")):
        return "code", XSD + "string"
    if f.datatypes and set(f.datatypes) <= _NUMBERS:
        return "number", f.datatypes[0]
    if f.node_kinds == ["IRI"]:
        return "iri", None
    if f.path.endswith("/email"):
        return "email", None
    if f.path.endswith("/telephone"):
        return "tel", None
    return "text", None


def _named(options: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """Options whose label is their IRI get the vocabulary's name (indicators have skos:prefLabel only)."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDFS, SKOS

    from zitkg.validation import vocabulary_graph

    vocab = vocabulary_graph()
    out = []
    for iri, label in options:
        if label == iri:
            names = [o for p in (SKOS.prefLabel, RDFS.label) for o in vocab.objects(URIRef(iri), p)
                     if isinstance(o, Literal)]
            chosen = [n for n in names if n.language == lang] or names
            label = str(chosen[0]) if chosen else label
        out.append((iri, label))
    return sorted(out, key=lambda pair: pair[1].lower())


def submittable(lang: str) -> list[tuple[str, str]]:
    """(class local name, label) of every class the form offers."""
    entries = {e.iri: e for e in codebook(lang)}
    labels = _class_labels(lang)
    return [(c, labels.get(ZIT + c) or (entries[ZIT + c].label if ZIT + c in entries else c)) for c in SUBMITTABLE]


def _class_labels(lang: str) -> dict[str, str]:
    from rdflib import RDFS, Literal, URIRef

    from zitkg.validation import vocabulary_graph

    vocab = vocabulary_graph()
    out = {}
    for c in SUBMITTABLE:
        names = [o for o in vocab.objects(URIRef(ZIT + c), RDFS.label) if isinstance(o, Literal)]
        chosen = [n for n in names if n.language == lang] or names
        if chosen:
            out[ZIT + c] = str(chosen[0])
    return out


def _fields(shape_class: str, lang: str, options: Callable[[list[str]], list[tuple[str, str]]],
            prefix: str = "", nested: bool = False) -> list[FormField]:
    entries: list[ClassEntry] = [e for e in codebook(lang) if e.iri == shape_class]
    fields: list[Field] = [f for e in entries for f in e.fields]
    out: list[FormField] = []
    keys: set[str] = set()
    merged = sorted(_merge(fields), key=lambda f: (f.path != RDFS_LABEL, f.path != DESCRIPTION, f.order))
    for f in merged:
        chosen = _widget(f)
        if chosen is None or (nested and (chosen[0] in {"group", "lang-text", "lang-area"}
                                          or f.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1] in PROGRAMME_ONLY)):
            continue  # a nested record is named after its parent; programme-only fields are not offered
        widget, datatype = chosen
        allowed = list(f.allowed) or (_named(options(f.classes), lang) if widget == "select" else [])
        if widget == "select" and not allowed:
            widget = "text"
        key = prefix + slug(f.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        key = key if key not in keys else f"{key}-{len(out)}"
        keys.add(key)
        group = f.classes[0] if widget == "group" else None
        out.append(FormField(
            key=key,
            path=f.path, name=f.name if not f.name.startswith("http") else f.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
            description=f.description, required=f.required,
            multiple=widget in {"select", "group"} and f.max_count != 1,
            widget=widget, datatype=datatype, options=allowed,
            recommended_en=widget.startswith("lang-"),
            group_class=group,
            subfields=_fields(group, lang, options, key + "-", nested=True) if group else [],
            choices=["PLN", "EUR"] if f.path.endswith("/currency") else [],
        ))
    return out


def build_form(cls: str, lang: str, options: Callable[[list[str]], list[tuple[str, str]]]) -> Form:
    """The form for a class; ``options(classes)`` gives (IRI, label) of existing resources of those classes."""
    if cls not in SUBMITTABLE:
        raise KeyError(cls)
    shape_class = ZIT + SHAPE_OF.get(cls, cls)
    entries: list[ClassEntry] = [e for e in codebook(lang) if e.iri == shape_class]
    out = _fields(shape_class, lang, options)
    entry = entries[0] if entries else None
    labels = _class_labels(lang)
    return Form(cls=cls, iri=ZIT + cls, label=labels.get(ZIT + cls, cls),
                definition=entry.definition if entry else "", fields=out)
