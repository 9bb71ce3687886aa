"""Result formats of the SPARQL 1.1 Protocol and how to write them.

Rows are materialised (up to the row cap) before they are written, so a cut answer is still a valid
document; pyoxigraph's own writers cannot stop early, hence the small writers for SELECT/ASK here.
Graph results are written by pyoxigraph.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _quote  # the C encoder
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str
    extension: str


# SELECT / ASK answers. The first entry is the default.
RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "srj"),
    Format("xml", "application/sparql-results+xml", "srx"),
    Format("csv", "text/csv", "csv"),
    Format("tsv", "text/tab-separated-values", "tsv"),
)
# CONSTRUCT / DESCRIBE answers. The first entry is the default.
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", "ttl"),
    Format("ntriples", "application/n-triples", "nt"),
    Format("jsonld", "application/ld+json", "jsonld"),
    Format("rdfxml", "application/rdf+xml", "rdf"),
)
_RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
# Extra media types that clients send and that mean one of ours.
MEDIA_ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/x-turtle": "turtle",
    "text/n3": "turtle",
    "text/plain": "ntriples",
    "application/json+ld": "jsonld",
    "application/xhtml+xml": None,
}
FORMAT_KEYS = {f.key: f for f in RESULT_FORMATS + GRAPH_FORMATS}
# Short names accepted in the `format` parameter (browsers cannot set Accept).
FORMAT_PARAM_ALIASES = {
    "srj": "json",
    "srx": "xml",
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "json-ld": "jsonld",
    "rdf": "rdfxml",
    "rdf/xml": "rdfxml",
    "xml-rdf": "rdfxml",
}


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"unexpected term {term!r}")


def _json_piece(term: object) -> str:
    """The SPARQL JSON of one term as text (the common cases without building a dict)."""
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _quote(term.value) + "}"
    if isinstance(term, ox.Literal):
        value = _quote(term.value)
        if term.language:
            return '{"type":"literal","value":' + value + ',"xml:lang":' + _quote(term.language) + "}"
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return '{"type":"literal","value":' + value + "}"
        return '{"type":"literal","value":' + value + ',"datatype":' + _quote(datatype) + "}"
    return json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))


def write_json(variables: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    # Terms repeat a lot across rows (IRIs of classes, themes, organisations): each distinct term is
    # written to JSON text once and the rows are joined from those pieces.
    pieces: dict[object, str] = {}
    keys = [json.dumps(v, ensure_ascii=False) + ":" for v in variables]
    out = []
    for row in rows:
        cells = []
        for key, term in zip(keys, row, strict=True):
            if term is None:
                continue
            piece = pieces.get(term)
            if piece is None:
                piece = pieces[term] = _json_piece(term)
            cells.append(key + piece)
        out.append("{" + ",".join(cells) + "}")
    head = json.dumps({"vars": list(variables)}, ensure_ascii=False, separators=(",", ":"))
    return ('{"head":' + head + ',"results":{"bindings":[' + ",".join(out) + "]}}").encode()


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"unexpected term {term!r}")


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'


def write_xml(variables: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = [_XML_HEAD, "<head>"]
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        for v, t in zip(variables, row, strict=True):
            if t is not None:
                out.append(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
        out.append("</result>")
    out.append("</results></sparql>")
    return "".join(out).encode()


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def write_csv(variables: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow([_csv_value(t) for t in row])
    return buf.getvalue().encode()


def write_tsv(variables: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def write_boolean(value: bool, key: str) -> bytes:
    if key == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if key == "xml":
        return f"{_XML_HEAD}<head/><boolean>{str(value).lower()}</boolean></sparql>".encode()
    if key == "csv":
        return f"_askResult\r\n{str(value).lower()}\r\n".encode()
    if key == "tsv":
        return f"?_askResult\n{str(value).lower()}\n".encode()
    raise ValueError(key)


_SOLUTION_WRITERS = {"json": write_json, "xml": write_xml, "csv": write_csv, "tsv": write_tsv}


def write_solutions(key: str, variables: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    return _SOLUTION_WRITERS[key](variables, rows)


def write_triples(key: str, triples: Sequence[ox.Triple]) -> bytes:
    prefixes = {
        "zit": "https://w3id.org/sieci-zit/ontology#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "dcterms": "http://purl.org/dc/terms/",
    }
    fmt = _RDF_FORMATS[key]
    if key == "turtle":
        return ox.serialize(triples, format=fmt, prefixes=prefixes)
    return ox.serialize(triples, format=fmt)
