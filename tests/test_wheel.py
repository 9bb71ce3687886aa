"""A plain (non-editable) install finds the ontology, shapes, data and queries inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.wheel
def test_wheel_ships_the_data_and_runs_outside_the_checkout(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("zitkg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("zitkg/bundle/ontology/zit.ttl", "zitkg/bundle/shapes/core.ttl",
                     "zitkg/bundle/data/programme.ttl", "zitkg/bundle/queries/networks.rq"):
        assert expected in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}, "PYTHONPATH": str(target)}
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run([sys.executable, "-c", "import zitkg.resources as r; print(r.bundle_root())"],
                           cwd=outside, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip() == str(target / "zitkg" / "bundle")
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "query", "networks", "--format", "json", "--store", str(outside / "db")],
        cwd=outside, env=env, capture_output=True, text=True, check=True,
    )
    assert len(json.loads(result.stdout)["results"]["bindings"]) == 5
