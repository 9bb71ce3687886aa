"""The submission form in Debian's chromium (issue 15): a practice and a pilot with its budget and results
filled in through the form; each field made wrong in turn shows one plain message by it, in Polish and in
English; a wrong token is refused when pasted; a reload keeps the draft; credit for another organisation
waits for its confirmation on the review page. Screenshots at 1366 and 390 px go to tests/screenshots/.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import Page, expect

import test_ui_browser as shared
from test_ui_browser import axe, go, shot, token

# The browser fixtures of the workbench tests (Debian's chromium, a server of its own, local requests only).
browser_type_launch_args = shared.browser_type_launch_args
browser_context_args = shared.browser_context_args
base_url = shared.base_url
ui_server = shared.ui_server
ui = shared.ui

pytestmark = pytest.mark.browser
ZIT = "https://w3id.org/sieci-zit/ontology#"


def use_token(page: Page, secret: str) -> None:
    """Paste the token as a person would: the page checks it at once."""
    box = page.locator("#token")
    box.focus()
    page.evaluate("""(secret) => {
        const box = document.getElementById('token');
        box.value = secret;
        box.dispatchEvent(new ClipboardEvent('paste', {bubbles: true}));
    }""", secret)


def pick(page: Page, field: str, text: str) -> None:
    """Choose an option of a searchable list (Tom Select) by typing part of its name."""
    page.locator(f"{field} .ts-control").click()
    page.locator(f"{field} .ts-control input").press_sequentially(text)
    expect(page.locator(f"{field} .ts-dropdown .option.active")).to_contain_text(text)
    page.keyboard.press("Enter")  # the first match is highlighted
    expect(page.locator(f"{field} .ts-control .item").filter(has_text=text).first).to_be_visible()
    expect(page.locator(f"{field} .ts-dropdown")).to_be_hidden()


def errors_at(page: Page, path_end: str):
    return page.locator(f".field[data-path$='{path_end}'] > .errors .field-error")


def test_a_wrong_token_is_refused_when_pasted_and_a_right_one_names_the_organisation(ui: Page, ui_server) -> None:
    go(ui, "/submit")
    use_token(ui, "zitkg_wrong_token")
    expect(ui.locator("#token-status")).to_contain_text("nie został przyjęty")
    expect(ui.locator("#token-status")).to_contain_text("nieprawidłowy")
    assert ui.evaluate("sessionStorage.getItem('zitkg-token')") is None
    use_token(ui, token(ui_server, "org/bof"))
    expect(ui.locator("#token-status")).to_contain_text("przyjęty")
    expect(ui.locator("#token-status")).to_contain_text("Białostockiego")
    shot(ui, "submit-token")


def test_a_practice_through_the_form_each_wrong_field_gets_one_plain_message(ui: Page, ui_server) -> None:
    go(ui, "/submit?class=GoodPractice")
    ui.evaluate("localStorage.clear()")
    go(ui, "/submit?class=GoodPractice")
    use_token(ui, token(ui_server, "org/bof"))
    expect(ui.locator("#token-status")).to_contain_text("przyjęty")
    # nothing filled: the browser names the required fields, nothing is sent
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    expect(ui.locator("#form-messages")).to_contain_text("Nic nie wysłano")
    expect(errors_at(ui, "label")).to_have_text(["Nazwa: wpisz po polsku (zalecane także po angielsku)."])
    expect(errors_at(ui, "#theme")).to_have_count(1)
    expect(ui.locator("#form-messages a", has_text="Obszar tematyczny")).to_have_count(1)
    shot(ui, "submit-practice-empty")
    # a valid practice, with a searchable multi-select for themes
    ui.get_by_label("Nazwa — po polsku").fill("Wspólne zamówienia oświetlenia ulicznego")
    ui.get_by_label("Nazwa — po angielsku").fill("Joint procurement of street lighting")
    ui.get_by_label("Opis — po polsku").fill("Gminy MOF zamawiają oświetlenie w jednym przetargu.")
    pick(ui, ".field[data-path$='#theme']", "energ")
    pick(ui, ".field[data-path$='#lifecycleStatus']", "Zgłoszona")
    pick(ui, ".field[data-path$='#originator']", "Białostockiego")
    # each wrong field in turn: one plain message by it, and nothing sent
    for selector, value, path_end, expected in [
        ("#in-created", "31.02.2025", "created", "31.02.2025 nie jest poprawną datą. Wpisz RRRR-MM-DD."),
        ("#in-fundedproject", "projekt dofinansowany", "fundedProject", "nie jest adresem"),
    ]:
        if not ui.locator(selector).count():
            continue
        ui.locator(selector).fill(value)
        ui.get_by_role("button", name="Wyślij do recenzji").click()
        expect(errors_at(ui, path_end)).to_have_count(1)
        expect(errors_at(ui, path_end)).to_contain_text(expected)
        assert ui.locator(".field-error").all_inner_texts() == [ui.locator(".field-error").first.inner_text()], \
            ui.locator(".field-error").all_inner_texts()
        ui.locator(selector).fill("")
    shot(ui, "submit-practice-wrong")
    ui.locator("#in-created").fill("2025-09")  # a month is not a full date: this field wants one
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    expect(errors_at(ui, "created")).to_contain_text("Wpisz RRRR-MM-DD")
    ui.locator("#in-created").fill("2025-09-15")
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    expect(ui.locator("#form-messages .ok")).to_contain_text("Zapisano jako zgłoszenie")
    expect(ui.locator("#mine tbody tr[data-status='pending']")).to_have_count(1)


def test_a_pilot_with_budget_and_results_the_draft_survives_a_reload(ui: Page, ui_server) -> None:
    go(ui, "/submit?class=Pilot")
    ui.evaluate("localStorage.clear()")
    go(ui, "/submit?class=Pilot")
    secret = token(ui_server, "org/bof")
    use_token(ui, secret)
    expect(ui.locator("#token-status")).to_contain_text("przyjęty")
    ui.get_by_label("Nazwa — po polsku").fill("Pilotaż oświetlenia w MOF Białegostoku")
    ui.get_by_label("Nazwa — po angielsku").fill("Street lighting pilot in the Białystok FUA")
    pick(ui, ".field[data-path$='#pilotOf']", "energetyk")
    pick(ui, ".field[data-path$='#pilotLocation']", "Białegost")
    pick(ui, ".field[data-path$='#implementedBy']", "Białostockiego")
    ui.locator("#in-startdate").fill("2025-10")
    ui.locator("#in-enddate").fill("2026")
    budget = ui.locator(".field[data-path$='#budget'] .row")
    expect(budget).to_have_count(1)
    budget.locator("input[id^='in-budget-value']").fill("120000,50")
    ui.get_by_role("button", name="Dodaj: wynik").click()
    result = ui.locator(".field[data-path$='#result'] .row").first
    pick(ui, ".field[data-path$='#result'] .row:nth-child(1) .field[data-path$='#indicator']", "Uniknięta emisja")
    result.locator("input[id^='in-result-value']").fill("42")
    result.locator("input[id^='in-result-unitcode']").fill("C62")
    result.locator("input[id^='in-result-date']").fill("2026-03-31")
    expect(ui.locator("#draft-status")).to_contain_text("Szkic")
    # a reload keeps everything, the nested rows and the chosen lists included
    ui.reload()
    expect(ui.locator("#draft-status")).to_contain_text("Przywrócono")
    expect(ui.get_by_label("Nazwa — po polsku")).to_have_value("Pilotaż oświetlenia w MOF Białegostoku")
    expect(ui.locator("#in-startdate")).to_have_value("2025-10")
    expect(ui.locator(".field[data-path$='#result'] .row")).to_have_count(1)
    expect(ui.locator("input[id^='in-result-value']")).to_have_value("42")
    expect(ui.locator(".field[data-path$='#implementedBy'] .ts-control .item")).to_have_count(1)
    # wrong values one by one, each with one message at its field (nested ones too)
    for selector, value, expected in [
        ("#in-startdate", "31.02.2025", "Data rozpoczęcia: 31.02.2025 nie jest poprawną datą. Wpisz RRRR-MM-DD, "
                                        "RRRR-MM albo RRRR."),
        ("input[id^='in-budget-value']", "sto tysięcy", "nie jest liczbą"),
        ("input[id^='in-result-unitcode']", "sztuki", "nie jest kodem"),
    ]:
        field = ui.locator(selector)
        good = field.input_value()
        field.fill(value)
        ui.get_by_role("button", name="Wyślij do recenzji").click()
        expect(ui.locator(".field-error")).to_have_count(1)
        expect(ui.locator(".field-error")).to_contain_text(expected)
        field.fill(good)
    # the server judges what the browser cannot: the unit must be the indicator's own
    ui.get_by_role("button", name="Wyślij do recenzji").click()
    unit = errors_at(ui, "unitCode")
    expect(unit).to_contain_text("różni się od jednostki wskaźnika")
    expect(ui.locator("#form-messages")).to_contain_text("Nic nie zapisano")
    expect(ui.locator("#form-messages a", has_text="Kod jednostki")).to_have_count(1)
    expect(ui.locator(".field-error")).to_have_count(1)
    shot(ui, "submit-pilot-1366")
    ui.locator("input[id^='in-result-unitcode']").fill("TNE")
    ui.set_viewport_size({"width": 390, "height": 844})
    shot(ui, "submit-pilot-390")
    ui.set_viewport_size({"width": 1366, "height": 900})
    axe(ui, exclude=(".ts-dropdown",))
    # in English the same check speaks English
    ui.get_by_role("link", name="English").click()
    expect(ui.locator("#draft-status")).to_contain_text("restored")
    ui.locator("#in-startdate").fill("31.02.2025")
    ui.get_by_role("button", name="Send for review").click()
    expect(ui.locator(".field-error")).to_have_text(
        ["Start date: 31.02.2025 is not a valid date. Enter YYYY-MM-DD, YYYY-MM or YYYY."])
    ui.locator("#in-startdate").fill("2025-10")
    ui.get_by_role("button", name="Send for review").click()
    expect(ui.locator("#form-messages .ok")).to_contain_text("submission")
    # what was stored: the pilot, its budget and its result, every value
    sid = re.search(r"[0-9a-f]{16}", ui.locator("#form-messages .ok").inner_text()).group(0)
    stored = requests.get(f"{ui_server.url}/api/submissions/{sid}", timeout=30,
                          headers={"Authorization": f"Bearer {secret}", "Accept": "text/turtle"}).text
    for fragment in ("<https://schema.org/value> 120000.5 ;", "TNE", "2026-03-31", '"2025-10"^^', '"2026"^^',
                     "Budżet: Pilotaż oświetlenia"):
        assert fragment in stored, stored
    ui.get_by_role("link", name="Polski").click()


def test_credit_for_another_organisation_waits_for_its_confirmation_in_the_browser(ui: Page, ui_server) -> None:
    record = {"@context": "/context.jsonld", "@id": "_:p", "@type": "GoodPractice",
              "label": {"pl": "Praktyka przypisana Opolu", "en": "A practice credited to Opole"},
              "description": {"pl": "Opis praktyki.", "en": "A description."},
              "theme": "theme/energy-efficiency", "lifecycleStatus": "practice-status/proposed",
              "originator": "org/aglomeracja-opolska"}
    bof = token(ui_server, "org/bof")
    created = requests.post(ui_server.url + "/api/submissions", data=json.dumps(record), timeout=60,
                            headers={"Content-Type": "application/ld+json", "Authorization": f"Bearer {bof}"})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    # a reviewer of a third organisation sees who must still confirm, and cannot publish yet
    go(ui, "/review")
    use_token(ui, token(ui_server, "org/lom", "reviewer"))
    row = ui.locator(f"#pending tbody tr[data-id='{sid}']")
    expect(row).to_contain_text("Czeka na potwierdzenie przez")
    expect(row).to_contain_text("Opolsk")
    row.get_by_role("button", name="Opublikuj").click()
    expect(ui.locator("#token-status")).to_contain_text(
        "organizację Stowarzyszenie Aglomeracja Opolska, która jeszcze")
    shot(ui, "review-waiting")
    # Opolska confirms on the same page with its own token
    use_token(ui, token(ui_server, "org/aglomeracja-opolska"))
    row = ui.locator(f"#pending tbody tr[data-id='{sid}']")
    row.get_by_role("button", name="Potwierdź").click()
    expect(ui.locator("#token-status")).to_contain_text("Potwierdzono")
    # then the reviewer publishes it
    use_token(ui, token(ui_server, "org/lom", "reviewer"))
    row = ui.locator(f"#pending tbody tr[data-id='{sid}']")
    expect(row).not_to_contain_text("Czeka na potwierdzenie")
    row.get_by_role("button", name="Opublikuj").click()
    expect(ui.locator("#token-status")).to_contain_text("Opublikowano")
