"""Every error answers in one shape: JSON for clients, a small HTML page for browsers (STYLE.md §5)."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Flask, Response, json, request
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
            # The raw sh:ValidationReport for SHACL tools.
            return Response(report.graph.serialize(format="turtle"), status=exc.status, mimetype="text/turtle")
        return render_error(error_body(exc.status, exc.code, exc.message, exc.hint, exc.details))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "-")
        response = render_error(error_body(exc.code or 500, code, exc.description or exc.name))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response
