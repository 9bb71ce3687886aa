"""Polish (and light English) word forms for the search index.

Morfeusz 2 (``morfeusz2`` on PyPI: the SGJP dictionary with its analyser and generator, offline) gives
every lemma of a form, so "roweru" and "rowery" both lead to "rower" and "energetycznej" to
"energetyczny". Words are folded (lower case, no diacritics) after lemmatisation, so text typed
without Polish letters meets the data on the folded lemma. A folded form the analyser cannot read
("spoleczne" for "społeczne") is looked up in a table of folded forms generated from the lemmas the
index holds (``Vocabulary``): every form of every indexed lemma, folded, points to that lemma.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

WORD = re.compile(r"\w+", re.UNICODE)
# Folded tokens are ASCII letters and digits only: nothing of the engine's query syntax survives.
TOKEN = re.compile(r"[a-z0-9]+")

_lock = threading.Lock()
_morfeusz = None


@lru_cache(maxsize=500_000)
def fold(text: str) -> str:
    """Lower case without diacritics ("Łódź" and "LODZ" fold to "lodz")."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The words of a text as written (letters and digits; punctuation and control characters split)."""
    return WORD.findall(text)


def _analyser():  # noqa: ANN202 - morfeusz2 has no type hints
    global _morfeusz
    with _lock:
        if _morfeusz is None:
            import morfeusz2

            _morfeusz = morfeusz2.Morfeusz(generate=True, expand_tags=False)
        return _morfeusz


def _english(word: str) -> set[str]:
    """A few English plural and verb endings, so "practices" meets "practice" and "cities" "city"."""
    out: set[str] = set()
    if len(word) > 4 and word.endswith("ies"):
        out.add(word[:-3] + "y")
    elif len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        out.add(word[:-2])
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        out.add(word[:-1])
    if len(word) > 5 and word.endswith("ing"):
        out.add(word[:-3])
    return out


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Folded lemmas of one word as written (itself folded included), every reading of it."""
    folded = fold(word)
    out = {folded}
    if not word.isdigit():
        for lemma in raw_lemmas(word):
            base = fold(lemma)
            if TOKEN.fullmatch(base):
                out.add(base)
        out |= _english(folded)
    return frozenset(t for t in out if TOKEN.fullmatch(t))


@lru_cache(maxsize=100_000)
def forms(lemma_as_written: str) -> frozenset[str]:
    """Folded forms of a lemma (all cases, numbers, genders) from Morfeusz's generator."""
    analyser = _analyser()
    try:
        with _lock:  # one Morfeusz instance, not safe to share between threads
            generated = analyser.generate(lemma_as_written)
    except RuntimeError:
        return frozenset()
    return frozenset(f for f in (fold(g[0]) for g in generated) if TOKEN.fullmatch(f))


@lru_cache(maxsize=200_000)
def raw_lemmas(word: str) -> frozenset[str]:
    """Lemmas as Morfeusz writes them (with Polish letters), for the generator."""
    analyser = _analyser()
    with _lock:
        readings = analyser.analyse(word.lower())
    return frozenset(lemma.split(":", 1)[0] for _s, _e, (_f, lemma, *_r) in readings)


@lru_cache(maxsize=200_000)
def token_stream(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(folded surface form, folded lemmas) per word of a text."""
    return tuple((fold(w), lemmas(w)) for w in words(text))


def expand_folded(table: dict[str, set[str]], word: str) -> set[str]:
    """Every folded lemma a query word may mean: its own analysis plus the generated-forms table."""
    out = set(lemmas(word))
    for token in list(out):
        out |= table.get(token, set())
    return out


def all_lemmas(texts: Iterable[str]) -> set[str]:
    return {lemma for text in texts for _s, ls in token_stream(text) for lemma in ls}
