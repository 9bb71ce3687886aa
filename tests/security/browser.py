"""What the browser attacks share: Debian's chromium for Playwright, and what a page must never hold.

The fixtures are imported by the test modules that drive a browser (pytest-playwright provides
``page``, ``context`` and ``browser``; these say how to launch chromium, as tests/test_ui_browser.py
does). Playwright downloads no browser here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared_paths import chromium_launch_args, missing

pytest.importorskip("playwright")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    missing("browser tests", "apt-get install chromium; .ci/run does", module=True)

from playwright.sync_api import Page, Route  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
LINK_SCHEMES = ("http:", "https:", "mailto:")
WIDTHS = (1366, 390)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return chromium_launch_args()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "pl-PL"}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright's fallback fixture, a method that pytest 9 warns about (an error here)."""
    return None


@dataclass
class Watch:
    """What a page did that it must not: CSP violations, script errors, requests off this machine."""

    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def watch(page: Page) -> Watch:
    """Record CSP violations (console and securitypolicyviolation events), page errors and any request
    that leaves 127.0.0.1 (aborted)."""
    seen = Watch()
    page.on("console", lambda m: seen.violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e => {
        console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI);
    });""")

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            seen.outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", local_only)  # the context's: pages a click opens are covered too
    return seen


# Attributes that navigate or load something that can run: links, forms, frames, scripts, plug-ins.
# (An image or a style sheet from a data: address runs nothing: pyLODE's icons are data: images.)
TARGETS = {
    "href": "a, area",
    "xlink:href": "a",
    "action": "form",
    "formaction": "button, input",
    "src": "iframe, frame, embed, script",
    "data": "object",
}


def unsafe_targets(page: Page) -> list[dict[str, str]]:
    """Every link, form, frame or script target in the page (frames included) whose scheme, as this
    browser parses it, is not http, https or mailto."""
    found = []
    for frame in page.frames:
        found += frame.evaluate(
            """([allowed, targets]) => {
                const out = [];
                for (const [name, selector] of Object.entries(targets)) {
                    for (const el of document.querySelectorAll(selector)) {
                        const value = el.getAttribute(name);
                        if (value === null) { continue; }
                        let scheme;
                        try { scheme = new URL(value, document.baseURI).protocol; } catch (e) { scheme = 'unparsable'; }
                        if (!allowed.includes(scheme)) {
                            out.push({tag: el.tagName, attribute: name, value: value, scheme: scheme});
                        }
                    }
                }
                return out;
            }""",
            [list(LINK_SCHEMES), TARGETS],
        )
    return found


def screenshots(page: Page, name: str, height: int = 900) -> None:
    """The page at each of WIDTHS, full length, into tests/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # let layouts that follow the width (map, graph) settle
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": height})
