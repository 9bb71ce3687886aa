"""The CLI answers the programme's basic questions from the bundled data, with documented exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zitkg.cli import main

ID = "https://w3id.org/sieci-zit/id/"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    result = CliRunner().invoke(main, ["load", "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run_csv(store_path: Path, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["query", *args, "--format", "csv", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_load_reports_graphs(store_path):
    result = CliRunner().invoke(main, ["load", "--store", str(store_path)])
    assert result.exit_code == 0
    assert "https://w3id.org/sieci-zit/graph/programme" in result.output


def test_five_networks_with_leader_and_partners(store_path):
    rows = run_csv(store_path, "networks")
    by_network = {r["network"].removeprefix(ID + "network/"): r for r in rows}
    assert set(by_network) == {"akademia-partnerstwa", "zrownowazona-mobilnosc", "co4energy", "park", "mof4us"}
    expected = {
        "akademia-partnerstwa": ("sako", {"Aglomeracja Wałbrzyska", "Aglomeracja Jeleniogórska"}),
        "zrownowazona-mobilnosc": ("lom", {"Stowarzyszenie „Metropolia Warszawa”"}),
        "co4energy": ("bof", {"Stowarzyszenie Aglomeracja Opolska"}),
        "park": ("subregion-centralny",
                 {"Związek Gmin i Powiatów Subregionu Zachodniego Województwa Śląskiego"}),
        "mof4us": ("metropolia-krakowska", {"ZIT Wrocławskiego Obszaru Funkcjonalnego"}),
    }
    for network, (leader, partners) in expected.items():
        row = by_network[network]
        assert row["leader"] == f"{ID}org/{leader}"
        assert set(row["partners"].split("; ")) == partners
    assert by_network["co4energy"]["themeLabel"] == "Efektywność energetyczna"
    assert "lang" not in rows[0]  # the language parameter is not echoed as a column


def test_budget_lines_network_budgets_and_reconciliation(store_path):
    rows = run_csv(store_path, "budget", "--lang", "en")
    amounts = {(r["kind"], r["item"].removeprefix(ID)): float(r["amount"]) for r in rows}
    assert amounts[("programme-total", "programme/sieciowanie-zit")] == 5_700_000
    assert amounts[("budget-line", "budget-line/competence-development")] == 3_800_000
    assert amounts[("budget-line", "budget-line/expert-support")] == 1_900_000
    assert amounts[("network", "network/akademia-partnerstwa")] == 1_630_800
    assert amounts[("network", "network/zrownowazona-mobilnosc")] == 813_200
    for n in ("co4energy", "park", "mof4us"):
        assert amounts[("network", f"network/{n}")] == 814_000
    assert amounts[("networks-sum", "")] == 4_886_000
    assert amounts[("difference", "")] == 814_000
    network_rows = [r for r in rows if r["kind"] == "network"]
    assert all(r["readingStatus"].endswith("reading-status/interpretation") for r in network_rows)


def test_timeline_in_date_order(store_path):
    rows = run_csv(store_path, "timeline")
    milestones = [(r["start"], r["item"].removeprefix(ID + "milestone/")) for r in rows if r["kind"] != "pilot"]
    assert milestones == [
        ("2024-10-21", "call-announced"),
        ("2024-12-12", "results-announced"),
        ("2025", "networks-implementation"),
        ("2025-03", "contracts-signed"),
        ("2027-10-31", "project-end"),
    ]
    starts = [r["start"] for r in rows]
    assert starts == sorted(starts)
    assert sum(r["kind"] == "pilot" for r in rows) >= 12


def test_seat_and_terc_of_each_organisation(store_path):
    rows = run_csv(store_path, "organisations")
    seats = {r["organisation"].removeprefix(ID + "org/"): (r["seatLabel"], r["seatTerc"], r["voivodeshipTerc"])
             for r in rows}
    assert seats == {
        "sako": ("Kalisz", "3061011", "30"),
        "aglomeracja-walbrzyska": ("Wałbrzych", "0265011", "02"),
        "aglomeracja-jeleniogorska": ("Jelenia Góra", "0261011", "02"),
        "lom": ("Lublin", "0663011", "06"),
        "metropolia-warszawa": ("Warszawa", "1465011", "14"),
        "bof": ("Białystok", "2061011", "20"),
        "aglomeracja-opolska": ("Opole", "1661011", "16"),
        "subregion-centralny": ("Gliwice", "2466011", "24"),
        "subregion-zachodni": ("Rybnik", "2473011", "24"),
        "metropolia-krakowska": ("Kraków", "1261011", "12"),
        "zit-wrof": ("Wrocław", "0264011", "02"),
    }
    unverified = {r["organisation"].removeprefix(ID + "org/") for r in rows
                  if r["seatReadingStatus"].endswith("unverified")}
    assert unverified == {"aglomeracja-opolska", "subregion-centralny"}


def test_raw_sparql_json_and_ask(store_path):
    result = CliRunner().invoke(main, ["query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                       "--format", "json", "--store", str(store_path)])
    count = int(json.loads(result.output)["results"]["bindings"][0]["n"]["value"])
    assert count > 3000
    ask = CliRunner().invoke(main, ["query", "ASK { ?s a <https://w3id.org/sieci-zit/ontology#Expert> }",
                                    "--store", str(store_path)])
    assert ask.output.strip() == "yes"


def test_query_errors_exit_2_with_a_message(store_path):
    bad = CliRunner().invoke(main, ["query", "SELECT ?x WHERE {", "--store", str(store_path)])
    assert bad.exit_code == 2 and "syntax" in bad.output.lower()
    param = CliRunner().invoke(main, ["query", "networks", "--param", "nope=1", "--store", str(store_path)])
    assert param.exit_code == 2 and "nope" in param.output


def test_validate_bundled_data_conforms():
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output


def test_validate_bad_file_exits_1_with_report(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix zit: <https://w3id.org/sieci-zit/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/sieci-zit/id/test/net> a zit:CooperationNetwork ; rdfs:label \"Sieć\"@pl .\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(bad), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["conforms"] is False
    focus = {r["focusNode"] for r in report["results"] if r["severity"] == "Violation"}
    assert focus == {"https://w3id.org/sieci-zit/id/test/net"}
    assert all(r["message"]["pl"] and r["message"]["en"] for r in report["results"])


def test_validate_unparsable_file_exits_2_naming_the_line(tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> \"open\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "line 2" in result.output.lower() or ":2" in result.output


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "zitkg", "--help"], capture_output=True, text=True,
                            check=True, cwd=REPO)
    assert "serve" in result.stdout and "validate" in result.stdout
