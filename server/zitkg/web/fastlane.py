"""A fast lane for plain SPARQL queries, in front of Flask.

Tiny lookups are what mapping tools and harvesters send most, and on them the web layer, not the
engine, sets the pace (docs/benchmarks.md): Flask's request, routing and response objects cost about
three times a cached answer. This WSGI middleware answers the common shape of a query request itself —
``GET /sparql?query=…``, or a POST of ``application/sparql-query`` or of a form holding only ``query`` —
through the same :class:`~zitkg.sparql.service.SparqlService` (same guards, time limit, row cap and result
cache) and with the same headers as the Flask route. Anything else (other parameters, updates, HEAD, the
HTML editor, a body over the limit) goes to Flask untouched. An error raised here is handed to Flask too,
so that it is rendered by the one error path; the query is not run twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_current_url

from zitkg.errors import ZitkgError
from zitkg.sparql import results
from zitkg.sparql.guard import query_form
from zitkg.sparql.results import Format
from zitkg.web.bodies import read_body
from zitkg.web.publish import asks_about_the_catalog
from zitkg.web.sparql import answer_headers, choose_format, client_address

ERROR_KEY = "zitkg.fastlane.error"
_GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})
_QUERY_ONLY = frozenset({"query"})
_QUERY_MEDIA = frozenset({"application/sparql-query", "application/x-www-form-urlencoded"})


@dataclass(frozen=True)
class Plan:
    """A request the lane takes: the query and the format negotiated for its form."""

    query: str
    chosen: Format
    graph_form: bool


class SparqlFastLane:
    def __init__(self, app: Callable, service: Any, max_body: int, row_limit: int,
                 client_header: str = "", body_timeout: float = 30.0) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.client_header = client_header
        self.service = service
        self.max_body = max_body
        self.row_limit = row_limit
        self.worker = str(os.getpid())

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """WSGI: the lane in front of Flask's WSGI app."""
        if environ.get("PATH_INFO") != "/sparql" or "HTTP_AUTHORIZATION" in environ:
            return self.app(environ, start_response)  # other routes, and the administrator's own view
        body = None
        method, content_type = environ.get("REQUEST_METHOD", ""), environ.get("CONTENT_TYPE", "")
        if method == "POST" and self._body_wanted(environ.get("CONTENT_LENGTH"), content_type):
            try:  # the one body reader: whole or refused (web/bodies.py), and kept for Flask
                body = read_body(environ, self.max_body, self.body_timeout)
            except ZitkgError as exc:
                environ[ERROR_KEY] = exc
                return self.app(environ, start_response)
        plan = self._plan(method, environ.get("QUERY_STRING", ""), content_type, body, environ.get("HTTP_ACCEPT", ""))
        if plan is None:
            return self.app(environ, start_response)
        try:
            reply = self._answer(plan, client_address(environ, self.client_header),
                                 get_current_url(environ, strip_querystring=True))
        except ZitkgError as exc:
            environ[ERROR_KEY] = exc
            return self.app(environ, start_response)
        if reply is None:
            return self.app(environ, start_response)
        headers, data = reply
        start_response("200 OK", headers)
        return [data]

    def _body_wanted(self, length: str | None, content_type: str) -> bool:
        """Whether a POST body is worth reading here (a query type, declared length within the limit)."""
        if not length or not length.isdigit() or int(length) > self.max_body:
            return False
        return _media(content_type) in _QUERY_MEDIA

    def _plan(self, method: str, query_string: str, content_type: str, body: bytes | None,
              accept: str) -> Plan | None:
        """The plan for a request of the plain shape; None to leave it to Flask."""
        query = self._query_text(method, query_string, content_type, body)
        if query is None or not query.strip() or asks_about_the_catalog(query):
            return None  # Flask first brings the catalog graph up to date (web/publish.py)
        form = query_form(query)
        if form is None:
            return None
        graph_form = form in _GRAPH_FORMS
        chosen = _negotiated(accept, graph_form)
        return None if chosen is None else Plan(query, chosen, graph_form)

    def _answer(self, plan: Plan, client: str, base_iri: str) -> tuple[list[tuple[str, str]], bytes] | None:
        """Headers and body of the answer; None when the form was guessed wrong (Flask sorts it out).

        The request URL is the query's base IRI (SPARQL 1.1 Protocol), as on the Flask route.
        """
        answer = self.service.query(
            plan.query,
            result_format="json" if plan.graph_form else plan.chosen.key,
            graph_format=plan.chosen.key if plan.graph_form else "turtle",
            client=client,
            base_iri=base_iri,
        )
        if answer.format_key != plan.chosen.key:
            return None
        data = answer.body or b""
        headers = answer_headers(plan.chosen, answer.truncated, self.row_limit)
        headers += [("Content-Length", str(len(data))), ("Zitkg-Worker", self.worker)]
        return headers, data

    @staticmethod
    def _query_text(method: str, query_string: str, content_type: str, body: bytes | None) -> str | None:
        if method == "GET":
            return _only_query(query_string)
        if method != "POST" or query_string or body is None:
            return None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return text if _media(content_type) == "application/sparql-query" else _only_query(text)

@lru_cache(maxsize=256)
def _negotiated(accept: str, graph_form: bool) -> Format | None:
    """The format negotiated for an Accept header, memoised (clients send few distinct ones); None: 406."""
    offered = results.GRAPH_FORMATS if graph_form else results.RESULT_FORMATS
    try:
        return choose_format(offered, None, MIMEAccept(parse_accept_header(accept)))
    except ZitkgError:
        return None  # Flask answers the 406 with the offered list


def _only_query(encoded: str) -> str | None:
    """The query of a form or query string that holds exactly one ``query`` and nothing else."""
    params = parse_qs(encoded, keep_blank_values=True)
    if params.keys() != _QUERY_ONLY or len(params["query"]) != 1:
        return None
    return params["query"][0]


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def raise_fastlane_error(environ: dict[str, Any]) -> None:
    """Flask's side of the hand-over: re-raise the fast lane's error so the error handlers shape it."""
    exc = environ.pop(ERROR_KEY, None)
    if exc is not None:
        raise exc
