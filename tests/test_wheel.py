"""A plain (non-editable) install finds the ontology, shapes, data and queries inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared_paths import chromium_launch_args

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Installed:
    site: Path  # where the wheel was installed (pip --target), outside the checkout
    names: frozenset[str]  # the files in the wheel
    env: dict[str, str]  # an environment that imports zitkg from ``site`` only


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """The wheel, built once for the module and installed outside the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp.glob("zitkg-*.whl"))
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZITKG_")}, "PYTHONPATH": str(site)}
    return Installed(site, frozenset(zipfile.ZipFile(wheel).namelist()), env)


@pytest.mark.wheel
def test_wheel_ships_the_data_and_runs_outside_the_checkout(tmp_path, installed):
    names, target, env = installed.names, installed.site, installed.env
    for expected in ("zitkg/bundle/ontology/zit.ttl", "zitkg/bundle/shapes/core.ttl",
                     "zitkg/bundle/data/programme.ttl", "zitkg/bundle/queries/networks.rq"):
        assert expected in names
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


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return chromium_launch_args()


@pytest.mark.wheel
@pytest.mark.browser
def test_installed_wheel_serves_every_page_with_its_front_end(tmp_path, request, installed):
    """`pip install` of the wheel and `zitkg serve` outside the checkout: map, graph view and YASGUI load
    their libraries (they used to be read from the checkout's node_modules only)."""
    from conftest import free_port, wait_until_up
    from shared_paths import missing

    if not Path(chromium_launch_args()["executable_path"]).exists():
        missing("browser tests", "apt-get install chromium; .ci/run does")
    names, env = installed.names, installed.env
    for expected in ("zitkg/web/vendor/leaflet/dist/leaflet.js", "zitkg/web/vendor/cytoscape/dist/cytoscape.min.js",
                     "zitkg/web/vendor/@zazuko/yasgui/build/yasgui.min.js",
                     "zitkg/web/vendor/swagger-ui-dist/swagger-ui-bundle.js",
                     "zitkg/web/vendor/tom-select/dist/js/tom-select.complete.min.js"):
        assert expected in names
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(outside / "server.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "zitkg", "serve", "--store", str(outside / "db"),
                                   "--port", str(port)], cwd=outside, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, server)
        pages = {"/map": "L", "/id/org/bof": "cytoscape", "/sparql": "Yasgui", "/api/": "SwaggerUIBundle",
                 "/submit": "TomSelect"}
        # pytest-playwright's session browser: a second sync Playwright in the same run is not allowed
        page = request.getfixturevalue("browser").new_page()
        try:
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
                       else route.abort())
            for path, library in pages.items():
                failed: list[str] = []
                page.on("response", lambda r, failed=failed: failed.append(r.url) if r.status >= 400 else None)
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                assert page.evaluate(f"typeof window.{library}") != "undefined", (path, library)
                assert failed == [], (path, failed)
        finally:
            page.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
