"""Evaluate one query on a pyoxigraph store and write the answer, with the row cap applied.

Runs inside a query worker process (web) or in process (CLI, tests); the same code either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import pyoxigraph as ox

from zitkg.sparql import results
from zitkg.sparql.guard import capped_select

PYTHON = "python"  # answer as Python terms instead of bytes (for the CLI and canned queries)


@dataclass(frozen=True)
class QueryRequest:
    sparql: str
    result_format: str = "json"  # for SELECT/ASK: a key of results.RESULT_FORMATS, or PYTHON
    graph_format: str = "turtle"  # for CONSTRUCT/DESCRIBE: a key of results.GRAPH_FORMATS, or PYTHON
    default_graphs: tuple[str, ...] | None = None  # None: the store's default graph
    named_graphs: tuple[str, ...] | None = None  # None: every named graph
    union_default: bool = False
    substitutions: dict[str, Any] = field(default_factory=dict)
    max_rows: int = 10000
    base_iri: str | None = None
    max_bytes: int = 0  # cap on the written answer beside the row cap; 0: none
    declares_dataset: bool = False  # the text has FROM / FROM NAMED (known from its parse)


@dataclass(frozen=True)
class QueryAnswer:
    kind: str  # "solutions", "boolean" or "graph"
    format_key: str
    body: bytes | None = None
    variables: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    triples: tuple[ox.Triple, ...] = ()
    boolean: bool | None = None
    truncated: bool = False


def _graph_list(iris: tuple[str, ...] | None) -> list[ox.NamedNode | ox.DefaultGraph] | None:
    if iris is None:
        return None
    return [ox.NamedNode(i) for i in iris]


def execute(store: ox.Store, req: QueryRequest) -> QueryAnswer:
    """Run ``req`` on ``store``; raises SyntaxError for a malformed query (pyoxigraph gives the position)."""
    return _execute(store, req)


def _fit(write: Any, items: Sequence[Any], max_bytes: int, truncated: bool) -> tuple[bytes, bool]:
    """The answer written from the longest prefix of ``items`` that fits ``max_bytes`` (0: no cap).

    A few rows can be huge (a string doubled by nested CONCATs): the byte cap keeps such an answer from
    filling the web process's memory and the network, as the row cap does for many small rows.
    """
    body = write(items)
    if not max_bytes or len(body) <= max_bytes:
        return body, truncated
    low, high, best = 0, len(items) - 1, write(items[:0])  # the largest n that fits: binary search
    while low < high:
        mid = (low + high + 1) // 2
        candidate = write(items[:mid])
        if len(candidate) <= max_bytes:
            low, best = mid, candidate
        else:
            high = mid - 1
    return best, True


def _execute(store: ox.Store, req: QueryRequest) -> QueryAnswer:
    kwargs: dict[str, Any] = {}
    if req.default_graphs is not None:
        kwargs["default_graph"] = _graph_list(req.default_graphs) or [ox.NamedNode("urn:zitkg:empty")]
    elif req.union_default:
        kwargs["use_default_graph_as_union"] = True
    if req.named_graphs is not None:
        kwargs["named_graphs"] = _graph_list(req.named_graphs)
    if req.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in req.substitutions.items()}
    if req.result_format == "json":
        plan = capped_select(req.sparql, req.max_rows)
        if plan is not None:
            native = _native_json(store, plan, req, kwargs)
            if native is not None:
                return native
    answer = store.query(req.sparql, base_iri=req.base_iri, **kwargs)
    if isinstance(answer, ox.QueryBoolean):
        value = bool(answer)
        body = None if req.result_format == PYTHON else results.write_boolean(value, req.result_format)
        return QueryAnswer("boolean", req.result_format, body=body, boolean=value)
    if isinstance(answer, ox.QuerySolutions):
        variables = tuple(v.value for v in answer.variables)
        rows = [tuple(sol) for sol in islice(answer, req.max_rows + 1)]
        truncated = len(rows) > req.max_rows
        rows = rows[: req.max_rows]
        if req.result_format == PYTHON:
            return QueryAnswer("solutions", PYTHON, variables=variables, rows=tuple(rows), truncated=truncated)
        body, truncated = _fit(lambda part: results.write_solutions(req.result_format, variables, part), rows,
                               req.max_bytes, truncated)
        return QueryAnswer("solutions", req.result_format, body=body, variables=variables, truncated=truncated)
    # Oxigraph may yield a constructed triple more than once; a graph has each triple once.
    triples = list(islice(dict.fromkeys(answer), req.max_rows + 1))
    truncated = len(triples) > req.max_rows
    triples = triples[: req.max_rows]
    if req.graph_format == PYTHON:
        return QueryAnswer("graph", PYTHON, triples=tuple(triples), truncated=truncated)
    body, truncated = _fit(lambda part: results.write_triples(req.graph_format, part), triples, req.max_bytes,
                           truncated)
    return QueryAnswer("graph", req.graph_format, body=body, truncated=truncated)


def _native_json(
    store: ox.Store, plan: tuple[str, bool], req: QueryRequest, kwargs: dict[str, Any]
) -> QueryAnswer | None:
    """A SELECT answer written by pyoxigraph, the row cap kept by a LIMIT (see guard.capped_select).

    None to take the ordinary path: the extended text does not parse (the user's own error is then
    reported there, at its own position) or the form was guessed wrong.
    """
    text, count = plan
    try:
        answer = store.query(text, base_iri=req.base_iri, **kwargs)
    except SyntaxError:
        return None
    if not isinstance(answer, ox.QuerySolutions):
        return None
    body = answer.serialize(format=ox.QueryResultsFormat.JSON)
    if req.max_bytes and len(body) > req.max_bytes:
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        variables = tuple(v.value for v in parsed.variables)
        rows = [tuple(solution) for solution in parsed]
        body, truncated = _fit(lambda part: results.write_solutions("json", variables, part), rows[: req.max_rows],
                               req.max_bytes, len(rows) > req.max_rows)
        return QueryAnswer("solutions", "json", body=body, variables=variables, truncated=truncated)
    if count and _rows_at_most(body) > req.max_rows:
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        rows = [tuple(solution) for solution in parsed]
        if len(rows) > req.max_rows:  # the cap cut the answer: written again without the extra row
            variables = tuple(v.value for v in parsed.variables)
            body = results.write_solutions("json", variables, rows[: req.max_rows])
            return QueryAnswer("solutions", "json", body=body, variables=variables, truncated=True)
    return QueryAnswer("solutions", "json", body=body)


def _rows_at_most(body: bytes) -> int:
    """An upper bound on the rows of a SPARQL JSON answer as pyoxigraph writes it, without parsing it.

    Rows are separated by ``},{"`` (or ``},{}`` before a row with nothing bound); those bytes may also
    occur inside a string, which can only raise the bound, never lower it.
    """
    return body.count(b'},{"') + body.count(b"},{}") + 1
