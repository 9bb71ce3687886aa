"""Linked-data pages: every id/ IRI and the ontology resolve here, as HTML or RDF by content negotiation.

The configured base IRI (default https://w3id.org/sieci-zit/) is mapped onto this host: the path
``/id/org/bof`` stands for ``{base}id/org/bof``. A file suffix (.ttl, .jsonld, .rdf, .nt) picks the
format as `Accept` does.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from zitkg.describe import Description, describe
from zitkg.errors import NotAcceptable, NotFound, shown
from zitkg.ontology_docs import codebook, ontology_html
from zitkg.sparql import results
from zitkg.web.i18n import graph_name, text, ui_language

bp = Blueprint("ld", __name__)

SUFFIXES = {f.extension: f for f in results.GRAPH_FORMATS}
HTML = "text/html"
OFFERED = [HTML, *(f.media_type for f in results.GRAPH_FORMATS)]
ZIT_ONTOLOGY = "ontology"
ONTOLOGY_GRAPH = "https://w3id.org/sieci-zit/graph/ontology"


def _base() -> str:
    return current_app.extensions["zitkg"]["settings"].base_iri


def local_path(iri: str) -> str | None:
    """The path on this server that resolves ``iri``, or None for IRIs of other sites."""
    base = _base()
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    if rest.startswith("id/"):
        return "/" + rest
    if rest == ZIT_ONTOLOGY or rest.startswith(ZIT_ONTOLOGY + "#"):
        return "/" + rest
    return None


def _negotiate(suffix: str | None) -> str:
    if suffix:
        return SUFFIXES[suffix].media_type
    accept = request.accept_mimetypes
    if not accept:
        return HTML
    best = accept.best_match(OFFERED + [m for m, k in results.MEDIA_ALIASES.items() if k])
    if best is None:
        raise NotAcceptable(
            "none of the media types in Accept is offered for this resource", details={"offered": OFFERED}
        )
    return results.FORMAT_KEYS[results.MEDIA_ALIASES[best]].media_type if best in results.MEDIA_ALIASES else best


def _split_suffix(path: str) -> tuple[str, str | None]:
    stem, dot, ext = path.rpartition(".")
    if dot and ext in SUFFIXES and "/" not in ext:
        return stem, ext
    return path, None


def _rdf_response(description: Description, media_type: str) -> Response:
    key = next(f.key for f in results.GRAPH_FORMATS if f.media_type == media_type)
    response = Response(results.write_triples(key, description.triples()), mimetype=media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _alternates(path: str) -> list[tuple[str, str, str]]:
    return [(f.media_type, f.key, f"{path}.{f.extension}") for f in results.GRAPH_FORMATS]


@bp.get("/id/<path:path>")
def resource(path: str) -> Response:
    stem, suffix = _split_suffix(path)
    iri = _base() + "id/" + stem
    try:
        ox.NamedNode(iri)
    except ValueError:  # a space, a control character, "<" …: no IRI, so no resource (decided by the parser)
        raise NotFound(f"no resource here: {shown('/id/' + stem)} is not a valid IRI path",
                       hint="IRIs have no spaces, quotes or control characters; see /codebook") from None
    media_type = _negotiate(suffix)
    service = current_app.extensions["zitkg"]["sparql"]
    description = describe(service, iri)
    if media_type != HTML:
        return _rdf_response(description, media_type)
    lang = ui_language()
    response = Response(render_template(
        "resource.html",
        d=description,
        lang=lang,
        t=lambda key: text(key, lang),
        local_path=local_path,
        graph_name=lambda g: description.source(g, lang) or graph_name(g, lang),
        alternates=_alternates("/id/" + stem),
        is_example=any(p.value.endswith("#isExample") and getattr(o, "value", "") == "true"
                       for p, o, _g in description.statements),
    ), mimetype=HTML)
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


@bp.get("/ontology")
@bp.get("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The ontology IRI: pyLODE documentation for browsers (terms are #fragments), the ontology as RDF."""
    if suffix is not None and suffix not in SUFFIXES:
        raise NotFound(f"no format with the suffix .{suffix}")
    media_type = _negotiate(suffix)
    service = current_app.extensions["zitkg"]["sparql"]
    graphs = [ONTOLOGY_GRAPH]
    if media_type != HTML:
        key = next(f.key for f in results.GRAPH_FORMATS if f.media_type == media_type)
        answer = service.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", graph_format=key,
                               default_graph_uris=graphs)
        response = Response(answer.body, mimetype=media_type)
        response.headers["Vary"] = "Accept"
        return response
    response = Response(ontology_html(ui_language()), mimetype=HTML)
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


@bp.get("/codebook")
def codebook_page() -> Response:
    """What each class needs: fields, required or not, allowed values and the messages a submitter sees."""
    lang = ui_language()
    return Response(render_template("codebook.html", lang=lang, t=lambda key: text(key, lang),
                                    classes=codebook(lang), local_path=local_path), mimetype=HTML)
