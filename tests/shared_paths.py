"""Where the shared third-party reference material is (W3C SPARQL tests, DCAT-AP shapes).

It sits beside the clone (../shared) or wherever SHARED_DIR points; it is never copied into the repo.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_root() -> Path:
    candidates = [Path(os.environ["SHARED_DIR"])] if os.environ.get("SHARED_DIR") else []
    candidates += [REPO.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise pytest.UsageError(f"the shared reference folder is missing (looked in {candidates}; set SHARED_DIR)")
