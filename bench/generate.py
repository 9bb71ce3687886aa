"""A deterministic synthetic ZIT-shaped graph at about 100k, 1M or 5M triples (a benchmark script, not a test).

The graph is the bundled data (ontology, vocabularies, themes, programme facts, examples; the published
part, as the service loads it) plus one named graph ``https://w3id.org/sieci-zit/graph/synthetic`` that
grows in *clusters*. A cluster is one cooperation network with 2-6 ZIT associations, exactly one leader
and the others partners, and everything around them, shaped by docs/model.md and shapes/:

  - per association: the organisation (registered association, municipal union or partnership), its seat
    (org:Site), its functional urban area (MOF) with a point geometry and 3-5 municipalities (gminas), its
    network membership, ~4 good practices, ~6 pilots (each with a budget and two indicator values whose
    unit is the indicator's own), one expert (e-mail only with consent), two expert supports and two
    network activities (study visits, workshops, trainings, consultations);
  - per cluster: the network (a top theme, the programme, a budget, 2025-2027) and one transfer of a
    practice from the leader to a partner.

Deliberate gaps, so that the gap questions find something at every size: the clusters of the i-th
voivodeship never touch the (i mod 5)-th top theme, and about one partner in seven originates no practice
in its network's theme.

Every label and description comes in Polish and English. Identifiers live under a clearly synthetic IRI
space, ``https://w3id.org/sieci-zit/id/synthetic/{kind}/{slug}``, with one source resource saying so.
Municipality codes have the form of TERC codes (seven digits, the first two the voivodeship's code, the
last a unit type 1-5, 8 or 9) but their county part is 90-99, which the TERC register does not use, so
no code is a real one; the voivodeships are the 16 of the bundled programme data, not new ones.

Each cluster draws from its own random generator seeded by (seed, cluster number), so a smaller graph is
a prefix of a larger one and a re-run writes the same bytes. Output (git-ignored):

    bench/data/zit-{size}.nq     N-Quads: the bundled published graphs + the synthetic graph
    bench/data/zit-{size}.json   manifest: triples, entities per class, seed, checksum, conformance sample

    python bench/generate.py --size 100k --check     # write (if missing) and validate a sample
    python bench/generate.py --size 1m --size 5m     # sizes: bundled, 100k, 1m, 5m or a number of triples

``--check`` validates a sample of every class with ``zitkg.validation.validate`` (up to four nodes of each
class from three clusters: the first, the eighth and the last, with the bundled data as context) and
records the result in the manifest; ``--check-queries`` also runs every library query on the graph in
memory (30 s limit each) and records its rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zitkg.bundle import bundled_graphs, read_turtle
from zitkg.privacy import split_private

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261126
SIZES = {"bundled": 0, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}

BASE = "https://w3id.org/sieci-zit/"
ID = BASE + "id/"
SYN = ID + "synthetic/"
GRAPH = BASE + "graph/synthetic"
ZIT = BASE + "ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
GEO = "http://www.opengis.net/ont/geosparql#"
XSD = "http://www.w3.org/2001/XMLSchema#"

SOURCE = SYN + "source/generator"
PROGRAMME = ID + "programme/sieciowanie-zit"
UNIT_TYPES = "1234589"  # TERC unit types allowed by zitsh:Municipality-tercCode
PERSPECTIVES = [ID + "perspective/2014-2020", ID + "perspective/2021-2027"]
STATUSES = [ID + f"practice-status/{s}" for s in ("proposed", "piloted", "evaluated", "transferred")]
PRINCIPLES = [ID + f"horizontal-principle/{s}" for s in
              ("fundamental-rights", "gender-equality", "non-discrimination-accessibility", "sustainable-development")]
EFFECTS = [ID + f"effect/{s}" for s in ("expert-support", "cooperation", "mapping", "good-practice-base",
                                        "exchange-of-experience", "pilots", "competence-development")]
ACTIVITY_TYPES = [("StudyVisit", "Wizyta studyjna", "Study visit"), ("Workshop", "Warsztaty", "Workshop"),
                  ("Training", "Szkolenie", "Training"), ("Consultation", "Konsultacje", "Consultation")]
ORG_TYPES = [("RegisteredAssociation", "Stowarzyszenie", "Association"),
             ("MunicipalUnion", "Związek Gmin i Powiatów", "Union of Municipalities and Counties"),
             ("Partnership", "Porozumienie ZIT", "ITI Partnership")]

# Topics per narrower theme: (Polish, English). Energy topics say "energetyczna" so that the search query's
# default text finds a realistic share of the graph.
TOPICS: dict[str, list[tuple[str, str]]] = {
    "partnership-governance": [("Rada partnerstwa gmin", "Municipal partnership council"),
                               ("Wspólne biuro ZIT", "Shared ITI office")],
    "accessibility": [("Audyt dostępności przestrzeni", "Accessibility audit of public space"),
                      ("Dostępne przystanki i urzędy", "Accessible stops and offices")],
    "equal-opportunities": [("Program równych szans", "Equal opportunities programme"),
                            ("Budżet wrażliwy na płeć", "Gender-sensitive budgeting")],
    "strategic-planning": [("Strategia ponadlokalna", "Supra-local strategy"),
                           ("Wspólna diagnoza obszaru", "Shared diagnosis of the area")],
    "public-transport": [("Zintegrowany bilet", "Integrated ticket"), ("Węzeł przesiadkowy", "Interchange hub")],
    "cycling": [("Sieć tras rowerowych", "Cycle route network"), ("Rower miejski MOF", "FUA bike sharing")],
    "park-and-ride": [("Parkingi Parkuj i Jedź", "Park and ride car parks"),
                      ("Parkingi rowerowe przy stacjach", "Bike parking at stations")],
    "mobility-planning": [("Plan zrównoważonej mobilności", "Sustainable mobility plan"),
                          ("Badanie ruchu", "Traffic survey")],
    "building-retrofit": [("Termomodernizacja szkół – poprawa efektywności energetycznej",
                           "Thermal retrofit of schools – energy efficiency"),
                          ("Głęboka modernizacja energetyczna budynków", "Deep energy retrofit of buildings")],
    "renewable-energy": [("Wspólnota energetyczna gmin", "Municipal energy community"),
                         ("Fotowoltaika na budynkach publicznych", "Photovoltaics on public buildings")],
    "energy-management": [("Polityka energetyczna – wspólny zakup energii", "Energy policy – joint energy purchase"),
                          ("System zarządzania energią", "Energy management system")],
    "street-lighting": [("Modernizacja oświetlenia ulicznego", "Street lighting upgrade"),
                        ("Inteligentne oświetlenie", "Smart lighting")],
    "climate-adaptation": [("Plan adaptacji do zmian klimatu", "Climate adaptation plan"),
                           ("Mapa zagrożeń klimatycznych", "Climate hazard map")],
    "air-quality": [("Sieć czujników jakości powietrza", "Air quality sensor network"),
                    ("Wymiana źródeł ciepła", "Replacement of heat sources")],
    "green-blue-infrastructure": [("Błękitno-zielona infrastruktura", "Blue-green infrastructure"),
                                  ("Parki kieszonkowe", "Pocket parks")],
    "rainwater-retention": [("Retencja wód opadowych", "Rainwater retention"),
                            ("Ogrody deszczowe", "Rain gardens")],
    "senior-care": [("Dzienny dom seniora", "Senior day centre"), ("Teleopieka", "Telecare")],
    "deinstitutionalisation": [("Mieszkania wspomagane", "Supported housing"),
                               ("Usługi w społeczności lokalnej", "Community-based services")],
    "community-services": [("Centrum usług społecznych", "Social services centre"),
                           ("Wolontariat sąsiedzki", "Neighbourhood volunteering")],
    "social-inclusion": [("Klub integracji społecznej", "Social integration club"),
                         ("Aktywizacja zawodowa", "Vocational activation")],
}
SYLLABLES_A = ["Bor", "Wil", "Kor", "Lesz", "Myś", "Dąb", "Sos", "Now", "Star", "Gór", "Rzecz", "Łęk",
               "Brzez", "Ol", "Jaw", "Kęp", "Żab", "Grab", "Mił", "Świer"]
SYLLABLES_B = ["owo", "ice", "in", "ów", "ewo", " na", "ki", "ec", "isko", "iny", "ąb", "yń"]
FIRST = ["Anna", "Piotr", "Maria", "Tomasz", "Katarzyna", "Marek", "Ewa", "Adam", "Zofia", "Jan", "Ola", "Paweł"]
LAST = ["Syntetyczna", "Syntetyczny", "Testowa", "Testowy", "Generowana", "Generowany"]


def esc(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return text


def pl(text: str) -> str:
    return f'"{esc(text)}"@pl'


def en(text: str) -> str:
    return f'"{esc(text)}"@en'


def lit(text: str) -> str:
    return f'"{esc(text)}"'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


def iri(value: str) -> str:
    return f"<{value}>"


class Vocab:
    """What the generator takes from the bundled vocabularies, so that it follows them."""

    def __init__(self) -> None:
        store = ox.Store()
        for graph in bundled_graphs():
            store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph.iri))
                              for f in graph.files for t in read_turtle(f))
        rows = store.query(f"""SELECT ?t ?top WHERE {{ ?t <{SKOS}broader> ?top .
            ?top <{SKOS}topConceptOf> <{ID}scheme/themes> }} ORDER BY ?t""", use_default_graph_as_union=True)
        self.narrower: dict[str, list[str]] = {}
        for t, top in rows:
            self.narrower.setdefault(top.value, []).append(t.value)
        self.tops = sorted(self.narrower)
        self.all_themes = sorted(t for ts in self.narrower.values() for t in ts)
        rows = store.query(f"""SELECT ?i ?u WHERE {{ ?i a <{ZIT}Indicator> ; <{SCHEMA}unitCode> ?u }} ORDER BY ?i""",
                           use_default_graph_as_union=True)
        self.indicators = [(i.value, u.value) for i, u in rows]
        rows = store.query(f"""SELECT ?v ?c ?l WHERE {{ ?v a <{ZIT}Voivodeship> ; <{ZIT}tercCode> ?c ;
            <{RDFS}label> ?l FILTER(lang(?l) = "pl") }} ORDER BY ?c""", use_default_graph_as_union=True)
        self.voivodeships = [(v.value, c.value, lbl.value) for v, c, lbl in rows]
        missing = [t.rsplit("/", 1)[1] for t in self.all_themes if t.rsplit("/", 1)[1] not in TOPICS]
        if missing or len(self.voivodeships) != 16 or not self.indicators:
            raise SystemExit(f"the bundled vocabularies changed; update bench/generate.py ({missing})")


class Writer:
    """Collects the quads of one cluster as N-Quads lines, counting entities per class."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.classes: Counter[str] = Counter()
        self.nodes: dict[str, list[str]] = {}

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"<{s}> <{p}> {o} <{GRAPH}> .\n")

    def thing(self, s: str, cls: str, label_pl: str, label_en: str, *more: tuple[str, str]) -> None:
        self.add(s, RDF_TYPE, iri(cls))
        self.add(s, RDFS + "label", pl(label_pl))
        self.add(s, RDFS + "label", en(label_en))
        for p, o in more:
            self.add(s, p, o)
        self.add(s, DCT + "source", iri(SOURCE))
        name = cls.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        self.classes[name] += 1
        self.nodes.setdefault(name, []).append(s)


def date(rng: random.Random, year_from: int, year_to: int) -> tuple[int, int, int]:
    return rng.randint(year_from, year_to), rng.randint(1, 12), rng.randint(1, 28)


def dstr(d: tuple[int, int, int]) -> str:
    return f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}"


def place_name(rng: random.Random) -> str:
    return rng.choice(SYLLABLES_A) + rng.choice(SYLLABLES_B) + "-" + rng.choice(SYLLABLES_A) + rng.choice(SYLLABLES_B)


def cluster(c: int, seed: int, vocab: Vocab, gmina_counters: Counter[str]) -> Writer:
    """One network with its members and everything around them."""
    rng = random.Random(f"{seed}:{c}")
    w = Writer()
    voiv, voiv_code, voiv_label = vocab.voivodeships[c % len(vocab.voivodeships)]
    # Deliberate gaps: no cluster of a voivodeship works in one of the five top themes (the i-th voivodeship
    # leaves out the (i mod 5)-th), so that the gap queries have something to find at every size.
    excluded = vocab.tops[(c % len(vocab.voivodeships)) % len(vocab.tops)]
    allowed = [t for top_ in vocab.tops if top_ != excluded for t in vocab.narrower[top_]]
    top = rng.choice([t for t in vocab.tops if t != excluded])
    top_slug = top.rsplit("/", 1)[1]
    net = f"{SYN}network/n{c}"
    net_name = place_name(rng)
    net_amount = f"{SYN}amount/network-n{c}"
    size = rng.randint(2, 6)
    w.thing(net, ZIT + "CooperationNetwork", f"Sieć syntetyczna {net_name} ({top_slug})",
            f"Synthetic network {net_name} ({top_slug})",
            (SKOS + "altLabel", pl(f"SYN-{c}")),
            (DCT + "description", pl(f"Syntetyczna sieć współpracy nr {c} w województwie: {voiv_label}.")),
            (DCT + "description", en(f"Synthetic cooperation network no. {c}, voivodeship code {voiv_code}.")),
            (ZIT + "theme", iri(top)), (ZIT + "inProgramme", iri(PROGRAMME)), (ZIT + "budget", iri(net_amount)),
            (SCHEMA + "startDate", typed("2025", XSD + "gYear")), (SCHEMA + "endDate", typed("2027", XSD + "gYear")))
    w.thing(net_amount, SCHEMA + "MonetaryAmount", f"Budżet sieci syntetycznej {net_name}",
            f"Budget of the synthetic network {net_name}",
            (SCHEMA + "value", typed(f"{rng.randint(200, 2000) * 1000}.00", XSD + "decimal")),
            (SCHEMA + "currency", lit("PLN")))

    orgs, mofs, experts, practices, pilots, gminas = [], [], [], [], [], []
    for k in range(size):
        slug = f"c{c}-{k}"
        name = place_name(rng)
        org = f"{SYN}org/{slug}"
        site = f"{SYN}site/{slug}"
        mof = f"{SYN}mof/{slug}"
        geom = f"{SYN}geometry/{slug}"
        kind, kind_pl, kind_en = rng.choice(ORG_TYPES)
        own_gminas = []
        for g in range(rng.randint(3, 5)):
            n = gmina_counters[voiv_code]
            gmina_counters[voiv_code] += 1
            if n >= 10 * 99 * len(UNIT_TYPES):
                raise SystemExit(f"no synthetic municipality codes left in voivodeship {voiv_code}")
            code = f"{voiv_code}{90 + n // (99 * len(UNIT_TYPES)):02d}{1 + (n // len(UNIT_TYPES)) % 99:02d}" \
                   f"{UNIT_TYPES[n % len(UNIT_TYPES)]}"
            gmina = f"{SYN}gmina/{code}"
            gname = name.split("-")[0] if g == 0 else place_name(rng).split("-")[1]
            w.thing(gmina, ZIT + "Municipality", f"Gmina syntetyczna {gname} ({code})",
                    f"Synthetic municipality {gname} ({code})",
                    (ZIT + "tercCode", lit(code)), (ZIT + "inVoivodeship", iri(voiv)))
            own_gminas.append(gmina)
        gminas += own_gminas
        more: list[tuple[str, str]] = [
            (SKOS + "altLabel", pl(f"SYN-{slug}")),
            (DCT + "description", pl(f"Syntetyczny Związek ZIT obszaru {name}; rekord do testów wydajności.")),
            (DCT + "description", en(f"Synthetic ITI association of the {name} area; a benchmark record.")),
            (ORG + "hasPrimarySite", iri(site)), (ZIT + "inVoivodeship", iri(voiv)),
            (ZIT + "activeSincePerspective", iri(rng.choice(PERSPECTIVES))), (ZIT + "coordinatesArea", iri(mof)),
        ]
        if kind == "Partnership":
            more.append((ZIT + "leaderMunicipality", iri(own_gminas[0])))
        w.thing(org, ZIT + kind, f"{kind_pl} Obszaru Funkcjonalnego {name}", f"{name} Functional Area {kind_en}",
                *more)
        w.thing(site, ORG + "Site", f"Siedziba: {name}", f"Seat: {name}",
                (ZIT + "municipality", iri(own_gminas[0])),
                (ZIT + "readingStatus", iri(ID + "reading-status/certain")))
        w.thing(mof, ZIT + "FunctionalUrbanArea", f"MOF {name}", f"{name} Functional Urban Area",
                (DCT + "description", pl(f"Syntetyczny miejski obszar funkcjonalny {name}.")),
                (DCT + "description", en(f"Synthetic functional urban area {name}.")),
                (ZIT + "inVoivodeship", iri(voiv)), (ZIT + "coreMunicipality", iri(own_gminas[0])),
                *[(ZIT + "includesMunicipality", iri(g)) for g in own_gminas],
                (GEO + "hasGeometry", iri(geom)))
        w.thing(geom, GEO + "Geometry", f"Punkt centralny: MOF {name}", f"Centre point: {name} FUA",
                (GEO + "asWKT", typed(f"POINT({rng.uniform(14.2, 23.9):.2f} {rng.uniform(49.1, 54.7):.2f})",
                                      GEO + "wktLiteral")))
        role = "leader" if k == 0 else "partner"
        w.thing(f"{SYN}membership/n{c}-{k}", ZIT + "NetworkMembership",
                f"{name} – {'lider' if k == 0 else 'partner'} sieci {net_name}",
                f"{name} – {role} of the network {net_name}",
                (ORG + "member", iri(org)), (ORG + "organization", iri(net)), (ORG + "role", iri(ID + f"role/{role}")),
                (SCHEMA + "startDate", typed("2025", XSD + "gYear")), (SCHEMA + "endDate", typed("2027", XSD + "gYear")))
        expert = f"{SYN}expert/{slug}"
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)} {c}-{k}"
        competences = rng.sample(vocab.narrower[top], 2) if rng.random() < 0.7 else rng.sample(allowed, 2)
        contact: list[tuple[str, str]] = []
        if rng.random() < 0.5:
            contact = [(SCHEMA + "email", lit(f"expert-{slug}@example.org")),
                       (ZIT + "consentedField", iri(SCHEMA + "email"))]
        affiliation = iri(org) if rng.random() < 0.3 else lit(f"Syntetyczne Biuro Doradcze {name} (fikcyjne)")
        w.thing(expert, ZIT + "Expert", person, person, (FOAF + "name", lit(person)),
                (DCT + "description", pl("Fikcyjna osoba z syntetycznego zbioru testowego.")),
                (DCT + "description", en("A fictitious person of the synthetic benchmark data.")),
                *[(ZIT + "competence", iri(t)) for t in competences],
                (SCHEMA + "affiliation", affiliation), *contact)
        orgs.append((org, name))
        mofs.append((mof, name))
        experts.append(expert)
        # Some partners originate nothing in their network's theme (a gap for gaps-members to find).
        off_theme = [t for t in allowed if t not in vocab.narrower[top]]
        off = k > 0 and rng.random() < 0.15
        for j in range(rng.randint(2, 6)):
            if off:
                theme = rng.choice(off_theme)
            else:
                theme = rng.choice(vocab.narrower[top]) if rng.random() < 0.75 else rng.choice(allowed)
            topic_pl, topic_en = rng.choice(TOPICS[theme.rsplit("/", 1)[1]])
            practice = f"{SYN}practice/{slug}-{j}"
            themes = [theme] + ([rng.choice(off_theme if off else allowed)] if rng.random() < 0.2 else [])
            extra = [(ZIT + "horizontalPrinciple", iri(rng.choice(PRINCIPLES)))] if rng.random() < 0.5 else []
            w.thing(practice, ZIT + "GoodPractice", f"{topic_pl} – {name} {j}", f"{topic_en} – {name} {j}",
                    (DCT + "description", pl(f"Syntetyczna dobra praktyka: {topic_pl.lower()} w obszarze {name}.")),
                    (DCT + "description", en(f"Synthetic good practice: {topic_en.lower()} in the {name} area.")),
                    *[(ZIT + "theme", iri(t)) for t in dict.fromkeys(themes)],
                    (ZIT + "lifecycleStatus", iri(rng.choice(STATUSES))), (ZIT + "originator", iri(org)),
                    (ZIT + "inNetwork", iri(net)), *extra,
                    (DCT + "created", typed(dstr(date(rng, 2025, 2026)), XSD + "date")))
            practices.append((practice, f"{topic_pl} – {name} {j}", f"{topic_en} – {name} {j}", org))

    for k, (org, name) in enumerate(orgs):
        slug = f"c{c}-{k}"
        for j in range(rng.randint(4, 8)):
            practice, p_pl, p_en, _origin = rng.choice(practices)
            mof, mof_name = mofs[k] if rng.random() < 0.8 else rng.choice(mofs)
            pilot = f"{SYN}pilot/{slug}-{j}"
            amount = f"{SYN}amount/pilot-{slug}-{j}"
            start = date(rng, 2025, 2026)
            end = (start[0] + 1, start[1], start[2])
            results = [f"{SYN}result/{slug}-{j}-{n}" for n in (1, 2)]
            w.thing(pilot, ZIT + "Pilot", f"Pilotaż: {p_pl} – MOF {mof_name}", f"Pilot: {p_en} – {mof_name} FUA",
                    (DCT + "description", pl(f"Syntetyczny pilotaż praktyki „{p_pl}”.")),
                    (DCT + "description", en(f"Synthetic pilot of the practice “{p_en}”.")),
                    (ZIT + "pilotOf", iri(practice)), (ZIT + "pilotLocation", iri(mof)),
                    (ZIT + "implementedBy", iri(org)), (ZIT + "inNetwork", iri(net)),
                    (SCHEMA + "startDate", typed(dstr(start), XSD + "date")),
                    (SCHEMA + "endDate", typed(dstr(end), XSD + "date")), (ZIT + "budget", iri(amount)),
                    *[(ZIT + "result", iri(r)) for r in results])
            w.thing(amount, SCHEMA + "MonetaryAmount", f"Budżet pilotażu {slug}-{j}", f"Pilot budget {slug}-{j}",
                    (SCHEMA + "value", typed(f"{rng.randint(20, 400) * 1000}.00", XSD + "decimal")),
                    (SCHEMA + "currency", lit("PLN")))
            for r in results:
                indicator, unit = rng.choice(vocab.indicators)
                ind = indicator.rsplit("/", 1)[1]
                w.thing(r, ZIT + "IndicatorValue", f"Wynik pilotażu {slug}-{j}: {ind}",
                        f"Result of pilot {slug}-{j}: {ind}",
                        (ZIT + "indicator", iri(indicator)),
                        (SCHEMA + "value", typed(str(rng.randint(1, 5000)), XSD + "decimal")),
                        (SCHEMA + "unitCode", lit(unit)), (DCT + "date", typed(dstr(end), XSD + "date")))
            pilots.append(pilot)
        for j in range(2):
            support = f"{SYN}support/{slug}-{j}"
            target = rng.choice([org, net, rng.choice(pilots)])
            w.thing(support, ZIT + "ExpertSupport", f"Wsparcie eksperckie {slug}-{j} dla {name}",
                    f"Expert support {slug}-{j} for {name}",
                    (DCT + "description", pl("Syntetyczne wsparcie eksperckie.")),
                    (DCT + "description", en("Synthetic expert support.")),
                    (ZIT + "supportBy", iri(rng.choice(experts))), (ZIT + "supportFor", iri(target)),
                    (ZIT + "theme", iri(rng.choice(vocab.narrower[top]))),
                    (SCHEMA + "startDate", typed(dstr(date(rng, 2025, 2026)), XSD + "date")),
                    (ZIT + "inNetwork", iri(net)))
        for j in range(2):
            cls, kind_pl, kind_en = rng.choice(ACTIVITY_TYPES)
            start = date(rng, 2025, 2026)
            participants = rng.sample([o for o, _ in orgs], min(len(orgs), rng.randint(2, 4)))
            where = rng.choice(gminas) if rng.random() < 0.5 else rng.choice(mofs)[0]
            w.thing(f"{SYN}activity/{slug}-{j}", ZIT + cls, f"{kind_pl}: sieć {net_name}, {name} {j}",
                    f"{kind_en}: network {net_name}, {name} {j}",
                    (DCT + "description", pl(f"{kind_pl} członków syntetycznej sieci {net_name}.")),
                    (DCT + "description", en(f"{kind_en} of the members of the synthetic network {net_name}.")),
                    (ZIT + "inNetwork", iri(net)), *[(ZIT + "participant", iri(p)) for p in participants],
                    (ZIT + "participant", iri(rng.choice(experts))), (ZIT + "activityLocation", iri(where)),
                    (ZIT + "theme", iri(rng.choice(vocab.narrower[top]))),
                    (ZIT + "contributesTo", iri(rng.choice(EFFECTS))),
                    (SCHEMA + "startDate", typed(dstr(start), XSD + "date")),
                    (SCHEMA + "endDate", typed(dstr(start), XSD + "date")),
                    (ZIT + "participantCount", typed(str(rng.randint(5, 80)), XSD + "nonNegativeInteger")))
    leader_practices = [p for p in practices if p[3] == orgs[0][0]]
    if leader_practices:
        practice, p_pl, p_en, origin = leader_practices[0]
        w.thing(f"{SYN}transfer/n{c}", ZIT + "Transfer", f"Transfer praktyki „{p_pl}”", f"Transfer of “{p_en}”",
                (DCT + "description", pl("Syntetyczny transfer praktyki od lidera do partnera.")),
                (DCT + "description", en("Synthetic transfer of a practice from the leader to a partner.")),
                (ZIT + "transferredPractice", iri(practice)), (ZIT + "fromOrganization", iri(origin)),
                (ZIT + "toOrganization", iri(orgs[1][0])),
                (SCHEMA + "startDate", typed(dstr(date(rng, 2025, 2026)), XSD + "date")))
    return w


def source_lines() -> list[str]:
    w = Writer()
    w.add(SOURCE, RDF_TYPE, iri(DCT + "BibliographicResource"))
    w.add(SOURCE, RDFS + "label", pl("Dane syntetyczne do testów wydajności (bench/generate.py) – nie są faktami"))
    w.add(SOURCE, RDFS + "label", en("Synthetic benchmark data (bench/generate.py) – not facts"))
    return w.lines


def bundled_quads() -> list[str]:
    """The published part of the bundled graphs, as the service loads them (zitkg.bundle.load_bundled)."""
    lines = []
    for graph in bundled_graphs():
        public, _private = split_private(t for f in graph.files for t in read_turtle(f))
        lines += [f"{ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph.iri))} .\n" for t in public]
    return lines


def clusters(target: int, already: int, seed: int, vocab: Vocab) -> Iterator[tuple[int, Writer]]:
    counters: Counter[str] = Counter()
    total, c = already, 0
    while total < target:
        w = cluster(c, seed, vocab, counters)
        total += len(w.lines)
        yield c, w
        c += 1


def generator_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def paths(label: str) -> tuple[Path, Path]:
    return DATA / f"zit-{label}.nq", DATA / f"zit-{label}.json"


def target_of(label: str) -> int:
    if label in SIZES:
        return SIZES[label]
    return int(label.replace("_", ""))


def generate(label: str, seed: int = SEED, check: bool = False, force: bool = False,
             check_queries: bool = False) -> dict[str, Any]:
    """Write bench/data/zit-{label}.nq (unless an identical one is there) and return its manifest."""
    nq, manifest_path = paths(label)
    if not force and nq.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if (manifest.get("generator") == generator_digest() and manifest.get("seed") == seed
                and nq.stat().st_size == manifest.get("bytes") and (not check or "check" in manifest)
                and (not check_queries or "queries" in manifest.get("check", {}))):
            return manifest
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    vocab = Vocab()
    bundled = bundled_quads()
    base = bundled + (source_lines() if target_of(label) else [])
    classes: Counter[str] = Counter()
    sample: dict[int, Writer] = {}
    last: tuple[int, Writer] | None = None
    digest = hashlib.sha256()
    count = 0
    tmp = nq.with_suffix(".nq.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        text = "".join(base)
        out.write(text)
        digest.update(text.encode())
        count += len(base)
        for c, w in clusters(target_of(label), len(base), seed, vocab):
            text = "".join(w.lines)
            out.write(text)
            digest.update(text.encode())
            count += len(w.lines)
            classes.update(w.classes)
            if c in (0, 7):
                sample[c] = w
            last = (c, w)
    tmp.replace(nq)
    if last is not None:
        sample[last[0]] = last[1]
    manifest: dict[str, Any] = {
        "label": label,
        "target": target_of(label),
        "triples": count,
        "bundled_triples": len(bundled),
        "synthetic_triples": count - len(bundled),
        "clusters": (last[0] + 1) if last else 0,
        "entities": dict(sorted(classes.items())),
        "seed": seed,
        "generator": generator_digest(),
        "sha256": digest.hexdigest(),
        "bytes": nq.stat().st_size,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if check or check_queries:
        manifest["check"] = conformance(sample) if sample else {"conforms": True, "note": "bundled data only"}
    if check_queries:
        manifest["check"]["queries"] = query_rows(nq)
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def conformance(sample: dict[int, Writer], per_class: int = 4) -> dict[str, Any]:
    """Validate up to ``per_class`` nodes of every class from each sampled cluster against the shapes."""
    from rdflib import Dataset, Graph, URIRef

    from zitkg import validation

    started = time.perf_counter()
    data = Graph()
    dataset = Dataset()
    dataset.parse(data="".join(line for w in sample.values() for line in w.lines) + "".join(source_lines()),
                  format="nquads")
    for triple in dataset.triples((None, None, None)):
        data.add(triple)
    focus: list[URIRef] = []
    per: Counter[str] = Counter()
    for w in sample.values():
        for name, nodes in w.nodes.items():
            picked = nodes[:: max(1, len(nodes) // per_class)][:per_class]
            focus += [URIRef(n) for n in picked]
            per[name] += len(picked)
    report = validation.validate(data, context=validation.bundled_data_graph(), focus_nodes=focus)
    violations = [r.to_dict() for r in report.violations]
    return {
        "conforms": report.conforms,
        "focus_nodes": len(focus),
        "per_class": dict(sorted(per.items())),
        "clusters": sorted(sample),
        "violations": violations[:20],
        "warnings": sum(r.severity == "Warning" for r in report.results),
        "seconds": round(time.perf_counter() - started, 2),
    }


def library_requests(ask) -> list[tuple[str, str, dict[str, Any], str]]:  # noqa: ANN001
    """(id, form, substitutions, VALUES-bound text) of every library query, with its default parameters."""
    from zitkg import resources
    from zitkg.queries import Registry, bind
    from zitkg.remote import with_values

    out = []
    for definition in Registry(resources.queries_dir()):
        bound = bind(definition, {}, ask, "pl")
        out.append((definition.id, definition.form, bound, with_values(definition.sparql, bound)))
    return out


def query_rows(nq: Path, timeout_s: float = 30.0) -> dict[str, int | None]:
    """Rows of every library query on the graph in memory (None: did not finish within the limit)."""
    from common import Limits, forked_series

    store = ox.Store()
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)

    def ask(q: str) -> bool:
        return bool(store.query(q, use_default_graph_as_union=True))

    def counter(text: str):  # noqa: ANN202
        return lambda: (lambda: sum(1 for _ in store.query(text, use_default_graph_as_union=True)))

    limits = Limits(timeout_s=timeout_s, budget_s=0, min_runs=0, max_runs=0, warmup=1)
    rows: dict[str, int | None] = {}
    for qid, _form, _bound, text in library_requests(ask):
        series = forked_series(counter(text), limits)
        rows[qid] = None if series.dnf else series.rows
        print(f"  {qid}: {'did not finish in %g s' % timeout_s if series.dnf else series.rows}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", action="append", default=None,
                        help="bundled, 100k, 1m, 5m or a number of triples (repeatable; default: 100k 1m 5m)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="validate a sample of every class against the shapes")
    parser.add_argument("--check-queries", action="store_true",
                        help="also run every library query in memory (30 s limit each) and record its rows")
    parser.add_argument("--force", action="store_true", help="write even if an identical file is there")
    args = parser.parse_args()
    for label in args.size or ["100k", "1m", "5m"]:
        manifest = generate(label, args.seed, check=args.check, force=args.force, check_queries=args.check_queries)
        check = manifest.get("check", {})
        print(f"{label}: {manifest['triples']:,} triples, {manifest['clusters']} clusters, "
              f"{manifest['bytes'] / 1e6:.0f} MB, {manifest['seconds']} s"
              + (f"; sample conforms: {check['conforms']} ({check.get('focus_nodes', 0)} nodes)" if check else ""))
        if check and not check["conforms"]:
            for v in check["violations"]:
                print("  ", v["focusNode"], v["path"], v["message"]["en"])
            return 1
        if check.get("queries"):
            empty = [q for q, n in check["queries"].items() if n == 0]
            slow = [q for q, n in check["queries"].items() if n is None]
            print(f"  library queries with rows: {len(check['queries']) - len(empty) - len(slow)}"
                  f"/{len(check['queries'])}" + (f"; empty: {empty}" if empty else "")
                  + (f"; did not finish: {slow}" if slow else ""))
            if empty:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
