"""Publication for portals and crawlers: /downloads/, /catalog (DCAT-AP), /.well-known/void, robots, sitemap.

The files under /downloads/ are the current release of the published data (zitkg.export), built on the
first request after the data changed into a folder beside the store, and served from there; the catalog
is built from the same release manifest, so its byte sizes and checksums are those of the files served.
RDF documents are negotiated by `Accept` (or `format=`) like the linked-data pages.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from datetime import date
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, render_template_string, request, send_file

from zitkg import catalog
from zitkg.errors import NotAcceptable, NotFound
from zitkg.export import CurrentRelease, Release, media_type_of
from zitkg.web import bodies
from zitkg.web.ld import local_path

bp = Blueprint("publish", __name__)
log = logging.getLogger(__name__)

# Offered RDF formats in order of preference; Turtle when the client does not say.
OFFERED = {media: key for key, (media, _fmt) in catalog.FORMATS.items()}
ALIASES = {"application/x-turtle": "turtle", "text/n3": "turtle", "application/json": "jsonld",
           "application/xml": "rdfxml", "text/xml": "rdfxml", "text/plain": "ntriples"}
FORMAT_PARAM = {"ttl": "turtle", "turtle": "turtle", "jsonld": "jsonld", "json-ld": "jsonld", "rdf": "rdfxml",
                "xml": "rdfxml", "rdfxml": "rdfxml", "nt": "ntriples", "ntriples": "ntriples"}
SITEMAP_LIMIT = 50_000  # URLs in one sitemap file (sitemaps.org)
_create_lock = threading.Lock()


def current_release() -> CurrentRelease:
    """The app's release keeper, created on first use (nothing is built at start-up)."""
    ext = current_app.extensions["zitkg"]
    with _create_lock:
        if "releases" not in ext:
            ext["releases"] = CurrentRelease(ext["store"], ext["settings"])
    return ext["releases"]


def _release() -> Release:
    return current_release().get()


def _negotiate() -> str:
    wanted = request.args.get("format")
    if wanted:
        if wanted.lower() not in FORMAT_PARAM:
            raise NotAcceptable(f"format {wanted!r} is not offered",
                                details={"offered": sorted(FORMAT_PARAM)})
        return FORMAT_PARAM[wanted.lower()]
    accept = request.accept_mimetypes
    if not accept:
        return "turtle"
    best = accept.best_match([*OFFERED, *ALIASES])
    if best is None:
        raise NotAcceptable("none of the media types in Accept is offered",
                            details={"offered": list(OFFERED)})
    return OFFERED.get(best) or ALIASES[best]


def _rdf(triples: list, key: str) -> Response:
    response = Response(catalog.serialize(triples, key), mimetype=catalog.FORMATS[key][0])
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _profile() -> str:
    raw = request.args.get("profile", "3.0.1")
    profile = catalog.PROFILE_ALIASES.get(raw)
    if profile is None:
        raise NotFound(f"no DCAT-AP profile {raw!r}",
                       hint="use profile=dcat-ap-3.0.1 (default) or dcat-ap-2.1.1")
    return profile


@bp.get("/catalog")
def dcat_catalog() -> Response:
    """The DCAT-AP catalog: 3.0.1 by default, ?profile=dcat-ap-2.1.1 for the 2.1.1 profile."""
    profile, key = _profile(), _negotiate()
    keeper = current_release()
    release = keeper.get()
    return _rdf(catalog.catalog_triples(release.manifest, keeper.config, profile), key)


@bp.get("/.well-known/void")
def void() -> Response:
    key = _negotiate()
    keeper = current_release()
    return _rdf(catalog.void_triples(keeper.get().manifest, keeper.config), key)


_LISTING = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pliki do pobrania / Downloads — zitkg</title></head>
<body><main>
<h1>Pliki do pobrania <span lang="en">/ Downloads</span></h1>
<p>Wydanie / release <strong>{{ release.name }}</strong> ({{ release.date }}).
<a href="{{ url_for('publish.download', name='CHANGELOG.md') }}">Zmiany / changes</a>,
<a href="{{ url_for('publish.download', name='SHA256SUMS') }}">SHA256SUMS</a>,
<a href="{{ url_for('publish.dcat_catalog') }}">katalog DCAT-AP / DCAT-AP catalog</a>,
<a href="{{ url_for('publish.void') }}">VoID</a>.
Licencja / licence: <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>.</p>
<table><thead><tr><th>plik / file</th><th>opis</th><th lang="en">description</th><th>bajty / bytes</th>
<th>SHA-256</th></tr></thead><tbody>
{% for f in files %}<tr><td><a href="{{ url_for('publish.download', name=f.name) }}">{{ f.name }}</a></td>
<td>{{ f.title.pl }}</td><td lang="en">{{ f.title.en }}</td><td>{{ f.bytes }}</td>
<td><code>{{ f.sha256 }}</code></td>
</tr>{% endfor %}
</tbody></table>
</main></body></html>"""


@bp.get("/downloads/")
def downloads() -> Response:
    """The current release: an HTML list for browsers, its manifest as JSON for programs."""
    release = _release()
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"]) if accept else None
    if best == "application/json":
        response = Response(current_app.json.dumps(release.manifest), mimetype="application/json")
    else:
        page = render_template_string(_LISTING, release=release, files=release.manifest["files"])
        response = Response(page, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/downloads/<name>")
def download(name: str) -> Response:
    release = _release()
    path = release.file(name)
    if path is None:
        raise NotFound(f"no file {name!r} in release {release.name}", hint="see /downloads/ for the list")
    # Release files are small and never change: read whole (no open file left behind), tagged by hash.
    data = path.read_bytes()
    response = send_file(io.BytesIO(data), mimetype=media_type_of(name, release.manifest), download_name=name,
                         conditional=True, etag=hashlib.sha256(data).hexdigest(), max_age=0)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Zitkg-Release"] = release.name
    return response


@bp.get("/robots.txt")
def robots() -> Response:
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /sparql",
        "Disallow: /api/",
        f"Sitemap: {request.host_url}sitemap.xml",
        "",
    ]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Entity pages on this host (their IRIs resolve here), plus the pages about the data."""
    keeper = current_release()
    release = keeper.get()
    host = request.host_url.rstrip("/")
    pages = ["/", "/ontology", "/downloads/", "/catalog"]
    pages += [p for iri in keeper.entities if (p := local_path(iri))]
    lastmod = date.fromisoformat(release.date).isoformat()
    if len(pages) > SITEMAP_LIMIT:
        log.warning("sitemap cut at %d of %d pages", SITEMAP_LIMIT, len(pages))
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(host + page)}</loc><lastmod>{lastmod}</lastmod></url>"
             for page in pages[:SITEMAP_LIMIT]]
    body += ["</urlset>", ""]
    return Response("\n".join(body), mimetype="application/xml")


def _query_text() -> str:
    """The query of a SPARQL request, without reading a body larger than the service accepts."""
    if request.method == "GET":
        return request.args.get("query", "")
    if request.mimetype == "application/sparql-query":
        return bodies.request_text()  # read whole or refused (413, 408) by the one body reader
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return bodies.request_form().get("query", "")
    return ""


def asks_about_the_catalog(query: str) -> bool:
    """Whether a SPARQL query may read the catalog graph, which is then brought up to date first."""
    return "dcat" in query.lower()


@bp.before_app_request
def _catalog_for_harvesters() -> None:
    """Bring the catalog graph up to date before a SPARQL query about DCAT runs.

    Portals such as dane.gov.pl harvest by sending a CONSTRUCT over dcat: terms to the endpoint. The
    catalog graph is refreshed only for such queries, so ordinary queries never pay for an export.
    """
    if request.endpoint != "sparql.endpoint" or request.method not in {"GET", "POST"}:
        return
    if not asks_about_the_catalog(_query_text()):
        return
    try:
        current_release().get()
    except OSError as exc:  # the downloads folder cannot be written: answer from the catalog graph as it is
        log.error("cannot build the release for the catalog: %s", exc)
