"""What some tests need from outside the repository, and what happens when it is missing.

The shared third-party reference material (W3C SPARQL tests, DCAT-AP shapes, the programme presentation)
sits in a folder named ``shared`` beside the clone or above it, or wherever SHARED_DIR points; it is
never copied into the repository. Optional system programs (Debian's chromium, Virtuoso) are installed
by .ci/run.

Missing, such a test skips with a reason that says what was not covered and how to get it; under CI
(``CI=true``) it fails instead, so that CI always runs everything. conftest.py prints one summary line
per missing thing at the end of the run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
MISSING_PREFIX = "not covered:"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str, how: str, *, module: bool = False) -> NoReturn:
    """Skip (locally) or fail (in CI) a test whose prerequisite ``what`` is absent; ``how`` gets it.

    ``module``: called while a test module is imported (skips the whole module).
    """
    message = f"{MISSING_PREFIX} {what} ({how})"
    if in_ci():
        pytest.fail(message + " - CI must run everything", pytrace=False)
    pytest.skip(message, allow_module_level=module)


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


def chromium_launch_args() -> dict:
    """Debian's chromium with the headless flags from TOOLING.md (Playwright downloads no browser here)."""
    return {"executable_path": chromium_path(), "args": list(CHROMIUM_FLAGS)}


def find_shared() -> Path | None:
    """SHARED_DIR, else a folder ``shared`` holding ``external/`` beside the clone or in any folder above it."""
    if os.environ.get("SHARED_DIR"):
        path = Path(os.environ["SHARED_DIR"])
        return path if path.is_dir() else None
    for parent in REPO.parents:
        candidate = parent / "shared"
        if (candidate / "external").is_dir():
            return candidate
    return None


def shared_root() -> Path:
    """The shared folder, or skip/fail the calling test."""
    found = find_shared()
    if found is None:
        missing("tests that read the shared reference material (W3C SPARQL suite, DCAT-AP shapes, seed)",
                "put the folder `shared` beside the clone or set SHARED_DIR")
    return found
