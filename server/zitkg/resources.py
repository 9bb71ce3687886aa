"""Where the bundled ontology, shapes, data and queries are.

In a wheel they ship inside the package as ``zitkg/bundle/``; in a source checkout (editable install,
tests) they are the top-level folders of the repository. Both layouts are resolved here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundle_root() -> Path:
    shipped = _PACKAGE / "bundle"
    if (shipped / "ontology").is_dir():
        return shipped
    checkout = _PACKAGE.parent.parent
    if (checkout / "ontology").is_dir():
        return checkout
    raise FileNotFoundError(f"bundled data not found in {shipped} nor {checkout}")


def ontology_dir() -> Path:
    return bundle_root() / "ontology"


def shapes_dir() -> Path:
    return bundle_root() / "shapes"


def data_dir() -> Path:
    return bundle_root() / "data"


def queries_dir() -> Path:
    return bundle_root() / "queries"
