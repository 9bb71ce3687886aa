"""What the mapping workbench shows, as plain data: the faceted index, map layers, coverage cells,
network dashboards and the graph around a resource. Knows nothing of Flask (web/ui.py renders it).

Everything is read through the query service, so only published graphs are seen and the guards apply.
The faceted index is small (one entry per labelled resource under ``{base}id/``), built with a few
queries and kept until the store changes.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from zitkg import tabular

ZIT = "https://w3id.org/sieci-zit/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
THEMES_SCHEME = "id/scheme/themes"
PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX zit: <https://w3id.org/sieci-zit/ontology#>
"""

# The facets of the search page, in display order.
FACETS = ("type", "theme", "network", "organisation", "mof", "voivodeship", "year")

# Classes by how specific they are for colouring and naming a resource (first match wins).
CLASS_ORDER = (
    "GoodPractice", "Pilot", "CooperationNetwork", "RegisteredAssociation", "MunicipalUnion", "Partnership",
    "ZITAssociation", "Expert", "ExpertSupport", "StudyVisit", "Workshop", "Training", "Consultation",
    "NetworkActivity", "Transfer", "FunctionalUrbanArea", "Municipality", "Voivodeship", "NetworkMembership",
    "IndicatorValue", "Indicator", "Programme", "BudgetLine", "Milestone", "ProjectPhase",
)
# Colour per class group (graph view and map), chosen for contrast on white and between groups.
CLASS_COLOURS = {
    "GoodPractice": "#1b7837", "Pilot": "#b35806", "CooperationNetwork": "#6a3d9a",
    "RegisteredAssociation": "#0b4f8a", "MunicipalUnion": "#0b4f8a", "Partnership": "#0b4f8a",
    "ZITAssociation": "#0b4f8a", "Expert": "#c51b7d", "ExpertSupport": "#c51b7d",
    "StudyVisit": "#8c510a", "Workshop": "#8c510a", "Training": "#8c510a", "Consultation": "#8c510a",
    "NetworkActivity": "#8c510a", "Transfer": "#01665e", "FunctionalUrbanArea": "#4d4d4d",
    "Municipality": "#4d4d4d", "Voivodeship": "#4d4d4d", "Concept": "#2166ac",
}
OTHER_COLOUR = "#737373"
# Colours of the network links on the map, one per network (by the order of their IRIs).
NETWORK_COLOURS = ("#6a3d9a", "#1b7837", "#c51b7d", "#01665e", "#8c510a", "#2166ac")


# --- text folding -------------------------------------------------------------------------------------

@lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Lower case without diacritics ("Efektywność" and "EFEKTYWNOSC" fold to the same text)."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sort_key(label: str) -> str:
    """Alphabetical order that ignores case, diacritics and opening quotes („Co4Energy” sorts under C)."""
    return fold(label).lstrip("„“”\"'«» ")


# --- running queries ------------------------------------------------------------------------------------

def select(service: Any, sparql: str, substitutions: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """All solutions of a SELECT as dicts of terms, paging past the service's row cap if needed."""
    page = service.settings.max_rows
    offset = 0
    rows: list[dict[str, Any]] = []
    bound = {k: v for k, v in (substitutions or {}).items()}
    while True:
        text = sparql if offset == 0 else f"{sparql}\nOFFSET {offset}"
        answer = service.query(text, result_format="python", substitutions=bound, trusted=True)
        rows += [dict(zip(answer.variables, row, strict=True)) for row in answer.rows]
        if not answer.truncated:
            return rows
        offset += page


def value(term: Any) -> str | None:
    return None if term is None else term.value


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


@dataclass
class Labels:
    """rdfs:label / skos:prefLabel per IRI and language, with fallbacks."""

    by_iri: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, iri: str, lang: str) -> str:
        names = self.by_iri.get(iri, {})
        return names.get(lang) or names.get("pl") or names.get("en") or names.get("") or local_name(iri)

    def has(self, iri: str) -> bool:
        return iri in self.by_iri


# --- the faceted index ---------------------------------------------------------------------------------

_LABELS = PREFIXES + """
SELECT ?x ?label WHERE { ?x rdfs:label|skos:prefLabel ?label FILTER(isIRI(?x)) } ORDER BY ?x ?label
"""
_TEXTS = PREFIXES + """
SELECT ?x ?kind ?text WHERE {
  { ?x dcterms:description ?text BIND("description" AS ?kind) }
  UNION { ?x skos:altLabel ?text BIND("alt" AS ?kind) }
  UNION { ?x zit:isExample true BIND("example" AS ?kind) BIND("" AS ?text) }
  FILTER(isIRI(?x))
} ORDER BY ?x ?kind ?text
"""
_TYPES = PREFIXES + "SELECT ?x ?type WHERE { ?x a ?type FILTER(isIRI(?x) && isIRI(?type)) } ORDER BY ?x ?type\n"
# (resource, facet, value): which theme, network, organisation, MOF, voivodeship each resource belongs to.
_FACETS = PREFIXES + """
SELECT DISTINCT ?x ?facet ?v WHERE {
  {
    BIND("theme" AS ?facet)
    { ?x zit:theme|zit:competence ?t }
    UNION { ?x zit:pilotOf/zit:theme ?t }
    UNION { ?x zit:transferredPractice/zit:theme ?t }
    UNION { ?x skos:inScheme <%(base)sid/scheme/themes> BIND(?x AS ?t) }
    UNION { ?membership org:member ?x ; org:organization/zit:theme ?t }
    UNION { ?x org:organization/zit:theme ?t }
    UNION { ?pilot zit:pilotLocation ?x ; zit:pilotOf/zit:theme ?t }
    ?t skos:broader* ?v .
  } UNION {
    BIND("network" AS ?facet)
    { ?x zit:inNetwork ?v }
    UNION { ?x zit:pilotOf/zit:inNetwork ?v }
    UNION { ?x zit:transferredPractice/zit:inNetwork ?v }
    UNION { ?membership org:member ?x ; org:organization ?v }
    UNION { ?x org:organization ?v }
    UNION { ?x a zit:CooperationNetwork BIND(?x AS ?v) }
    UNION { ?x zit:supportFor ?v }
    UNION { ?pilot zit:pilotLocation ?x ; zit:inNetwork ?v }
    UNION { ?org (zit:coordinatesArea|^zit:coordinatedBy) ?x . ?m org:member ?org ; org:organization ?v }
    ?v a zit:CooperationNetwork .
  } UNION {
    BIND("organisation" AS ?facet)
    { ?x zit:originator|zit:implementedBy|zit:participant|zit:fromOrganization|zit:toOrganization ?v }
    UNION { ?x zit:supportFor|org:member ?v }
    UNION { ?x zit:supportFor/zit:implementedBy ?v }
    UNION { ?x a ?class BIND(?x AS ?v) }
    UNION { ?membership org:organization ?x ; org:member ?v }
    UNION { ?v zit:coordinatesArea|^zit:coordinatedBy ?x }
    UNION { ?pilot zit:pilotOf ?x ; zit:implementedBy ?v }
    ?v a/rdfs:subClassOf* zit:ZITAssociation .
  } UNION {
    BIND("mof" AS ?facet)
    { ?x zit:pilotLocation|zit:activityLocation|zit:coordinatesArea|^zit:coordinatedBy ?v }
    UNION { ?x zit:supportFor/zit:pilotLocation ?v }
    UNION { ?pilot zit:pilotOf ?x ; zit:pilotLocation ?v }
    UNION { ?x a zit:FunctionalUrbanArea BIND(?x AS ?v) }
    ?v a zit:FunctionalUrbanArea .
  } UNION {
    BIND("voivodeship" AS ?facet)
    { ?x zit:inVoivodeship ?v }
    UNION { ?x (zit:pilotLocation|zit:activityLocation|zit:coordinatesArea|^zit:coordinatedBy|zit:originator)
              /zit:inVoivodeship ?v }
    UNION { ?x org:hasPrimarySite/zit:municipality/zit:inVoivodeship ?v }
    UNION { ?pilot zit:pilotOf ?x ; zit:pilotLocation/zit:inVoivodeship ?v }
    UNION { ?x a zit:Voivodeship BIND(?x AS ?v) }
    ?v a zit:Voivodeship .
  } UNION {
    BIND("date" AS ?facet)
    ?x schema:startDate|schema:endDate|dcterms:created|dcterms:date
       |time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear ?v .
  }
  FILTER(isIRI(?x))
} ORDER BY ?x ?facet ?v
"""


@dataclass
class Item:
    iri: str
    types: list[str]
    descriptions: dict[str, str]
    alt_labels: list[str]
    is_example: bool
    facets: dict[str, set[str]]
    haystack: str = ""


@dataclass
class Index:
    items: list[Item]
    labels: Labels
    base: str

    def label(self, iri: str, lang: str) -> str:
        if iri.isdigit() and len(iri) == 4:  # a year
            return iri
        return self.labels.get(iri, lang)

    def primary_class(self, item: Item) -> str:
        return primary_class(item.types)


def primary_class(types: Iterable[str]) -> str:
    names = {local_name(t) for t in types}
    return next((c for c in CLASS_ORDER if c in names), next(iter(sorted(names)), "Thing"))


def primary_type(types: Iterable[str]) -> str | None:
    """The most specific known class of a resource (an IRI), for its colour and the legend."""
    types = sorted(types)
    chosen = primary_class(types)
    return next((t for t in types if local_name(t) == chosen), None)


def _years(dates: Iterable[str]) -> set[str]:
    years = sorted({d[:4] for d in dates if re.match(r"^\d{4}", d)})
    if len(years) >= 2:  # a period covers the years between its start and end
        return {str(y) for y in range(int(years[0]), int(years[-1]) + 1)}
    return set(years)


def build_index(service: Any, base: str) -> Index:
    labels = Labels()
    for row in select(service, _LABELS):
        lit = row["label"]
        labels.by_iri.setdefault(row["x"].value, {}).setdefault(lit.language or "", lit.value)
    prefix = base + "id/"
    items: dict[str, Item] = {}
    for iri in labels.by_iri:
        if iri.startswith(prefix) and not iri.startswith(prefix + "scheme/"):
            items[iri] = Item(iri, [], {}, [], False, defaultdict(set))
    for row in select(service, _TYPES):
        item = items.get(row["x"].value)
        if item is not None:
            item.types.append(row["type"].value)
    for row in select(service, _TEXTS):
        item = items.get(row["x"].value)
        if item is None:
            continue
        if row["kind"].value == "example":
            item.is_example = True
        elif row["kind"].value == "alt":
            item.alt_labels.append(row["text"].value)
        else:
            item.descriptions.setdefault(row["text"].language or "", row["text"].value)
    dates: dict[str, list[str]] = defaultdict(list)
    for row in select(service, _FACETS % {"base": base}):
        item = items.get(row["x"].value)
        if item is None:
            continue
        facet = row["facet"].value
        if facet == "date":
            dates[item.iri].append(row["v"].value)
        else:
            item.facets[facet].add(row["v"].value)
    for item in items.values():
        item.facets["type"] = {t for t in item.types if labels.has(t)} or set(item.types)
        item.facets["year"] = _years(dates.get(item.iri, []))
        texts = [*labels.by_iri.get(item.iri, {}).values(), *item.descriptions.values(), *item.alt_labels]
        item.haystack = fold("\n".join(texts))
    ordered = sorted(items.values(), key=lambda i: fold(labels.get(i.iri, "pl")))
    return Index(ordered, labels, base)


class IndexCache:
    """The index, rebuilt when the store's version moves (or every time for stores shared by writers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._index: Index | None = None

    def get(self, service: Any, base: str) -> Index:
        store = service.store
        key = (getattr(store, "version", None), base) if getattr(store, "sole_writer", False) else None
        with self._lock:
            if key is not None and key == self._key and self._index is not None:
                return self._index
        index = build_index(service, base)
        with self._lock:
            self._key, self._index = key, index
        return index


@dataclass
class FacetValue:
    iri: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    items: list[Item]
    facets: dict[str, list[FacetValue]]
    total: int
    found: Any = None  # search.Found: the ranked hits, the parsed query, suggestions (None without text)

    def hit(self, iri: str) -> Any:
        return None if self.found is None else self._hits.get(iri)

    def __post_init__(self) -> None:
        self._hits = {h.iri: h for h in self.found.hits} if self.found is not None else {}


def _matches(item: Item, needle: str, selected: Mapping[str, Sequence[str]], skip: str | None = None) -> bool:
    if needle and needle not in item.haystack:
        return False
    return _in_facets(item, selected, skip)


def _in_facets(item: Item, selected: Mapping[str, Sequence[str]], skip: str | None = None) -> bool:
    for facet, values in selected.items():
        if facet == skip or not values:
            continue
        if not item.facets.get(facet, set()) & set(values):  # OR within a facet, AND across facets
            return False
    return True


def search(index: Index, text: str, selected: Mapping[str, Sequence[str]], lang: str,
           found: Any = None) -> SearchResult:
    """Items matching the text and every chosen facet; facet counts as Datasette shows them
    (each facet counted over the items that match the text and the *other* facets).

    With ``found`` (the ranked hits of the full-text index, zitkg.search) the text selects and orders
    those hits; without it, the folded text is looked for as a substring (names first).
    """
    selected = {f: list(v) for f, v in selected.items() if f in FACETS and v}
    if found is not None and found.query is not None and found.query.groups:
        by_iri = {i.iri: i for i in index.items}
        pool = [by_iri[h.iri] for h in found.hits if h.iri in by_iri]
        needle = ""
    elif found is not None and text.strip():  # a text with no word in it finds nothing
        pool, needle = [], ""
    else:
        pool = index.items
        needle = fold(text.strip())
    matched = [i for i in pool if _matches(i, needle, selected)]
    if needle:  # names before descriptions
        matched.sort(key=lambda i: (needle not in fold(index.labels.get(i.iri, lang)), fold(index.label(i.iri, lang))))
    # One pass: an item counts in every facet when it passes all chosen facets, and only in facet f when
    # f is the one chosen facet it fails (Datasette's counts: each facet over the *other* facets).
    per_facet: dict[str, dict[str, int]] = {facet: defaultdict(int) for facet in FACETS}
    chosen_sets = {f: set(v) for f, v in selected.items()}
    for item in pool:
        if needle and needle not in item.haystack:
            continue
        failed = [f for f, values in chosen_sets.items() if not item.facets.get(f, set()) & values]
        if len(failed) > 1:
            continue
        for facet in failed or FACETS:
            bucket = per_facet[facet]
            for v in item.facets.get(facet, ()):
                bucket[v] += 1
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        counts = per_facet[facet]
        chosen = set(selected.get(facet, []))
        for v in chosen:
            counts.setdefault(v, 0)
        values = [FacetValue(v, index.label(v, lang), n, v in chosen) for v, n in counts.items()]
        if facet == "year":
            values.sort(key=lambda fv: fv.iri)
        else:
            values.sort(key=lambda fv: (-fv.count, fold(fv.label)))
        facets[facet] = values
    return SearchResult(matched, facets, len(matched), found)


def item_record(index: Index, item: Item, lang: str, hit: Any = None) -> dict[str, Any]:
    """One search result as plain values (JSON and CSV downloads); ``hit``: where the text matched."""
    def labelled(facet: str) -> list[dict[str, str]]:
        return sorted(({"iri": v, "label": index.label(v, lang)} for v in item.facets.get(facet, ())),
                      key=lambda d: fold(d["label"]))

    texts = item.descriptions
    description = texts.get(lang) or texts.get("pl") or next(iter(texts.values()), "")
    return {
        "iri": item.iri,
        "label": index.label(item.iri, lang),
        "type": labelled("type"),
        "theme": labelled("theme"),
        "network": labelled("network"),
        "organisation": labelled("organisation"),
        "mof": labelled("mof"),
        "voivodeship": labelled("voivodeship"),
        "year": sorted(item.facets.get("year", ())),
        "isExample": item.is_example,
        "description": description,
        "matchedIn": hit.matched_in if hit is not None else None,
        "matchedText": hit.matched_text if hit is not None else None,
    }


def records_csv(records: Sequence[Mapping[str, Any]]) -> bytes:
    columns = ["iri", "label", "type", "theme", "network", "organisation", "mof", "voivodeship", "year",
               "isExample", "description", "matchedIn", "matchedText"]

    def cell(v: Any) -> str:
        if isinstance(v, list):
            return "; ".join(x["label"] if isinstance(x, dict) else str(x) for x in v)
        return v

    return tabular.write_table(columns, [[cell(r.get(c)) for c in columns] for r in records])


# --- home -----------------------------------------------------------------------------------------------

# Newest first: a published submission by the time it was sent, other practices by their creation date.
_LATEST_PRACTICES = PREFIXES + """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?practice ?label ?created ?originator ?originatorLabel ?example ?lang WHERE {
  ?practice a zit:GoodPractice .
  OPTIONAL { ?practice rdfs:label ?label FILTER(lang(?label) = ?lang) }
  OPTIONAL { ?practice dcterms:created ?createdDate }
  OPTIONAL { ?submission zit:submissionGraph ?graph ; prov:generatedAtTime ?sent .
             GRAPH ?graph { ?practice a zit:GoodPractice } }
  BIND(COALESCE(SUBSTR(STR(?sent), 1, 10), STR(?createdDate)) AS ?created)
  OPTIONAL { ?practice zit:originator ?originator
             OPTIONAL { ?originator rdfs:label ?originatorLabel FILTER(lang(?originatorLabel) = ?lang) } }
  OPTIONAL { ?practice zit:isExample ?example }
} ORDER BY DESC(?created) ?label LIMIT 8
"""


def latest_practices(service: Any, lang: str) -> list[dict[str, Any]]:
    rows = select(service, _LATEST_PRACTICES, {"lang": ox.Literal(lang)})
    return [{
        "iri": r["practice"].value,
        "label": value(r["label"]) or local_name(r["practice"].value),
        "created": value(r["created"]),
        "originator": value(r["originator"]),
        "originatorLabel": value(r["originatorLabel"]),
        "isExample": value(r["example"]) == "true",
    } for r in rows]


def networks_overview(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the network-members query grouped per network (leader first)."""
    networks: dict[str, dict[str, Any]] = {}
    for r in rows:
        iri = r["network"]
        entry = networks.setdefault(iri, {
            "iri": iri, "label": r.get("networkLabel") or local_name(iri), "themes": r.get("themes") or "",
            "themeIris": (r.get("themeIris") or "").split(), "budget": r.get("budget"),
            "currency": r.get("currency"), "share": r.get("share"), "readingStatus": r.get("readingStatus"),
            "members": [],
        })
        entry["members"].append({"iri": r["member"], "label": r.get("memberLabel") or local_name(r["member"]),
                                 "role": r.get("role"), "roleLabel": r.get("roleLabel") or ""})
    for entry in networks.values():
        entry["members"].sort(key=lambda m: (not (m["role"] or "").endswith("/leader"), fold(m["label"])))
    return sorted(networks.values(), key=lambda n: sort_key(n["label"]))


# --- map ------------------------------------------------------------------------------------------------

_PLACES = PREFIXES + """
SELECT ?x ?kind ?mof ?wkt WHERE {
  { ?x a/rdfs:subClassOf* zit:ZITAssociation ; zit:coordinatesArea|^zit:coordinatedBy ?mof .
    BIND("association" AS ?kind) }
  UNION { ?x a zit:FunctionalUrbanArea BIND(?x AS ?mof) BIND("mof" AS ?kind) }
  UNION { ?x a zit:Pilot ; zit:pilotLocation ?mof . BIND("pilot" AS ?kind) }
  ?mof geo:hasGeometry/geo:asWKT ?wkt .
} ORDER BY ?kind ?x ?mof
"""
_MEMBERSHIPS = PREFIXES + """
SELECT ?network ?member ?role WHERE {
  ?m org:organization ?network ; org:member ?member ; org:role ?role . ?network a zit:CooperationNetwork .
} ORDER BY ?network ?role ?member
"""
PILOT_RING = 0.12  # degrees: pilots sit on a small ring around their MOF's point, so markers do not hide


def map_layers(service: Any, index: Index, lang: str, theme: str | None, network: str | None) -> dict[str, Any]:
    """GeoJSON of associations (at their MOF's point: approximate), MOFs, pilots and network links."""
    wanted = {"theme": [theme] if theme else [], "network": [network] if network else []}
    items = {i.iri: i for i in index.items}
    points: dict[str, list[float]] = {}
    by_kind: dict[str, list[tuple[str, str, list[float]]]] = defaultdict(list)
    for row in select(service, _PLACES):
        point = tabular.point_of(row["wkt"])
        if point is None:
            continue
        by_kind[row["kind"].value].append((row["x"].value, row["mof"].value, point))
    features: list[dict[str, Any]] = []

    def keep(iri: str) -> bool:
        item = items.get(iri)
        return item is not None and _matches(item, "", wanted)

    def feature(iri: str, kind: str, point: list[float], **extra: Any) -> dict[str, Any]:
        item = items.get(iri)
        coordinates = [round(point[0], 5), round(point[1], 5)]
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates},
                "properties": {"iri": iri, "kind": kind, "label": index.label(iri, lang),
                               "isExample": bool(item and item.is_example), **extra}}

    for iri, _mof, point in by_kind["mof"]:
        if keep(iri):
            features.append(feature(iri, "mof", point))
    seen: set[str] = set()
    for iri, mof, point in by_kind["association"]:
        points.setdefault(iri, point)
        if keep(iri) and iri not in seen:
            seen.add(iri)
            features.append(feature(iri, "association", point, approximate=True, place=mof,
                                    placeLabel=index.label(mof, lang)))
    pilots_at: dict[str, list[tuple[str, list[float]]]] = defaultdict(list)
    for iri, mof, point in by_kind["pilot"]:
        if keep(iri):
            pilots_at[mof].append((iri, point))
    for mof, pilots in pilots_at.items():
        for n, (iri, point) in enumerate(sorted(pilots)):
            angle = 2 * math.pi * n / len(pilots)
            moved = [point[0] + PILOT_RING * math.cos(angle) / math.cos(math.radians(point[1])),
                     point[1] + PILOT_RING * math.sin(angle)]
            features.append(feature(iri, "pilot", moved, approximate=True, place=mof,
                                    placeLabel=index.label(mof, lang)))
    memberships: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in select(service, _MEMBERSHIPS):
        memberships[row["network"].value][local_name(row["role"].value)].append(row["member"].value)
    for number, (net, roles) in enumerate(sorted(memberships.items())):
        if network and net != network:
            continue
        if theme and not keep_theme(items.get(net), theme):
            continue
        for leader in roles.get("leader", []):
            for partner in roles.get("partner", []):
                if leader in points and partner in points:
                    features.append({
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [points[leader], points[partner]]},
                        "properties": {"iri": net, "kind": "link", "label": index.label(net, lang),
                                       "colour": NETWORK_COLOURS[number % len(NETWORK_COLOURS)],
                                       "from": leader, "to": partner,
                                       "fromLabel": index.label(leader, lang), "toLabel": index.label(partner, lang)},
                    })
    return {"type": "FeatureCollection", "features": features}


def keep_theme(item: Item | None, theme: str) -> bool:
    return item is not None and theme in item.facets.get("theme", set())


# --- coverage matrix ------------------------------------------------------------------------------------

def coverage_matrix(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows of the coverage query as associations × top themes with a colour step per cell."""
    organisations: dict[str, str] = {}
    themes: dict[str, str] = {}
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        organisations.setdefault(r["organisation"], r.get("organisationLabel") or local_name(r["organisation"]))
        themes.setdefault(r["topTheme"], r.get("topThemeLabel") or local_name(r["topTheme"]))
        cells[(r["organisation"], r["topTheme"])] = {"practices": int(r.get("practices") or 0),
                                                     "pilots": int(r.get("pilots") or 0)}
    highest = max((c["practices"] + c["pilots"] for c in cells.values()), default=0) or 1
    for cell in cells.values():
        total = cell["practices"] + cell["pilots"]
        cell["total"] = total
        cell["step"] = _step(total, highest)
    order_orgs = sorted(organisations, key=lambda o: sort_key(organisations[o]))
    order_themes = sorted(themes, key=lambda t: sort_key(themes[t]))
    steps: dict[int, list[int]] = defaultdict(list)
    for total in range(1, highest + 1):
        steps[_step(total, highest)].append(total)
    scale = [(0, "0")] + [(s, f"{v[0]}–{v[-1]}" if len(v) > 1 else str(v[0])) for s, v in sorted(steps.items())]
    return {"organisations": [(o, organisations[o]) for o in order_orgs],
            "themes": [(t, themes[t]) for t in order_themes], "cells": cells, "highest": highest, "scale": scale}


def _step(total: int, highest: int) -> int:
    """Five colour steps above zero, spread over 1..highest."""
    return 0 if total == 0 else 1 + (round(4 * (total - 1) / (highest - 1)) if highest > 1 else 0)


_CELL = PREFIXES + """
SELECT ?kind ?item ?itemLabel ?date ?example ?organisation ?theme ?lang WHERE {
  {
    ?item a zit:GoodPractice ; zit:originator ?organisation .
    FILTER EXISTS { ?item zit:theme/skos:broader* ?theme }
    BIND("practice" AS ?kind) OPTIONAL { ?item dcterms:created ?date }
  } UNION {
    ?item a zit:Pilot ; zit:implementedBy ?organisation .
    FILTER EXISTS { ?item zit:pilotOf/zit:theme/skos:broader* ?theme }
    BIND("pilot" AS ?kind) OPTIONAL { ?item schema:startDate ?date }
  }
  OPTIONAL { ?item rdfs:label ?itemLabel FILTER(lang(?itemLabel) = ?lang) }
  OPTIONAL { ?item zit:isExample ?example }
} ORDER BY ?kind ?itemLabel
"""


def cell_items(service: Any, organisation: str, theme: str, lang: str) -> dict[str, list[dict[str, Any]]]:
    rows = select(service, _CELL, {"organisation": ox.NamedNode(organisation), "theme": ox.NamedNode(theme),
                                   "lang": ox.Literal(lang)})
    out: dict[str, list[dict[str, Any]]] = {"practice": [], "pilot": []}
    for r in rows:
        out[r["kind"].value].append({"iri": r["item"].value,
                                     "label": value(r["itemLabel"]) or local_name(r["item"].value),
                                     "date": value(r["date"]), "isExample": value(r["example"]) == "true"})
    return out


# --- network dashboards ---------------------------------------------------------------------------------

_NETWORK = PREFIXES + """
SELECT ?network ?label ?alt ?description ?start ?end ?budget ?currency ?readingStatus ?total ?lang WHERE {
  ?network a zit:CooperationNetwork .
  OPTIONAL { ?network rdfs:label ?label FILTER(lang(?label) = ?lang) }
  OPTIONAL { ?network skos:altLabel ?alt }
  OPTIONAL { ?network dcterms:description ?description FILTER(lang(?description) = ?lang) }
  OPTIONAL { ?network schema:startDate ?start }
  OPTIONAL { ?network schema:endDate ?end }
  OPTIONAL { ?network zit:budget ?amount . ?amount schema:value ?budget ; schema:currency ?currency .
             OPTIONAL { ?amount zit:readingStatus ?readingStatus } }
  OPTIONAL { ?programme a zit:Programme ; zit:budget/schema:value ?total }
} LIMIT 1
"""
_NETWORK_WORK = PREFIXES + """
SELECT ?kind ?item ?itemLabel ?start ?end ?who ?whoLabel ?place ?placeLabel ?example ?network ?lang WHERE {
  {
    ?item a zit:GoodPractice ; zit:inNetwork ?network . BIND("practice" AS ?kind)
    OPTIONAL { ?item dcterms:created ?start }
    OPTIONAL { ?item zit:originator ?who }
  } UNION {
    ?item a zit:Pilot . BIND("pilot" AS ?kind)
    { ?item zit:inNetwork ?network } UNION { ?item zit:pilotOf/zit:inNetwork ?network }
    OPTIONAL { ?item schema:startDate ?start } OPTIONAL { ?item schema:endDate ?end }
    OPTIONAL { ?item zit:implementedBy ?who } OPTIONAL { ?item zit:pilotLocation ?place }
  } UNION {
    ?item a zit:ExpertSupport ; zit:supportBy ?who . BIND("support" AS ?kind)
    { ?item zit:inNetwork ?network } UNION { ?item zit:supportFor ?network }
    UNION { ?item zit:supportFor ?member . ?m org:member ?member ; org:organization ?network }
    OPTIONAL { ?item schema:startDate ?start }
    OPTIONAL { ?item zit:supportFor ?place }
  } UNION {
    ?item zit:inNetwork ?network ; a/rdfs:subClassOf* zit:NetworkActivity . BIND("activity" AS ?kind)
    OPTIONAL { ?item schema:startDate ?start } OPTIONAL { ?item schema:endDate ?end }
    OPTIONAL { ?item zit:activityLocation ?place }
  } UNION {
    ?item zit:transferredPractice/zit:inNetwork ?network ; a zit:Transfer . BIND("transfer" AS ?kind)
    OPTIONAL { ?item schema:startDate ?start } OPTIONAL { ?item zit:toOrganization ?who }
  }
  OPTIONAL { ?item rdfs:label ?itemLabel FILTER(lang(?itemLabel) = ?lang) }
  OPTIONAL { ?who rdfs:label ?whoLabel FILTER(lang(?whoLabel) = ?lang) }
  OPTIONAL { ?place rdfs:label ?placeLabel FILTER(lang(?placeLabel) = ?lang) }
  OPTIONAL { ?item zit:isExample ?example }
} ORDER BY ?kind ?start ?itemLabel
"""


def network_dashboard(service: Any, network: str, lang: str) -> dict[str, Any] | None:
    bound = {"network": ox.NamedNode(network), "lang": ox.Literal(lang)}
    head = select(service, _NETWORK, bound)
    if not head:
        return None
    h = head[0]
    budget = float(h["budget"].value) if h.get("budget") is not None else None
    total = float(h["total"].value) if h.get("total") is not None else None
    work: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in select(service, _NETWORK_WORK, bound):
        kind, iri = r["kind"].value, r["item"].value
        entry = work[kind].setdefault(iri, {
            "iri": iri, "label": value(r["itemLabel"]) or local_name(iri), "start": value(r["start"]),
            "end": value(r["end"]), "who": {}, "place": {}, "isExample": value(r["example"]) == "true",
            "kind": kind,
        })
        if r.get("who") is not None:
            entry["who"][r["who"].value] = value(r["whoLabel"]) or local_name(r["who"].value)
        if r.get("place") is not None:
            entry["place"][r["place"].value] = value(r["placeLabel"]) or local_name(r["place"].value)
    lists = {k: sorted(v.values(), key=lambda e: (e["start"] or "", fold(e["label"]))) for k, v in work.items()}
    timeline = sorted((e for k in ("pilot", "activity", "support", "transfer") for e in lists.get(k, [])
                       if e["start"]), key=lambda e: (e["start"], fold(e["label"])))
    return {
        "iri": network,
        "label": value(h["label"]) or local_name(network),
        "alt": value(h["alt"]),
        "description": value(h["description"]),
        "start": value(h["start"]), "end": value(h["end"]),
        "budget": budget, "currency": value(h["currency"]), "readingStatus": value(h["readingStatus"]),
        "share": round(100 * budget / total, 2) if budget is not None and total else None,
        "practices": lists.get("practice", []), "pilots": lists.get("pilot", []),
        "supports": lists.get("support", []), "activities": lists.get("activity", []),
        "transfers": lists.get("transfer", []), "timeline": timeline,
    }


# --- the graph around a resource ------------------------------------------------------------------------

_NEIGHBOURS = PREFIXES + """
SELECT ?s ?p ?o ?resource WHERE {
  { ?resource ?p ?o BIND(?resource AS ?s) FILTER(isIRI(?o)) }
  UNION
  { ?s ?p ?resource BIND(?resource AS ?o) FILTER(isIRI(?s)) }
  FILTER(?p != rdf:type)
} ORDER BY ?p ?s ?o LIMIT %(limit)d
"""
_NODE_TYPES = PREFIXES + """
SELECT ?node ?type ?resource WHERE {
  { ?resource ?p ?node FILTER(isIRI(?node)) } UNION { ?node ?p ?resource FILTER(isIRI(?node)) }
  UNION { BIND(?resource AS ?node) }
  ?node a ?type .
}
"""


def neighbours(service: Any, index: Index, resource: str, lang: str, limit: int = 80) -> dict[str, Any]:
    """The resource, its direct neighbours (both directions) and the links between them, for Cytoscape."""
    bound = {"resource": ox.NamedNode(resource)}
    edges = select(service, _NEIGHBOURS % {"limit": limit}, bound)
    types: dict[str, set[str]] = defaultdict(set)
    for r in select(service, _NODE_TYPES, bound):
        types[r["node"].value].add(r["type"].value)
    nodes: dict[str, dict[str, Any]] = {}

    def node(iri: str) -> None:
        if iri not in nodes:
            cls = primary_type(types.get(iri, ()))
            nodes[iri] = {"id": iri, "label": index.label(iri, lang), "class": cls or "",
                          "classLabel": index.label(cls, lang) if cls else "—",
                          "colour": CLASS_COLOURS.get(local_name(cls), OTHER_COLOUR) if cls else OTHER_COLOUR,
                          "local": iri.startswith(index.base + "id/")}

    node(resource)
    out = []
    for r in edges:
        s, p, o = r["s"].value, r["p"].value, r["o"].value
        node(s)
        node(o)
        out.append({"id": f"{s} {p} {o}", "source": s, "target": o, "predicate": p,
                    "label": index.label(p, lang)})
    return {"resource": resource, "nodes": list(nodes.values()), "edges": out, "truncated": len(edges) >= limit}
