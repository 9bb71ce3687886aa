"""Static checks on SPARQL text before it is evaluated.

pyoxigraph follows SERVICE (and LOAD in updates) to any host, so a public endpoint has to refuse them
before evaluation: no connection may even be attempted. The check tokenises just enough SPARQL
(comments, strings, IRIs, PREFIX/BASE) to find the keyword and resolve its target, whatever the case,
prefixes or relative IRIs used to spell it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from zitkg.errors import Forbidden

_LEXER = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    """,
    re.VERBOSE | re.DOTALL,
)
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<#(\d+)>", re.IGNORECASE)
_BASE = re.compile(r"BASE\s*<#(\d+)>", re.IGNORECASE)
_REMOTE = re.compile(
    r"(?<![\w:?$])(SERVICE|LOAD)\s+(?:SILENT\s+)?(<#\d+>|[?$]\w+|[A-Za-z][\w.-]*:[\w.-]*|:[\w.-]*)",
    re.IGNORECASE,
)
_FROM = re.compile(
    r"(?<![\w:?$])FROM\s+(NAMED\s+)?(<#\d+>|[A-Za-z][\w.-]*:[\w.-]*|:[\w.-]*)", re.IGNORECASE
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


def _resolver(scanned: Scanned):
    """A function turning an IRI placeholder or prefixed name into an absolute IRI ('' if unknown)."""
    prefixes = {(m.group(1) or ""): scanned.iris[int(m.group(2))] for m in _PREFIX.finditer(scanned.text)}
    base_match = _BASE.search(scanned.text)
    base = scanned.iris[int(base_match.group(1))] if base_match else ""

    def resolve(target: str) -> str:
        if target.startswith("<#"):
            return urljoin(base, scanned.iris[int(target[2:-1])])
        if target[0] in "?$":
            return ""
        prefix, _, local = target.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else ""

    return resolve


def remote_targets(sparql: str) -> list[tuple[str, str]]:
    """Each SERVICE/LOAD in the text with the IRI it calls ('' when it is a variable or unresolvable)."""
    scanned = scan(sparql)
    resolve = _resolver(scanned)
    return [(m.group(1).upper(), resolve(m.group(2))) for m in _REMOTE.finditer(scanned.text)]


def query_dataset(sparql: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The (FROM, FROM NAMED) IRIs the query declares, or None when it declares no dataset.

    A SubSelect cannot carry a dataset clause, so every FROM found here belongs to the query itself.
    """
    scanned = scan(sparql)
    resolve = _resolver(scanned)
    default: list[str] = []
    named: list[str] = []
    for match in _FROM.finditer(scanned.text):
        (named if match.group(1) else default).append(resolve(match.group(2)))
    if not default and not named:
        return None
    return tuple(default), tuple(named)


def check_remote_calls(sparql: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse SERVICE and LOAD unless their host is on the allow-list (empty by default)."""
    for keyword, iri in remote_targets(sparql):
        host = (urlsplit(iri).hostname or "").lower() if iri else ""
        if not host or host not in allowed_hosts:
            shown = iri or "a variable or unresolved IRI"
            raise Forbidden(
                f"{keyword} to {shown} is not allowed on this endpoint",
                hint="federated queries are limited to the hosts in ZITKG_SERVICE_ALLOWLIST"
                if allowed_hosts
                else "this endpoint does not call other servers (ZITKG_SERVICE_ALLOWLIST is empty)",
            )


# One triple pattern with a constant subject or object, as linked-data browsers and map pop-ups send:
# SELECT/ASK, no modifiers but LIMIT/OFFSET. See is_bounded_lookup.
_LOOKUP_TERM = (r"(?:[?$]\w+|<\#\d+>|[A-Za-z][\w.-]*:[\w.\-%]*|:[\w.\-%]*|a"
                r"|\s(?:@[A-Za-z-]+|\^\^(?:<\#\d+>|[A-Za-z][\w.-]*:[\w.-]*))?"  # a blanked literal
                r"|[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)")
_LOOKUP = re.compile(
    r"\s*(?:(?:PREFIX\s+(?:[A-Za-z][\w.-]*)?:\s*<\#\d+>|BASE\s*<\#\d+>)\s*)*"
    r"(?:SELECT\s+(?:\*|(?:[?$]\w+\s*)+)\s*(?:WHERE\s*)?|ASK\s*(?:WHERE\s*)?)"
    rf"\{{\s*(?P<s>{_LOOKUP_TERM})\s+(?P<p>{_LOOKUP_TERM})\s+(?P<o>{_LOOKUP_TERM})\s*\.?\s*\}}"
    r"\s*(?:(?:LIMIT|OFFSET)\s+\d+\s*){0,2}$",
    re.IGNORECASE,
)


def is_bounded_lookup(sparql: str) -> bool:
    """Whether the row cap bounds the cost of the query, so that it may run without a killable worker.

    One triple pattern with a constant subject or object, no DISTINCT, ORDER BY, GROUP BY, FILTER or
    paths: Oxigraph streams it from one index range, each scanned quad is an answer row, and the
    answer stops at the row cap (or LIMIT; OFFSET skips within the constant's own range). ASK stops at
    the first match. Whatever else a query holds sends it to a worker process with the time limit.
    """
    match = _LOOKUP.match(scan(sparql).text)
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
