"""A remote SPARQL 1.1 server as the store: Oxigraph server, Virtuoso, Fuseki, GraphDB, QLever.

Reads go over the SPARQL Protocol with the dataset in ``default-graph-uri``/``named-graph-uri``;
writes go as one SPARQL Update request (one transaction on the server). The time limit is passed on
where the server understands one and always enforced here by the HTTP timeout. Servers that time out
or cap rows silently are caught: Virtuoso answers 200 with partial results and the header
``X-SQL-State: S1TAT``, Oxigraph server answers 200 with a cut-off body (a parse error here); both are
timeouts, never answers. Parameters are bound with a VALUES block at the start of the outer WHERE,
since remote engines do not know Oxigraph's substitutions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

import pyoxigraph as ox
import requests

from zitkg.errors import BadRequest, QuerySyntaxError, QueryTimeout, ServiceUnavailable, ZitkgError
from zitkg.settings import Settings
from zitkg.sparql import results
from zitkg.sparql.execute import PYTHON, QueryAnswer, QueryRequest
from zitkg.sparql.guard import mask, query_form, without_dataset_clauses
from zitkg.sparql.structure import analyse_query
from zitkg.store import _PUBLISHED, META_GRAPH, _join, _published_triple, _replace_update

_SPARQL_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"


def with_values(sparql: str, bindings: dict[str, Any]) -> str:
    """Insert ``VALUES (?a ?b) { (… …) }`` right after the opening brace of the outer WHERE group."""
    if not bindings:
        return sparql
    scanned = mask(sparql)  # same length as the text: strings, comments and IRIs blanked
    where = re.search(r"(?<![\w:?$])WHERE\s*\{", scanned, re.IGNORECASE)
    if where:
        brace = where.end() - 1
    else:
        form = re.search(r"(?<![\w:?$])(SELECT|ASK|DESCRIBE)\b", scanned, re.IGNORECASE)
        brace = scanned.index("{", form.end() if form else 0)
    names = list(bindings)
    values = " ".join(str(bindings[n]) for n in names)
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({values}) }} "
    return sparql[: brace + 1] + block + sparql[brace + 1 :]


class RemoteExecutor:
    """Runs queries on the remote server with the guards of the embedded pool.

    The service parses each new text here (under the parse lock) before it reaches this executor: the
    remote server may follow SERVICE itself, so the structural guard is the only line on this path
    (docs/security.md: firewall the store's host).
    """

    checks_in_worker = False

    def __init__(self, store: RemoteStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def run(self, request: QueryRequest, timeout: float) -> QueryAnswer:
        try:
            # Checked here first, so that every store reports syntax errors alike (with line and column).
            ox.Store().query(request.sparql)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
        sparql = without_dataset_clauses(request.sparql)
        if request.declares_dataset and analyse_query(sparql, request.base_iri).declares_dataset:
            # Some stores (Virtuoso) let FROM win over the protocol's dataset: a clause that could not be
            # cut from the text must not reach them.
            raise BadRequest("FROM / FROM NAMED in this spelling is not supported on this store",
                             hint="name the graphs with default-graph-uri / named-graph-uri instead")
        sparql = with_values(sparql, request.substitutions)
        params: list[tuple[str, str]] = [("query", sparql)]
        if request.default_graphs is not None:
            params += [("default-graph-uri", g) for g in request.default_graphs or ("urn:zitkg:empty",)]
        if request.named_graphs is not None:
            params += [("named-graph-uri", g) for g in request.named_graphs or ("urn:zitkg:empty",)]
        if self.settings.remote_timeout_param:
            # Virtuoso reads milliseconds; Oxigraph server ignores the parameter (its limit is server-wide).
            params.append((self.settings.remote_timeout_param, str(int(timeout * 1000))))
        # Ask for the form's own format: Virtuoso answers a CONSTRUCT in SPARQL JSON if JSON comes first.
        if query_form(request.sparql) in {"CONSTRUCT", "DESCRIBE"}:
            accept = f"{_NTRIPLES}, text/turtle;q=0.8"
        else:
            accept = f"{_SPARQL_JSON}, application/sparql-results+xml;q=0.5"
        response = self.store.http("query", params=params, accept=accept, timeout=timeout)
        if response.headers.get("X-SQL-State", "").upper() == "S1TAT":
            raise QueryTimeout(f"the query ran longer than the limit of {timeout:g} s on the store and was stopped")
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            if media in {_SPARQL_JSON, "application/json", "application/sparql-results+xml"}:
                fmt = ox.QueryResultsFormat.JSON if "json" in media else ox.QueryResultsFormat.XML
                parsed = ox.parse_query_results(response.content, format=fmt)
            else:
                fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
                parsed = [q.triple for q in ox.parse(response.content, format=fmt)]
            return self._answer(request, parsed)
        except (SyntaxError, ValueError) as exc:
            # A 200 whose body breaks off is how Oxigraph server reports a timeout.
            raise QueryTimeout(
                f"the store's answer was cut off (a timeout on the store): {exc}",
                hint="narrow the query or raise the store's time limit",
            ) from None

    def _answer(self, request: QueryRequest, parsed: Any) -> QueryAnswer:
        cap = request.max_rows
        silent_cap = self.settings.remote_max_rows
        if isinstance(parsed, ox.QueryBoolean):
            value = bool(parsed)
            body = None if request.result_format == PYTHON else results.write_boolean(value, request.result_format)
            return QueryAnswer("boolean", request.result_format, body=body, boolean=value)
        if isinstance(parsed, ox.QuerySolutions):
            variables = tuple(v.value for v in parsed.variables)
            rows = [tuple(s[v] for v in variables) for s in parsed]
            truncated = len(rows) > cap or (silent_cap > 0 and len(rows) >= silent_cap)
            rows = rows[:cap]
            if request.result_format == PYTHON:
                return QueryAnswer("solutions", PYTHON, variables=variables, rows=tuple(rows),
                                   truncated=truncated)
            body = results.write_solutions(request.result_format, variables, rows)
            return QueryAnswer("solutions", request.result_format, body=body, variables=variables,
                               truncated=truncated)
        triples = list(islice(dict.fromkeys(parsed), cap + 1))
        truncated = len(triples) > cap
        triples = triples[:cap]
        if request.graph_format == PYTHON:
            return QueryAnswer("graph", PYTHON, triples=tuple(triples), truncated=truncated)
        body = results.write_triples(request.graph_format, triples)
        return QueryAnswer("graph", request.graph_format, body=body, truncated=truncated)

    def close(self) -> None:
        self.store.session.close()


class RemoteStore:
    """The GraphStore interface over the SPARQL 1.1 Protocol."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.query_url = settings.sparql_query_url
        self.update_url = settings.sparql_update_url or settings.sparql_query_url
        self.session = requests.Session()
        if settings.sparql_user:
            auth_cls = requests.auth.HTTPDigestAuth if settings.sparql_auth == "digest" else requests.auth.HTTPBasicAuth
            self.session.auth = auth_cls(settings.sparql_user, settings.sparql_password)
        self.lock = threading.Lock()
        self.version = 0  # counts this worker's writes only
        self.sole_writer = False  # other workers write too: nothing may be cached on ``version``
        self.public_union = False  # the server holds unpublished graphs: name the published ones
        self.path = None

    # --- HTTP ---------------------------------------------------------------------------------------
    def http(self, kind: str, *, params: list[tuple[str, str]] | None = None, data: str | None = None,
             accept: str = _SPARQL_JSON, timeout: float = 30.0) -> requests.Response:
        try:
            if kind == "query":
                response = self.session.post(self.query_url, data=params, timeout=timeout,
                                             headers={"Accept": accept})
            else:
                response = self.session.post(self.update_url, data={"update": data or ""}, timeout=timeout)
        except requests.Timeout:
            raise QueryTimeout(f"the store did not answer within {timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise ServiceUnavailable(f"the SPARQL store at {self.query_url} cannot be reached: {exc}") from None
        if response.status_code == 400:
            raise QuerySyntaxError(f"the store refused the query: {response.text[:500]}")
        if "estimated execution time" in response.text[:300] and "exceeds the limit" in response.text[:300]:
            # Virtuoso refuses, before running it, a query it expects to outlast its limit.
            raise QueryTimeout("the store estimates that the query would run longer than its time limit",
                               hint="narrow the query (LIMIT, more specific patterns)")
        if response.status_code >= 400:
            raise ZitkgError(f"the store answered {response.status_code}: {response.text[:500]}")
        return response

    def select(self, sparql: str, timeout: float = 30.0) -> list[tuple[Any, ...]]:
        response = self.http("query", params=[("query", sparql)], timeout=timeout)
        parsed = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
        variables = [v.value for v in parsed.variables]
        return [tuple(s[v] for v in variables) for s in parsed]

    def _write(self, update: str) -> None:
        with self.lock:
            self.http("update", data=update, timeout=max(60.0, self.settings.query_timeout))
            self.version += 1

    # --- GraphStore ---------------------------------------------------------------------------------
    def executor(self, settings: Settings) -> RemoteExecutor:
        return RemoteExecutor(self, settings)

    def read_store(self) -> ox.Store:
        raise NotImplementedError("a remote store has no local copy; use quads() or the query service")

    def quads(self, subject: ox.NamedNode | None = None, predicate: ox.NamedNode | None = None,
              obj: Any = None, graph: ox.NamedNode | None = None) -> list[ox.Quad]:
        terms = {"s": subject, "p": predicate, "o": obj, "g": graph}
        bound = {k: v for k, v in terms.items() if v is not None}
        query = with_values("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", bound)
        rows = self.select(query)
        return [ox.Quad(s, p, o, g) for s, p, o, g in rows]

    def replace_graphs(self, graphs: dict[str, Sequence[ox.Triple]], *, published: bool = True,
                       private: dict[str, Sequence[ox.Triple]] | None = None, extra_update: str = "") -> None:
        self._write(_join(_replace_update(graphs, published, private or {}), extra_update))

    def drop_graphs(self, graph_iris: Iterable[str], extra_update: str = "") -> None:
        parts = []
        for iri in graph_iris:
            parts += [f"DROP SILENT GRAPH <{iri}>", _published_triple("DELETE", iri)]
        self._write(_join(" ;\n".join(parts), extra_update))

    def publish_graphs(self, graph_iris: Iterable[str], unpublish: Iterable[str] = (),
                       extra_update: str = "") -> None:
        parts = [_published_triple("DELETE", iri) for iri in unpublish]
        parts += [_published_triple("INSERT", iri) for iri in graph_iris]
        self._write(_join(" ;\n".join(parts), extra_update))

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        # The Protocol carries no base IRI to the store: it travels as a BASE of the text.
        self._write(f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql)

    def named_graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(g.value for (g,) in rows if isinstance(g, ox.NamedNode))

    def published_graphs(self) -> list[str]:
        rows = self.select(f"SELECT ?g WHERE {{ GRAPH <{META_GRAPH}> {{ <{META_GRAPH}> <{_PUBLISHED.value}> ?g }} }}")
        return sorted(g.value for (g,) in rows)

    def quad_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0][0].value)

    def close(self) -> None:
        self.session.close()
