"""What a query or update asks for, read from its parse tree rather than from its text.

The guards that decide whether a request may run (SERVICE and LOAD to other hosts, the dataset it
declares) used to be patterns over the text, and spellings nobody wrote down slipped past them
(``SERVICE<...>`` without a space, ``\\u`` escapes, non-ASCII prefixes). Here the text goes through a
real SPARQL 1.1 grammar (rdflib's parser, which applies ``\\u`` escapes first, as the spec asks) and
the decision is taken on the tree: every ``ServiceGraphPattern`` and ``Load`` node, with its target
resolved against the prologue's prefixes and base. A text the grammar does not accept is not run.

pyparsing, under rdflib's parser, is not safe while two threads parse at once (its parse actions are
set up lazily and a race leaves them broken for the life of the process). Parsing therefore happens
either in a single-threaded query worker (sparql/pool.py) or under ``PARSE_LOCK``, and ``warm_up``
runs one parse of each kind before any thread or worker exists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql import parser
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from zitkg.errors import Forbidden, QuerySyntaxError

PARSE_LOCK = threading.Lock()
_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}


@dataclass(frozen=True)
class RemoteCall:
    keyword: str  # SERVICE or LOAD
    iri: str | None  # None: a variable, or a name that does not resolve to an absolute IRI

    @property
    def host(self) -> str:
        if not self.iri:
            return ""
        parts = urlsplit(self.iri)
        return (parts.hostname or "").lower() if parts.scheme.lower() in {"http", "https"} else ""


@dataclass(frozen=True)
class Structure:
    """The parts of a request the guards judge; picklable, so a query worker can send it back."""

    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE; None for an update
    remote_calls: tuple[RemoteCall, ...] = ()
    from_graphs: tuple[str, ...] = ()
    from_named_graphs: tuple[str, ...] = ()
    declares_dataset: bool = False  # FROM / FROM NAMED in a query; USING or WITH in an update
    operations: tuple[str, ...] = ()  # an update's operations in order: Modify, InsertData, Clear, ...
    # Graphs an update writes: IRIs, or DEFAULT, ALL, NAMED, VARIABLE (a GRAPH ?g in a template)
    written_graphs: tuple[str, ...] = ()
    bulk_operations: int = 0  # CLEAR/DROP of ALL or NAMED

    def check_remote_calls(self, allowed_hosts: frozenset[str]) -> None:
        """Refuse any SERVICE or LOAD whose target is not an http(s) IRI of an allow-listed host."""
        for call in self.remote_calls:
            if call.host and call.host in allowed_hosts:
                continue
            raise Forbidden(
                f"{call.keyword} is not allowed on this endpoint"
                + (f" (target host {call.host!r} is not allow-listed)" if call.host else ""),
                hint="federated queries are limited to the hosts in ZITKG_SERVICE_ALLOWLIST"
                if allowed_hosts
                else "this endpoint does not call other servers (ZITKG_SERVICE_ALLOWLIST is empty)",
            )


_GUARDED_KEYWORDS = ("SERVICE", "LOAD", "FROM")
_NOTHING_GUARDED = Structure(form=None)


def without_guarded_keywords(text: str) -> Structure | None:
    """The structure of a text that cannot hold SERVICE, LOAD or FROM in any reading, without parsing it.

    A keyword is spelt with its letters: a text whose letters, ``\\u`` escapes expanded, nowhere form
    one of these words in any case (Unicode case mappings included: ``ſ`` upper-cases to ``S``) has no
    such keyword for any SPARQL parser, whatever it makes of the rest. The full parse costs 50-150 ms
    for a query of a few KB (pyparsing); this check, a few microseconds, spares most queries that
    parse. None: the words occur somewhere (in a keyword, an IRI, a string or a comment) and the text
    must be parsed.
    """
    expanded = parser.expandUnicodeEscapes(text)
    upper, lower = expanded.upper(), expanded.lower()
    if any(word in upper or word.lower() in lower for word in _GUARDED_KEYWORDS):
        return None
    return _NOTHING_GUARDED


def analyse_query(text: str, base_iri: str | None = None) -> Structure:
    """The structure of a query; QuerySyntaxError if the grammar does not accept it."""
    tree = _parse(parser.parseQuery, text)
    prologue_tree, body = tree[0], tree[1]
    prologue = translatePrologue(prologue_tree, base_iri)
    default: list[str] = []
    named: list[str] = []
    clauses = dict.get(body, "datasetClause") or []  # CompValue.get answers a missing key with its name
    for clause in clauses:
        if dict.get(clause, "default") is not None:
            default.append(_absolute(prologue, clause["default"], "FROM"))
        else:
            named.append(_absolute(prologue, dict.get(clause, "named"), "FROM NAMED"))
    return Structure(
        form=_FORMS.get(body.name),
        remote_calls=tuple(_remote_calls(body, prologue)),
        from_graphs=tuple(default),
        from_named_graphs=tuple(named),
        declares_dataset=bool(clauses),
    )


def analyse_update(text: str, base_iri: str | None = None) -> Structure:
    """The structure of an update request (each operation resolved against its own prologue)."""
    tree = _parse(parser.parseUpdate, text)
    calls: list[RemoteCall] = []
    prologue = None
    operations: list[str] = []
    written: list[str] = []
    bulk = 0
    dataset = False
    for prologue_tree, operation in zip(dict.get(tree, "prologue") or [], dict.get(tree, "request") or [],
                                          strict=False):
        prologue = translatePrologue(prologue_tree, base_iri, None, prologue)
        calls.extend(_remote_calls(operation, prologue))
        operations.append(operation.name)
        dataset = dataset or bool(dict.get(operation, "using")) or dict.get(operation, "withClause") is not None
        written.extend(_written(operation, prologue))
        target = dict.get(operation, "graphiri")
        bulk += operation.name in {"Clear", "Drop"} and isinstance(target, str) and target in {"ALL", "NAMED"}
    return Structure(form=None, remote_calls=tuple(calls), declares_dataset=dataset, operations=tuple(operations),
                     written_graphs=tuple(dict.fromkeys(written)), bulk_operations=bulk)


def warm_up() -> None:
    """Parse once of each kind, so that pyparsing sets up its parse actions before threads exist."""
    analyse_query("PREFIX x: <http://example.org/> SELECT * WHERE { x:s ?p ?o SERVICE <http://example.org/> {} }")
    analyse_update("LOAD <http://example.org/> ; INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }")


def _parse(parse: Any, text: str) -> Any:
    try:
        with PARSE_LOCK:
            return parse(text)
    except ParseBaseException as exc:
        raise QuerySyntaxError(
            f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}",
            details={"line": exc.lineno, "column": exc.col},
        ) from None
    except RecursionError:
        raise QuerySyntaxError("the query is nested too deeply to be checked") from None


def _remote_calls(node: Any, prologue: Any) -> Iterator[RemoteCall]:
    for comp in _comp_values(node):
        if comp.name == "ServiceGraphPattern":
            yield RemoteCall("SERVICE", _target(prologue, dict.get(comp, "term")))
        elif comp.name == "Load":
            yield RemoteCall("LOAD", _target(prologue, dict.get(comp, "iri")))


def _written(operation: Any, prologue: Any) -> Iterator[str]:
    """The graphs one update operation writes (SPARQL 1.1 Update, section 3)."""
    name = operation.name

    def graph(term: Any) -> str:
        if isinstance(term, str) and term in {"ALL", "NAMED", "DEFAULT"}:
            return term
        if term is None:
            return "DEFAULT"
        if isinstance(term, Variable):
            return "VARIABLE"
        return _absolute(prologue, term, "GRAPH")

    def quads(clause: Any, default: str) -> Iterator[str]:
        if clause is None:
            return
        block = dict.get(clause, "quads", clause)
        if dict.get(block, "triples"):
            yield default
        for part in dict.get(block, "quadsNotTriples") or []:
            yield graph(dict.get(part, "term"))

    if name in {"Clear", "Drop", "Create", "Load"}:
        yield graph(dict.get(operation, "graphiri"))
    elif name in {"Add", "Copy", "Move"}:
        source, target = (graph(g) for g in dict.get(operation, "graph"))
        yield target
        if name == "Move":
            yield source
    elif name in {"InsertData", "DeleteData", "DeleteWhere"}:
        yield from quads(operation, "DEFAULT")
    elif name == "Modify":
        with_graph = dict.get(operation, "withClause")
        default = graph(with_graph) if with_graph is not None else "DEFAULT"
        yield from quads(dict.get(operation, "delete"), default)
        yield from quads(dict.get(operation, "insert"), default)


def _comp_values(node: Any) -> Iterator[CompValue]:
    """Every CompValue in a parse tree, iteratively (a deep tree must not exhaust the stack)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, ParseResults | list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def _target(prologue: Any, term: Any) -> str | None:
    if term is None or isinstance(term, Variable):
        return None
    try:
        resolved = prologue.absolutize(term)
    except Exception:  # noqa: BLE001 - an unknown prefix: the target cannot be known, so it is refused
        return None
    if not isinstance(resolved, URIRef) or not urlsplit(str(resolved)).scheme:
        return None
    return str(resolved)


def _absolute(prologue: Any, term: Any, clause: str) -> str:
    try:
        resolved = prologue.absolutize(term)
    except Exception as exc:  # noqa: BLE001 - rdflib raises a bare Exception for an unknown prefix
        raise QuerySyntaxError(f"{clause}: {exc}") from None
    return str(resolved)
