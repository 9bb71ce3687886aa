"""Every error answers in one shape: JSON for clients, a small HTML page for browsers (STYLE.md §5)."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Flask, Response, current_app, json, request
from rdflib import RDF, RDFS, BNode, Graph, Literal
from rdflib.namespace import SH
from rdflib.term import Node
from werkzeug.exceptions import HTTPException

from zitkg.errors import ZitkgError
from zitkg.web.i18n import _, translate, ui_language


def error_body(status: int, code: str, message: str, hint: str | None = None, details: Any = None) -> dict:
    """The one JSON shape of an error; pinned by tests/test_error_shape.py."""
    body: dict[str, Any] = {"status": status, "error": code, "message": message}
    if hint:
        body["hint"] = hint
    if details is not None:
        body["details"] = details
    return body


SENTENCE_KEYS = frozenset({"message", "hint", "summary", "pl", "en"})  # texts that may quote a value
SENTENCE_FACTOR = 5


def capped(body: Any, max_items: int, max_chars: int, *, limit: int | None = None) -> Any:
    """An error body that cannot grow with the input: lists cut to ``max_items`` (the rest counted in a
    sibling ``<name>Omitted``), strings to ``max_chars`` (sentences, which may quote a value, to five times
    that). Applied to every error at the one place that renders them, so every source is covered."""
    limit = max_chars if limit is None else limit
    if isinstance(body, str):
        return body if len(body) <= limit else f"{body[:limit]}… ({len(body)} characters)"
    if isinstance(body, list):
        return [capped(v, max_items, max_chars) for v in body[:max_items]]
    if not isinstance(body, dict):
        return body
    out = {key: capped(value, max_items, max_chars,
                       limit=max_chars * SENTENCE_FACTOR if key in SENTENCE_KEYS else max_chars)
           for key, value in body.items()}
    for key, value in body.items():
        if isinstance(value, list) and len(value) > max_items:
            omitted = f"{key}Omitted"
            already = body.get(omitted)
            out[omitted] = (already if isinstance(already, int) else 0) + len(value) - max_items
    return out


def capped_report(graph: Graph, max_items: int, max_chars: int) -> Graph:
    """A SHACL validation report with at most ``max_items`` results (the rest counted in an rdfs:comment)
    and literal values cut like the strings of a JSON error."""
    results = sorted(graph.objects(None, SH.result), key=lambda r: tuple(
        str(graph.value(r, p)) for p in (SH.focusNode, SH.resultPath, SH.sourceShape)))
    dropped = set(results[max_items:])
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace)
    seen: set[Node] = set()
    todo: list[Node] = [s for s in set(graph.subjects(RDF.type, SH.ValidationReport))]
    while todo:  # the report node and, through blank nodes and results, everything it says
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for predicate, obj in graph.predicate_objects(subject):
            if obj in dropped:
                continue
            if isinstance(obj, Literal) and len(obj) > max_chars:
                obj = Literal(f"{obj[:max_chars]}… ({len(obj)} characters)", lang=obj.language)
            out.add((subject, predicate, obj))
            if isinstance(obj, BNode) or obj in results:
                todo.append(obj)
    for report in graph.subjects(RDF.type, SH.ValidationReport):
        if dropped:
            out.add((report, RDFS.comment, Literal(f"{len(dropped)} more results not listed", lang="en")))
            out.add((report, RDFS.comment, Literal(f"pominięto {len(dropped)} dalszych wyników", lang="pl")))
    return out


def _limits() -> tuple[int, int]:
    settings = current_app.extensions.get("zitkg", {}).get("settings")
    return (settings.error_max_items, settings.error_max_chars) if settings else (100, 200)


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes[
        "application/json"
    ]


# Page titles of the HTML error pages (English message ids, Polish in the catalog).
TITLES = {
    400: _("The request is not valid"),
    401: _("A token is needed"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("This method is not allowed here"),
    406: _("No format offered fits the request"),
    413: _("The request is too large"),
    415: _("This content type is not accepted"),
    422: _("The data do not pass validation"),
    500: _("Something went wrong on our side"),
    503: _("The service cannot answer now"),
}


def render_error(body: dict) -> Response:
    body = {**capped(body, *_limits()), "error": body["error"]}  # the code is ours, never cut
    status = body["status"]
    if _wants_html():
        return Response(_error_page(body), status=status, mimetype="text/html")
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _error_page(body: dict) -> str:
    """A small page in the UI's language (Polish by default); the detail is the English message itself."""
    lang = ui_language()
    status = body["status"]
    title = translate(TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400]), lang)
    detail_lang = "" if lang == "en" else ' lang="en"'
    hint = f"<p{detail_lang}>{escape(body['hint'])}</p>" if body.get("hint") else ""
    home = translate(_("Back to the home page"), lang)
    return (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{status} {escape(title)}</title>"
        f"<main><h1>{status} {escape(title)}</h1><p{detail_lang}>{escape(body['message'])}</p>{hint}"
        f'<p><a href="/">{escape(home)}</a></p></main></html>'
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(ZitkgError)
    def _zitkg_error(exc: ZitkgError) -> Response:
        report = getattr(exc, "report", None)
        if report is not None and request.accept_mimetypes.best_match(
            ["application/json", "text/turtle"]
        ) == "text/turtle":
            # The sh:ValidationReport for SHACL tools, with as many results as the JSON report lists.
            graph = capped_report(report.graph, *_limits())
            return Response(graph.serialize(format="turtle"), status=exc.status, mimetype="text/turtle")
        response = render_error(error_body(exc.status, exc.code, exc.message, exc.hint, exc.details))
        if exc.status in {429, 503}:  # busy, not broken: a client may come back (RFC 9110 10.2.3)
            response.headers["Retry-After"] = "1" if exc.status == 429 else "5"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "-")
        response = render_error(error_body(exc.code or 500, code, exc.description or exc.name))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response
