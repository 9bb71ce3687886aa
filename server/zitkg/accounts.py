"""API tokens of organisations: created and revoked with the CLI, stored hashed, shown once.

Tokens live in a small SQLite file beside the store (not in the RDF graph): the CLI can create and
revoke them while the server runs, which the single-writer on-disk RDF store would not allow, and
secrets never enter a graph that might be exported. A token is ``zitkg_<id>_<secret>``; only the
SHA-256 of the secret is stored (the secret is 256 random bits, so a slow hash adds nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from zitkg.errors import BadRequest, ZitkgError

ROLES = ("submitter", "reviewer", "admin")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('submitter', 'reviewer', 'admin')),
    secret_sha256 TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    revoked TEXT
)
"""


class Unauthorized(ZitkgError):
    status = 401
    code = "unauthorized"


_EN = {
    "this request needs an API token": "This request needs an API token.",
    "the API token is malformed": "This is not an API token: a token starts with zitkg_. Copy it again, whole.",
    "the API token is not valid": "This API token is not valid. Check that it was copied whole, or ask an "
                                  "administrator for a new one.",
    "the API token was revoked": "This API token was revoked. Ask an administrator for a new one.",
}


def _refused(message: str, pl: str, hint: str | None = None) -> Unauthorized:
    """A 401 with the plain summary in Polish and English that the pages show."""
    return Unauthorized(message, hint=hint, details={"summary": {"pl": pl, "en": _EN[message]}})


@dataclass(frozen=True)
class Account:
    token_id: str
    organisation: str
    role: str
    label: str = ""
    created: str = ""
    revoked: str | None = None

    @property
    def is_reviewer(self) -> bool:
        return self.role in {"reviewer", "admin"}


def accounts_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".accounts.sqlite")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def create(self, organisation: str, role: str, label: str = "") -> tuple[Account, str]:
        """A new token; the returned secret text is the only time it is visible."""
        if role not in ROLES:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "INSERT INTO tokens (id, organisation, role, secret_sha256, label, created) VALUES (?,?,?,?,?,?)",
                (token_id, organisation, role, _digest(secret), label, created),
            )
        return Account(token_id, organisation, role, label, created), f"zitkg_{token_id}_{secret}"

    def list(self) -> list[Account]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, organisation, role, label, created, revoked FROM tokens ORDER BY created, id"
            ).fetchall()
        return [Account(*row) for row in rows]

    def revoke(self, token_id: str) -> bool:
        revoked = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            cursor = db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                                (revoked, token_id))
        return cursor.rowcount == 1

    def authenticate(self, token: str | None) -> Account:
        """The account of a bearer token, or 401."""
        if not token:
            raise _refused("this request needs an API token", "To żądanie wymaga tokenu API.",
                           hint="send 'Authorization: Bearer zitkg_…'")
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "zitkg":
            raise _refused("the API token is malformed", "To nie jest token API: token zaczyna się od zitkg_. "
                           "Skopiuj go jeszcze raz w całości.")
        _prefix, token_id, secret = parts
        with self._connect() as db:
            row = db.execute(
                "SELECT id, organisation, role, label, created, revoked, secret_sha256 FROM tokens WHERE id = ?",
                (token_id,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[6], _digest(secret)):
            raise _refused("the API token is not valid", "Ten token API jest nieprawidłowy. Sprawdź, czy "
                           "skopiowano go w całości, albo poproś administratora o nowy.")
        if row[5] is not None:
            raise _refused("the API token was revoked", "Ten token API został unieważniony. Poproś "
                           "administratora o nowy.")
        return Account(*row[:6])
