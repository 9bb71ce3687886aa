"""Front-end files installed from npm (never copied into the repository, never from a CDN).

Only the built files that pages use are served, from an allow-list per package.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory, url_for
from werkzeug.wrappers import Response

bp = Blueprint("assets", __name__, url_prefix="/assets")

SERVED = {
    "swagger-ui-dist": {"swagger-ui.css", "swagger-ui-bundle.js"},
    "@zazuko/yasgui": {"build/yasgui.min.js", "build/yasgui.min.css"},
    "cytoscape": {"dist/cytoscape.min.js"},
    "leaflet": {"dist/leaflet.js", "dist/leaflet.css",
                *(f"dist/images/{n}" for n in ("layers.png", "layers-2x.png", "marker-icon.png",
                                                "marker-icon-2x.png", "marker-shadow.png"))},
}


def url(package: str, filename: str) -> str:
    """The address of a served file (scoped packages put their scope in the first segment)."""
    if package.startswith("@"):
        scope, name = package.split("/", 1)
        return url_for("assets.asset", package=scope, filename=f"{name}/{filename}")
    return url_for("assets.asset", package=package, filename=filename)


def node_modules() -> Path:
    """node_modules of the checkout (the set-up runs `npm ci` there)."""
    return Path(__file__).resolve().parents[3] / "node_modules"


@bp.get("/<package>/<path:filename>")
def asset(package: str, filename: str) -> Response:
    if package.startswith("@"):  # a scoped package: /assets/@scope/name/file
        name, _slash, filename = filename.partition("/")
        package = f"{package}/{name}"
    if filename not in SERVED.get(package, set()):
        abort(404)
    folder = node_modules() / package
    if not (folder / filename).is_file():
        abort(404, description=f"front-end package {package} is not installed (run `npm ci`)")
    response = send_from_directory(folder, filename, max_age=86400)
    return response
