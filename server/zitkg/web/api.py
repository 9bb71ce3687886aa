"""REST API over the query library: list, describe and run questions; OpenAPI 3.1 from the headers.

Every question has a stable URL (``/api/queries/{id}/results?param=…``) that can be cited, answers in
SPARQL JSON, plain JSON rows, CSV, TSV (and GeoJSON when rows carry a place), and pages with
``limit``/``offset`` and ``Link`` headers.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, json, render_template_string, request, url_for

from zitkg import tabular
from zitkg.errors import BadRequest, NotAcceptable, shown
from zitkg.queries import GEOMETRY_VARIABLE, LANGUAGES, MAX_PAGE, QueryDefinition, QueryLibrary, has_geometry
from zitkg.sparql import results
from zitkg.sparql.service import MIN_TIMEOUT
from zitkg.web.openapi import build_openapi

bp = Blueprint("api", __name__, url_prefix="/api")

_TABLE_FORMATS = {
    "json": "application/json",
    "sparql-json": "application/sparql-results+json",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "geojson": "application/geo+json",
}
_GRAPH_FORMATS = {f.key: f.media_type for f in results.GRAPH_FORMATS}


def _library() -> QueryLibrary:
    return current_app.extensions["zitkg"]["library"]


def request_language() -> str:
    lang = request.args.get("lang")
    if lang is not None:  # given, even empty: one of the documented values (OpenAPI: an enum)
        if lang not in LANGUAGES:
            raise BadRequest(f"lang must be one of {', '.join(LANGUAGES)}; got {shown(lang)}",
                             details={"parameter": "lang", "allowed": list(LANGUAGES)})
        return lang
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def describe(definition: QueryDefinition, lang: str) -> dict[str, Any]:
    return {
        "id": definition.id,
        "title": definition.title[lang],
        "description": definition.description[lang],
        "titles": dict(definition.title),
        "descriptions": dict(definition.description),
        "tags": list(definition.tags),
        "form": definition.form,
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "class": p.rdf_class,
                "datatype": p.datatype,
                "scheme": p.scheme,
                "default": p.default,
                "example": p.example,
                "expected": p.expected,
            }
            for p in definition.params
        ],
        "geo": has_geometry(definition),
        "results": url_for("api.query_results", qid=definition.id, _external=True),
        "sparql": definition.sparql,
    }


@bp.get("/queries")
def list_queries() -> Response:
    lang = request_language()
    items = [describe(d, lang) for d in _library().registry]
    for item in items:
        item.pop("sparql")
    return _json({"queries": items, "lang": lang})


@bp.get("/queries/<qid>")
def query_metadata(qid: str) -> Response:
    return _json(describe(_library().registry.get(qid), request_language()))


def _format(definition: QueryDefinition) -> tuple[str, str]:
    offered = _GRAPH_FORMATS if definition.form in {"CONSTRUCT", "DESCRIBE"} else dict(_TABLE_FORMATS)
    if "geojson" in offered and not has_geometry(definition):
        offered.pop("geojson")
    wanted = request.args.get("format")
    if wanted is not None:  # given, even empty: one of the documented values (OpenAPI: an enum)
        if wanted not in offered:
            raise NotAcceptable(f"format {shown(wanted)} is not offered for this query",
                                details={"offered": sorted(offered)})
        return wanted, offered[wanted]
    best = request.accept_mimetypes.best_match(list(offered.values())) if request.accept_mimetypes else None
    if request.accept_mimetypes and best is None:
        raise NotAcceptable("none of the media types in Accept is offered for this query",
                            details={"offered": sorted(offered.values())})
    key = next((k for k, v in offered.items() if v == best), next(iter(offered)))
    return key, offered[key]


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # int() would also take " 5", "1_000" and other scripts' digits
        raise BadRequest(f"{name} must be a whole number; got {shown(raw)}", details={"parameter": name})
    value = int(raw)
    if value < 0 or value > maximum:
        raise BadRequest(f"{name} must be between 0 and {maximum}; got {value}")
    return value


def _float_arg(name: str, minimum: float) -> float | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan  # float() would also take "inf", "nan", " 5"
    if not math.isfinite(value) or value < minimum:
        raise BadRequest(f"{name} must be a number of at least {minimum:g}; got {shown(raw)}",
                         details={"parameter": name})
    return value


_CONTROL = {"lang", "format", "limit", "offset", "timeout"}
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@bp.get("/queries/<qid>/results")
def query_results(qid: str) -> Response:
    library = _library()
    definition = library.registry.get(qid)
    key, media_type = _format(definition)
    lang = request_language()
    limit = _int_arg("limit", MAX_PAGE, MAX_PAGE)
    offset = _int_arg("offset", 0, 10_000_000)
    # An empty value is no value (OpenAPI: allowEmptyValue), so the parameter's default applies, as when absent.
    params = {k: v for k, v in request.args.items() if k not in _CONTROL and v != ""}
    timeout = _float_arg("timeout", MIN_TIMEOUT)
    _definition, answer, bound = library.run(qid, params, lang=lang, timeout=timeout)
    if answer.kind == "graph":
        body = results.write_triples(key, list(answer.triples))
        return Response(body, mimetype=media_type)
    keep = [i for i, v in enumerate(answer.variables) if v not in bound]
    variables = [answer.variables[i] for i in keep]
    all_rows = [tuple(row[i] for i in keep) for row in answer.rows] if answer.kind == "solutions" else []
    if answer.kind == "boolean":
        return _json({"boolean": answer.boolean})
    page = all_rows[offset : offset + limit]
    if key == "json":
        body = json.dumps({
            "query": qid,
            "lang": lang,
            "columns": variables,
            "rows": tabular.rows_as_dicts(variables, page),
            "total": len(all_rows),
            "offset": offset,
            "limit": limit,
            "truncated": answer.truncated,
        }, ensure_ascii=False).encode()
    elif key == "sparql-json":
        body = results.write_json(variables, page)
    elif key in {"csv", "tsv"}:
        body = tabular.write_table(variables, page, "," if key == "csv" else "\t")
    else:
        body = tabular.write_geojson(variables, page, GEOMETRY_VARIABLE)
    response = Response(body, mimetype=media_type)
    if key in {"csv", "tsv"}:
        response.headers["Content-Disposition"] = f'attachment; filename="{qid}.{key}"'
    response.headers["X-Total-Count"] = str(len(all_rows))
    links = _page_links(qid, len(all_rows), offset, limit)
    if links:
        response.headers["Link"] = ", ".join(links)
    if answer.truncated:
        response.headers["Zitkg-Results-Truncated"] = "true"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def _page_links(qid: str, total: int, offset: int, limit: int) -> list[str]:
    base = url_for("api.query_results", qid=qid, _external=True)
    args = {k: v for k, v in request.args.items() if k not in {"limit", "offset"}}

    def link(new_offset: int, rel: str) -> str:
        return f'<{base}?{urlencode({**args, "limit": limit, "offset": new_offset})}>; rel="{rel}"'

    links = []
    if limit and offset + limit < total:
        links.append(link(offset + limit, "next"))
        links.append(link(((total - 1) // limit) * limit, "last"))
    if offset > 0 and limit:
        links.append(link(max(0, offset - limit), "prev"))
        links.append(link(0, "first"))
    return links


def _json(data: Any) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:

    library = _library()
    return _json(build_openapi(library.registry, request.host_url.rstrip("/"),
                               lambda p: [iri for iri, _label in library.allowed_values(p)]))


_DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>zitkg API</title><link rel="stylesheet" href="{{ css }}"></head>
<body><div id="swagger-ui" data-spec="{{ spec }}"><noscript>The interactive page needs JavaScript; the description is
at <a href="{{ spec }}">{{ spec }}</a>.</noscript></div>
<script src="{{ js }}"></script>
<script src="{{ start }}"></script>
</body></html>"""


@bp.get("/")
def docs() -> str:
    return render_template_string(
        _DOCS_PAGE,
        spec=url_for("api.openapi"),
        css=url_for("assets.asset", package="swagger-ui-dist", filename="swagger-ui.css"),
        js=url_for("assets.asset", package="swagger-ui-dist", filename="swagger-ui-bundle.js"),
        start=url_for("static", filename="api-docs.js"),  # no inline script: the CSP allows none
    )


# --- full-text search ------------------------------------------------------------------------------------

_SEARCH_FORMATS = {"json": "application/json", "csv": "text/csv"}


@bp.get("/search")
def search() -> Response:
    """The search of the search page (zitkg.search): ranked hits, facet counts, suggestions; JSON or CSV."""
    from zitkg import explore

    lang = request_language()
    wanted = request.args.get("format")
    if wanted is not None and wanted not in _SEARCH_FORMATS:
        raise NotAcceptable(f"format {shown(wanted)} is not offered for the search",
                            details={"offered": sorted(_SEARCH_FORMATS)})
    if wanted is None:
        best = request.accept_mimetypes.best_match(list(_SEARCH_FORMATS.values())) if request.accept_mimetypes else None
        wanted = "csv" if best == "text/csv" else "json"
    limit = _int_arg("limit", 50, MAX_PAGE)
    offset = _int_arg("offset", 0, 10_000_000)
    q = request.args.get("q", "")
    searcher = _library().search
    found = searcher.find(q) if q.strip() else None
    index = searcher.faceted()
    selected = {f: [v for v in request.args.getlist(f) if v] for f in explore.FACETS if request.args.getlist(f)}
    result = explore.search(index, q, selected, lang, found)
    page = result.items[offset: offset + limit]
    records = [explore.item_record(index, item, lang, result.hit(item.iri)) for item in page]
    if wanted == "csv":
        response = Response(explore.records_csv(records), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="zitkg-search.csv"'
    else:
        response = _json({
            "q": q, "lang": lang, "filters": selected, "total": result.total, "offset": offset, "limit": limit,
            "items": records,
            "suggestions": found.suggestions if found is not None else [],
            "facets": {f: [{"iri": v.iri, "label": v.label, "count": v.count, "selected": v.selected}
                           for v in values] for f, values in result.facets.items()},
        })
    response.headers["X-Total-Count"] = str(result.total)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept, Accept-Language"
    return response
