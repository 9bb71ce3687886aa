"""The SPARQL 1.1 Graph Store HTTP Protocol at /graph-store, and the publication API at /api/publication.

Direct identification (/graph-store/<path>: the graph's IRI is the request URL) and indirect
identification (/graph-store?graph=IRI, /graph-store?default). GET and HEAD for everyone on published
graphs; PUT, POST and DELETE with the administrator's token. The rules are in zitkg/graphstore.py.
"""

from __future__ import annotations

import secrets

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from zitkg import graphstore
from zitkg.errors import BadRequest, Forbidden
from zitkg.graphstore import Target
from zitkg.rdf_limits import check_depth
from zitkg.sparql import results
from zitkg.web import bodies
from zitkg.web.sparql import bearer_token, negotiate

bp = Blueprint("graphs", __name__)
PATH = "/graph-store"


def _ext() -> dict:
    return current_app.extensions["zitkg"]


def _is_admin() -> bool:
    return _ext()["sparql"].is_admin(bearer_token())


def _require_admin() -> None:
    if not _is_admin():
        raise Forbidden("changing graphs needs the administrator's token",
                        hint="send 'Authorization: Bearer <token>' with the token set in ZITKG_ADMIN_TOKEN")


def _target(path: str | None) -> Target:
    graph, default = request.args.getlist("graph"), "default" in request.args
    if path is not None:
        if graph or default:
            raise BadRequest("a graph named by the URL takes no graph or default parameter")
        return Target(request.base_url)
    if not graph and not default and request.method in {"GET", "HEAD"}:
        return Target(None)  # the store itself: its default graph (for everyone, the union of published graphs)
    if len(graph) + int(default) != 1:
        raise BadRequest("name exactly one graph: ?graph=IRI or ?default",
                         hint="SPARQL 1.1 Graph Store HTTP Protocol, section 4")
    if default:
        return Target(None)
    try:
        return Target(ox.NamedNode(graph[0]).value)
    except ValueError:
        raise BadRequest(f"graph {graph[0][:200]!r} is not an IRI") from None


def _body(target: Target) -> list:
    """The triples of the body: one RDF document, or several as multipart/form-data parts (GSP 5.5)."""
    settings = _ext()["settings"]
    body = bodies.read_body(request.environ, settings.max_graph_store_bytes, settings.body_timeout)
    base = target.iri or request.base_url
    if request.mimetype == "multipart/form-data":
        triples = []
        for part in request.files.values():
            media = part.mimetype or graphstore.media_for_name(part.filename or "")
            triples += _parsed(part.read(), media, base, settings)
        return triples
    return _parsed(body, request.mimetype, base, settings)


def _parsed(body: bytes, media: str, base: str, settings) -> list:  # noqa: ANN001
    if media in {"text/turtle", "application/x-turtle", "text/n3", "application/ld+json"}:
        check_depth(body, "json" if "json" in media else "turtle", settings.max_rdf_depth)
    return graphstore.parse_graph(body, media, base)


@bp.route(PATH, methods=["GET", "HEAD", "PUT", "POST", "DELETE"], defaults={"path": None})
@bp.route(PATH + "/<path:path>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store(path: str | None) -> Response:
    store = _ext()["store"]
    if request.method not in {"GET", "HEAD"}:
        _require_admin()  # before anything about the request is judged: a stranger learns nothing more
    if request.method == "POST" and path is None and not request.args:
        return _create_graph(store)
    target = _target(path)
    if request.method in {"GET", "HEAD"}:
        triples = graphstore.read(store, target, admin=_is_admin())
        chosen = negotiate(results.GRAPH_FORMATS)
        body = results.write_triples(chosen.key, triples)
        response = Response(b"" if request.method == "HEAD" else body, mimetype=chosen.media_type)
        response.headers["Vary"] = "Accept, Authorization"
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(body))
        return response
    _require_admin()
    if request.method == "DELETE":
        graphstore.delete(store, target)
        return _no_content()
    triples = _body(target)
    existed = graphstore.write(store, target, triples, replace=request.method == "PUT")
    return _no_content() if existed else Response(status=201)


def _create_graph(store) -> Response:  # noqa: ANN001
    """POST to the store itself: a new graph with an IRI of the store's choosing (Location)."""
    _require_admin()
    target = Target(request.url_root.rstrip("/") + PATH + "/" + secrets.token_hex(8))
    graphstore.write(store, target, _body(target), replace=True)
    response = Response(status=201)
    response.headers["Location"] = target.iri
    return response


def _no_content() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


# --- publication ------------------------------------------------------------------------------------------

@bp.get("/api/publication")
def published() -> Response:
    return current_app.json.response({"published": sorted(_ext()["store"].published_graphs())})


@bp.route("/api/publication", methods=["POST", "DELETE"])
def change_publication() -> Response:
    """Publish (POST) or unpublish (DELETE) the graphs named by ?graph= (administrator only)."""
    _require_admin()
    graphs = request.args.getlist("graph")
    if not graphs:
        raise BadRequest("name the graphs with ?graph=IRI (repeatable)")
    now = graphstore.publish(_ext()["store"], graphs, unpublish=request.method == "DELETE")
    return current_app.json.response({"published": now})
