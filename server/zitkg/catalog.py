"""The DCAT-AP catalog and the VoID description of a release, built from its manifest.

Both are pure functions of an export manifest (file sizes and checksums, statistics of the published
data; see zitkg.export) and of the publication settings, so the catalog a portal harvests, the one in
the release folder and the one the SPARQL endpoint answers are the same triples.

Two DCAT-AP profiles are built: 3.0.1 (the default) and 2.1.1, which data.europa.eu converts everything
to. They differ where the official shapes differ: ``dcat:byteSize`` (xsd:nonNegativeInteger in 3.0.1,
xsd:decimal in 2.1.1), ``adms:status`` (EU distribution-status table in 3.0.1, ADMS status in 2.1.1) and
the checksum (2.1.1 allows SHA-1 only; 3.0.1 takes SHA-256).

The official shapes check vocabulary values by their type and ``skos:inScheme`` (normally fetched from the
EU authority tables over the web), so the catalog states those triples itself for every value it uses:
it then validates offline, and a harvester sees labels without a second look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from zitkg.store import GRAPH_BASE

CATALOG_GRAPH = GRAPH_BASE + "catalog"
PROFILES = ("3.0.1", "2.1.1")
PROFILE_ALIASES = {"3.0.1": "3.0.1", "dcat-ap-3.0.1": "3.0.1", "2.1.1": "2.1.1", "dcat-ap-2.1.1": "2.1.1"}

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ADMS = "http://www.w3.org/ns/adms#"
SPDX = "http://spdx.org/rdf/terms#"
DCATAP = "http://data.europa.eu/r5r/"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# The 3.0.1 shapes require the checksum algorithm to match ^https://spdx.org/rdf/terms (mdr-vocabularies,
# ChecksumAlgorithmRestriction) although the SPDX namespace is http://; the https IRI is used for 3.0.1
# and declared owl:sameAs the SPDX term, so both readings find the algorithm.
SPDX_HTTPS = "https://spdx.org/rdf/terms#"
ADMS_STATUS = "http://purl.org/adms/status/"

PREFIXES = {
    "adms": ADMS,
    "dcat": DCAT,
    "dcatap": DCATAP,
    "dct": DCT,
    "foaf": FOAF,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "sd": SD,
    "skos": SKOS,
    "spdx": SPDX,
    "vcard": VCARD,
    "void": VOID,
    "xsd": XSD,
}

Labels = Mapping[str, str]  # language tag -> text


@dataclass(frozen=True)
class PublishConfig:
    """Who publishes, and where the service answers; from the settings (docs/settings.md)."""

    base_iri: str
    public_url: str
    publisher_name: str
    publisher_url: str
    contact_email: str

    @classmethod
    def from_settings(cls, settings: Any) -> PublishConfig:
        public = settings.public_url or settings.base_iri
        public = public if public.endswith("/") else public + "/"
        return cls(
            base_iri=settings.base_iri,
            public_url=public,
            publisher_name=settings.publisher_name,
            publisher_url=settings.publisher_url or public,
            contact_email=settings.contact_email,
        )

    def fingerprint(self) -> str:
        """What the release files depend on besides the data (a release is rebuilt when it changes)."""
        return "\n".join((self.base_iri, self.public_url, self.publisher_name, self.publisher_url,
                          self.contact_email))

    @property
    def catalog(self) -> str:
        return self.base_iri + "catalog"

    def node(self, name: str) -> str:
        """IRIs of the catalog's own resources: fragments of the catalog IRI, so they resolve to /catalog."""
        return f"{self.catalog}#{name}"

    def download_url(self, name: str) -> str:
        return f"{self.public_url}downloads/{name}"

    @property
    def downloads_page(self) -> str:
        return self.public_url + "downloads/"

    @property
    def sparql_endpoint(self) -> str:
        return self.public_url + "sparql"


class _Graph:
    """A small triple builder; every value passes through here so the output can be sorted at the end."""

    def __init__(self) -> None:
        self.triples: set[ox.Triple] = set()

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | str) -> None:
        obj = ox.NamedNode(o) if isinstance(o, str) else o
        self.triples.add(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj))

    def types(self, s: str, *classes: str) -> None:
        for cls in classes:
            self.add(s, RDF + "type", cls)

    def text(self, s: str, p: str, labels: Labels) -> None:
        for lang, value in labels.items():
            self.add(s, p, ox.Literal(value, language=lang) if lang else ox.Literal(value))

    def typed(self, s: str, p: str, value: str, datatype: str) -> None:
        self.add(s, p, ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)))

    def concept(self, iri: str, scheme: str, labels: Labels, *types: str) -> None:
        """A value of a controlled vocabulary: typed, labelled and in its scheme (what the shapes check)."""
        self.types(iri, SKOS + "Concept", *types)
        self.text(iri, SKOS + "prefLabel", labels)
        self.add(iri, SKOS + "inScheme", scheme)
        self.types(scheme, SKOS + "ConceptScheme")
        self.text(scheme, DCT + "title", {"en": SCHEME_TITLES[scheme]})


SCHEME_TITLES = {
    EU + "data-theme": "Data theme",
    EU + "language": "Language",
    EU + "country": "Country",
    EU + "frequency": "Frequency",
    EU + "access-right": "Access right",
    EU + "file-type": "File type",
    EU + "licence": "Licence",
    EU + "planned-availability": "Planned availability",
    EU + "distribution-status": "Distribution status",
    ADMS_STATUS + "1.0": "ADMS status",
    "http://purl.org/adms/licencetype/1.0": "ADMS licence type",
}
DATA_THEMES = {
    "REGI": {"pl": "Regiony i miasta", "en": "Regions and cities"},
    "GOVE": {"pl": "Rząd i sektor publiczny", "en": "Government and public sector"},
}
LANGUAGES = {"POL": {"pl": "polski", "en": "Polish"}, "ENG": {"pl": "angielski", "en": "English"}}
FILE_TYPE_LABELS = {
    "RDF_TURTLE": "RDF Turtle",
    "RDF_N_TRIPLES": "RDF N-Triples",
    "RDF_TRIG": "RDF TriG",
    "JSON_LD": "JSON-LD",
    "CSV": "CSV",
    "JSON": "JSON",
    "XML": "XML",
    "TXT": "Plain text",
    "RDF_XML": "RDF/XML",
    "SPARQLQ": "SPARQL query",
}
LICENCE = EU + "licence/CC_BY_4_0"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
KEYWORDS = {
    "pl": ("ZIT", "Zintegrowane Inwestycje Terytorialne", "związki ZIT", "sieci współpracy",
           "miejskie obszary funkcjonalne", "MOF", "dobre praktyki", "pilotaże", "eksperci",
           "polityka regionalna", "dane powiązane"),
    "en": ("ITI", "Integrated Territorial Investments", "ZIT associations", "cooperation networks",
           "functional urban areas", "FUA", "good practices", "pilots", "experts", "regional policy",
           "linked data"),
}
TITLE = {
    "pl": "Graf wiedzy programu „Sieciowanie Związków ZIT w Polsce”",
    "en": "Knowledge graph of the programme “Networking of ZIT Associations in Poland”",
}
DESCRIPTION = {
    "pl": "Powiązane dane programu „Sieciowanie Związków ZIT w Polsce”: związki ZIT i ich pięć sieci "
          "współpracy, obszary tematyczne, budżet i harmonogram programu, dobre praktyki, pilotaże w "
          "miejskich obszarach funkcjonalnych (MOF) oraz eksperci i udzielone wsparcie. Fakty programu "
          "podają źródło; rekordy przykładowe są oznaczone jako ilustracyjne.",
    "en": "Linked data of the programme “Networking of ZIT Associations in Poland”: the ZIT associations and "
          "their five cooperation networks, thematic areas, the programme's budget and timeline, good "
          "practices, pilots in functional urban areas (FUA), and experts with the support they gave. "
          "Programme facts cite their source; example records are marked as illustrative.",
}
CATALOG_TITLE = {"pl": "Katalog danych zitkg", "en": "zitkg data catalogue"}
CATALOG_DESCRIPTION = {
    "pl": "Katalog DCAT-AP grafu wiedzy programu „Sieciowanie Związków ZIT w Polsce”: zbiór danych, jego "
          "pliki do pobrania i punkt dostępowy SPARQL.",
    "en": "DCAT-AP catalogue of the knowledge graph of the programme “Networking of ZIT Associations in "
          "Poland”: the dataset, its downloadable files and the SPARQL endpoint.",
}


def _date_time(day: str) -> tuple[str, str]:
    # dane.gov.pl (DCAT-AP-PL) reads dct:issued/dct:modified as xsd:dateTime; a release has a date only.
    return f"{day}T00:00:00Z", "dateTime"


def catalog_triples(
    manifest: Mapping[str, Any], config: PublishConfig, profile: str = "3.0.1"
) -> list[ox.Triple]:
    """The DCAT-AP catalog of a release: catalog, dataset, one distribution per file, the SPARQL service."""
    if profile not in PROFILES:
        raise ValueError(f"unknown DCAT-AP profile {profile!r}; known: {', '.join(PROFILES)}")
    g = _Graph()
    catalog, dataset, service = config.catalog, config.node("dataset"), config.node("sparql-endpoint")
    publisher, contact = config.node("publisher"), config.node("contact-point")
    issued = _date_time(manifest["first_issued"])
    modified = _date_time(manifest["date"])

    g.types(catalog, DCAT + "Catalog")
    g.text(catalog, DCT + "title", CATALOG_TITLE)
    g.text(catalog, DCT + "description", CATALOG_DESCRIPTION)
    g.add(catalog, DCT + "publisher", publisher)
    g.add(catalog, FOAF + "homepage", config.public_url)
    g.typed(catalog, DCT + "issued", *issued)
    g.typed(catalog, DCT + "modified", *modified)
    g.add(catalog, DCAT + "themeTaxonomy", EU + "data-theme")
    g.add(catalog, DCAT + "dataset", dataset)
    g.add(catalog, DCAT + "service", service)
    _common(g, catalog)
    g.types(config.public_url, FOAF + "Document")

    g.types(publisher, FOAF + "Agent", FOAF + "Organization")
    g.add(publisher, FOAF + "name", ox.Literal(config.publisher_name))
    g.add(publisher, FOAF + "homepage", config.publisher_url)
    g.types(config.publisher_url, FOAF + "Document")

    g.types(contact, VCARD + "Kind", VCARD + "Organization")
    g.add(contact, VCARD + "fn", ox.Literal(config.publisher_name))
    g.add(contact, VCARD + "hasURL", config.publisher_url)
    if config.contact_email:
        g.add(contact, VCARD + "hasEmail", "mailto:" + config.contact_email)

    g.types(dataset, DCAT + "Dataset")
    g.text(dataset, DCT + "title", TITLE)
    g.text(dataset, DCT + "description", DESCRIPTION)
    g.add(dataset, DCT + "identifier", ox.Literal(config.base_iri))
    g.add(dataset, DCT + "publisher", publisher)
    g.add(dataset, DCAT + "contactPoint", contact)
    g.add(dataset, DCAT + "landingPage", config.public_url)
    g.typed(dataset, DCT + "issued", *issued)
    g.typed(dataset, DCT + "modified", *modified)
    g.add(dataset, DCAT + "version", ox.Literal(manifest["release"]))
    g.text(dataset, ADMS + "versionNotes", _version_notes(manifest))
    g.add(dataset, DCT + "conformsTo", config.base_iri + "ontology")
    g.types(config.base_iri + "ontology", DCT + "Standard")
    g.add(dataset, DCT + "accrualPeriodicity", EU + "frequency/IRREG")
    g.concept(EU + "frequency/IRREG", EU + "frequency", {"pl": "nieregularnie", "en": "irregular"},
              DCT + "Frequency")
    g.add(dataset, DCT + "accessRights", EU + "access-right/PUBLIC")
    g.concept(EU + "access-right/PUBLIC", EU + "access-right", {"pl": "publiczny", "en": "public"},
              DCT + "RightsStatement")
    for code, labels in DATA_THEMES.items():
        g.add(dataset, DCAT + "theme", EU + "data-theme/" + code)
        g.concept(EU + "data-theme/" + code, EU + "data-theme", labels)
    for lang, words in _keywords(manifest).items():
        for word in words:
            g.add(dataset, DCAT + "keyword", ox.Literal(word, language=lang))
    temporal = manifest["statistics"].get("temporal") or {}
    if temporal.get("start") or temporal.get("end"):
        period = config.node("temporal-coverage")
        g.add(dataset, DCT + "temporal", period)
        g.types(period, DCT + "PeriodOfTime")
        for key in ("start", "end"):
            if temporal.get(key):
                g.typed(period, DCAT + key + "Date", temporal[key], "date")
    _common(g, dataset)
    if "CHANGELOG.md" in {f["name"] for f in manifest["files"]}:
        g.add(dataset, FOAF + "page", config.download_url("CHANGELOG.md"))
        g.types(config.download_url("CHANGELOG.md"), FOAF + "Document")

    for entry in manifest["files"]:
        distribution = config.node("distribution-" + entry["name"])
        g.add(dataset, DCAT + "distribution", distribution)
        _distribution(g, distribution, entry, config, profile, modified)

    g.types(service, DCAT + "DataService")
    g.text(service, DCT + "title", {"pl": "Punkt dostępowy SPARQL zitkg", "en": "zitkg SPARQL endpoint"})
    g.text(service, DCT + "description", {
        "pl": "Publiczny punkt dostępowy SPARQL 1.1 (tylko odczyt) nad opublikowanymi grafami.",
        "en": "Public, read-only SPARQL 1.1 endpoint over the published graphs.",
    })
    g.add(service, DCAT + "endpointURL", config.sparql_endpoint)
    g.add(service, DCAT + "endpointDescription", config.sparql_endpoint)
    g.add(service, DCAT + "servesDataset", dataset)
    g.add(service, DCT + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    g.types("https://www.w3.org/TR/sparql11-protocol/", DCT + "Standard")
    g.add(service, DCT + "publisher", publisher)
    g.add(service, DCAT + "contactPoint", contact)
    g.add(service, DCT + "license", LICENCE)
    g.add(service, DCT + "accessRights", EU + "access-right/PUBLIC")
    for code in DATA_THEMES:
        g.add(service, DCAT + "theme", EU + "data-theme/" + code)
    for lang, words in KEYWORDS.items():
        g.add(service, DCAT + "keyword", ox.Literal(words[0], language=lang))
    g.add(service, DCAT + "keyword", ox.Literal("SPARQL", language="en"))
    return sorted(g.triples, key=_triple_key)


def _common(g: _Graph, subject: str) -> None:
    """Licence, languages and spatial coverage, shared by the catalog and the dataset."""
    g.add(subject, DCT + "license", LICENCE)
    g.concept(LICENCE, EU + "licence", {
        "en": "Creative Commons Attribution 4.0 International",
        "pl": "Creative Commons Uznanie autorstwa 4.0 Międzynarodowe",
    }, DCT + "LicenseDocument")
    g.add(LICENCE, DCT + "type", "http://purl.org/adms/licencetype/Attribution")
    g.concept("http://purl.org/adms/licencetype/Attribution", "http://purl.org/adms/licencetype/1.0",
              {"en": "Attribution"})
    g.add(LICENCE, RDFS + "seeAlso", CC_BY)
    for code, labels in LANGUAGES.items():
        g.add(subject, DCT + "language", EU + "language/" + code)
        g.concept(EU + "language/" + code, EU + "language", labels, DCT + "LinguisticSystem")
    g.add(subject, DCT + "spatial", EU + "country/POL")
    g.concept(EU + "country/POL", EU + "country", {"pl": "Polska", "en": "Poland"}, DCT + "Location")


def _distribution(
    g: _Graph, node: str, entry: Mapping[str, Any], config: PublishConfig, profile: str,
    modified: tuple[str, str],
) -> None:
    g.types(node, DCAT + "Distribution")
    g.text(node, DCT + "title", entry["title"])
    g.text(node, DCT + "description", entry["description"])
    g.add(node, DCAT + "accessURL", config.downloads_page)
    g.add(node, DCAT + "downloadURL", config.download_url(entry["name"]))
    media = IANA + entry["media_type"]
    g.add(node, DCAT + "mediaType", media)
    g.types(media, DCT + "MediaType", DCT + "MediaTypeOrExtent")
    file_type = EU + "file-type/" + entry["file_type"]
    g.add(node, DCT + "format", file_type)
    g.concept(file_type, EU + "file-type", {"en": FILE_TYPE_LABELS[entry["file_type"]]},
              DCT + "MediaTypeOrExtent")
    if entry.get("compress"):
        compress = IANA + entry["compress"]
        g.add(node, DCAT + "compressFormat", compress)
        g.types(compress, DCT + "MediaType", DCT + "MediaTypeOrExtent")
    g.add(node, DCT + "license", LICENCE)
    g.typed(node, DCT + "issued", *modified)
    g.typed(node, DCT + "modified", *modified)
    g.add(node, DCATAP + "availability", EU + "planned-availability/STABLE")
    g.concept(EU + "planned-availability/STABLE", EU + "planned-availability", {"en": "stable"})
    checksum = config.node("checksum-" + entry["name"])
    g.add(node, SPDX + "checksum", checksum)
    g.types(checksum, SPDX + "Checksum")
    if profile == "3.0.1":
        g.typed(node, DCAT + "byteSize", str(entry["bytes"]), "nonNegativeInteger")
        g.add(node, ADMS + "status", EU + "distribution-status/COMPLETED")
        g.concept(EU + "distribution-status/COMPLETED", EU + "distribution-status", {"en": "completed"})
        algorithm = SPDX_HTTPS + "checksumAlgorithm_sha256"
        g.add(algorithm, OWL + "sameAs", SPDX + "checksumAlgorithm_sha256")
        g.typed(checksum, SPDX + "checksumValue", entry["sha256"], "hexBinary")
    else:
        g.typed(node, DCAT + "byteSize", str(entry["bytes"]), "decimal")
        g.add(node, ADMS + "status", ADMS_STATUS + "Completed")
        g.concept(ADMS_STATUS + "Completed", ADMS_STATUS + "1.0", {"en": "Completed"})
        algorithm = SPDX + "checksumAlgorithm_sha1"  # the only algorithm DCAT-AP 2.1.1 allows
        g.typed(checksum, SPDX + "checksumValue", entry["sha1"], "hexBinary")
    g.add(checksum, SPDX + "algorithm", algorithm)
    g.types(algorithm, SPDX + "ChecksumAlgorithm")


def _keywords(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    words = {lang: list(values) for lang, values in KEYWORDS.items()}
    for theme in manifest["statistics"].get("themes", []):
        for lang in ("pl", "en"):
            if theme.get(lang) and theme[lang] not in words[lang]:
                words[lang].append(theme[lang])
    return words


def _version_notes(manifest: Mapping[str, Any]) -> dict[str, str]:
    changes = manifest.get("changes")
    if not changes:
        return {"pl": f"Wydanie {manifest['release']} z {manifest['date']}: pierwsze wydanie.",
                "en": f"Release {manifest['release']} of {manifest['date']}: the first release."}
    new, gone = len(changes["subjects_added"]), len(changes["subjects_removed"])
    return {
        "pl": f"Wydanie {manifest['release']} z {manifest['date']}: dodano {changes['added']} i usunięto "
              f"{changes['removed']} trójek względem wydania {changes['previous']} "
              f"({new} nowych i {gone} usuniętych zasobów).",
        "en": f"Release {manifest['release']} of {manifest['date']}: {changes['added']} triples added and "
              f"{changes['removed']} removed since release {changes['previous']} "
              f"({new} resources added, {gone} removed).",
    }


def void_triples(manifest: Mapping[str, Any], config: PublishConfig) -> list[ox.Triple]:
    """The VoID description: counts, class partitions, example resources, the endpoint and the dumps."""
    g = _Graph()
    stats = manifest["statistics"]
    dataset = config.node("dataset")
    g.types(dataset, VOID + "Dataset")
    g.text(dataset, DCT + "title", TITLE)
    g.text(dataset, DCT + "description", DESCRIPTION)
    g.add(dataset, DCT + "license", CC_BY)
    g.add(dataset, DCT + "publisher", config.node("publisher"))
    g.typed(dataset, DCT + "modified", manifest["date"], "date")
    g.add(dataset, FOAF + "homepage", config.public_url)
    g.add(dataset, VOID + "sparqlEndpoint", config.sparql_endpoint)
    g.add(dataset, VOID + "uriSpace", ox.Literal(config.base_iri + "id/"))
    g.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/Turtle")
    g.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/N-Triples")
    g.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/JSON-LD")
    g.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/TriG")
    for name in manifest.get("dumps", []):
        g.add(dataset, VOID + "dataDump", config.download_url(name))
    for example in stats["examples"]:
        g.add(dataset, VOID + "exampleResource", example)
    for vocabulary in stats["vocabularies"]:
        g.add(dataset, VOID + "vocabulary", vocabulary)
    for key in ("triples", "entities", "classes", "properties", "distinct_subjects", "distinct_objects"):
        g.typed(dataset, VOID + _camel(key), str(stats[key]), "integer")
    for n, (cls, count) in enumerate(sorted(stats["class_partitions"].items()), start=1):
        part = config.node(f"void-class-{n}")
        g.add(dataset, VOID + "classPartition", part)
        g.add(part, VOID + "class", cls)
        g.typed(part, VOID + "entities", str(count), "integer")
    for graph, count in sorted(stats["graphs"].items()):
        subset = config.node("void-graph-" + graph.rsplit("/", 1)[-1])
        g.add(dataset, VOID + "subset", subset)
        g.types(subset, VOID + "Dataset")
        g.add(subset, SD + "name", graph)
        g.typed(subset, VOID + "triples", str(count), "integer")
    return sorted(g.triples, key=_triple_key)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def _triple_key(t: ox.Triple) -> tuple[str, str, str]:
    return str(t.subject), str(t.predicate), str(t.object)


FORMATS = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    "ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
}


def serialize(triples: Iterable[ox.Triple], key: str = "turtle") -> bytes:
    """Sorted triples in one of FORMATS; the same triples always give the same bytes."""
    ordered = sorted(triples, key=_triple_key)
    fmt = FORMATS[key][1]
    if key in {"turtle", "rdfxml"}:
        return ox.serialize(ordered, format=fmt, prefixes=PREFIXES)
    return ox.serialize(ordered, format=fmt)
