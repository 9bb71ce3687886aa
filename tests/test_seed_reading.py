"""data/programme.ttl read against the programme presentation it cites (issue 17).

The presentation's text is the seed (``seed/*.txt`` in the shared folder, found as tests/shared_paths.py finds
it; missing, the tests skip locally and fail under CI). Everything data/programme.ttl attributes to the
presentation (``id/source/programme-presentation``) is checked against that text:

- every text as printed (``zit:printedAs``: names of the programme, networks and members, amounts, dates) is in
  the presentation, and the display names (``rdfs:label`` @pl) of the programme's parts come from it;
- the objectives and the network-formation rule are the presentation's words (with the one documented
  spelling correction);
- every amount (``schema:value``) is printed in it; the amounts of the budget slide are recorded in slide order;
  the six amounts between the network names add up to the total; both readings of the slide (name then amount,
  amount then name) are the ones the slide's order gives, each marked as an interpretation;
- every date is printed in it, each milestone with the date printed beside its name, the networks with the
  period the slide gives for all of them;
- the members of each network are the ones printed under its name, in their roles;
- the visible effects are the presentation's.

Comparisons ignore whitespace, because the slide text is flattened and its line breaks fall anywhere, even
inside words ("Podpisywani\\ne umów"); names are also compared without quotation marks and with one kind of dash.
The sources of what the presentation does not give (full names, legal forms, seats, codes) are checked here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from rdflib import RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, SDO, TIME
from rdflib.term import Node

from shared_paths import missing, shared_root
from zitkg import resources
from zitkg.validation import parse_files

ZIT = Namespace("https://w3id.org/sieci-zit/ontology#")
ID = Namespace("https://w3id.org/sieci-zit/id/")
PRESENTATION = ID["source/programme-presentation"]
TERC = ID["source/teryt-terc"]
INTERPRETATION = ID["reading-status/interpretation"]
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
         "XII": 12}
# Spelling the data corrects, as (data, presentation); the programme's editorial note must say so.
CORRECTIONS = {"między": "miedzy"}
DATE_PROPERTIES = (TIME.inXSDDate, TIME.inXSDgYearMonth, TIME.inXSDgYear, SDO.startDate, SDO.endDate)
NAMED_CLASSES = (ZIT.Programme, ZIT.CooperationNetwork, ZIT.BudgetLine, ZIT.Milestone, ZIT.ProjectPhase)


# --- reading the two sides ---------------------------------------------------------------------------


def squash(text: str) -> str:
    """The text without any whitespace: the slide's line breaks and spacing do not count."""
    return re.sub(r"\s+", "", text)


def plain(text: str) -> str:
    """A name compared loosely: no whitespace, no quotation marks, one kind of dash, no final full stop."""
    text = re.sub(r"[„”“\"«»]", "", text)
    text = re.sub(r"[‐‑‒–—-]", "-", text)
    return squash(text).rstrip(".")


def amounts_in(text: str) -> list[int]:
    """The PLN amounts of a text, in order ("814 000 PLN", "813.200 PLN", "1 630 800\\nPLN")."""
    return [int(m.replace(".", "")) for m in re.findall(r"(\d[\d.]*)PLN", squash(text))]


def dates_in(text: str) -> list[str]:
    """The dates of a text as xsd lexical forms: "21 X 2024" -> 2024-10-21, "III 2025" -> 2025-03,
    "2025-2026" -> 2025 and 2026."""
    found: list[str] = []
    rest = text
    for day, month, year in re.findall(r"\b(\d{1,2})\s+([IVX]+)\s+(\d{4})\b", rest):
        found.append(f"{year}-{ROMAN[month]:02d}-{int(day):02d}")
    rest = re.sub(r"\b\d{1,2}\s+[IVX]+\s+\d{4}\b", " ", rest)
    for month, year in re.findall(r"\b([IVX]+)\s+(\d{4})\b", rest):
        found.append(f"{year}-{ROMAN[month]:02d}")
    rest = re.sub(r"\b[IVX]+\s+\d{4}\b", " ", rest)
    for start, end in re.findall(r"\b(\d{4})\s*-\s*(\d{4})\b", rest):
        found += [start, end]
    return found


@pytest.fixture(scope="module")
def seed() -> str:
    folder = shared_root() / "seed"
    texts = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not texts:
        missing(f"the programme presentation read against data/programme.ttl (no seed/*.txt in {folder})",
                "put the programme document's text in the shared folder's seed/")
    return "\n".join(path.read_text(encoding="utf-8") for path in texts)


@pytest.fixture(scope="module")
def budget_slide(seed: str) -> str:
    start = seed.index("Budżet projektu")
    return seed[start:seed.index("Widoczne efekty", start)]


@pytest.fixture(scope="module")
def data() -> Graph:
    return parse_files([resources.data_dir() / "programme.ttl", resources.ontology_dir() / "vocabularies.ttl"])


def cites_presentation(data: Graph) -> set[Node]:
    return set(data.subjects(DCTERMS.source, PRESENTATION))


def one(data: Graph, subject: Node, predicate: URIRef) -> Node:
    values = list(data.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def polish(data: Graph, subject: Node, predicate: URIRef = RDFS.label) -> str:
    return str(next(v for v in data.objects(subject, predicate) if isinstance(v, Literal) and v.language == "pl"))


def slug(node: Node) -> str:
    return str(node).removeprefix(str(ID))


def networks(data: Graph) -> list[Node]:
    return sorted(data.subjects(RDF.type, ZIT.CooperationNetwork))


# --- names -------------------------------------------------------------------------------------------


def test_the_seed_is_the_programme_presentation(seed: str) -> None:
    assert "Założenia i cele projektu Sieciowanie Związków ZIT w Polsce" in seed


def test_every_text_as_printed_is_in_the_presentation(data: Graph, seed: str) -> None:
    printed = {(s, str(o)) for s, o in data.subject_objects(ZIT.printedAs)}
    assert printed, "no zit:printedAs in data/programme.ttl"
    assert {s for s, _o in printed} <= cites_presentation(data), "zit:printedAs is the presentation's text here"
    absent = sorted(f"{slug(s)}: {text!r}" for s, text in printed if squash(text) not in squash(seed))
    assert absent == []
    # What must carry it: the programme, its networks, memberships, milestones and every amount of the budget slide.
    expected = {ZIT.Programme: 1, ZIT.CooperationNetwork: 5, ZIT.NetworkMembership: 11, ZIT.Milestone: 4,
                ZIT.ProjectPhase: 1, ZIT.BudgetLine: 2}
    for cls, count in expected.items():
        instances = set(data.subjects(RDF.type, cls))
        assert len(instances) == count, cls
        assert all((s, ZIT.printedAs, None) in data for s in instances), cls


def test_display_names_come_from_the_printed_names(data: Graph) -> None:
    for cls in NAMED_CLASSES:
        for subject in data.subjects(RDF.type, cls):
            label = polish(data, subject)
            printed = str(one(data, subject, ZIT.printedAs))
            assert plain(label) in plain(printed), (slug(subject), label, printed)
            assert not re.match(r"[„”“\"«»]", label), f"{slug(subject)}: the label keeps the slide's quotation marks"


def test_objectives_and_network_formation_rule_are_the_presentations_words(data: Graph, seed: str) -> None:
    programme = ID["programme/sieciowanie-zit"]
    notes = " ".join(str(n) for n in data.objects(programme, SKOS.editorialNote))
    texts = [polish(data, programme, ZIT.networkFormationRule)]
    texts += [str(o) for o in data.objects(programme, ZIT.objective) if o.language == "pl"]
    assert len(texts) == 7
    for text in texts:
        for ours, theirs in CORRECTIONS.items():
            if ours in text:
                assert theirs in notes, f"the correction {theirs!r} -> {ours!r} is not noted on the programme"
                text = text.replace(ours, theirs)
        assert plain(text) in plain(seed), text


def test_members_and_roles_are_the_ones_printed_under_each_network(data: Graph, seed: str) -> None:
    flat = squash(seed)
    start = {net: flat.index(squash(str(one(data, net, ZIT.printedAs)))) for net in networks(data)}
    order = sorted(start, key=start.get)
    for n, net in enumerate(order):
        name_end = start[net] + len(squash(str(one(data, net, ZIT.printedAs))))
        segment_end = start[order[n + 1]] if n + 1 < len(order) else flat.index("Zasadyrealizacji")
        segment = flat[name_end:segment_end]
        memberships = list(data.subjects(ORG.organization, net))
        assert len(re.findall(r"(?:Lider|Partner\d?)[-–]", segment)) == len(memberships), slug(net)
        for membership in memberships:
            printed = squash(str(one(data, membership, ZIT.printedAs)))
            assert printed in segment, (slug(net), printed)
            role = "leader" if printed.startswith("Lider") else "partner"
            assert one(data, membership, ORG.role) == ID[f"role/{role}"], printed
    leaders = [m for m in data.subjects(ORG.role, ID["role/leader"])]
    assert len(leaders) == 5


def test_visible_effects_are_the_presentations(data: Graph, seed: str) -> None:
    section = seed[seed.index("Widoczne efekty"):seed.index("Życie projektu")]
    effects = list(data.objects(ID["programme/sieciowanie-zit"], ZIT.effect))
    assert len(effects) == 7
    for effect in effects:
        assert squash(polish(data, effect, SKOS.prefLabel)) in squash(section), effect


# --- amounts -----------------------------------------------------------------------------------------


def test_every_amount_attributed_to_the_presentation_is_printed_in_it(data: Graph, seed: str) -> None:
    printed = set(amounts_in(seed))
    for subject in cites_presentation(data):
        for value in data.objects(subject, SDO.value):
            assert int(value.toPython()) in printed, (slug(subject), value)
        for text in data.objects(subject, ZIT.printedAs):
            shown = amounts_in(str(text))
            if shown:
                assert shown == [int(one(data, subject, SDO.value).toPython())], (slug(subject), text)
                assert str(one(data, subject, SDO.currency)) == "PLN"


def test_the_budget_slide_amounts_are_recorded_in_slide_order(data: Graph, budget_slide: str) -> None:
    on_slide = amounts_in(budget_slide)
    assert on_slide == [5_700_000, 3_800_000, 1_900_000, 814_000, 814_000, 813_200, 814_000, 814_000, 1_630_800]
    recorded = sorted(data.subject_objects(SDO.position), key=lambda pair: int(pair[1]))
    assert [int(p) for _s, p in recorded] == list(range(1, len(on_slide) + 1))
    assert [int(one(data, s, SDO.value).toPython()) for s, _p in recorded] == on_slide
    assert recorded[0][0] == ID["amount/programme-total"]
    assert {s for s, _p in recorded[1:3]} == set(data.objects(ID["programme/sieciowanie-zit"], ZIT.budgetLine))
    # As printed, in the slide's own spelling ("813.200 PLN"), found in this order on the slide.
    flat, at = squash(budget_slide), 0
    for subject, _position in recorded:
        text = squash(str(one(data, subject, ZIT.printedAs)))
        found = flat.find(text, at)
        assert found >= 0, (slug(subject), text)
        at = found + len(text)


def test_the_six_amounts_between_the_network_names_make_the_total(data: Graph, budget_slide: str) -> None:
    total, _line1, _line2, *six = amounts_in(budget_slide)
    assert len(six) == 6 and sum(six) == total == 5_700_000
    summands = set(data.objects(ID["amount/programme-total"], ZIT.equalsSumOf))
    positions = sorted(int(one(data, s, SDO.position)) for s in summands)
    assert positions == [4, 5, 6, 7, 8, 9]
    assert sum(one(data, s, SDO.value).toPython() for s in summands) == one(
        data, ID["amount/programme-total"], SDO.value).toPython()


def slide_sequence(data: Graph, budget_slide: str) -> list[tuple[str, Node]]:
    """The six amounts (by schema:position) and five network names of the slide in their printed order."""
    flat = squash(budget_slide)
    flat = flat[flat.index("1900000PLN") + len("1900000PLN"):]
    items: list[tuple[int, str, Node]] = []
    at = 0
    for subject in sorted((s for s, p in data.subject_objects(SDO.position) if int(p) >= 4),
                          key=lambda s: int(one(data, s, SDO.position))):
        text = squash(str(one(data, subject, ZIT.printedAs)))
        at = flat.index(text, at)
        items.append((at, "amount", subject))
        at += len(text)
    for net in networks(data):
        names = [squash(str(a)) for a in data.objects(net, SKOS.altLabel) if a.language == "pl"]
        found = [flat.find(name) for name in names if name in flat]
        assert len(set(found)) == 1, (slug(net), names)  # one place on the slide, whichever name is used
        items.append((found[0], "network", net))
    return [(kind, node) for _at, kind, node in sorted(items, key=lambda item: item[0])]


def reading(data: Graph, name: str) -> tuple[dict[Node, Node], Node]:
    """(network -> printed amount it is read from, unassigned printed amount) of a recorded reading."""
    node = ID[f"budget-reading/{name}"]
    assert one(data, node, ZIT.readingStatus) == INTERPRETATION
    assert one(data, node, PROV.wasDerivedFrom) == PRESENTATION
    assigned = {}
    for amount in data.subjects(ZIT.inReading, node):
        assert one(data, amount, ZIT.readingStatus) == INTERPRETATION
        assert (amount, SKOS.editorialNote, None) in data
        source = one(data, amount, ZIT.readFrom)
        assert one(data, amount, SDO.value) == one(data, source, SDO.value)
        assigned[one(data, amount, ZIT.allocatedTo)] = source
    return assigned, one(data, node, ZIT.unassignedAmount)


def test_both_readings_of_the_budget_slide_are_recorded_as_interpretations(data: Graph, budget_slide: str) -> None:
    sequence = slide_sequence(data, budget_slide)
    assert [kind for kind, _node in sequence] == ["amount", "network"] * 5 + ["amount"]
    name_then_amount = {sequence[i][1]: sequence[i + 1][1] for i in range(1, 11, 2)}
    amount_then_name = {sequence[i][1]: sequence[i - 1][1] for i in range(1, 11, 2)}
    assert reading(data, "name-then-amount") == (name_then_amount, sequence[0][1])
    assert reading(data, "amount-then-name") == (amount_then_name, sequence[-1][1])
    # The networks' zit:budget is the reading "name, then amount", and says so.
    for net, printed in name_then_amount.items():
        budget = one(data, net, ZIT.budget)
        assert one(data, budget, ZIT.inReading) == ID["budget-reading/name-then-amount"]
        assert one(data, budget, ZIT.readFrom) == printed
    # No explanation the document does not give.
    notes = " ".join(str(n) for n in data.objects(None, SKOS.editorialNote))
    assert "dwóch partnerów" not in notes and "two partners" not in notes


# --- dates -------------------------------------------------------------------------------------------


def dated(data: Graph, subjects: Iterable[Node]) -> list[tuple[Node, Literal]]:
    return [(s, o) for s in subjects for p in DATE_PROPERTIES for o in data.objects(s, p)]


def test_every_date_attributed_to_the_presentation_is_printed_in_it(data: Graph, seed: str) -> None:
    printed = set(dates_in(seed))
    assert {"2024-10-21", "2024-12-12", "2025-03", "2025", "2026", "2027-10-31"} <= printed
    values = dated(data, cites_presentation(data))
    assert values
    assert sorted(f"{slug(s)}: {o}" for s, o in values if str(o) not in printed) == []


def test_each_milestone_has_the_date_printed_beside_its_name(data: Graph) -> None:
    for cls in (ZIT.Milestone, ZIT.ProjectPhase):
        for milestone in data.subjects(RDF.type, cls):
            shown = dates_in(str(one(data, milestone, ZIT.printedAs)))
            assert shown == [str(o) for _s, o in dated(data, [milestone])], slug(milestone)


def test_networks_take_the_period_the_slide_gives_for_all_of_them(data: Graph) -> None:
    for net in networks(data):
        phase = one(data, net, DCTERMS.temporal)
        assert (phase, RDF.type, ZIT.ProjectPhase) in data
        for prop in (SDO.startDate, SDO.endDate):
            assert one(data, net, prop) == one(data, phase, prop), slug(net)
        assert any("2025-2026" in str(n) for n in data.objects(net, SKOS.editorialNote)), slug(net)
    # Memberships: the slide gives them no dates.
    assert dated(data, data.subjects(RDF.type, ZIT.NetworkMembership)) == []


# --- what the presentation does not give -------------------------------------------------------------


def test_organisations_and_seats_cite_the_documents_that_give_them(data: Graph) -> None:
    organisations = [s for cls in (ZIT.RegisteredAssociation, ZIT.MunicipalUnion, ZIT.Partnership)
                     for s in data.subjects(RDF.type, cls)]
    assert len(organisations) == 11

    def documents(subject: Node) -> set[Node]:
        return {s for s in data.objects(subject, DCTERMS.source)
                if s not in (PRESENTATION, TERC) and (s, FOAF.page, None) in data}

    for organisation in organisations:
        assert documents(organisation), f"{slug(organisation)}: full name and legal form need a public document"
        assert (organisation, ZIT.printedAs, None) not in data  # printed names sit on the memberships
        site = one(data, organisation, ORG.hasPrimarySite)
        assert documents(site), f"{slug(site)}: the seat needs a document that gives it"
        assert (site, DCTERMS.source, TERC) not in data, f"{slug(site)}: TERC gives codes, not seats"
    for cls in (ZIT.Municipality, ZIT.Voivodeship):
        for unit in data.subjects(RDF.type, cls):
            assert (unit, DCTERMS.source, TERC) in data, slug(unit)
    for source in data.subjects(RDF.type, DCTERMS.BibliographicResource):
        languages = {d.language for d in data.objects(source, DCTERMS.description)}
        assert {"pl", "en"} <= languages, f"{slug(source)}: say what the source supports"


def test_gmina_wroclaw_is_one_municipality_leading_its_partnership(data: Graph) -> None:
    wroclaw = ID["gmina/0264011"]
    assert not any((wroclaw, RDF.type, cls) in data
                   for cls in (ZIT.ZITAssociation, ZIT.RegisteredAssociation, ZIT.MunicipalUnion, ZIT.Partnership))
    partnership = ID["org/zit-wrof"]
    assert (partnership, RDF.type, ZIT.Partnership) in data
    assert one(data, partnership, ZIT.leaderMunicipality) == wroclaw
    assert one(data, one(data, partnership, ORG.hasPrimarySite), ZIT.municipality) == wroclaw
    member_of_mof4us = {one(data, m, ORG.member) for m in data.subjects(ORG.organization, ID["network/mof4us"])}
    assert partnership in member_of_mof4us
    # Every partnership is led by a municipality, never by itself or by another organisation.
    for leader in data.objects(None, ZIT.leaderMunicipality):
        assert (leader, RDF.type, ZIT.Municipality) in data
    assert (ID["org/gmina-wroclaw"], None, None) not in data  # no second IRI for the municipality
