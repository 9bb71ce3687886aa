"""Search that speaks Polish: the full-text index of the published graphs and how a query runs on it.

``SearchService`` is the one search of the project: the UI's search page, the REST route
``/api/search``, the ``search`` question of the library and the CLI all call it. The index
(search/index.py) is derived from the faceted index of explore.py, which reads the published graphs
through the query service, so it works the same on the embedded store and on a remote SPARQL server.
It is brought in step before each search: when the store's version or published set moved (or on every
search when other processes write to the store), resources whose texts changed are re-indexed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from zitkg import explore
from zitkg.errors import BadRequest
from zitkg.search import morphology as morph
from zitkg.search.index import Document, IndexFile

log = logging.getLogger("zitkg.search")

MAX_TEXT = 500  # characters of a search text
MAX_WORDS = 12
MIN_PREFIX = 2  # the last word is a prefix from this length on
RERANK = 100  # rows ranked by names, proximity and bm25; the rest keep the engine's order (kind, bm25)

# The main kinds people look for first; budget lines, indicator values and memberships last.
MAIN_KINDS = {"GoodPractice", "Pilot", "Expert", "CooperationNetwork", "RegisteredAssociation", "MunicipalUnion",
              "Partnership", "ZITAssociation", "FunctionalUrbanArea"}
LOW_KINDS = {"BudgetLine", "IndicatorValue", "NetworkMembership", "Membership", "MonetaryAmount", "Milestone"}
# Words that carry no meaning of their own; dropped from a query that has other words.
STOPWORDS = {"a", "i", "o", "u", "w", "z", "we", "ze", "na", "do", "od", "po", "dla", "oraz", "lub", "albo", "nie",
             "sie", "to", "jest", "the", "of", "and", "or", "in", "on", "for", "an", "at", "by", "with"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def tier(types: Sequence[str]) -> int:
    names = {explore.local_name(t) for t in types}
    if names & MAIN_KINDS:
        return 0
    if names & LOW_KINDS:
        return 2
    return 1


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS_DESCRIPTION = "http://purl.org/dc/terms/description"
IS_EXAMPLE = explore.ZIT + "isExample"
NAME = {RDFS_LABEL: "label", SKOS + "prefLabel": "label", SKOS + "altLabel": "alt", DCTERMS_DESCRIPTION: "description"}
_TEXTS = """
SELECT ?x ?p ?o WHERE {
  VALUES ?p { <%(label)s> <%(pref)s> <%(alt)s> <%(description)s> <%(type)s> <%(example)s> }
  ?x ?p ?o FILTER(isIRI(?x) && STRSTARTS(STR(?x), "%(prefix)s"))
} ORDER BY ?x ?p ?o
"""


def _statements(service: Any, base: str) -> Any:
    """(subject, predicate, object) of the indexed properties of the published resources under {base}id/.

    The embedded store holds the published graphs in memory: read there directly (no paging through the
    query service, 1-2 s at 1M triples); a remote store answers one SPARQL query (paged by the service).
    """
    prefix = base + "id/"
    store = service.store
    if getattr(store, "public_union", False) and hasattr(store, "read_store"):
        read = store.read_store()  # an iterator reads one snapshot: no lock needed
        for predicate in (*NAME, RDF_TYPE, IS_EXAMPLE):
            for quad in read.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
                subject = quad.subject
                if isinstance(subject, ox.NamedNode) and subject.value.startswith(prefix):
                    yield subject.value, predicate, quad.object
        return
    query = _TEXTS % {"label": RDFS_LABEL, "pref": SKOS + "prefLabel", "alt": SKOS + "altLabel",
                      "description": DCTERMS_DESCRIPTION, "type": RDF_TYPE, "example": IS_EXAMPLE, "prefix": prefix}
    for row in explore.select(service, query):
        yield row["x"].value, row["p"].value, row["o"]


def documents(service: Any, base: str) -> dict[str, Document]:
    """One document per labelled resource under {base}id/ (concept schemes aside) of the published graphs."""
    texts: dict[str, dict[str, set[str]]] = {}
    types: dict[str, set[str]] = {}
    examples: set[str] = set()
    for subject, predicate, obj in _statements(service, base):
        if predicate == RDF_TYPE:
            types.setdefault(subject, set()).add(obj.value)
        elif predicate == IS_EXAMPLE:
            if obj.value == "true":
                examples.add(subject)
        elif isinstance(obj, ox.Literal) and (obj.language or "") in {"pl", "en", ""}:
            texts.setdefault(subject, {"label": set(), "alt": set(), "description": set()})[NAME[predicate]].add(
                obj.value)
    scheme = base + "id/scheme/"
    return {
        iri: Document(iri, tuple(sorted(t["label"])), tuple(sorted(t["alt"])), tuple(sorted(t["description"])),
                      tier(sorted(types.get(iri, ()))), iri in examples)
        for iri, t in texts.items() if t["label"] and not iri.startswith(scheme)
    }


@dataclass(frozen=True)
class Group:
    """One word of the query: the folded lemmas it may mean, and (last word) a prefix."""

    word: str
    tokens: frozenset[str]
    prefix: str | None

    def hits(self, surface: str, lemmas: frozenset[str]) -> bool:
        return bool(lemmas & self.tokens) or surface in self.tokens or (
            self.prefix is not None and surface.startswith(self.prefix))

    def expression(self) -> str:
        # Tokens are [a-z0-9]+ (morph.TOKEN), quoted all the same: no operator of FTS5 can come through.
        parts = [f'"{t}"' for t in sorted(self.tokens)]
        if self.prefix is not None:
            parts.append(f'"{self.prefix}" *')
        return "(" + " OR ".join(parts) + ")"


@dataclass
class Query:
    text: str
    groups: list[Group]

    @property
    def expression(self) -> str:
        return " AND ".join(g.expression() for g in self.groups)


@dataclass
class Hit:
    iri: str
    tier: int
    score: float
    is_example: bool
    label_words: int  # query words found in the names (0 when not looked at: rows past RERANK)
    span: int  # the shortest stretch of words holding every query word (proximity)
    query: Query = field(repr=False)
    _texts: Any = field(repr=False)  # (label, alt, description) as indexed, or a function giving them
    _where: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def texts(self) -> tuple[str, str, str]:
        if callable(self._texts):
            self._texts = self._texts()
        return self._texts

    def _matched(self) -> tuple[str, str]:
        """(field, line) where the query's words occur: names first, then alternative names, descriptions."""
        if self._where is None:
            self._where = ("description", self.texts[2].split("\n")[0])
            for name, text in zip(("label", "alt", "description"), self.texts, strict=True):
                for line in text.split("\n"):
                    stream = morph.token_stream(line)
                    if any(g.hits(s, ls) for g in self.query.groups for s, ls in stream):
                        self._where = (name, line)
                        return self._where
        return self._where

    @property
    def matched_in(self) -> str:
        """"label", "alt" or "description"."""
        return self._matched()[0]

    @property
    def matched_text(self) -> str:
        return self._matched()[1]


@dataclass
class Found:
    query: Query | None
    hits: list[Hit] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    seconds: float = 0.0


def clean(text: str, parameter: str = "q") -> str:
    """The search text without control characters, or 400 when it is too long to be a search."""
    if len(text) > MAX_TEXT:
        raise BadRequest(f"parameter {parameter!r}: the search text is {len(text)} characters long; at most "
                         f"{MAX_TEXT} are searched", details={"parameter": parameter, "max": MAX_TEXT})
    return _CONTROL.sub(" ", text).strip()


class SearchService:
    """The index of one store, kept in step with it, and the search over it."""

    def __init__(self, service: Any, base: str, path: Path | None = None,
                 index_cache: explore.IndexCache | None = None) -> None:
        self.service = service
        self.base = base
        self.index_cache = index_cache or explore.IndexCache()
        self._lock = threading.Lock()
        self._key: object = None
        try:
            self.file = IndexFile(path)
        except OSError as exc:  # a read-only folder: an index in memory, rebuilt by this process
            log.warning("search index %s cannot be written (%s): keeping it in memory", path, exc)
            self.file = IndexFile(None)
        self.last_sync: tuple[int, int, float] = (0, 0, 0.0)

    @classmethod
    def for_service(cls, service: Any, index_cache: explore.IndexCache | None = None) -> SearchService:
        store_path = getattr(service.store, "path", None)
        path = Path(f"{store_path}.search") / "index.sqlite" if store_path is not None else None
        return cls(service, service.settings.base_iri, path, index_cache)

    def sync(self) -> None:
        """Bring the text index in step with the store: when its version or published set moved (every
        time when other processes write to it), re-index the resources whose texts changed."""
        store = self.service.store
        key = ((store.version, tuple(self.service.published_graphs()))
               if getattr(store, "sole_writer", False) else None)
        with self._lock:
            if key is None or key != self._key:
                started = time.perf_counter()
                removed, written = self.file.sync(documents(self.service, self.base))
                self.last_sync = (removed, written, time.perf_counter() - started)
                if removed or written:
                    log.info("search index: %d entries removed, %d written in %.2f s", *self.last_sync)
                self._key = key

    def faceted(self) -> explore.Index:
        """The faceted index (facets of the hits, the records shown), the text index in step."""
        self.sync()
        return self.index_cache.get(self.service, self.base)

    # --- a query -----------------------------------------------------------------------------------------

    def parse(self, text: str, parameter: str = "q") -> Query:
        text = clean(text, parameter)
        written = morph.words(text)
        if len(written) > MAX_WORDS:
            raise BadRequest(f"parameter {parameter!r}: the search text has {len(written)} words; at most "
                             f"{MAX_WORDS} are searched", details={"parameter": parameter, "max": MAX_WORDS})
        folded = [morph.fold(w) for w in written]
        meaningful = [n for n, f in enumerate(folded) if f not in STOPWORDS] or list(range(len(written)))
        table = self.file.lemmas_of_forms(t for w in written for t in morph.lemmas(w))
        groups = []
        for n, word in enumerate(written):
            if n not in meaningful:
                continue
            tokens = morph.expand_folded(table, word)
            last = n == len(written) - 1 and not text[-1:].isspace()
            prefix = folded[n] if last and len(folded[n]) >= MIN_PREFIX and morph.TOKEN.fullmatch(folded[n]) else None
            if tokens or prefix:
                groups.append(Group(word, frozenset(tokens), prefix))
        return Query(text, groups)

    def find(self, text: str, parameter: str = "q") -> Found:
        started = time.perf_counter()
        clean(text, parameter)  # a refused text costs no sync
        self.sync()  # the forms table of the index serves the parse
        query = self.parse(text, parameter)
        if not query.groups:
            return Found(query)
        rows = self.file.match(query.expression)  # ordered by kind, then bm25
        first = self.file.texts([row[0] for row in rows[:RERANK]])
        hits = [self._hit(query, row, first.get(row[0])) for row in rows]
        # The rows come by kind then bm25: the first RERANK are ranked finely, the rest keep that order.
        hits[:RERANK] = sorted(hits[:RERANK], key=lambda h: (h.tier, -h.label_words, h.span, round(h.score, 6), h.iri))
        found = Found(query, hits)
        if not hits:
            found.suggestions = self.suggest(query)
        found.seconds = time.perf_counter() - started
        return found

    def _hit(self, query: Query, row: tuple, texts: tuple[str, str, str] | None) -> Hit:
        """A row as a hit; with its texts (the first rows) also how many words are in the names and how close."""
        rowid, iri, tier_, score, example = row
        if texts is None:  # past RERANK: texts read when a page shows the hit
            return Hit(iri, tier_, score, bool(example), 0, 1000, query,
                       lambda: self.file.texts([rowid]).get(rowid, ("", "", "")))
        streams = [[morph.token_stream(line) for line in text.split("\n")] for text in texts]

        def groups_in(lines: list) -> int:
            return sum(1 for g in query.groups if any(g.hits(s, ls) for st in lines for s, ls in st))

        named = max(groups_in(streams[0]), groups_in(streams[1]))
        return Hit(iri, tier_, score, bool(example), named, _span(query.groups, [st for f in streams for st in f]),
                   query, texts)

    def suggest(self, query: Query) -> list[str]:
        """The nearest words of the index for the query's unknown words ("czy chodziło o…")."""
        words = [morph.fold(g.word) for g in query.groups]
        known = self.file.known(words)
        options: list[list[str]] = []
        for word in words:
            options.append([word] if word in known else (self.file.nearest(word) or [word]))
        if all(len(o) == 1 and o[0] in words for o in options):
            return []
        out = []
        for choice in _combinations(options):  # only suggestions that find something
            text = " ".join(choice)
            groups = self.parse(text + " ").groups  # a trailing space: whole words, no prefix
            if groups and self.file.match(Query(text, groups).expression, limit=1):
                out.append(text)
            if len(out) == 3:
                break
        return out


def _combinations(options: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for choices in options:
        out = [[*o, c] for o in out for c in choices][:9]
    return out


def _span(groups: Sequence[Group], texts: Sequence[Any]) -> int:
    """Fewest consecutive words of one text holding a word of every group (1000 when no text holds all)."""
    best = 1000
    for text in texts:
        stream = morph.token_stream(text) if isinstance(text, str) else text
        positions = [[i for i, (s, ls) in enumerate(stream) if g.hits(s, ls)] for g in groups]
        if not all(positions):
            continue
        events = sorted((p, k) for k, ps in enumerate(positions) for p in ps)
        counts: dict[int, int] = {}
        left = 0
        for pos, k in events:
            counts[k] = counts.get(k, 0) + 1
            while len(counts) == len(groups):
                best = min(best, pos - events[left][0] + 1)
                lk = events[left][1]
                counts[lk] -= 1
                if not counts[lk]:
                    del counts[lk]
                left += 1
    return best


def segments(text: str, query: Query | None) -> list[tuple[str, bool]]:
    """The text cut into (piece, matched) so that a page can mark the matched words."""
    if query is None or not query.groups:
        return [(text, False)]
    out: list[tuple[str, bool]] = []
    last = 0
    for m in morph.WORD.finditer(text):
        word = m.group()
        if any(g.hits(morph.fold(word), morph.lemmas(word)) for g in query.groups):
            if m.start() > last:
                out.append((text[last:m.start()], False))
            out.append((word, True))
            last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return out
