"""Which IRIs may become links: an allow-list of schemes, decided on the IRI's parsed scheme.

An IRI from the data is a link on a page only when its scheme (RFC 3986 section 3.1: a letter, then
letters, digits, "+", "-" or ".", up to the first ":") is one of ``LINK_SCHEMES``; anything else
(javascript:, data:, vbscript:, file:, an IRI that does not start with a scheme at all, such as one
with leading white space or control characters) is shown as text. The scripts in web/static/ make
the same decision with the browser's own URL parser (links.js). The SHACL shapes refuse such IRIs in
submissions (shapes/core.ttl, zitsh:LinkSchemes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

# mailto: only reaches a page when it is in the published data, which holds contact data only with
# the person's consent (privacy.py decides what is published about people).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def scheme(iri: str) -> str | None:
    """The scheme of ``iri``, lower-cased; None when it does not start with one."""
    match = _SCHEME.match(iri)
    return match.group(1).lower() if match else None


def linkable(iri: str) -> bool:
    """Whether ``iri`` may be the target of a link (its scheme is on the allow-list)."""
    return scheme(iri) in LINK_SCHEMES


def unlinkable_iris(triples: Iterable[ox.Triple]) -> list[tuple[str, str]]:
    """(subject, IRI) for each IRI of the triples whose scheme is not allowed, in order, once each.

    Subjects, predicates, IRI objects and datatypes of literals are checked.
    """
    found: dict[tuple[str, str], None] = {}
    for t in triples:
        subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else str(t.subject)
        terms = [t.subject, t.predicate, t.object]
        if isinstance(t.object, ox.Literal):
            terms.append(t.object.datatype)
        for term in terms:
            if isinstance(term, ox.NamedNode) and not linkable(term.value):
                found.setdefault((subject, term.value), None)
    return list(found)
