"""Every error answers in one shape: JSON for clients, a small HTML page for browsers (STYLE.md §5)."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from zitkg.errors import ZitkgError


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


def render_error(body: dict) -> Response:
    status = body["status"]
    if _wants_html():
        hint = f"<p>{escape(body['hint'])}</p>" if body.get("hint") else ""
        page = (
            f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{status} {escape(body["error"])}</title>'
            f"<main><h1>{status} {escape(body['error'])}</h1><p>{escape(body['message'])}</p>{hint}</main></html>"
        )
        return Response(page, status=status, mimetype="text/html")
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


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
