"""Limits on submitted RDF: nesting depth, checked before any parser sees the text, and statement count.

Parsers of nested syntax recurse (or keep a stack) per level: pyoxigraph's JSON-LD parser crashed the
process at a few thousand levels, Python's ``json`` raises RecursionError, and a deep Turtle structure
turns into as many subjects for validation. The depth is therefore measured by a structural scan that
skips strings, IRIs and comments and counts only brackets, so it costs one regular-expression pass and
no recursion. The scan can only count too many brackets, never too few: text it cannot read as a
string, IRI or comment is scanned as structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from zitkg.errors import PayloadTooLarge

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_STATEMENTS = 10_000  # validation: ~1.2 ms a statement, one submission at a time

# Turtle, N-Triples and TriG (and the RDF 1.2 additions Oxigraph reads: << >> quoted triples, {| |}
# annotations). Alternatives are tried left to right at each position, so long strings come before
# short ones and an IRI before "<<". Possessive quantifiers: no backtracking on hostile text.
_TURTLE = re.compile(
    rb'"""(?:(?:"|"")?+(?:[^"\\]|\\.))*+"""'
    rb"|'''(?:(?:'|'')?+(?:[^'\\]|\\.))*+'''"
    rb'|"(?:[^"\\\n\r]|\\.)*+"'
    rb"|'(?:[^'\\\n\r]|\\.)*+'"
    rb"|<[^<>\"{}|^`\\\x00-\x20]*+>"
    rb"|#[^\n\r]*+"
    rb"|\\."
    rb"|(?P<open><<|[\[({])"
    rb"|(?P<close>>>|[\])}])",
    re.DOTALL,
)
_JSON = re.compile(rb'"(?:[^"\\]|\\.)*+"|(?P<open>[\[{])|(?P<close>[\]}])', re.DOTALL)

T = TypeVar("T")


@dataclass(frozen=True)
class RdfLimits:
    max_depth: int = DEFAULT_MAX_DEPTH
    max_statements: int = DEFAULT_MAX_STATEMENTS


class TooDeep(PayloadTooLarge):
    code = "nesting-too-deep"


class TooManyStatements(PayloadTooLarge):
    code = "too-many-statements"


def _depth(pattern: re.Pattern[bytes], body: bytes, limit: int) -> int:
    """The deepest bracket nesting in ``body``; stops counting as soon as it passes ``limit``."""
    depth = deepest = 0
    for match in pattern.finditer(body):
        if match.group("open") is not None:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif match.group("close") is not None and depth:
            # a stray closer never lowers the count below zero, so it cannot hide later nesting
            depth -= 1
    return deepest


def turtle_depth(body: bytes, limit: int = 1 << 30) -> int:
    return _depth(_TURTLE, body, limit)


def json_depth(body: bytes, limit: int = 1 << 30) -> int:
    return _depth(_JSON, body, limit)


def check_depth(body: bytes, syntax: str, limit: int) -> None:
    """413 when ``body`` nests deeper than ``limit``; ``syntax`` is "turtle" or "json"."""
    depth = json_depth(body, limit) if syntax == "json" else turtle_depth(body, limit)
    if depth > limit:
        raise TooDeep(
            f"the document nests deeper than {limit} levels; nothing was stored",
            hint="flatten the data: give nested records their own IRIs (see ZITKG_MAX_RDF_DEPTH)",
            details={
                "limit": limit,
                "summary": {
                    "pl": f"Przesłany dokument ma więcej niż {limit} poziomów zagnieżdżenia (nawiasów [ ], ( ), "
                          "{ }); nic nie zapisano. Nadaj zagnieżdżonym rekordom własne IRI.",
                    "en": f"The document nests more than {limit} levels deep (brackets [ ], ( ), {{ }}); "
                          "nothing was stored. Give nested records IRIs of their own.",
                },
            },
        )


def too_many_statements(limit: int) -> TooManyStatements:
    return TooManyStatements(
        f"the submission holds more than {limit} statements; nothing was stored",
        hint="split it into several submissions (see ZITKG_MAX_RDF_STATEMENTS)",
        details={
            "limit": limit,
            "summary": {
                "pl": f"Zgłoszenie zawiera więcej niż {limit} trójek; nic nie zapisano. Podziel je na kilka zgłoszeń.",
                "en": f"The submission holds more than {limit} statements; nothing was stored. "
                      "Split it into several submissions.",
            },
        },
    )


def at_most(items: Iterable[T], limit: int) -> Iterator[T]:
    """``items`` as they come, stopping with a 413 at the first one past ``limit`` (no more is read)."""
    for count, item in enumerate(items, 1):
        if count > limit:
            raise too_many_statements(limit)
        yield item
