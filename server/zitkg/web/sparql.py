"""The SPARQL 1.1 Protocol endpoint: queries over the published graphs; updates only with a token.

Media types are negotiated with werkzeug's Accept parsing; the `format` parameter lets a browser pick
one by name. Graph forms (CONSTRUCT/DESCRIBE) and solution forms (SELECT/ASK) have their own tables.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import MIMEAccept, MultiDict

from zitkg.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from zitkg.sparql import results
from zitkg.sparql.guard import query_form
from zitkg.sparql.results import Format
from zitkg.web import bodies

bp = Blueprint("sparql", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept",
    "Access-Control-Expose-Headers": "Zitkg-Results-Truncated, Zitkg-Row-Limit",
    "Access-Control-Max-Age": "86400",
}


def _service():
    return current_app.extensions["zitkg"]["sparql"]


def negotiate(offered: tuple[Format, ...]) -> Format:
    """Pick a format from `format=` (first known value) or `Accept`; 406 with the offered list when none fits."""
    wanted = request.args.getlist("format") + _form().getlist("format")
    return choose_format(offered, wanted, request.accept_mimetypes)


# What clients send in `format=` for a graph answer (SPARQLWrapper: xml, rdf+xml, n3, turtle, json-ld, ...).
_GRAPH_FORMAT_NAMES = {"xml": "rdfxml", "rdf+xml": "rdfxml", "n3": "turtle", "json": "jsonld", "jsonld": "jsonld"}


def format_from_names(offered: tuple[Format, ...], names: list[str] | tuple[str, ...]) -> Format | None:
    """The first of ``names`` (short names, media types, with or without parameters) that is offered."""
    by_key = {f.key: f for f in offered}
    by_media = {f.media_type: f for f in offered}
    graph = offered[0] in results.GRAPH_FORMATS
    for name in names:
        for wanted in (w.strip().lower() for w in name.split(",")):
            wanted = wanted.split(";")[0].strip()
            key = (_GRAPH_FORMAT_NAMES.get(wanted) if graph else None) or wanted
            key = results.FORMAT_PARAM_ALIASES.get(key, key)
            key = results.MEDIA_ALIASES.get(key, key) or key
            if key in by_key:
                return by_key[key]
            if key in by_media:
                return by_media[key]
    return None


def choose_format(offered: tuple[Format, ...], wanted: list[str] | tuple[str, ...] | str | None,
                  accept: MIMEAccept) -> Format:
    """The negotiation itself, free of the request so that the fast lane can reuse (and memoise) it.

    A `format` value that names nothing offered is passed over for `Accept` (SPARQLWrapper sends its own
    names beside a correct Accept header), as most endpoints do.
    """
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    named = format_from_names(offered, names)
    if named is not None:
        return named
    by_key = {f.key: f for f in offered}
    by_media = {f.media_type: f for f in offered}
    # Media-type parameters (charset=utf-8, profile=...) must not keep a range from matching its type
    accept = MIMEAccept([(value.split(";")[0].strip(), quality) for value, quality in accept])
    if not accept:
        return offered[0]
    candidates = [f.media_type for f in offered] + [
        m for m, k in results.MEDIA_ALIASES.items() if k in by_key
    ]
    best = accept.best_match(candidates)
    if best is None:
        raise NotAcceptable(
            "none of the media types in Accept is offered for this query",
            details={"offered": [f.media_type for f in offered]},
        )
    return by_media.get(best) or by_key[results.MEDIA_ALIASES[best]]


def _timeout_param() -> float | None:
    raw = request.args.get("timeout") or _form().get("timeout")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"timeout must be a number of seconds, got {raw!r}") from None


def _form() -> MultiDict[str, str]:
    """Form fields of a POST, its body read whole by the one body reader (web/bodies.py)."""
    return bodies.request_form() if request.method == "POST" else MultiDict()


def _graph_uris(name: str) -> list[str]:
    return request.args.getlist(name) + _form().getlist(name)


def bearer_token() -> str | None:
    """The administrator's token: `Authorization: Bearer <token>`, or HTTP Basic with the token as password
    (for clients that speak only Basic, as rdflib's SPARQLUpdateStore and Jena's s-put do)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    basic = request.authorization
    return basic.password if basic is not None and basic.type == "basic" and basic.password else None


def _utf8_body() -> str:
    """A direct POST body: UTF-8, as the Protocol requires (2.1.3, 2.2.2); another charset is 415, bad bytes 400."""
    charset = (request.mimetype_params.get("charset") or "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(f"SPARQL bodies are UTF-8; this one says charset={charset[:40]}")
    try:
        return bodies.request_body().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8 (byte {exc.start})") from None


def _single(params: MultiDict[str, str], name: str) -> str | None:
    """The one value of ``name``; a repeated operation is ambiguous (SPARQL 1.1 Protocol 2.1.2, 2.2.2): 400."""
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"the request holds {len(values)} '{name}' parameters; send exactly one",
                         hint="see the SPARQL 1.1 Protocol, sections 2.1 and 2.2")
    return values[0] if values else None


def _read_operation() -> tuple[str | None, str | None]:
    """(query, update) from the request, as the protocol allows them to arrive."""
    if request.method == "GET":
        if "update" in request.args:
            raise BadRequest("updates must be sent with POST", hint="see the SPARQL 1.1 Protocol, section 2.2")
        return _single(request.args, "query"), None
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded" or mimetype == "multipart/form-data":
        form = _form()
        if "query" in request.args or "update" in request.args:
            raise BadRequest("the operation is both in the URL and in the form; send it once")
        query, update = _single(form, "query"), _single(form, "update")
        if query is not None and update is not None:
            raise BadRequest("send either query or update, not both")
        if query is None and update is None:
            raise BadRequest("the form has neither a 'query' nor an 'update' field")
        return query, update
    if mimetype == "application/sparql-query":
        return _utf8_body(), None
    if mimetype == "application/sparql-update":
        return None, _utf8_body()
    raise UnsupportedMediaType(
        f"POST body of type {mimetype or '(none)'} is not a SPARQL operation",
        hint="use application/sparql-query, application/sparql-update or application/x-www-form-urlencoded",
    )


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return _no_content()
    query, update = _read_operation()
    if update is not None:
        _service().update(update, bearer_token(), base_iri=request.base_url,
                          using=_graph_uris("using-graph-uri"), using_named=_graph_uris("using-named-graph-uri"))
        return _no_content()
    if query is None:
        if request.method == "GET" and _prefers_html():
            from zitkg.web.ui import sparql_editor

            return sparql_editor()
        return service_description()
    if not query.strip():
        raise BadRequest("the query is empty")
    form = query_form(query)
    graph_form = form in {"CONSTRUCT", "DESCRIBE"}
    chosen = negotiate(results.GRAPH_FORMATS if graph_form else results.RESULT_FORMATS)
    answer = _service().query(
        query,
        result_format=chosen.key if not graph_form else "json",
        graph_format=chosen.key if graph_form else "turtle",
        default_graph_uris=_graph_uris("default-graph-uri"),
        named_graph_uris=_graph_uris("named-graph-uri"),
        timeout=_timeout_param(),
        client=client_address(request.environ, current_app.extensions["zitkg"]["settings"].client_address_header),
        base_iri=request.base_url,
        admin=_service().is_admin(bearer_token()),
    )
    if answer.format_key != chosen.key:
        # The lexical guess of the form was wrong (rare: unusual syntax); answer in the default of the real form.
        return _answer_again(query, answer)
    return _response(answer.body or b"", chosen, answer.truncated)


def _no_content() -> Response:
    """204 with no body and no content type (Flask would otherwise label the empty body text/html)."""
    response = Response(status=204, headers=_CORS)
    del response.headers["Content-Type"]
    return response


def _prefers_html() -> bool:
    """A browser (text/html ranked above Turtle) gets the query editor instead of the service description."""
    accept = request.accept_mimetypes
    return bool(accept) and accept.quality("text/html") > accept.quality("text/turtle")


def _answer_again(query: str, answer) -> Response:
    offered = results.GRAPH_FORMATS if answer.kind == "graph" else results.RESULT_FORMATS
    chosen = negotiate(offered)
    again = _service().query(
        query,
        result_format=chosen.key if answer.kind != "graph" else "json",
        graph_format=chosen.key if answer.kind == "graph" else "turtle",
        default_graph_uris=_graph_uris("default-graph-uri"),
        named_graph_uris=_graph_uris("named-graph-uri"),
        timeout=_timeout_param(),
        client=client_address(request.environ, current_app.extensions["zitkg"]["settings"].client_address_header),
        base_iri=request.base_url,
        admin=_service().is_admin(bearer_token()),
    )
    return _response(again.body or b"", chosen, again.truncated)


def client_address(environ: dict, header: str = "") -> str:
    """Who a query counts against for fair scheduling: the connection's address, or behind a reverse proxy
    the last entry of the configured header (the one the proxy itself added; earlier ones are the client's
    own claims)."""
    if header:
        value = environ.get("HTTP_" + header.upper().replace("-", "_"), "")
        last = value.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return environ.get("REMOTE_ADDR") or "unknown"


def _response(body: bytes, chosen: Format, truncated: bool) -> Response:
    limit = current_app.extensions["zitkg"]["settings"].max_rows
    return Response(body, headers=answer_headers(chosen, truncated, limit))


def answer_headers(chosen: Format, truncated: bool, row_limit: int) -> list[tuple[str, str]]:
    """Headers of a query answer; the fast lane sends the same ones without building a Response."""
    media = chosen.media_type
    if media.startswith("text/") or "json" in media or "xml" in media:
        media += "; charset=utf-8"
    headers = [("Content-Type", media), *_CORS.items(), ("Vary", "Accept")]
    if truncated:
        headers += [
            ("Zitkg-Results-Truncated", "true"),
            ("Zitkg-Row-Limit", str(row_limit)),
            ("Warning", f'199 zitkg "results cut at {row_limit} rows"'),
        ]
    return headers


def service_description() -> Response:
    """SPARQL 1.1 Service Description of this endpoint (Turtle by default)."""
    chosen = negotiate(results.GRAPH_FORMATS)
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def sd(term: str) -> ox.NamedNode:
        return ox.NamedNode(SD + term)

    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(request.base_url)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("feature"), sd("BasicFederatedQuery"))
        if current_app.extensions["zitkg"]["settings"].allowed_service_hosts
        else None,
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, rdf_type, sd("Graph")),
    ]
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMATS_NS + name)))
    for graph in _service().published_graphs():
        node = ox.BlankNode()
        triples += [
            ox.Triple(dataset, sd("namedGraph"), node),
            ox.Triple(node, rdf_type, sd("NamedGraph")),
            ox.Triple(node, sd("name"), ox.NamedNode(graph)),
        ]
    body = results.write_triples(chosen.key, [t for t in triples if t is not None])
    return _response(body, chosen, truncated=False)
