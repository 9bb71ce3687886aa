"""The query library answers the mapping team's questions on the bundled data.

Every library query is checked row by row against what the data files say (the expected values below were
read from data/programme.ttl, data/examples/*.ttl and ontology/themes.ttl), its header is checked for
both languages and typed parameters, every parameter is attacked with injection attempts, and every query
is run on a second SPARQL 1.1 engine (rdflib) to keep the library free of Oxigraph-only features.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from zitkg import resources
from zitkg.bundle import bundled_graphs, read_turtle
from zitkg.errors import BadRequest, QuerySyntaxError
from zitkg.privacy import split_private
from zitkg.queries import QueryFileError, Registry

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCT_SOURCE = "http://purl.org/dc/terms/source"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

REGISTRY = Registry(resources.queries_dir())
ALL_QUERIES = sorted(q.id for q in REGISTRY)
NEW_QUERIES = {
    "pilots-by-theme", "coverage", "organisation-networks", "network-members", "experts-by-competence",
    "gaps-pilots", "gaps-members", "transfer-candidates", "search", "neighbourhood", "statistics",
}
PARAMETERS = [(q.id, p.name) for q in REGISTRY for p in q.params]


# --- what the data files say -------------------------------------------------------------------------

TOP_THEMES = {"horizontal-principles-management", "sustainable-mobility", "energy-efficiency", "climate",
              "social-services"}

# data/examples/pilots.ttl: pilot -> (practice, implementedBy, pilotLocation, startDate, endDate, top theme)
PILOTS = {
    "rada-partnerstwa-walbrzych": ("rada-partnerstwa-mof", "aglomeracja-walbrzyska", "walbrzych",
                                   "2025-06-01", "2026-05-31", "horizontal-principles-management"),
    "audyt-dostepnosci-walbrzych": ("audyt-dostepnosci", "aglomeracja-walbrzyska", "walbrzych",
                                    "2025-07-01", "2026-03-31", "horizontal-principles-management"),
    "standard-konsultacji-walbrzych": ("standard-konsultacji", "aglomeracja-walbrzyska", "walbrzych",
                                       "2026-02-01", "2026-10-31", "horizontal-principles-management"),
    "strategia-ponadlokalna-krakow": ("strategia-ponadlokalna", "metropolia-krakowska", "krakow",
                                      "2025-06-15", "2026-02-28", "horizontal-principles-management"),
    "rower-miejski-lublin": ("integracja-roweru-miejskiego", "lom", "lublin",
                             "2025-05-01", "2026-10-31", "sustainable-mobility"),
    "rower-miejski-warszawa": ("integracja-roweru-miejskiego", "metropolia-warszawa", "warszawa",
                               "2026-03-01", "2026-12-31", "sustainable-mobility"),
    "bilet-aglomeracyjny-warszawa": ("wspolny-bilet-aglomeracyjny", "metropolia-warszawa", "warszawa",
                                     "2025-07-01", "2026-12-31", "sustainable-mobility"),
    "parkuj-i-jedz-lublin": ("parkuj-i-jedz", "lom", "lublin", "2025-06-01", "2026-09-30",
                             "sustainable-mobility"),
    "plan-mobilnosci-warszawa": ("plan-mobilnosci-mof", "metropolia-warszawa", "warszawa",
                                 "2025-05-15", "2025-12-31", "sustainable-mobility"),
    "termomodernizacja-szkol-bialystok": ("termomodernizacja-szkol", "bof", "bialystok",
                                          "2025-05-01", "2026-08-31", "energy-efficiency"),
    "termomodernizacja-szkol-opole": ("termomodernizacja-szkol", "aglomeracja-opolska", "opole",
                                      "2026-01-15", "2026-12-31", "energy-efficiency"),
    "oswietlenie-led-bialystok": ("oswietlenie-led", "bof", "bialystok", "2025-06-01", "2026-06-30",
                                  "energy-efficiency"),
    "energetyk-mof-bialystok": ("energetyk-mof", "bof", "bialystok", "2025-05-15", "2026-05-14",
                                "energy-efficiency"),
    "fotowoltaika-subregion-zachodni": ("fotowoltaika-budynki-publiczne", "subregion-zachodni",
                                        "subregion-zachodni", "2025-05-01", "2026-04-30",
                                        "energy-efficiency"),
    "plan-adaptacji-subregion-centralny": ("plan-adaptacji-mof", "subregion-centralny", "subregion-centralny",
                                           "2025-05-01", "2026-03-31", "climate"),
    "zbiorniki-retencyjne-subregion-centralny": ("zbiorniki-retencyjne", "subregion-centralny",
                                                 "subregion-centralny", "2025-05-15", "2026-03-31",
                                                 "climate"),
    "zbiorniki-retencyjne-subregion-zachodni": ("zbiorniki-retencyjne", "subregion-zachodni",
                                                "subregion-zachodni", "2026-04-01", "2026-11-30", "climate"),
    "czujniki-powietrza-subregion-zachodni": ("czujniki-jakosci-powietrza", "subregion-zachodni",
                                              "subregion-zachodni", "2025-06-01", "2026-05-31", "climate"),
    "wymiana-zrodel-ciepla-subregion-zachodni": ("wymiana-zrodel-ciepla", "subregion-zachodni",
                                                 "subregion-zachodni", "2025-06-01", "2026-10-31", "climate"),
    "centrum-seniora-krakow": ("dzienne-centra-seniora", "metropolia-krakowska", "krakow",
                               "2025-05-01", "2026-03-31", "social-services"),
    "centrum-seniora-wroclaw": ("dzienne-centra-seniora", "zit-wrof", "wroclaw",
                                "2026-05-01", "2026-12-31", "social-services"),
    "teleopieka-wroclaw": ("teleopieka", "zit-wrof", "wroclaw", "2025-05-01", "2026-12-31",
                           "social-services"),
    "mieszkania-wspomagane-wroclaw": ("mieszkania-wspomagane", "zit-wrof", "wroclaw",
                                      "2025-06-01", "2026-05-31", "social-services"),
    "asystencja-osobista-lublin": ("asystencja-osobista", "lom", "lublin", "2025-09-01", "2026-08-31",
                                   "social-services"),
}

# data/examples/mofs.ttl: MOF -> (zit:inVoivodeship TERC, point geometry)
MOFS = {
    "kalisz-ostrow": ("30", "POINT(18.09 51.76)"),
    "walbrzych": ("02", "POINT(16.28 50.78)"),
    "jelenia-gora": ("02", "POINT(15.72 50.90)"),
    "lublin": ("06", "POINT(22.57 51.25)"),
    "warszawa": ("14", "POINT(21.01 52.23)"),
    "bialystok": ("20", "POINT(23.17 53.13)"),
    "opole": ("16", "POINT(17.92 50.68)"),
    "subregion-centralny": ("24", "POINT(19.02 50.26)"),
    "subregion-zachodni": ("24", "POINT(18.55 50.10)"),
    "krakow": ("12", "POINT(19.94 50.06)"),
    "wroclaw": ("02", "POINT(17.04 51.11)"),
}
VOIVODESHIPS = {f"{n:02d}" for n in range(2, 33, 2)}
# Voivodeships with a ZIT association of the programme (zit:inVoivodeship of the eleven organisations).
VOIVODESHIPS_WITH_ASSOCIATION = {"02", "06", "12", "14", "16", "20", "24", "30"}

# data/programme.ttl: organisation -> (network, role); network -> (theme, budget in PLN, share in %)
MEMBERSHIPS = {
    "sako": ("akademia-partnerstwa", "leader"),
    "aglomeracja-walbrzyska": ("akademia-partnerstwa", "partner"),
    "aglomeracja-jeleniogorska": ("akademia-partnerstwa", "partner"),
    "lom": ("zrownowazona-mobilnosc", "leader"),
    "metropolia-warszawa": ("zrownowazona-mobilnosc", "partner"),
    "bof": ("co4energy", "leader"),
    "aglomeracja-opolska": ("co4energy", "partner"),
    "subregion-centralny": ("park", "leader"),
    "subregion-zachodni": ("park", "partner"),
    "metropolia-krakowska": ("mof4us", "leader"),
    "zit-wrof": ("mof4us", "partner"),
}
NETWORKS = {
    "akademia-partnerstwa": ("horizontal-principles-management", 1_630_800, 28.61),
    "zrownowazona-mobilnosc": ("sustainable-mobility", 813_200, 14.27),
    "co4energy": ("energy-efficiency", 814_000, 14.28),
    "park": ("climate", 814_000, 14.28),
    "mof4us": ("social-services", 814_000, 14.28),
}

# data/examples/practices.ttl and pilots.ttl rolled up to the top themes: (organisation, top theme) ->
# (practices originated, pilots implemented); every pair not listed is (0, 0).
COVERAGE = {
    ("sako", "horizontal-principles-management"): (3, 0),
    ("aglomeracja-walbrzyska", "horizontal-principles-management"): (2, 3),
    ("aglomeracja-walbrzyska", "energy-efficiency"): (1, 0),
    ("aglomeracja-jeleniogorska", "climate"): (1, 0),
    ("lom", "sustainable-mobility"): (2, 2),
    ("lom", "social-services"): (1, 1),
    ("metropolia-warszawa", "sustainable-mobility"): (2, 3),
    ("bof", "energy-efficiency"): (3, 3),
    ("aglomeracja-opolska", "energy-efficiency"): (0, 1),
    ("subregion-centralny", "climate"): (2, 2),
    ("subregion-zachodni", "energy-efficiency"): (1, 1),
    ("subregion-zachodni", "climate"): (2, 3),
    ("metropolia-krakowska", "horizontal-principles-management"): (1, 1),
    ("metropolia-krakowska", "social-services"): (2, 1),
    ("zit-wrof", "horizontal-principles-management"): (1, 0),
    ("zit-wrof", "sustainable-mobility"): (1, 0),
    ("zit-wrof", "social-services"): (2, 3),
}


# --- helpers -----------------------------------------------------------------------------------------

def table(answer) -> list[dict[str, str | None]]:
    """Rows as dicts of plain values (None when unbound)."""
    return [{v: (t.value if t is not None else None) for v, t in zip(answer.variables, row, strict=True)}
            for row in answer.rows]


def local(value: str | None, kind: str) -> str | None:
    """The slug of an id/{kind}/{slug} IRI."""
    return value.removeprefix(f"{ID}{kind}/") if value is not None else None


def run(library, qid: str, params: dict[str, str] | None = None, lang: str = "pl"):
    _definition, answer, _bound = library.run(qid, params or {}, lang=lang)
    return answer


def public_triples(library) -> set[ox.Triple]:
    """The union of the published graphs, read from the store without SPARQL."""
    store = library.service.store.read_store()
    triples: set[ox.Triple] = set()
    for graph in library.service.published_graphs():
        triples.update(q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    return triples


# --- 1. pilots-by-theme --------------------------------------------------------------------------------

@pytest.mark.parametrize("theme", sorted(TOP_THEMES))
def test_pilots_by_theme_for_every_top_theme(library, theme):
    rows = table(run(library, "pilots-by-theme", {"theme": ID + "theme/" + theme}))
    got = {(local(r["pilot"], "pilot"), local(r["practice"], "practice"), local(r["organisation"], "org"),
            local(r["mof"], "mof"), r["start"], r["end"], r["wkt"]) for r in rows}
    expected = {(pilot, practice, org, mof, start, end, MOFS[mof][1])
                for pilot, (practice, org, mof, start, end, top) in PILOTS.items() if top == theme}
    assert got == expected
    assert len(rows) == len(expected)  # a practice with two themes in the area gives no duplicate rows


def test_pilots_by_theme_default_is_energy_efficiency_with_labels(library):
    rows = table(run(library, "pilots-by-theme", lang="en"))
    assert {local(r["pilot"], "pilot") for r in rows} == {
        "termomodernizacja-szkol-bialystok", "termomodernizacja-szkol-opole", "oswietlenie-led-bialystok",
        "energetyk-mof-bialystok", "fotowoltaika-subregion-zachodni"}
    opole = next(r for r in rows if r["pilot"].endswith("termomodernizacja-szkol-opole"))
    assert opole["organisationLabel"] == "Opole Agglomeration Association"
    assert opole["mofLabel"] == "Opole Functional Urban Area"
    assert opole["themeLabel"] == "Energy efficiency"
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)


def test_pilots_by_theme_includes_narrower_concepts_only_below_the_theme(library):
    lighting = table(run(library, "pilots-by-theme", {"theme": ID + "theme/street-lighting"}))
    assert [local(r["pilot"], "pilot") for r in lighting] == ["oswietlenie-led-bialystok"]
    air = table(run(library, "pilots-by-theme", {"theme": ID + "theme/air-quality"}))
    assert {local(r["pilot"], "pilot") for r in air} == {"czujniki-powietrza-subregion-zachodni",
                                                         "wymiana-zrodel-ciepla-subregion-zachodni"}
    # The only green-infrastructure practice (zielone-przystanki) has no pilot.
    assert run(library, "pilots-by-theme", {"theme": ID + "theme/green-blue-infrastructure"}).rows == ()


# --- 2. coverage -----------------------------------------------------------------------------------------

def test_coverage_matrix_has_every_pair_with_zeros(library):
    rows = table(run(library, "coverage"))
    assert len(rows) == len(MEMBERSHIPS) * len(TOP_THEMES)
    got = {(local(r["organisation"], "org"), local(r["topTheme"], "theme")):
           (int(r["practices"]), int(r["pilots"])) for r in rows}
    expected = {(org, theme): COVERAGE.get((org, theme), (0, 0))
                for org in MEMBERSHIPS for theme in TOP_THEMES}
    assert got == expected
    # Totals: 26 practices (dostepne-przystanki counts under two top themes) and 24 pilots.
    assert sum(p for p, _ in got.values()) == 27
    assert sum(p for _, p in got.values()) == len(PILOTS)


def test_coverage_labels_follow_the_language(library):
    rows = table(run(library, "coverage", lang="en"))
    bof = next(r for r in rows if r["organisation"] == ID + "org/bof" and r["topTheme"].endswith("/climate"))
    assert bof["organisationLabel"] == "Białystok Functional Area Association"
    assert bof["topThemeLabel"] == "Climate and climate change adaptation"
    assert (bof["practices"], bof["pilots"]) == ("0", "0")


# --- 3. organisation-networks ------------------------------------------------------------------------------

@pytest.mark.parametrize("organisation", sorted(MEMBERSHIPS))
def test_organisation_networks_role_and_period(library, organisation):
    rows = table(run(library, "organisation-networks", {"organisation": ID + "org/" + organisation}))
    network, role = MEMBERSHIPS[organisation]
    assert [(local(r["network"], "network"), local(r["role"], "role"), local(r["networkTheme"], "theme"),
             r["start"], r["end"]) for r in rows] == [(network, role, NETWORKS[network][0], "2025", "2026")]
    assert rows[0]["membership"] == f"{ID}membership/{network}-{organisation}"


def test_organisation_networks_default_is_bof_leader_of_co4energy(library):
    answer = run(library, "organisation-networks", lang="en")
    (row,) = table(answer)
    assert row["organisation"] == ID + "org/bof"
    assert row["network"] == ID + "network/co4energy"
    assert row["roleLabel"] == "Leader"
    start = answer.rows[0][answer.variables.index("start")]
    assert start.datatype.value.endswith("#gYear")  # the document's precision is kept


# --- 4. network-members ----------------------------------------------------------------------------------

def test_network_members_one_row_per_membership_with_budget_share(library):
    rows = table(run(library, "network-members"))
    assert len(rows) == 11
    got = {(local(r["network"], "network"), local(r["member"], "org"), local(r["role"], "role"))
           for r in rows}
    assert got == {(network, org, role) for org, (network, role) in MEMBERSHIPS.items()}
    for r in rows:
        network = local(r["network"], "network")
        theme, budget, share = NETWORKS[network]
        assert r["themeIris"] == ID + "theme/" + theme
        assert float(r["budget"]) == budget
        assert float(r["share"]) == share
        assert r["currency"] == "PLN"
        assert r["readingStatus"] == ID + "reading-status/interpretation"
    by_network = {local(r["network"], "network"): r for r in rows}
    assert by_network["co4energy"]["themes"] == "Efektywność energetyczna"
    assert sum(float(r["budget"]) for r in by_network.values()) == 4_886_000
    leaders = [r for r in rows if r["roleLabel"] == "Lider"]
    assert len(leaders) == 5


# --- 5. experts-by-competence ---------------------------------------------------------------------------

def expert_rows(library, competence: str | None = None, lang: str = "pl"):
    params = {"competence": ID + "theme/" + competence} if competence else {}
    answer = run(library, "experts-by-competence", params, lang=lang)
    rows = table(answer)
    return answer, {(local(r["expert"], "expert"), local(r["support"], "support"),
                     (r["supportFor"] or "").removeprefix(ID) or None, r["date"]) for r in rows}


def test_experts_by_competence_default_climate_with_their_support(library):
    answer, got = expert_rows(library)
    assert got == {
        ("tomasz-wzorcowy", "zbiorniki-retencyjne-subregion-zachodni",
         "pilot/zbiorniki-retencyjne-subregion-zachodni", "2026-04-14"),
        ("tomasz-wzorcowy", "plan-adaptacji-subregion-centralny", "org/subregion-centralny", "2025-05-26"),
        ("marek-modelowy", "czujniki-powietrza-subregion-zachodni",
         "pilot/czujniki-powietrza-subregion-zachodni", "2025-06-20"),
        # Magdalena has the top concept itself as a competence (zero steps of skos:broader*).
        ("magdalena-probna", "plan-adaptacji-subregion-centralny", "org/subregion-centralny", "2025-05-26"),
    }
    tomasz = next(r for r in table(answer) if r["expert"].endswith("tomasz-wzorcowy"))
    assert set(tomasz["competences"].split("; ")) == {"Retencja wód opadowych", "Adaptacja do zmian klimatu"}
    assert tomasz["affiliation"] == "Biuro Projektów Wodnych (fikcyjne)"


def test_experts_by_competence_energy_keeps_experts_without_support(library):
    answer, got = expert_rows(library, "energy-efficiency", lang="en")
    assert got == {
        ("anna-przykladowa", "termomodernizacja-szkol-opole", "pilot/termomodernizacja-szkol-opole",
         "2026-02-10"),
        ("anna-przykladowa", "energetyk-bof", "org/bof", "2025-06-05"),
        ("michal-probny", "efektywnosc-energetyczna-opole", "org/aglomeracja-opolska", "2025-11-03"),
        ("joanna-testowa", None, None, None),
    }
    anna_bof = next(r for r in table(answer) if r["supportFor"] == ID + "org/bof")
    assert anna_bof["supportForLabel"] == "Białystok Functional Area Association"
    assert anna_bof["supportThemes"] == "Energy management"


def test_experts_by_competence_narrower_concept_and_recipient_per_row(library):
    _answer, got = expert_rows(library, "park-and-ride")
    # One support for two recipients (the association and its pilot) gives two rows.
    assert got == {("adam-fikcyjny", "parkuj-i-jedz-lom", "org/lom", "2025-06-10"),
                   ("adam-fikcyjny", "parkuj-i-jedz-lom", "pilot/parkuj-i-jedz-lublin", "2025-06-10")}


@pytest.mark.parametrize("competence", sorted(TOP_THEMES))
def test_experts_by_competence_never_shows_contact_data(library, competence):
    answer = run(library, "experts-by-competence", {"competence": ID + "theme/" + competence})
    assert answer.rows
    assert not {"email", "telephone", "phone"} & {v.lower() for v in answer.variables}
    for row in table(answer):
        for value in row.values():
            assert value is None or ("@" not in value and "+48" not in value), value


# --- 6. gaps-pilots and gaps-members ---------------------------------------------------------------------

@pytest.mark.parametrize("theme", sorted(TOP_THEMES) + ["street-lighting", "green-blue-infrastructure"])
def test_gaps_pilots_are_the_voivodeships_without_a_pilot(library, theme):
    rows = table(run(library, "gaps-pilots", {"theme": ID + "theme/" + theme}))
    narrower = {"street-lighting": {"oswietlenie-led-bialystok"}, "green-blue-infrastructure": set()}
    pilots = narrower.get(theme, {p for p, v in PILOTS.items() if v[5] == theme})
    covered = {MOFS[PILOTS[p][2]][0] for p in pilots}
    assert {r["voivodeshipTerc"] for r in rows} == VOIVODESHIPS - covered
    assert {local(r["voivodeship"], "voivodeship") for r in rows} == VOIVODESHIPS - covered
    for r in rows:
        with_association = r["voivodeshipTerc"] in VOIVODESHIPS_WITH_ASSOCIATION
        assert r["hasZitAssociation"] == ("true" if with_association else "false")


def test_gaps_pilots_default_energy_efficiency(library):
    rows = table(run(library, "gaps-pilots", lang="en"))
    assert len(rows) == 13  # 16 minus podlaskie (Białystok), opolskie (Opole), śląskie (Western Subregion)
    assert {"16", "20", "24"}.isdisjoint(r["voivodeshipTerc"] for r in rows)
    lodz = next(r for r in rows if r["voivodeshipTerc"] == "10")
    assert lodz["voivodeshipLabel"] == "Łódź Voivodeship"
    assert [r["voivodeshipTerc"] for r in rows] == sorted(r["voivodeshipTerc"] for r in rows)


def test_gaps_members_are_the_two_deliberate_gaps(library):
    rows = table(run(library, "gaps-members"))
    got = {(local(r["network"], "network"), local(r["member"], "org"), local(r["role"], "role"),
            local(r["networkTheme"], "theme"), int(r["pilotsInTheme"]), int(r["practicesInOtherThemes"]))
           for r in rows}
    assert got == {
        # Jelenia Góra originates only a climate practice (zielone-przystanki).
        ("akademia-partnerstwa", "aglomeracja-jeleniogorska", "partner", "horizontal-principles-management",
         0, 1),
        # Opole originates nothing, but pilots BOF's thermal-retrofit practice.
        ("co4energy", "aglomeracja-opolska", "partner", "energy-efficiency", 1, 0),
    }


# --- 7. transfer-candidates ------------------------------------------------------------------------------

def candidates(library, practice: str | None = None) -> Ranking:
    params = {"practice": ID + "practice/" + practice} if practice else {}
    answer = run(library, "transfer-candidates", params)
    for row in answer.rows:
        for name in ("sameNetworkAsOriginator", "activeInTheme", "networkInTheme"):
            assert row[answer.variables.index(name)].datatype.value == XSD_BOOLEAN
    return [(local(r["organisation"], "org"), int(r["score"]), r["sameNetworkAsOriginator"] == "true",
             r["activeInTheme"] == "true", r["networkInTheme"] == "true") for r in table(answer)]


Ranking = list[tuple[str, int, bool, bool, bool]]


def check_ranking(got: Ranking, expected: dict[str, tuple[int, bool, bool, bool]]) -> None:
    assert {org: rest for org, *rest in got} == {org: list(v) for org, v in expected.items()}
    assert len(got) == len(expected)
    for _org, score, same, active, network in got:
        assert score == 2 * same + active + network  # the rule stated in the description
    scores = [score for _org, score, *_ in got]
    assert scores == sorted(scores, reverse=True)


def test_transfer_candidates_default_practice(library):
    # standard-konsultacji: originator SAKO (Akademia partnerstwa), piloted by / transferred to Wałbrzych.
    check_ranking(candidates(library), {
        "aglomeracja-jeleniogorska": (3, True, False, True),
        "zit-wrof": (1, False, True, False),  # dostepne-przystanki is also an accessibility practice
        "metropolia-krakowska": (1, False, True, False),  # strategia-ponadlokalna (strategic planning)
        "aglomeracja-opolska": (0, False, False, False),
        "bof": (0, False, False, False),
        "lom": (0, False, False, False),
        "metropolia-warszawa": (0, False, False, False),
        "subregion-centralny": (0, False, False, False),
        "subregion-zachodni": (0, False, False, False),
    })


def test_transfer_candidates_full_score_and_exclusions(library):
    got = candidates(library, "plan-adaptacji-mof")
    zero = (0, False, False, False)
    check_ranking(got, {
        "subregion-zachodni": (4, True, True, True),
        "aglomeracja-jeleniogorska": (1, False, True, False),
        **{org: zero for org in ("sako", "aglomeracja-walbrzyska", "lom", "metropolia-warszawa", "bof",
                                 "aglomeracja-opolska", "metropolia-krakowska", "zit-wrof")},
    })
    assert "subregion-centralny" not in {org for org, *_ in got}  # the originator and pilot


def test_transfer_candidates_practice_in_two_top_themes(library):
    # dostepne-przystanki (Gmina Wrocław): public transport (mobility) and accessibility (horizontal).
    zero = (0, False, False, False)
    check_ranking(candidates(library, "dostepne-przystanki"), {
        "metropolia-krakowska": (3, True, True, False),
        "sako": (2, False, True, True),
        "aglomeracja-walbrzyska": (2, False, True, True),
        "lom": (2, False, True, True),
        "metropolia-warszawa": (2, False, True, True),
        "aglomeracja-jeleniogorska": (1, False, False, True),
        **{org: zero for org in ("aglomeracja-opolska", "bof", "subregion-centralny", "subregion-zachodni")},
    })


def test_transfer_candidates_description_states_the_rule():
    definition = REGISTRY.get("transfer-candidates")
    for lang in ("pl", "en"):
        text = definition.description[lang]
        for column in ("sameNetworkAsOriginator", "activeInTheme", "networkInTheme", "score"):
            assert column in text
        assert "2" in text and "1" in text and "4" in text


# --- 8. search -------------------------------------------------------------------------------------------

def search(library, text: str, lang: str = "pl") -> list[dict[str, str | None]]:
    return table(run(library, "search", {"text": text}, lang=lang))


@pytest.mark.parametrize("text", ["energetyczna", "ENERGETYCZNA", "Energetyczna", "ENERGETYCZNĄ",
                                  "energetyczną", "efektywnosc", "EFEKTYWNOŚĆ", "Efektywność energetyczna",
                                  "efektywnosc energetyczna", "EFEKTYWNOSC ENERGETYCZNA"])
def test_search_ignores_case_and_polish_diacritics(library, text):
    rows = search(library, text)
    found = {r["resource"] for r in rows}
    assert ID + "theme/energy-efficiency" in found
    assert ID + "practice/energetyk-mof" in found
    assert any(ZIT + "GoodPractice" in r["type"].split() for r in rows)
    concept = next(r for r in rows if r["resource"] == ID + "theme/energy-efficiency")
    assert concept["matchedText"] == "Efektywność energetyczna"
    assert concept["matchedIn"] == SKOS_PREF_LABEL
    assert concept["label"] == "Efektywność energetyczna"
    assert "http://www.w3.org/2004/02/skos/core#Concept" in concept["type"].split()


def test_search_default_rows(library):
    rows = table(run(library, "search"))
    found = {(r["resource"].removeprefix(ID), r["matchedText"]) for r in rows}
    assert ("theme/energy-efficiency", "Efektywność energetyczna") in found
    assert ("theme/building-retrofit", "Modernizacja energetyczna budynków") in found
    practice = "Wspólny energetyk MOF – efektywność energetyczna budynków publicznych"
    assert ("practice/energetyk-mof", practice) in found
    # The display name without the slide's quotation marks (issue 17; the slide's text is zit:printedAs).
    assert ("network/co4energy", "Co4Energy – sieć współpracy efektywność energetyczna w MOF") in found
    # Every matched text really contains the word once folded, and is a pl or en name or description.
    for r in rows:
        assert "energetyczn" in r["matchedText"].lower()


def test_search_folds_upper_case_polish_letters_in_the_data(library):
    lodz = {r["resource"] for r in search(library, "lodz")}
    assert ID + "voivodeship/10" in lodz  # "Łódź Voivodeship"@en and "województwo łódzkie"@pl
    swiety = search(library, "SWIETOKRZYSKIE", lang="en")
    assert {r["resource"] for r in swiety} == {ID + "voivodeship/26"}
    assert {r["matchedText"] for r in swiety} <= {"województwo świętokrzyskie", "Świętokrzyskie Voivodeship"}
    assert {r["label"] for r in swiety} == {"Świętokrzyskie Voivodeship"}
    meadows = {r["resource"] for r in search(library, "laki kwietne")}
    upper = {r["resource"] for r in search(library, "ŁĄKI KWIETNE")}
    assert meadows == upper == {ID + "practice/zielone-przystanki"}


def test_search_is_a_plain_string_match_in_both_languages(library):
    # Regular-expression characters are ordinary characters.
    assert {r["resource"] for r in search(library, "(P&R)")} == {ID + "theme/park-and-ride"}
    assert search(library, ".*") == []
    english = search(library, "energy efficiency", lang="en")
    concept = next(r for r in english if r["resource"] == ID + "theme/energy-efficiency")
    assert concept["label"] == "Energy efficiency"
    assert search(library, "zzz-nothing-like-this") == []


# --- 9. neighbourhood --------------------------------------------------------------------------------------

def expected_neighbourhood(triples: set[ox.Triple], resource: ox.NamedNode) -> set[ox.Triple]:
    """The rule of the description, computed in Python over the published graphs."""
    barrier = {ox.NamedNode(RDF_TYPE), ox.NamedNode(DCT_SOURCE)}
    names = {ox.NamedNode(RDFS_LABEL), ox.NamedNode(SKOS_PREF_LABEL), ox.NamedNode(ZIT + "isExample")}

    def links(node):
        return {t for t in triples if t.subject == node or t.object == node}

    def other(t, node):
        return t.object if t.subject == node else t.subject

    first_links = links(resource)
    reached = {other(t, resource) for t in first_links}
    expanded = {other(t, resource) for t in first_links
                if t.predicate not in barrier and not isinstance(other(t, resource), ox.Literal)}
    second_links = {t for node in expanded for t in links(node)}
    reached |= {other(t, node) for node in expanded for t in links(node)}
    reached = {n for n in reached if not isinstance(n, ox.Literal)}
    named = {t for t in triples if t.subject in reached and t.predicate in names}
    return first_links | second_links | named


@pytest.mark.parametrize("resource", ["network/co4energy", "org/aglomeracja-opolska",
                                      "practice/termomodernizacja-szkol", "theme/air-quality"])
def test_neighbourhood_is_the_two_hop_graph_with_names(library, resource):
    node = ox.NamedNode(ID + resource)
    answer = run(library, "neighbourhood", {"resource": node.value})
    assert answer.kind == "graph"
    got = set(answer.triples)
    expected = expected_neighbourhood(public_triples(library), node)
    assert not any(isinstance(term, ox.BlankNode) for t in expected for term in (t.subject, t.object))
    assert got == expected


def test_neighbourhood_default_co4energy_spot_checks(library):
    got = {(t.subject.value.removeprefix(ID), t.predicate.value, t.object.value.removeprefix(ID))
           for t in run(library, "neighbourhood").triples}
    org = "http://www.w3.org/ns/org#"
    # First step, both directions.
    assert ("network/co4energy", ZIT + "theme", "theme/energy-efficiency") in got
    assert ("membership/co4energy-bof", org + "organization", "network/co4energy") in got
    # Second step from a membership (outgoing) and from a pilot (incoming).
    assert ("membership/co4energy-bof", org + "member", "org/bof") in got
    pilot = "pilot/termomodernizacja-szkol-opole"
    assert ("support/termomodernizacja-szkol-opole", ZIT + "supportFor", pilot) in got
    # Names of second-step nodes and of classes reached through rdf:type, in both languages.
    assert ("org/bof", RDFS_LABEL, "Stowarzyszenie Białostockiego Obszaru Funkcjonalnego") in got
    assert ("org/bof", RDFS_LABEL, "Białystok Functional Area Association") in got
    assert ("role/leader", SKOS_PREF_LABEL, "Lider") in got
    assert (ZIT + "CooperationNetwork", RDFS_LABEL, "Sieć współpracy") in got
    # No third step: BOF's own links, and nothing expanded through rdf:type or dcterms:source.
    assert not any(s == "org/bof" and p != RDFS_LABEL and p != SKOS_PREF_LABEL for s, p, _o in got)
    assert ("network/park", RDF_TYPE, ZIT + "CooperationNetwork") not in got
    assert not any(s == "org/sako" for s, _p, _o in got)


def test_neighbourhood_of_an_unknown_iri_is_empty(library):
    assert run(library, "neighbourhood", {"resource": "https://example.org/not-in-the-graph"}).triples == ()


# --- 10. statistics ---------------------------------------------------------------------------------------

def test_statistics_class_counts_match_the_data(library):
    rows = table(run(library, "statistics"))
    classes = {r["item"]: int(r["count"]) for r in rows if r["kind"] == "class"}
    typed: dict[str, set] = {}
    for t in public_triples(library):
        if t.predicate.value == RDF_TYPE:
            typed.setdefault(t.object.value, set()).add(t.subject)
    assert classes == {cls: len(subjects) for cls, subjects in typed.items()}
    assert {cls.removeprefix(ZIT): n for cls, n in classes.items() if cls.startswith(ZIT)} == {
        "GoodPractice": 26, "Pilot": 24, "IndicatorValue": 43, "Voivodeship": 16, "Municipality": 13,
        "FunctionalUrbanArea": 11, "NetworkMembership": 11, "CooperationNetwork": 5, "Expert": 12,
        "ExpertSupport": 15, "Transfer": 6, "RegisteredAssociation": 6, "MunicipalUnion": 2, "Partnership": 3,
        "Programme": 1, "BudgetLine": 2, "Milestone": 4, "ProjectPhase": 1, "Indicator": 8,
        "StudyVisit": 4, "Workshop": 4, "Training": 2, "Consultation": 1, "BudgetReading": 2,
    }
    labels = {r["item"]: r["itemLabel"] for r in rows if r["kind"] == "class"}
    assert labels[ZIT + "Pilot"] == "Pilotaż"
    assert labels["http://www.w3.org/2004/02/skos/core#Concept"] is None


def test_statistics_graph_counts_match_the_files(library):
    rows = table(run(library, "statistics", lang="en"))
    graphs = {r["item"]: (r["itemLabel"], int(r["count"])) for r in rows if r["kind"] == "graph"}
    expected = {}
    for graph in bundled_graphs():
        public, _private = split_private(t for f in graph.files for t in read_turtle(f))
        expected[graph.iri] = (graph.name, len(set(public)))
    assert graphs == expected  # the published graphs only: no meta graph, no private contact graph
    assert {r["kind"] for r in rows} == {"class", "graph"}
    assert next(r for r in rows if r["item"] == ZIT + "Pilot")["itemLabel"] == "Pilot"


# --- 11. the example flag where answers show illustrative records (issue 17) -------------------------------

def flags(rows: list[dict[str, str | None]]) -> set[str | None]:
    return {r["example"] for r in rows}


def test_every_statement_of_the_examples_is_about_a_flagged_record():
    """The flag a user meets is the subject's: nothing illustrative hangs off a real record (e.g. the MOF of
    an association is stated on the example MOF with zit:coordinatedBy, not on the association)."""
    (examples,) = [g for g in bundled_graphs() if g.name == "examples"]
    triples = {t for f in examples.files for t in read_turtle(f)}
    flagged = {t.subject for t in triples
               if t.predicate.value == ZIT + "isExample" and t.object.value == "true"}
    assert {t.subject for t in triples} == flagged
    assert not any(t.predicate.value == ZIT + "coordinatesArea" for t in triples)


@pytest.mark.parametrize("theme", sorted(TOP_THEMES))
def test_every_pilot_row_is_marked_as_an_example(library, theme):
    # Every bundled pilot is illustrative (data/examples/pilots.ttl), so every row says so.
    assert flags(table(run(library, "pilots-by-theme", {"theme": ID + "theme/" + theme}))) == {"true"}


def test_timeline_marks_example_pilots_but_not_the_programme_milestones(library):
    rows = table(run(library, "timeline"))
    assert {r["example"] for r in rows if r["kind"] in ("milestone", "phase")} == {"false"}
    assert {r["example"] for r in rows if r["kind"] == "pilot"} == {"true"}


def test_search_marks_example_records(library):
    rows = search(library, "energetyczn")
    example = {r["resource"].removeprefix(ID): r["example"] for r in rows}
    assert example["practice/energetyk-mof"] == "true"
    assert example["network/co4energy"] == "false"
    assert {r["example"] for r in search(library, "Kalisz")} >= {"false", "true"}  # the city and an example MOF


def test_coverage_marks_the_cells_that_count_example_records(library):
    for r in table(run(library, "coverage")):
        counted = int(r["practices"]) + int(r["pilots"])
        assert r["example"] == ("true" if counted else "false"), r


def test_experts_gaps_and_rankings_say_they_rest_on_examples(library):
    assert flags(table(run(library, "experts-by-competence"))) == {"true"}
    assert flags(table(run(library, "gaps-members"))) == {"true"}
    assert flags(table(run(library, "transfer-candidates"))) == {"true"}
    assert flags(table(run(library, "gaps-pilots"))) == {"true"}  # energy efficiency has example pilots
    # No pilot at all in green-blue infrastructure: the gaps there rest on no example.
    nothing = table(run(library, "gaps-pilots", {"theme": ID + "theme/green-blue-infrastructure"}))
    assert nothing and flags(nothing) == {"false"}


def test_neighbourhood_carries_the_flag_of_every_reached_example(library):
    triples = set(run(library, "neighbourhood").triples)
    flagged = {t.subject.value.removeprefix(ID) for t in triples if t.predicate.value == ZIT + "isExample"}
    assert {"pilot/termomodernizacja-szkol-opole", "support/termomodernizacja-szkol-opole"} <= flagged
    assert "network/co4energy" not in flagged


# --- 12. questions a researcher asks of the examples (issue 17) ---------------------------------------------

def test_experts_who_supported_more_than_one_network(library):
    rows = table(run(library, "experts-across-networks"))
    got = {local(r["expert"], "expert"): {local(n, "network") for n in r["networkIris"].split()} for r in rows}
    assert got == {
        "katarzyna-modelowa": {"akademia-partnerstwa", "mof4us"},
        "ewa-fikcyjna": {"akademia-partnerstwa", "zrownowazona-mobilnosc"},
    }
    assert all(int(r["networks"]) == 2 and int(r["supports"]) == 2 for r in rows)
    assert flags(rows) == {"true"}


def test_pilots_that_name_their_funded_project(library):
    rows = table(run(library, "funded-pilots", lang="en"))
    assert {(local(r["pilot"], "pilot"), local(r["project"], "project"), local(r["organisation"], "org"))
            for r in rows} == {
        ("termomodernizacja-szkol-bialystok", "przyklad-termomodernizacja-szkol-bof", "bof"),
        ("rower-miejski-lublin", "przyklad-rower-miejski-lom", "lom"),
    }
    assert all(r["projectLabel"].startswith("Fictitious project") for r in rows)
    assert flags(rows) == {"true"}


def test_organisations_in_another_networks_activities(library):
    rows = table(run(library, "cross-network-participation"))
    got = {(local(r["organisation"], "org"), local(r["activityNetwork"], "network")) for r in rows}
    assert got == {("aglomeracja-jeleniogorska", "park"), ("aglomeracja-walbrzyska", "park")}
    for r in rows:
        own = MEMBERSHIPS[local(r["organisation"], "org")][0]
        assert own != local(r["activityNetwork"], "network")
    assert flags(rows) == {"true"}


def test_each_transfer_with_the_pilot_that_shows_it(library):
    rows = table(run(library, "transfers"))
    assert len(rows) == 6 and all(r["pilot"] for r in rows)
    for r in rows:
        practice, implementer, *_rest = PILOTS[local(r["pilot"], "pilot")]
        assert (practice, implementer) == (local(r["practice"], "practice"), local(r["to"], "org"))
    assert flags(rows) == {"true"}


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from zitkg.cli import main

    path = tmp_path_factory.mktemp("questions") / "store"
    result = CliRunner().invoke(main, ["load", "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("qid", ["experts-across-networks", "funded-pilots", "cross-network-participation",
                                 "transfers"])
def test_zitkg_query_answers_the_example_questions_marked_as_examples(cli_store, qid):
    import csv
    import io

    from click.testing import CliRunner

    from zitkg.cli import main

    result = CliRunner().invoke(main, ["query", qid, "--format", "csv", "--store", str(cli_store)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows
    assert {r["example"] for r in rows} == {"true"}


# --- (a) headers ------------------------------------------------------------------------------------------

def test_every_query_file_has_bilingual_texts_and_typed_parameters():
    files = sorted(p.stem for p in resources.queries_dir().glob("*.rq"))
    assert files == ALL_QUERIES
    assert NEW_QUERIES <= set(ALL_QUERIES)
    for query in REGISTRY:
        for field in (query.title, query.description):
            assert set(field) == {"pl", "en"} and all(field[lang].strip() for lang in ("pl", "en"))
            assert field["pl"] != field["en"]
        assert re.search("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]", query.title["pl"] + query.description["pl"]), query.id
        assert query.tags, query.id
        for param in query.params:
            assert param.type in {"iri", "literal", "concept"}, (query.id, param.name)
            assert param.example, (query.id, param.name)
            assert param.default, (query.id, param.name)
            assert param.label and param.label["pl"] and param.label["en"], (query.id, param.name)
            if param.type == "concept":
                assert param.scheme == ID + "scheme/themes"
            if param.type == "literal":
                assert param.datatype == "http://www.w3.org/2001/XMLSchema#string"


GOOD_HEADER = """#+ id: {id}
#+ title:
#+   pl: Pilotaże w obszarze
#+   en: Pilots in an area
#+ description:
#+   pl: Opis zapytania.
#+   en: Description of the query.
#+ tags: [test]
#+ params:
#+   - name: theme
#+     type: concept
#+     scheme: https://w3id.org/sieci-zit/id/scheme/themes
"""
GOOD_BODY = "SELECT ?pilot ?theme WHERE { ?pilot <https://w3id.org/sieci-zit/ontology#theme> ?theme }\n"


@pytest.mark.parametrize(("case", "line", "message"), [
    ("missing-en-title", 2, "'title' needs a non-empty text in both pl and en"),
    ("unknown-param-type", 9, "parameter 'theme' needs a 'type'"),
    ("param-not-in-projection", 13, "?theme is a parameter and must be in the SELECT projection"),
    ("colon-in-plain-text", 6, "header is not valid YAML"),
])
def test_a_bad_header_names_the_file_and_line(tmp_path: Path, case, line, message):
    text = GOOD_HEADER.format(id=case) + GOOD_BODY
    if case == "missing-en-title":
        text = text.replace("#+   en: Pilots in an area\n", "")
    elif case == "unknown-param-type":
        text = text.replace("type: concept", "type: number")
    elif case == "param-not-in-projection":
        text = text.replace("SELECT ?pilot ?theme", "SELECT ?pilot")
    elif case == "colon-in-plain-text":
        text = text.replace("Opis zapytania.", "Kolumny: sieć, rola.")
    folder = tmp_path / case
    folder.mkdir()
    path = folder / f"{case}.rq"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QueryFileError) as caught:
        Registry(folder)
    assert caught.value.path == path
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)
    # The same file without the defect loads.
    good = tmp_path / f"good-{case}"
    good.mkdir()
    (good / f"{case}.rq").write_text(GOOD_HEADER.format(id=case) + GOOD_BODY, encoding="utf-8")
    assert [q.id for q in Registry(good)] == [case]


# --- (b) every query has rows ---------------------------------------------------------------------------

def answer_size(answer) -> int:
    if answer.kind == "graph":
        return len(answer.triples)
    if answer.kind == "boolean":
        return int(bool(answer.boolean))
    return len(answer.rows)


@pytest.mark.parametrize("lang", ["pl", "en"])
@pytest.mark.parametrize("qid", ALL_QUERIES)
def test_every_library_query_returns_rows_with_its_defaults(library, qid, lang):
    assert answer_size(run(library, qid, lang=lang)) > 0


@pytest.mark.parametrize("qid", sorted({q for q, _p in PARAMETERS}))
def test_every_library_query_returns_rows_with_its_examples(library, qid):
    examples = {p.name: p.example for p in REGISTRY.get(qid).params}
    assert answer_size(run(library, qid, examples)) > 0


# --- (c) parameters are values, never query text --------------------------------------------------------

INJECTIONS = [
    'x" } ; DROP ALL ; #',
    "x' } ; DROP ALL ; #",
    "<http://evil> } UNION { ?s ?p ?o",
    "https://w3id.org/sieci-zit/id/org/bof> . ?s ?p ?o . <x",
    "https://w3id.org/sieci-zit/id/org/bof>}UNION{?s?p?o",
    'energetyczna" ) } UNION { ?s ?p ?o } #',
    "?resource",
    "a" * 10_000,
    "https://w3id.org/sieci-zit/id/org/" + "a" * 10_000,
]


@pytest.mark.parametrize("value", INJECTIONS, ids=lambda v: v[:40])
@pytest.mark.parametrize(("qid", "name"), PARAMETERS)
def test_injection_is_refused_or_treated_as_a_plain_value(library, qid, name, value):
    try:
        answer = run(library, qid, {name: value})
    except BadRequest as exc:
        assert not isinstance(exc, QuerySyntaxError), exc.message
        assert f"'{name}'" in exc.message
        return
    assert answer_size(answer) == 0


def test_injections_leave_the_data_untouched(library):
    before = Counter(q.graph_name for q in library.service.store.read_store())
    for qid, name in PARAMETERS:
        for value in INJECTIONS[:3]:
            try:
                run(library, qid, {name: value})
            except BadRequest:
                pass
    assert Counter(q.graph_name for q in library.service.store.read_store()) == before


ASSOCIATION = "an IRI of a " + ZIT + "ZITAssociation"
PRACTICE = "an IRI of a " + ZIT + "GoodPractice"


@pytest.mark.parametrize(("qid", "name", "value", "expected"), [
    ("organisation-networks", "organisation", ID + "network/co4energy", ASSOCIATION),
    ("organisation-networks", "organisation", ID + "practice/energetyk-mof", ASSOCIATION),
    ("transfer-candidates", "practice", ID + "org/bof", PRACTICE),
    ("transfer-candidates", "practice", ID + "pilot/teleopieka-wroclaw", PRACTICE),
])
def test_an_iri_of_the_wrong_class_is_a_bad_request(library, qid, name, value, expected):
    with pytest.raises(BadRequest) as caught:
        run(library, qid, {name: value})
    assert type(caught.value) is BadRequest
    assert f"'{name}'" in caught.value.message and expected in caught.value.message
    assert caught.value.details == {"parameter": name, "expected": expected, "value": value}


CONCEPT_PARAMETERS = [(q, p) for q, p in PARAMETERS if REGISTRY.get(q).param(p).type == "concept"]


@pytest.mark.parametrize(("qid", "name"), CONCEPT_PARAMETERS)
@pytest.mark.parametrize("value", [ID + "theme/no-such-theme", ID + "role/leader", ID + "org/bof"])
def test_an_unknown_concept_is_a_bad_request(library, qid, name, value):
    with pytest.raises(BadRequest) as caught:
        run(library, qid, {name: value})
    assert type(caught.value) is BadRequest
    assert f"'{name}'" in caught.value.message
    assert caught.value.details["expected"] == "a concept of the scheme " + ID + "scheme/themes"


def test_an_unknown_parameter_is_a_bad_request(library):
    with pytest.raises(BadRequest, match="no parameter 'topic'"):
        run(library, "pilots-by-theme", {"topic": ID + "theme/climate"})


# --- portability: the same answers from another SPARQL 1.1 engine -------------------------------------------

def _rdflib_term(term):
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


@pytest.fixture(scope="module")
def rdflib_dataset():
    """The published graphs in rdflib, with the default graph as their union (as on the endpoint)."""
    dataset = rdflib.Dataset(default_union=True)
    for graph in bundled_graphs():
        public, _private = split_private(t for f in graph.files for t in read_turtle(f))
        target = dataset.graph(rdflib.URIRef(graph.iri))
        for t in public:
            target.add((_rdflib_term(t.subject), _rdflib_term(t.predicate), _rdflib_term(t.object)))
    return dataset


def _comparable(value) -> object:
    """Compare values, not spellings: numbers by value (the store canonicalises decimals), and
    GROUP_CONCAT lists as sets (their order is not defined by SPARQL)."""
    if value is None:
        return None
    text = str(value)
    try:
        return round(float(text), 6)
    except ValueError:
        return frozenset(text.split("; ")) if "; " in text else text


# rdflib's SPARQL evaluator itself calls its deprecated Dataset.default_context.
@pytest.mark.filterwarnings(r"ignore:Dataset\.\w+ is deprecated:DeprecationWarning")
@pytest.mark.parametrize("qid", ALL_QUERIES)
def test_rdflib_gives_the_same_answer(library, rdflib_dataset, qid):
    definition, answer, bound = library.run(qid, {}, lang="en")
    bindings = {k: _rdflib_term(v) for k, v in bound.items()}
    result = rdflib_dataset.query(definition.sparql, initBindings=bindings)
    if qid == "search":  # the index (word forms) finds every resource the text's scan finds, and more
        scanned = {str(row["resource"]) for row in result if str(row["resource"]).startswith(ID)}
        assert scanned <= {row[0].value for row in answer.rows}
        return
    if answer.kind == "graph":
        ours = Counter(tuple(_comparable(x.value) for x in (t.subject, t.predicate, t.object))
                       for t in set(answer.triples))
        theirs = Counter(tuple(_comparable(x) for x in t) for t in result)
    else:
        ours = Counter(tuple(_comparable(x.value if x is not None else None) for x in row)
                       for row in answer.rows)
        theirs = Counter(tuple(_comparable(row[v]) for v in answer.variables) for row in result)
    assert ours == theirs
