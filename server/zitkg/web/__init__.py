"""Flask application factory: one blueprint per concern, services hung on the app (STYLE.md §1-2)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request

from zitkg import resources
from zitkg.accounts import Accounts, accounts_path
from zitkg.backends import open_store
from zitkg.bundle import ensure_loaded
from zitkg.queries import QueryLibrary, Registry
from zitkg.settings import Settings, load_settings
from zitkg.sparql.service import SparqlService
from zitkg.sparql.structure import warm_up
from zitkg.store import GraphStore
from zitkg.submissions import Submissions


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> Flask:
    """Build the web app; opens the store from settings unless one is given, loads bundled data if empty."""
    settings = settings or load_settings()
    if store is None:
        store = open_store(settings)
    if settings.load_bundled:
        ensure_loaded(store)
    warm_up()  # pyparsing sets itself up once here, before any request thread or query worker exists

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    ext: dict[str, Any] = app.extensions.setdefault("zitkg", {})
    ext["settings"] = settings
    ext["store"] = store
    ext["sparql"] = SparqlService(store, settings)
    ext["library"] = QueryLibrary(Registry(resources.queries_dir()), ext["sparql"])
    ext["accounts"] = Accounts(accounts_path(settings.store))
    ext["submissions"] = Submissions.from_settings(store, settings)

    from zitkg.web import api, assets, errors, graphs, ld, publish, sparql, submit, ui
    from zitkg.web.fastlane import SparqlFastLane, raise_fastlane_error
    from zitkg.web.headers import SecurityHeaders, security_headers

    errors.init_app(app)

    @app.after_request
    def _worker_header(response):  # noqa: ANN001, ANN202 - which web worker answered, for operators
        response.headers["Zitkg-Worker"] = str(os.getpid())
        return response

    @app.before_request
    def _fastlane_error() -> None:  # an error the fast lane met while answering: shaped here like any other
        raise_fastlane_error(request.environ)

    for blueprint in (ui.bp, sparql.bp, api.bp, assets.bp, ld.bp, submit.bp, publish.bp, graphs.bp):
        app.register_blueprint(blueprint)
    app.wsgi_app = SparqlFastLane(app.wsgi_app, ext["sparql"], settings.max_body_bytes, settings.max_rows,
                                  settings.client_address_header, settings.body_timeout)
    # Outermost, so the fast lane's answers carry them too.
    app.wsgi_app = SecurityHeaders(app.wsgi_app, security_headers(settings))  # type: ignore[method-assign]
    return app


def services(app: Flask) -> dict[str, Any]:
    return app.extensions["zitkg"]
