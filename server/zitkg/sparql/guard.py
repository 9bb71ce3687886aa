"""Light reading of SPARQL text where no security decision rides on it.

The guards (SERVICE, LOAD, the dataset a query may see) decide on the parsed query: sparql/structure.py.
What is here only helps: guess the query form for content negotiation (a wrong guess falls back to the
full path), append a LIMIT for the row cap (a text that no longer parses takes the ordinary path), and
recognise a bounded lookup by an allow-list grammar (``is_bounded_lookup``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from zitkg.errors import BadRequest

_LEXER = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    """,
    re.VERBOSE | re.DOTALL,
)
_FORM = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Scanned:
    text: str  # the query with comments and strings blanked and IRIs replaced by <#n>
    iris: tuple[str, ...]


@lru_cache(maxsize=64)
def scan(sparql: str) -> Scanned:
    """Memoised: one request scans its text for several checks (form, remote calls, dataset, shape)."""
    iris: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.lastgroup == "iri":
            iris.append(match.group()[1:-1])
            return f"<#{len(iris) - 1}>"
        return " "

    return Scanned(_LEXER.sub(repl, sparql), tuple(iris))


def mask(sparql: str) -> str:
    """The query with comments, strings and IRIs blanked, keeping every character's position.

    For edits by position (inserting a VALUES block, cutting FROM clauses) in the original text.
    """

    def repl(match: re.Match[str]) -> str:
        text = match.group()
        if match.lastgroup == "iri":
            return "<" + "_" * (len(text) - 2) + ">"
        if match.lastgroup == "string":
            return text[0] + " " * (len(text) - 2) + text[-1]
        return " " * len(text)

    return _LEXER.sub(repl, sparql)


def without_dataset_clauses(sparql: str) -> str:
    """The query minus its FROM / FROM NAMED clauses (when the dataset travels as protocol parameters).

    Some stores (Virtuoso) let FROM win over the protocol's default-graph-uri, against the SPARQL 1.1
    Protocol; cutting the clauses keeps them from reaching graphs that are not public.
    """
    masked = mask(sparql)
    spans = [m.span() for m in re.finditer(
        r"(?<![\w:?$])FROM\s+(?:NAMED\s+)?(?:<_*>|[A-Za-z][\w.-]*:[\w.-]*|:[\w.-]*)", masked, re.IGNORECASE)]
    for start, end in reversed(spans):
        sparql = sparql[:start] + " " * (end - start) + sparql[end:]
    return sparql


def query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, or None if the text is not a query."""
    match = _FORM.search(scan(sparql).text)
    return match.group(1).upper() if match else None


# One triple pattern with a constant subject or object, as linked-data browsers and map pop-ups send:
# SELECT/ASK, no modifiers but LIMIT/OFFSET. An allow-list grammar over the raw text (see
# is_bounded_lookup): no escapes, no nesting, ASCII names, and every token atomic and delimited.
_WS = r"(?:[ \t\r\n]|\#[^\n\r]*)"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_NAME_END = r"(?![A-Za-z0-9_.:%\\-])"
_PNAME = rf"(?:[A-Za-z][A-Za-z0-9_-]*)?:[A-Za-z0-9_-]*{_NAME_END}"
_VAR = r"[?$][A-Za-z0-9_]+(?![A-Za-z0-9_])"
_STRING = (r"(?:\"[^\"\\\n\r]*\"|'[^'\\\n\r]*')"
           rf"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9-])|\^\^(?:{_IRI}|{_PNAME}))?")
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_.])"
_TERM = rf"(?>{_IRI}|{_PNAME}|{_VAR}|{_STRING}|{_NUMBER}|(?:true|false|a)(?![A-Za-z0-9_:]))"
_KW_END = r"(?![A-Za-z0-9_:])"
_LOOKUP = re.compile(
    rf"{_WS}*+(?:(?:PREFIX{_KW_END}{_WS}*+(?:[A-Za-z][A-Za-z0-9_-]*)?:{_WS}*+{_IRI}|BASE{_KW_END}{_WS}*+{_IRI})"
    rf"{_WS}*+)*+"
    rf"(?:SELECT{_KW_END}{_WS}*+(?:\*|(?:{_VAR}{_WS}*+)++)|ASK{_KW_END}){_WS}*+(?:WHERE{_KW_END}{_WS}*+)?"
    rf"\{{{_WS}*+(?P<s>{_TERM}){_WS}*+(?P<p>{_TERM}){_WS}*+(?P<o>{_TERM}){_WS}*+(?:\.{_WS}*+)?\}}"
    rf"{_WS}*+(?:(?:LIMIT|OFFSET){_KW_END}{_WS}*+[0-9]+(?![A-Za-z0-9_.]){_WS}*+){{0,2}}",
    re.IGNORECASE | re.ASCII,
)


def is_bounded_lookup(sparql: str) -> bool:
    """Whether the row cap bounds the cost of the query, so that it may run without a killable worker.

    One triple pattern with a constant subject or object, no DISTINCT, ORDER BY, GROUP BY, FILTER or
    paths: Oxigraph streams it from one index range, each scanned quad is an answer row, and the
    answer stops at the row cap (or LIMIT; OFFSET skips within the constant's own range). ASK stops at
    the first match. The grammar is an allow-list over the raw text: a text it accepts whole cannot
    hold SERVICE, a dataset clause or a subquery, so such a lookup needs no parse for the guards.
    Whatever else a query holds sends it to a worker process with the time limit.
    """
    match = _LOOKUP.fullmatch(sparql)
    if match is None:
        return False

    def constant(term: str) -> bool:
        return not term.startswith(("?", "$")) and term.lower() != "a"

    return constant(match.group("s")) or constant(match.group("o"))


_TAIL_LIMIT = re.compile(r"(?<![\w:?$])LIMIT\s+(\d+)", re.IGNORECASE)
_TAIL_VALUES = re.compile(r"(?<![\w:?$])VALUES(?![\w:])", re.IGNORECASE)
_BRACE = re.compile(r"[{}]")


def capped_select(sparql: str, cap: int) -> tuple[str, bool] | None:
    """A SELECT whose answer cannot pass ``cap`` rows by itself: (text to run, whether to count its rows).

    Lets the engine write the answer (pyoxigraph's JSON writer is several times faster than writing rows
    from Python, docs/benchmarks.md). With a top-level LIMIT within the cap the text runs as it is;
    without one, ``LIMIT cap+1`` is appended (the one extra row tells that the cap cut the answer).
    None when neither applies (a larger LIMIT, a trailing VALUES block, not a SELECT).
    """
    if query_form(sparql) != "SELECT":
        return None
    tail = _after_outer_group(scan(sparql).text)
    if tail is None or _TAIL_VALUES.search(tail):
        return None
    limit = _TAIL_LIMIT.search(tail)
    if limit:
        return (sparql, False) if int(limit.group(1)) <= cap else None
    return f"{sparql}\nLIMIT {cap + 1}", True


def _after_outer_group(masked: str) -> str | None:
    """The text outside braces after the query's outer group closes (solution modifiers, VALUES)."""
    depth, start, outside = 0, None, []
    for brace in _BRACE.finditer(masked):
        if brace.group() == "{":
            if depth == 0 and start is not None:
                outside.append(masked[start:brace.start()])
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                start = brace.end()
    if start is None or depth != 0:
        return None
    return " ".join([*outside, masked[start:]])


_WHERE = re.compile(r"(?<![\w:?$])WHERE(?![\w:])", re.IGNORECASE)
_AFTER_DELETE = re.compile(r"(?<![\w:?$])DELETE\s*$", re.IGNORECASE)


def with_using(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """The update with the Protocol's using-graph-uri / using-named-graph-uri as USING clauses.

    They go before the WHERE of every DELETE/INSERT operation (a ``DELETE WHERE`` shorthand takes no
    USING). The graph names are checked as IRIs first, so nothing but an IRI reaches the text.
    """
    names = []
    for keyword, graphs in (("USING", using), ("USING NAMED", using_named)):
        for graph in graphs:
            try:
                names.append(f"{keyword} {ox.NamedNode(graph)}")
            except ValueError:
                parameter = keyword.lower().replace(" ", "-") + "-graph-uri"
                raise BadRequest(f"{parameter} {graph[:200]!r} is not an IRI") from None
    clauses = " ".join(names) + " "
    masked = mask(update)
    depth, positions, braces = 0, [], {m.start(): m.group() for m in _BRACE.finditer(masked)}
    wheres = {m.start() for m in _WHERE.finditer(masked)}
    for index in sorted(braces.keys() | wheres):
        if index in braces:
            depth += 1 if braces[index] == "{" else -1
        elif depth == 0 and not _AFTER_DELETE.search(masked[:index]):
            positions.append(index)
    for index in reversed(positions):
        update = update[:index] + clauses + update[index:]
    return update
