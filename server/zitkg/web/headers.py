"""Security headers on every answer: the outermost WSGI middleware of the app.

It wraps Flask *and* the SPARQL fast lane (web/fastlane.py answers most ``/sparql`` requests before
Flask sees them), so pages, API answers, linked-data documents, static files, error pages and query
results all carry the same headers. A header an answer sets itself is kept.

The Content-Security-Policy allows scripts only from this site: no inline script, no event-handler
attributes, no ``eval``. Pages pass data to their scripts in ``data-`` attributes or in
``<script type="application/json">`` blocks, which are data, not code. Styles allow ``'unsafe-inline'``:
the map's legend and the libraries (Leaflet, YASGUI, Swagger UI, the pyLODE page of /ontology) set
inline styles; a style cannot run code. Images may also come from the map's tile server when one is
configured (``ZITKG_TILE_URL``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from zitkg.settings import Settings

REFERRER_POLICY = "strict-origin-when-cross-origin"  # tile servers may ask for the site's origin


def tile_source(tile_url: str) -> str | None:
    """The CSP source expression that covers a tile URL template, or None for no (usable) template.

    A placeholder in the host's first label (``{s}.tile.example.org``) becomes ``*.tile.example.org``;
    one elsewhere in the host leaves only the scheme.
    """
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    first, _dot, rest = parts.netloc.partition(".")
    if "{" not in parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    if "{" in first and rest and "{" not in rest:
        return f"{parts.scheme}://*.{rest}"
    return f"{parts.scheme}:"


def content_security_policy(tile_url: str = "") -> str:
    images = ["'self'", "data:"]
    tiles = tile_source(tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(settings: Settings) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(settings.tile_url)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", REFERRER_POLICY),
    ]


class SecurityHeaders:
    """WSGI middleware that adds ``headers`` to every answer that does not set them itself."""

    def __init__(self, app: Callable, headers: Sequence[tuple[str, str]]) -> None:
        self.app = app
        self.headers = list(headers)
        self.names = frozenset(name.lower() for name, _value in headers)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            own = {name.lower() for name, _value in headers} & self.names
            added = [h for h in self.headers if h[0].lower() not in own] if own else self.headers
            return start_response(status, [*headers, *added], exc_info)

        return self.app(environ, start)
