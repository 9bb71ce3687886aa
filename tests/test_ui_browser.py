"""The mapping workbench in a real browser: Playwright driving Debian's chromium against `zitkg serve`.

Every request that does not go to 127.0.0.1 is blocked, so nothing depends on the internet (the map is
configured with a tile server that therefore never answers). Each test saves a screenshot into
tests/screenshots/ (git-ignored) and runs axe-core on the page: no serious or critical WCAG 2 A/AA
violations outside third-party widget internals.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import RunningServer, start_server, stop_server
from shared_paths import chromium_launch_args, missing

pytest.importorskip("playwright")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    missing("browser tests", "apt-get install chromium; .ci/run does", module=True)

from playwright.sync_api import Page, Route, expect  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(__file__).parent / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ID = "https://w3id.org/sieci-zit/id/"


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return chromium_launch_args()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A Polish browser (Accept-Language: pl), as the workbench's users have; downloads allowed."""
    return {**browser_context_args, "locale": "pl-PL", "accept_downloads": True}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright's fallback fixture, a method that pytest 9 warns about (an error here)."""
    return None


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory) -> Iterator[RunningServer]:
    """A server of its own with a fresh store (the tests submit and publish), and a tile URL that is blocked."""
    tmp = tmp_path_factory.mktemp("ui-server")
    running = start_server(tmp, query_workers="2", tile_url="https://tiles.invalid/{z}/{x}/{y}.png",
                           tile_attribution="tiles")
    yield running
    stop_server(running)


@pytest.fixture
def ui(page: Page, ui_server: RunningServer) -> Page:
    """A page whose requests may reach 127.0.0.1 only; blocked requests are counted."""
    page.blocked = []  # type: ignore[attr-defined]

    def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            page.blocked.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

    page.context.route("**/*", only_local)
    page.set_default_timeout(15_000)
    page.base = ui_server.url  # type: ignore[attr-defined]
    return page


def go(page: Page, path: str) -> None:
    page.goto(page.base + path)  # type: ignore[attr-defined]


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe(page: Page, exclude: tuple[str, ...] = ()) -> None:
    """No serious or critical WCAG 2 A/AA violation (third-party widget internals scoped out)."""
    page.evaluate(AXE.read_text())  # not a <script> tag: the pages' CSP allows no inline script
    violations = page.evaluate(
        """async (exclude) => (await axe.run({exclude: exclude.map(s => [s])},
               {runOnly: ['wcag2a', 'wcag2aa']})).violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""",
        list(exclude),
    )
    assert violations == [], violations


def token(server: RunningServer, organisation: str, role: str = "submitter") -> str:
    from zitkg.accounts import Accounts, accounts_path

    _account, secret = Accounts(accounts_path(server.store)).create(ID + organisation, role, "browser test")
    return secret


def test_home_shows_the_five_networks(ui: Page) -> None:
    go(ui, "/")
    networks = ui.locator("section.network")
    expect(networks).to_have_count(5)
    expect(ui.locator("section.network", has_text="Co4Energy")).to_contain_text(
        "Stowarzyszenie Białostockiego Obszaru Funkcjonalnego")
    expect(ui.locator(".badge").first).to_be_visible()  # latest practices are examples, and say so
    shot(ui, "home")
    axe(ui)


def test_search_without_polish_letters_and_downloads_as_filtered(ui: Page) -> None:
    go(ui, "/search")
    ui.get_by_label("Słowa w nazwach i opisach").fill("efektywnosc energetyczna")
    ui.get_by_role("button", name="Szukaj", exact=True).click()
    results = ui.locator("ol.results > li")
    expect(results.filter(has_text="Wspólny energetyk MOF – efektywność energetyczna budynków publicznych").first
           ).to_be_visible()
    ui.locator("section.facet", has_text="Typ").get_by_role("link", name=re.compile("Dobra praktyka")).click()
    expect(ui).to_have_url(re.compile(r"type=https"))
    shown = results.count()
    assert shown >= 1
    with ui.expect_download() as download:
        ui.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == shown and all("Dobra praktyka" in r["type"] for r in rows)
    assert any(r["iri"] == ID + "practice/energetyk-mof" for r in rows)
    shot(ui, "search")
    axe(ui)


def test_entity_graph_expands_on_click_and_opens_on_double_click(ui: Page) -> None:
    go(ui, "/id/network/co4energy")
    graph = ui.locator("#graph[data-nodes]")
    expect(graph).to_be_visible()
    before = int(graph.get_attribute("data-nodes"))
    box = ui.locator("#graph").bounding_box()

    def node_point(iri: str) -> tuple[float, float]:
        pos = ui.evaluate("iri => window.zitkgGraph.getElementById(iri).renderedPosition()", iri)
        return box["x"] + pos["x"], box["y"] + pos["y"]

    assert ui.evaluate("iri => window.zitkgGraph.getElementById(iri).empty()", ID + "org/bof")
    ui.mouse.click(*node_point(ID + "membership/co4energy-bof"))
    ui.wait_for_function("n => window.zitkgGraph.nodes().length > n", arg=before)
    assert not ui.evaluate("iri => window.zitkgGraph.getElementById(iri).empty()", ID + "org/bof")
    expect(ui.locator("#graph-legend li").first).to_be_visible()
    shot(ui, "entity-graph")
    axe(ui)
    ui.wait_for_timeout(400)  # let the layout settle before aiming at a node again
    ui.mouse.dblclick(*node_point(ID + "org/bof"))
    expect(ui).to_have_url(re.compile(r"/id/org/bof$"))


def test_map_shows_markers_and_network_links_with_tiles_blocked(ui: Page) -> None:
    go(ui, "/map")
    expect(ui.locator("#map[data-loaded]")).to_be_attached()
    expect(ui.locator("path.zitkg-association")).to_have_count(11)
    expect(ui.locator("path.zitkg-mof")).to_have_count(11)
    assert ui.locator("path.zitkg-pilot").count() >= 20
    expect(ui.locator("path.zitkg-link")).to_have_count(6)
    expect(ui.locator("ul.legend li")).to_have_count(3 + 5)  # three kinds of marker, a line per network
    expect(ui.locator("ul.legend")).to_contain_text("Co4Energy")
    assert any("tiles.invalid" in url for url in ui.blocked)  # type: ignore[attr-defined]
    shot(ui, "map")
    axe(ui, exclude=("#map",))
    ui.get_by_label("Sieć").select_option(ID + "network/co4energy")
    ui.get_by_role("button", name="Pokaż").click()
    expect(ui.locator("path.zitkg-link")).to_have_count(1)
    expect(ui.locator("path.zitkg-association")).to_have_count(2)


def test_matrix_cell_click_lists_its_practices(ui: Page) -> None:
    go(ui, "/matrix")
    row = ui.locator("tr", has=ui.get_by_role("rowheader", name="Stowarzyszenie Białostockiego Obszaru Funkcjonalnego"))
    row.get_by_role("link", name=re.compile("Efektywność energetyczna")).click()
    panel = ui.locator("#cell-panel")
    expect(panel.locator(".cell-practices li")).to_have_count(3)
    expect(panel).to_contain_text("Wspólny energetyk MOF")
    expect(ui).to_have_url(re.compile(r"/matrix$"))  # opened in place
    shot(ui, "matrix")
    axe(ui)


def test_question_page_returns_rows_and_its_csv_downloads(ui: Page) -> None:
    go(ui, "/questions/pilots-by-theme")
    ui.get_by_label("Obszar tematyczny (lub jego węższy zakres)").select_option(ID + "theme/climate")
    ui.get_by_role("button", name="Odpowiedź").click()
    expect(ui).to_have_url(re.compile(r"theme=https%3A%2F%2Fw3id.org%2Fsieci-zit%2Fid%2Ftheme%2Fclimate"))
    rows = ui.locator("table.answer tbody tr")
    expect(rows.first).to_be_visible()
    shown = rows.count()
    with ui.expect_download() as download:
        ui.get_by_role("link", name="CSV").click()
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(table) == shown and {"pilot", "pilotLabel", "wkt"} <= set(table[0])
    expect(ui.locator("pre.sparql")).to_contain_text("SELECT DISTINCT ?pilot")
    shot(ui, "question")
    axe(ui)


def test_yasgui_runs_a_library_query_against_the_endpoint(ui: Page) -> None:
    go(ui, "/sparql")
    expect(ui.locator(".yasqe .CodeMirror")).to_be_visible()
    with ui.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST") as answer:
        ui.locator("button.example[data-example='networks']").click()
    assert answer.value.status == 200
    expect(ui.locator(".yasr")).to_contain_text("Co4Energy")
    shot(ui, "sparql")
    axe(ui, exclude=("#yasgui",))


def test_submission_form_lands_a_valid_record_and_shows_messages_by_the_fields(ui: Page, ui_server) -> None:
    secret = token(ui_server, "org/bof")
    go(ui, "/submit")
    ui.get_by_label("Token API").fill(secret)
    ui.get_by_role("button", name="Użyj tego tokenu").click()
    expect(ui.locator("#mine tbody")).to_contain_text("Brak zgłoszeń")
    # A bad record: a name only. The browser's checks (from the shapes) appear next to the fields they
    # concern before anything is sent; tests/test_submit_browser.py has the server's messages placed too.
    ui.get_by_label("nazwa — po polsku").fill("Praktyka bez obszaru")
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    theme_errors = ui.locator(".field[data-path$='#theme'] .field-error")
    expect(theme_errors).to_contain_text("Obszar tematyczny: to pole jest wymagane.")
    expect(ui.locator(".field[data-path$='#originator'] .field-error")).not_to_have_count(0)
    expect(ui.locator(".field[data-path$='#theme'] select")).to_have_attribute("aria-invalid", "true")
    shot(ui, "submit-invalid")
    axe(ui)
    # A valid record lands as a pending submission.
    ui.get_by_label("nazwa — po polsku").fill("Wspólny zakup energii dla budynków gmin MOF")
    ui.get_by_label("nazwa — po angielsku").fill("Joint energy purchasing for FUA municipal buildings")
    ui.get_by_label("opis — po polsku").fill("Gminy MOF kupują energię elektryczną w jednym przetargu.")
    ui.get_by_label("opis — po angielsku").fill("The FUA municipalities buy electricity in one tender.")
    ui.locator(".field[data-path$='#theme'] select").select_option(ID + "theme/energy-management")
    ui.locator(".field[data-path$='#lifecycleStatus'] select").select_option(ID + "practice-status/proposed")
    ui.locator(".field[data-path$='#originator'] select").select_option(ID + "org/bof")
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    expect(ui.locator("#form-messages .ok")).to_contain_text("Zapisano jako zgłoszenie")
    expect(ui.locator(".field-error")).to_have_count(0)
    expect(ui.locator("#mine tbody tr[data-status='pending']")).to_have_count(1)
    shot(ui, "submit-valid")
    # A reviewer publishes it; the practice then has its page.
    reviewer = token(ui_server, "org/programme-operator", "reviewer")
    go(ui, "/review")
    ui.get_by_label("Token recenzenta").fill(reviewer)
    ui.get_by_role("button", name="Użyj tego tokenu").click()
    row = ui.locator("#pending tbody tr[data-id]")
    expect(row).to_have_count(1)
    shot(ui, "review")
    axe(ui)
    practice = row.locator("td").nth(3).get_by_role("link").get_attribute("href")
    assert practice.startswith("/id/practice/wspolny-zakup-energii")
    row.get_by_role("button", name="Opublikuj").click()
    expect(ui.locator("#token-status")).to_contain_text("Opublikowano")
    go(ui, practice)
    expect(ui.locator("h1")).to_have_text("Wspólny zakup energii dla budynków gmin MOF")
    go(ui, "/")  # the newest practice on the home page, without the example mark
    newest = ui.locator("ul.latest li").first
    expect(newest).to_contain_text("Wspólny zakup energii dla budynków gmin MOF")
    expect(newest.locator(".badge")).to_have_count(0)


def test_spreadsheet_upload_reports_rows_and_lands(ui: Page, ui_server) -> None:
    go(ui, "/submit")
    ui.get_by_label("Token API").fill(token(ui_server, "org/aglomeracja-opolska"))
    ui.get_by_role("button", name="Użyj tego tokenu").click()
    header = "type,key,label_pl,description_pl,theme,status,originator\n"
    bad = header + "practice,p1,Praktyka z arkusza,Opis.,,proposed,aglomeracja-opolska\n"
    ui.set_input_files("#upload-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    ui.get_by_role("button", name="Prześlij", exact=True).click()
    expect(ui.locator("#upload-messages li").first).to_contain_text("wiersz 2")
    good = header + "practice,p1,Praktyka z arkusza,Opis.,energy-management,proposed,aglomeracja-opolska\n"
    ui.set_input_files("#upload-file", files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good.encode()}])
    ui.get_by_role("button", name="Prześlij", exact=True).click()
    expect(ui.locator("#upload-messages .ok")).to_contain_text("Zapisano jako zgłoszenie")
    expect(ui.locator("#mine tbody tr[data-status='pending']")).to_have_count(1)
    shot(ui, "submit-upload")


def test_language_switch_changes_labels_and_is_remembered(ui: Page) -> None:
    go(ui, "/networks/co4energy")
    expect(ui.get_by_role("heading", name="Członkowie")).to_be_visible()
    ui.get_by_role("link", name="English").click()
    expect(ui).to_have_url(re.compile(r"/networks/co4energy$"))
    expect(ui.locator("html")).to_have_attribute("lang", "en")
    expect(ui.get_by_role("heading", name="Members")).to_be_visible()
    expect(ui.get_by_role("link", name="Białystok Functional Area Association").first).to_be_visible()
    shot(ui, "network-en")
    axe(ui)
    go(ui, "/map")
    expect(ui.get_by_role("heading", level=1)).to_contain_text("Map: associations")
    ui.get_by_role("link", name="Polski").click()
    expect(ui.get_by_role("heading", level=1)).to_contain_text("Mapa")
