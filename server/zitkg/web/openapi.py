"""The OpenAPI 3.1 description, generated from the query headers so that it can never drift from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zitkg import __version__
from zitkg.queries import GEOMETRY_VARIABLE, LANGUAGES, MAX_PAGE, Parameter, QueryDefinition, Registry, has_geometry
from zitkg.sparql.service import MIN_TIMEOUT

_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_RESPONSE = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}


def _param_schema(param: Parameter, allowed: list[str]) -> dict[str, Any]:
    if param.type in {"iri", "concept"}:
        schema: dict[str, Any] = {"type": "string", "format": "iri"}
        if allowed:
            schema["enum"] = allowed
    else:
        local = (param.datatype or "").rsplit("#", 1)[-1]
        schema = {"type": "string"}
        if local == "date":
            schema["format"] = "date"
        elif local in {"integer", "int", "long"}:
            schema = {"type": "integer"}
    if param.default is not None:
        schema["default"] = param.default
    return schema


def _results_path(query: QueryDefinition, allowed: Callable[[Parameter], list[str]]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": f"{p.label['en'] + ': ' if p.label else ''}{p.expected} (empty: as if not given)",
            "allowEmptyValue": True,  # zitkg.queries.bind reads an empty value as no value
            "schema": _param_schema(p, allowed(p)),
            **({"example": p.example} if p.example else {}),
        }
        for p in query.params
    ]
    graph = query.form in {"CONSTRUCT", "DESCRIBE"}
    formats = (
        ["turtle", "ntriples", "jsonld", "rdfxml"]
        if graph
        else ["json", "sparql-json", "csv", "tsv"] + (["geojson"] if has_geometry(query) else [])
    )
    parameters += [
        {"$ref": "#/components/parameters/lang"},
        {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": formats}},
        {"$ref": "#/components/parameters/timeout"},
    ]
    if not graph:
        parameters += [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"}]
    if graph:
        content = {m: {"schema": {"type": "string"}} for m in (
            "text/turtle", "application/n-triples", "application/rdf+xml")}
        content["application/ld+json"] = {"schema": {}}
    else:
        content = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Rows"}},
            "application/sparql-results+json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/tab-separated-values": {"schema": {"type": "string"}},
        }
        if has_geometry(query):
            content["application/geo+json"] = {"schema": {"type": "object"}}
    return {
        "get": {
            "operationId": f"run-{query.id}",
            "summary": query.title["en"],
            "description": f"{query.description['en']}\n\n{query.description['pl']}\n\n```sparql\n{query.sparql}```",
            "tags": list(query.tags[:1]) or ["queries"],
            "parameters": parameters,
            "responses": {
                "200": {"description": "The answer", "content": content},
                "400": _ERROR_RESPONSE,
                "404": _ERROR_RESPONSE,
                "406": _ERROR_RESPONSE,
                "503": _ERROR_RESPONSE,
            },
        }
    }


_SEARCH_FACETS = ("type", "theme", "network", "organisation", "mof", "voivodeship", "year")


def _search_path() -> dict[str, Any]:
    """The full-text search (zitkg.search): the hits of the search page, JSON or CSV."""
    facets = [{"name": f, "in": "query", "required": False, "style": "form", "explode": True,
               "description": f"Keep hits with one of these values of the {f} facet (IRIs; years for year)",
               "schema": {"type": "array", "items": {"type": "string", "maxLength": 2000}}}
              for f in _SEARCH_FACETS]
    return {
        "get": {
            "operationId": "search",
            "summary": "Full-text search: every Polish word form, no-diacritics input, ranked, with facets",
            "description": "All words must occur (in any form; the last word may be the start of a word). Hits "
            "in names come before hits in descriptions, words close together before words far apart, and "
            "practices, pilots, experts, associations, networks and MOFs before budget lines, indicator "
            "values and memberships. When nothing matches, suggestions gives the nearest words.",
            "parameters": [
                {"name": "q", "in": "query", "required": False, "description": "The words to search for",
                 "schema": {"type": "string", "maxLength": 500}},
                *facets,
                {"$ref": "#/components/parameters/lang"},
                {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["json", "csv"]}},
                {"$ref": "#/components/parameters/limit"},
                {"$ref": "#/components/parameters/offset"},
            ],
            "responses": {
                "200": {"description": "Ranked hits, facet counts and suggestions",
                        "content": {"application/json": {"schema": {"type": "object",
                                                                    "required": ["q", "total", "items"]}},
                                    "text/csv": {"schema": {"type": "string"}}}},
                "400": _ERROR_RESPONSE,
                "406": _ERROR_RESPONSE,
            },
        }
    }


def _graph_store_paths() -> dict[str, Any]:
    """The Graph Store Protocol (/graph-store) and the publication API: whole graphs in and out."""
    graph = {"name": "graph", "in": "query", "required": False, "schema": {"type": "string", "format": "iri"},
             "description": "IRI of the graph (indirect identification); or send `default` for the default graph"}
    default = {"name": "default", "in": "query", "required": False, "allowEmptyValue": True,
               "schema": {"type": "string"}, "description": "the default graph (the union of the published graphs)"}
    rdf = {media: {"schema": {"type": "string"}} for media in
           ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")}
    errors = {code: _ERROR_RESPONSE for code in ("400", "403", "404", "406", "408", "413", "415")}
    admin = "Administrator only (`Authorization: Bearer <ZITKG_ADMIN_TOKEN>`). "
    return {
        "/graph-store": {
            "get": {"operationId": "graph-store-get", "summary": "A published graph (SPARQL 1.1 Graph Store Protocol)",
                    "parameters": [graph, default],
                    "responses": {"200": {"description": "The graph", "content": rdf}, **errors}},
            "put": {"operationId": "graph-store-put", "summary": admin + "Replace a graph with the body, whole or not",
                    "parameters": [graph, default], "requestBody": {"content": rdf},
                    "responses": {"201": {"description": "Created"}, "204": {"description": "Replaced"}, **errors}},
            "post": {"operationId": "graph-store-post", "summary": admin + "Merge the body into a graph, or create "
                     "a graph (no parameter: Location names it)", "parameters": [graph, default],
                     "requestBody": {"content": rdf},
                     "responses": {"201": {"description": "Created"}, "204": {"description": "Merged"}, **errors}},
            "delete": {"operationId": "graph-store-delete", "summary": admin + "Drop a graph",
                       "parameters": [graph, default],
                       "responses": {"204": {"description": "Dropped"}, **errors}},
        },
        "/api/publication": {
            "get": {"operationId": "publication-list", "summary": "The published graphs",
                    "responses": {"200": {"description": "IRIs", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {"published": {
                            "type": "array", "items": {"type": "string"}}}}}}}, **errors}},
            "post": {"operationId": "publication-publish", "summary": admin + "Publish graphs (?graph=, repeatable)",
                     "parameters": [{**graph, "required": True}],
                     "responses": {"200": {"description": "Published now"}, **errors}},
            "delete": {"operationId": "publication-unpublish", "summary": admin + "Unpublish graphs",
                       "parameters": [{**graph, "required": True}],
                       "responses": {"200": {"description": "Published now"}, **errors}},
        },
    }


def build_openapi(
    registry: Registry, server_url: str, allowed: Callable[[Parameter], list[str]] = lambda p: []
) -> dict[str, Any]:
    """The description of the API; ``allowed`` lists the IRIs an IRI/concept parameter accepts."""
    paths: dict[str, Any] = {
        "/api/queries": {
            "get": {
                "operationId": "list-queries",
                "summary": "The library of mapping questions",
                "parameters": [{"$ref": "#/components/parameters/lang"}],
                "responses": {
                    "200": {"description": "All queries with their metadata",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryList"}}}},
                    "400": _ERROR_RESPONSE,
                },
            }
        },
    }
    for query in registry:
        paths[f"/api/queries/{query.id}"] = {
            "get": {
                "operationId": f"describe-{query.id}",
                "summary": f"Metadata and SPARQL of: {query.title['en']}",
                "parameters": [{"$ref": "#/components/parameters/lang"}],
                "responses": {
                    "200": {"description": "Metadata",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Query"}}}},
                    "400": _ERROR_RESPONSE,
                },
            }
        }
        paths[f"/api/queries/{query.id}/results"] = _results_path(query, allowed)
    paths["/api/search"] = _search_path()
    paths.update(_graph_store_paths())
    query_schema = {
        "type": "object",
        "required": ["id", "title", "description", "parameters", "results"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "titles": {"type": "object"},
            "descriptions": {"type": "object"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "form": {"type": "string"},
            "parameters": {"type": "array", "items": {"type": "object"}},
            "geo": {"type": "boolean"},
            "results": {"type": "string"},
            "sparql": {"type": "string"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "zitkg — mapping questions of „Sieciowanie Związków ZIT w Polsce”",
            "version": __version__,
            "description": "Each question of the query library as one call. Answers carry labels in the requested "
            "language next to IRIs. The SPARQL endpoint itself is at /sparql.",
            "license": {"name": "CC BY 4.0 (data)", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "parameters": {
                "lang": {"name": "lang", "in": "query", "required": False,
                         "description": "Language of labels and texts (default: Accept-Language, then pl)",
                         "schema": {"type": "string", "enum": list(LANGUAGES)}},
                "limit": {"name": "limit", "in": "query", "required": False,
                          "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE}},
                "offset": {"name": "offset", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}},
                "timeout": {"name": "timeout", "in": "query", "required": False,
                            "description": "Seconds; lowers the server's time limit, never raises it (a larger "
                            "value means the server's limit)",
                            "schema": {"type": "number", "minimum": MIN_TIMEOUT}},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["status", "error", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "hint": {"type": "string"},
                        "details": {},
                    },
                },
                "Rows": {
                    "type": "object",
                    "required": ["columns", "rows", "total", "offset", "limit"],
                    "properties": {
                        "query": {"type": "string"},
                        "lang": {"type": "string"},
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "object"}},
                        "total": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "truncated": {"type": "boolean"},
                    },
                },
                "Query": query_schema,
                "QueryList": {
                    "type": "object",
                    "required": ["queries"],
                    "properties": {"queries": {"type": "array", "items": {"type": "object"}},
                                   "lang": {"type": "string"}},
                },
            },
        },
        "x-geometry-variable": GEOMETRY_VARIABLE,
    }
