"""The full-text index: SQLite FTS5 over folded lemmas, in one file beside the store.

One row per resource (its names, alternative names and descriptions in Polish and English), written as
token streams: each word becomes its folded surface form followed by its folded lemmas, so a query for
any form of a word, with or without Polish letters, meets it. The file is derived data: it is kept in
step by comparing a hash per resource with what the store says now, and rebuilt when missing or broken.

Crash safety: a full build writes a new file and renames it over the old one (``os.replace``, atomic on
POSIX); an update of changed rows is one SQLite transaction (the rollback journal undoes a half-written
one at the next open). A file that SQLite cannot read, or whose integrity check fails, is logged,
removed and rebuilt.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zitkg.search import morphology as morph

log = logging.getLogger("zitkg.search")

SCHEMA = "zitkg-search-4"
# bm25 weights of the columns: names, alternative names, descriptions.
WEIGHTS = (10.0, 6.0, 1.0)
MAX_HITS = 5000


@dataclass(frozen=True)
class Document:
    iri: str
    labels: tuple[str, ...]
    alt_labels: tuple[str, ...]
    descriptions: tuple[str, ...]
    tier: int  # 0 main kinds, 1 others, 2 budget lines, indicator values, memberships
    is_example: bool

    @functools.cached_property
    def digest(self) -> str:
        """What the index holds of the resource, hashed: a resource is re-indexed when it changes."""
        raw = "\x1e".join(("\x1f".join(self.labels), "\x1f".join(self.alt_labels), "\x1f".join(self.descriptions),
                            str(self.tier), str(int(self.is_example))))
        return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def _stream(texts: Iterable[str]) -> str:
    """The tokens FTS5 indexes for some texts: per word, its folded form then its other folded lemmas."""
    out: list[str] = []
    for text in texts:
        for surface, lemmas in morph.token_stream(text):
            out.append(surface)
            out.extend(sorted(lemmas - {surface}))
    return " ".join(out)


_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE docs(id INTEGER PRIMARY KEY, iri TEXT UNIQUE NOT NULL, digest TEXT NOT NULL, tier INTEGER NOT NULL,
                  example INTEGER NOT NULL, label TEXT NOT NULL, alt TEXT NOT NULL, description TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(label, alt, description, tokenize = 'ascii', prefix = '2 3 4',
                                    detail = full);
CREATE TABLE forms(form TEXT NOT NULL, lemma TEXT NOT NULL, PRIMARY KEY(form, lemma)) WITHOUT ROWID;
CREATE TABLE generated(lemma TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE vocab(word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""


def _diff(have: Mapping[str, str], documents: Mapping[str, Document]) -> tuple[list[str], list[Document]]:
    """(IRIs whose entry must go, documents to write) to turn the digests ``have`` into ``documents``."""
    gone = [iri for iri, digest in have.items() if iri not in documents or documents[iri].digest != digest]
    new = [d for iri, d in documents.items() if have.get(iri) != d.digest]
    return gone, new


def _count(counts: dict[str, int], texts: Iterable[str], step: int) -> None:
    """Add ``step`` per folded word of the texts to ``counts`` (the vocabulary of suggestions)."""
    for text in texts:
        for surface, _lemmas in morph.token_stream(text):
            if not surface.isdigit():
                counts[surface] = counts.get(surface, 0) + step


class IndexFile:
    """The index file (or an in-memory index when the store has no folder)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._open()

    # --- opening, checking, rebuilding -----------------------------------------------------------------

    def _connect(self, path: Path | str) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def _open(self) -> None:
        if self.path is None:
            self._conn = self._fresh(":memory:")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob(self.path.name + ".tmp-*"):  # a build killed half-way
            with contextlib.suppress(OSError):
                stale.unlink()
        if self.path.exists():
            try:
                conn = self._connect(self.path)
                schema = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                check = conn.execute("PRAGMA quick_check").fetchone()
                conn.execute("INSERT INTO fts(fts, rank) VALUES('integrity-check', 1)")
                if schema and schema[0] == SCHEMA and check and check[0] == "ok":
                    self._conn = conn
                    return
                conn.close()
                log.warning("search index %s is of another version: rebuilding it", self.path)
            except sqlite3.DatabaseError as exc:
                log.warning("search index %s is damaged (%s): rebuilding it from the store", self.path, exc)
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(str(self.path) + suffix).unlink()
        self._replace_with([])

    def _fresh(self, path: Path | str) -> sqlite3.Connection:
        conn = self._connect(path)
        conn.executescript(_DDL)
        conn.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA,))
        return conn

    def _replace_with(self, documents: Sequence[Document]) -> None:
        """A new file with these documents, renamed over the old one when complete."""
        if self.path is None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                self._conn = self._fresh(":memory:")
                self._write(self._conn, documents)
            return
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        conn = self._fresh(tmp)
        try:
            self._write(conn, documents)
        finally:
            conn.close()
        with self._lock:
            os.replace(tmp, self.path)
            if self._conn is not None:
                self._conn.close()
            self._conn = self._connect(self.path)

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- writing ---------------------------------------------------------------------------------------

    def digests(self) -> dict[str, str]:
        with self._lock:
            return dict(self.conn.execute("SELECT iri, digest FROM docs"))

    def sync(self, documents: Mapping[str, Document]) -> tuple[int, int]:
        """Bring the index in step with these documents; (rows removed, rows written).

        The difference is taken again inside the write transaction: another web worker sharing the file
        may have written the same change meanwhile (then nothing is left to do).
        """
        with self._lock:
            have = self.digests()
            if not have and self.path is not None and documents:  # a first build: a whole new file
                self._replace_with(list(documents.values()))
                return 0, len(documents)
            gone, new = _diff(have, documents)
            if not gone and not new:
                return 0, 0
            return self._write(self.conn, documents)

    def _write(self, conn: sqlite3.Connection, wanted: Mapping[str, Document] | Sequence[Document],
               ) -> tuple[int, int]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(wanted, Mapping):
                gone, documents = _diff(dict(conn.execute("SELECT iri, digest FROM docs")), wanted)
            else:
                gone, documents = [], list(wanted)
            counts: dict[str, int] = {}
            raw: set[str] = set()
            for iri in gone:
                row = conn.execute("SELECT id, label, alt, description FROM docs WHERE iri = ?", (iri,)).fetchone()
                if row is None:
                    continue
                conn.execute("DELETE FROM fts WHERE rowid = ?", (row[0],))
                conn.execute("DELETE FROM docs WHERE id = ?", (row[0],))
                _count(counts, row[1:], -1)
            for doc in documents:
                texts = ("\n".join(doc.labels), "\n".join(doc.alt_labels), "\n".join(doc.descriptions))
                cursor = conn.execute(
                    "INSERT INTO docs(iri, digest, tier, example, label, alt, description) VALUES(?,?,?,?,?,?,?)",
                    (doc.iri, doc.digest, doc.tier, int(doc.is_example), *texts))
                conn.execute("INSERT INTO fts(rowid, label, alt, description) VALUES(?,?,?,?)",
                             (cursor.lastrowid, _stream(doc.labels), _stream(doc.alt_labels),
                              _stream(doc.descriptions)))
                _count(counts, texts, 1)
                for text in texts:
                    raw.update(lemma for word in morph.words(text) if not word.isdigit()
                               for lemma in morph.raw_lemmas(word))
            conn.executemany("INSERT INTO vocab VALUES(?, ?) ON CONFLICT(word) DO UPDATE SET n = n + excluded.n",
                             counts.items())
            conn.execute("DELETE FROM vocab WHERE n <= 0")
            self._add_forms(conn, raw)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(gone), len(documents)

    @staticmethod
    def _add_forms(conn: sqlite3.Connection, raw: set[str]) -> None:
        """Every form of every new lemma, folded, points to the folded lemma (no-diacritics input)."""
        known = {r[0] for r in conn.execute("SELECT lemma FROM generated")} if raw else set()
        for lemma in sorted(raw - known):
            folded = morph.fold(lemma)
            if not morph.TOKEN.fullmatch(folded):
                continue
            conn.executemany("INSERT OR IGNORE INTO forms VALUES(?, ?)",
                             ((form, folded) for form in morph.forms(lemma) if form != folded))
            conn.execute("INSERT OR IGNORE INTO generated VALUES(?)", (lemma,))

    # --- reading ---------------------------------------------------------------------------------------

    def lemmas_of_forms(self, forms: Iterable[str]) -> dict[str, set[str]]:
        forms = list(set(forms))
        if not forms:
            return {}
        marks = ",".join("?" * len(forms))
        out: dict[str, set[str]] = {}
        with self._lock:
            rows = self.conn.execute(f"SELECT form, lemma FROM forms WHERE form IN ({marks})", forms)  # noqa: S608
            for form, lemma in rows:
                out.setdefault(form, set()).add(lemma)
        return out

    def match(self, expression: str, limit: int = MAX_HITS) -> list[tuple[int, str, int, float, bool]]:
        """(row id, iri, tier, bm25, example) of the rows matching an FTS5 expression, by kind then bm25."""
        with self._lock:
            return self.conn.execute(
                "SELECT d.id, d.iri, d.tier, bm25(fts, ?, ?, ?) AS score, d.example "
                "FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? ORDER BY d.tier, score, d.iri LIMIT ?",
                (*WEIGHTS, expression, limit)).fetchall()

    def texts(self, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """(label, alt, description) of some rows (fetched only for the hits that are looked at)."""
        out: dict[int, tuple[str, str, str]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                for row in self.conn.execute(
                        f"SELECT id, label, alt, description FROM docs WHERE id IN ({marks})", chunk):  # noqa: S608
                    out[row[0]] = tuple(row[1:])
        return out

    def known(self, words: Iterable[str]) -> set[str]:
        words = list(set(words))
        if not words:
            return set()
        marks = ",".join("?" * len(words))
        with self._lock:
            return {r[0] for r in self.conn.execute(f"SELECT word FROM vocab WHERE word IN ({marks})", words)}  # noqa: S608

    def nearest(self, word: str, n: int = 3) -> list[str]:
        """Words of the index closest to a (folded) word, most frequent first among equals."""
        if len(word) < 3:
            return []
        with self._lock:
            candidates = dict(self.conn.execute(
                "SELECT word, n FROM vocab WHERE word >= ? AND word < ? AND length(word) BETWEEN ? AND ?",
                (word[0], word[0] + "{", max(1, len(word) - 3), len(word) + 3)))
        close = difflib.get_close_matches(word, list(candidates), n=n * 3, cutoff=0.7)
        close.sort(key=lambda w: (-difflib.SequenceMatcher(None, word, w).ratio(), -candidates[w]))
        return close[:n]

    def size(self) -> int:
        with self._lock:
            return self.conn.execute("SELECT count(*) FROM docs").fetchone()[0]
