"""Front-end files installed from npm (never copied into the repository, never from a CDN).

Only the built files that pages use are served, from an allow-list per package (vendor_files.py): from the
checkout's node_modules, or from the copies an installed wheel carries.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory, url_for
from werkzeug.wrappers import Response

from zitkg.web.vendor_files import SERVED

bp = Blueprint("assets", __name__, url_prefix="/assets")

def url(package: str, filename: str) -> str:
    """The address of a served file (scoped packages put their scope in the first segment)."""
    if package.startswith("@"):
        scope, name = package.split("/", 1)
        return url_for("assets.asset", package=scope, filename=f"{name}/{filename}")
    return url_for("assets.asset", package=package, filename=filename)


def node_modules() -> Path:
    """node_modules of the checkout (the set-up runs `npm ci` there)."""
    return Path(__file__).resolve().parents[3] / "node_modules"


def packaged() -> Path:
    """The copies an installed wheel carries (hatch_build.py puts them there)."""
    return Path(__file__).resolve().parent / "vendor"


def _folder(package: str, filename: str) -> Path | None:
    """Where a served file is: the checkout's node_modules first (a developer's `npm ci`), else the wheel's."""
    for base in (node_modules(), packaged()):
        if (base / package / filename).is_file():
            return base / package
    return None


@bp.get("/<package>/<path:filename>")
def asset(package: str, filename: str) -> Response:
    if package.startswith("@"):  # a scoped package: /assets/@scope/name/file
        name, _slash, filename = filename.partition("/")
        package = f"{package}/{name}"
    if filename not in SERVED.get(package, set()):
        abort(404)
    folder = _folder(package, filename)
    if folder is None:
        abort(404, description=f"front-end package {package} is not installed (run `npm ci`)")
    response = send_from_directory(folder, filename, max_age=86400)
    return response
