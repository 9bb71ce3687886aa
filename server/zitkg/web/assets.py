"""Front-end files installed from npm (never copied into the repository, never from a CDN).

Only the built files that pages use are served, from an allow-list per package.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from werkzeug.wrappers import Response

bp = Blueprint("assets", __name__, url_prefix="/assets")

SERVED = {
    "swagger-ui-dist": {"swagger-ui.css", "swagger-ui-bundle.js"},
}


def node_modules() -> Path:
    """node_modules of the checkout (the set-up runs `npm ci` there)."""
    return Path(__file__).resolve().parents[3] / "node_modules"


@bp.get("/<package>/<path:filename>")
def asset(package: str, filename: str) -> Response:
    if filename not in SERVED.get(package, set()):
        abort(404)
    folder = node_modules() / package
    if not (folder / filename).is_file():
        abort(404, description=f"front-end package {package} is not installed (run `npm ci`)")
    response = send_from_directory(folder, filename, max_age=86400)
    return response
