"""Settings as one declared table.

Every setting has a name, a type, a default and a help text; the same table feeds the environment
(``ZITKG_<NAME>``), the CLI options and the docs (a test checks docs/settings.md lists them all).
An unknown ``ZITKG_*`` variable or a value of the wrong type stops start-up with a hint, because a
typo in a deployment should fail loudly rather than silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zitkg.errors import ConfigError

ENV_PREFIX = "ZITKG_"


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("store", Path, Path("var/store"), "Folder of the on-disk Oxigraph store (the durable record)."),
    Setting("host", str, "127.0.0.1", "Interface the web server binds to."),
    Setting("port", int, 8123, "Port the web server listens on."),
    Setting("base_iri", str, "https://w3id.org/sieci-zit/", "Base of every IRI the service mints and serves."),
    Setting("query_timeout", float, 5.0, "Maximum seconds a SPARQL query may run; requests may lower it."),
    Setting("max_rows", int, 10000, "Maximum rows (or triples) in one SPARQL answer; larger answers are cut."),
    Setting("query_workers", int, 4, "Worker processes that evaluate queries (each can be ended at the limit)."),
    Setting("max_body_bytes", int, 2_000_000, "Largest request body accepted, in bytes."),
    Setting("body_timeout", float, 30.0, "Seconds a request body may take to arrive whole (slower: 408)."),
    Setting("table_max_rows", int, 5000, "Most data rows in a CSV or XLSX submission; reading stops at the "
            "first row past it (413)."),
    Setting("table_max_columns", int, 50, "Most columns in a CSV or XLSX submission (413)."),
    Setting("table_max_cell_chars", int, 10000, "Most characters in one cell of a CSV or XLSX submission (413)."),
    Setting("xlsx_max_unpacked_bytes", int, 20_000_000, "Most bytes an XLSX file may unpack to, all its parts "
            "together, by their declared and by their actual sizes (413)."),
    Setting("error_max_items", int, 100, "Most entries of a list an error lists (rows, SHACL results); the "
            "rest are counted (e.g. errorsOmitted)."),
    Setting("error_max_chars", int, 200, "Longest input value an error echoes (longer: cut, with '…'); "
            "messages, which may quote values, up to five times as long."),
    Setting("max_graph_store_bytes", int, 200_000_000, "Largest body an administrator may PUT or POST to the "
            "Graph Store (/graph-store), in bytes; larger: 413, nothing changed."),
    Setting("max_answer_bytes", int, 32_000_000, "Largest SPARQL answer in bytes, beside the row cap; a larger "
            "answer is cut to the rows that fit (header Zitkg-Results-Truncated: true)."),
    Setting("query_memory_mb", int, 2048, "Memory (MB of address space) a query worker may take beyond what it "
            "shares with the web process; a query that needs more is stopped (503). 0: no ceiling."),
    Setting("query_slots_per_client", int, 2, "Query workers one client (IP address) may hold while all "
            "query_workers are busy; a further query from it is refused with 429 until one finishes."),
    Setting("query_overflow_workers", int, 2, "Extra query workers for clients that hold none while all "
            "query_workers are busy, so that one client's heavy queries do not stall everyone else."),
    Setting("client_address_header", str, "", "Request header with the client's address when the service runs "
            "behind a reverse proxy (e.g. X-Forwarded-For: its last entry, the one the proxy added, is used); "
            "empty: the address of the connection."),
    Setting("service_allowlist", str, "", "Comma-separated hosts that SPARQL SERVICE may call (none by default)."),
    Setting("admin_token", str, "", "Token that allows SPARQL updates on /sparql (empty: updates are refused)."),
    Setting("max_rdf_depth", int, 64, "Deepest nesting of brackets ([ ], ( ), { }, << >>) in a submitted Turtle or "
            "JSON(-LD) document, checked before parsing; deeper: 413, nothing stored."),
    Setting("max_rdf_statements", int, 10_000, "Most statements (triples) in one submission; more: 413, nothing "
            "stored. Validation takes about 1.2 ms per statement and submissions are validated one at a time."),
    Setting("access_log", bool, False, "Log every request to stderr (costs about a third of the throughput on "
            "tiny lookups; a reverse proxy usually logs them anyway)."),
    Setting("load_bundled", bool, True, "Load the bundled data into an empty store on start."),
    Setting("sparql_query_url", str, "", "Query URL of a remote SPARQL 1.1 server; set, the service runs on it "
            "instead of the embedded store."),
    Setting("sparql_update_url", str, "", "Update URL of the remote server (default: the query URL)."),
    Setting("sparql_user", str, "", "User name for the remote server's update endpoint."),
    Setting("sparql_password", str, "", "Password for the remote server's update endpoint."),
    Setting("sparql_auth", str, "basic", "HTTP authentication scheme of the remote server: basic or digest."),
    Setting("remote_timeout_param", str, "", "Request parameter carrying the time limit in ms to the remote "
            "server (Virtuoso: timeout); empty: none, the limit is enforced here only."),
    Setting("remote_max_rows", int, 0, "The remote server's own silent row cap (Virtuoso: 10000); an answer "
            "that reaches it is flagged as cut. 0: none."),
    Setting("public_url", str, "", "Public address of the service, ending with '/' (download and endpoint URLs "
            "in the catalog); empty: the base IRI."),
    Setting("publisher_name", str, "Projekt zitkg", "Name of the publisher in the DCAT-AP catalog."),
    Setting("publisher_url", str, "", "Home page of the publisher; empty: the service's own home page."),
    Setting("contact_email", str, "", "E-mail of the catalog's contact point; empty: the contact point is the "
            "publisher's home page only."),
    Setting("downloads", str, "", "Folder of the export releases served under /downloads/; empty: "
            "'<store>.downloads' beside the store."),
    Setting("tile_url", str, "", "Map tile URL template ({z}/{x}/{y}) for the UI's map; empty: no tiles, the "
            "markers, links and legend are drawn on a plain background."),
    Setting("tile_attribution", str, "", "Attribution text the tile server requires, shown on the map."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, raw: Any) -> Any:
    if isinstance(raw, setting.type):
        return raw
    text = str(raw).strip()
    try:
        if setting.type is bool:
            lowered = text.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        return setting.type(text)
    except ValueError:
        raise ConfigError(
            f"setting {setting.name!r} expects {setting.type.__name__}, got {raw!r}",
            hint=setting.help,
        ) from None


@dataclass(frozen=True)
class Settings:
    store: Path
    host: str
    port: int
    base_iri: str
    query_timeout: float
    max_rows: int
    query_workers: int
    max_body_bytes: int
    body_timeout: float
    table_max_rows: int
    table_max_columns: int
    table_max_cell_chars: int
    xlsx_max_unpacked_bytes: int
    error_max_items: int
    error_max_chars: int
    max_graph_store_bytes: int
    max_answer_bytes: int
    query_memory_mb: int
    query_slots_per_client: int
    query_overflow_workers: int
    client_address_header: str
    service_allowlist: str
    admin_token: str
    max_rdf_depth: int
    max_rdf_statements: int
    access_log: bool
    load_bundled: bool
    sparql_query_url: str
    sparql_update_url: str
    sparql_user: str
    sparql_password: str
    sparql_auth: str
    remote_timeout_param: str
    remote_max_rows: int
    public_url: str
    publisher_name: str
    publisher_url: str
    contact_email: str
    downloads: str
    tile_url: str
    tile_attribution: str

    @property
    def allowed_service_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.service_allowlist.split(",") if h.strip())

    @property
    def remote(self) -> bool:
        return bool(self.sparql_query_url)

    def replace(self, **changes: Any) -> Settings:
        return load_settings(environ={}, overrides={**dataclasses.asdict(self), **changes})


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from defaults, then ``ZITKG_*`` variables, then explicit overrides (CLI options)."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in _BY_NAME:
            close = difflib.get_close_matches(name, _BY_NAME, n=1)
            hint = f"did you mean {ENV_PREFIX}{close[0].upper()}?" if close else "see docs/settings.md"
            raise ConfigError(f"unknown setting {key}", hint=hint)
        values[name] = _coerce(_BY_NAME[name], raw)
    for name, raw in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}", hint="see docs/settings.md")
        if raw is not None:
            values[name] = _coerce(_BY_NAME[name], raw)
    if not values["base_iri"].endswith("/"):
        raise ConfigError("setting 'base_iri' must end with '/'", hint=f"got {values['base_iri']!r}")
    if values["sparql_auth"] not in {"basic", "digest"}:
        raise ConfigError("setting 'sparql_auth' must be basic or digest", hint=f"got {values['sparql_auth']!r}")
    if values["max_rdf_depth"] <= 0 or values["max_rdf_statements"] <= 0:
        raise ConfigError("max_rdf_depth and max_rdf_statements must be positive")
    if values["query_timeout"] <= 0 or values["max_rows"] <= 0 or values["query_workers"] <= 0:
        raise ConfigError("query_timeout, max_rows and query_workers must be positive")
    input_limits = ("max_body_bytes", "body_timeout", "table_max_rows", "table_max_columns", "table_max_cell_chars",
                    "xlsx_max_unpacked_bytes", "error_max_items", "error_max_chars")
    if not all(values[name] > 0 for name in input_limits):
        raise ConfigError(f"{', '.join(input_limits)} must be positive")
    return Settings(**values)
