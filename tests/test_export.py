"""Exports: dumps that round-trip, byte-identical releases, safe CSV, CSVW, GraphML, checksums, changelog,
and nothing unpublished or private in any file."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import threading
import warnings
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from zitkg import resources
from zitkg.bundle import load_bundled, read_turtle
from zitkg.catalog import CATALOG_GRAPH
from zitkg.export import SUMS, TABLES, export, snapshot
from zitkg.privacy import CONTACT_PROPERTIES, split_private
from zitkg.settings import load_settings
from zitkg.store import GRAPH_BASE, OxigraphStore

DAY = date(2025, 3, 14)
ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
FORMULA = ("=", "+", "-", "@", "\t", "\r")
GRAPHML_NS = {"g": "http://graphml.graphdrawing.org/xmlns"}


def file_texts(folder: Path) -> dict[str, str]:
    """Every file of a release as text (gzip unpacked)."""
    texts = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        texts[path.name] = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
    return texts


def published_dataset(store) -> dict[str, Graph]:
    """The published graphs (minus the catalog graph) as rdflib graphs, read from the store directly."""
    graphs = {}
    for iri in store.published_graphs():
        if iri == CATALOG_GRAPH:
            continue
        quads = store.read_store().quads_for_pattern(None, None, None, ox.NamedNode(iri))
        text = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES).decode()
        graphs[iri] = Graph().parse(data=text, format="nt")
    return graphs


def union(graphs: dict[str, Graph]) -> Graph:
    merged = Graph()
    for graph in graphs.values():
        merged += graph
    return merged


def practice(slug: str, label: str, **extra: str) -> list[ox.Triple]:
    s = ox.NamedNode(f"{ID}practice/{slug}")
    triples = [ox.Triple(s, RDF_TYPE, ox.NamedNode(ZIT + "GoodPractice")),
               ox.Triple(s, RDFS_LABEL, ox.Literal(label, language="pl"))]
    for prop, value in extra.items():
        triples.append(ox.Triple(s, ox.NamedNode(prop), ox.Literal(value, language="pl")))
    return triples


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """One store with the bundled data and its release, shared by the tests that only read them."""
    tmp = tmp_path_factory.mktemp("bundled")
    store = OxigraphStore(tmp / "store")
    load_bundled(store)
    settings = load_settings(environ={}, overrides={"store": tmp / "store"})
    yield store, export(store, tmp / "out", settings, DAY)
    store.close()


@pytest.fixture
def release(bundled):
    return bundled[1]


def test_release_holds_every_promised_file(release):
    names = set(release.files())
    assert {"zitkg.ttl", "zitkg.nt.gz", "zitkg.jsonld", "zitkg.trig", "zitkg.graphml", "csv-metadata.json",
            "void.ttl", "catalog.ttl", "catalog-dcat-ap-2.1.1.ttl", "CHANGELOG.md", SUMS,
            "manifest.json"} <= names
    tables = {f"{t.name}.csv" for t in TABLES}
    assert tables == {"practices.csv", "pilots.csv", "organisations.csv", "networks.csv", "memberships.csv",
                      "experts.csv", "mofs.csv"}
    assert tables <= names
    assert release.folder.name == f"{DAY.isoformat()}_{release.key[:12]}"


def test_dumps_parse_back_into_the_published_data(bundled):
    store, release = bundled
    graphs = published_dataset(store)
    expected = union(graphs)
    assert len(expected) > 3000
    for name, fmt in (("zitkg.ttl", "turtle"), ("zitkg.jsonld", "json-ld")):
        assert isomorphic(Graph().parse(release.folder / name, format=fmt), expected), name
    nt = gzip.decompress((release.folder / "zitkg.nt.gz").read_bytes()).decode()
    assert nt.splitlines() == sorted(nt.splitlines())
    assert isomorphic(Graph().parse(data=nt, format="nt"), expected)
    trig = Dataset()
    with warnings.catch_warnings():  # rdflib's TriG parser calls its own deprecated Dataset API
        warnings.simplefilter("ignore", DeprecationWarning)
        trig.parse(data=(release.folder / "zitkg.trig").read_text(encoding="utf-8"), format="trig")
        named = {str(g.identifier): g for g in trig.graphs() if len(g)}
    assert set(named) == set(graphs)
    for iri, graph in graphs.items():
        assert isomorphic(named[iri], graph), iri


def test_exported_data_passes_the_project_shapes(release):
    from zitkg import validation

    report = validation.validate(Graph().parse(release.folder / "zitkg.ttl", format="turtle"))
    assert report.conforms, [r.message_en for r in report.results if r.severity == "Violation"][:5]


def test_two_exports_of_the_same_data_are_byte_identical(store, settings, tmp_path):
    first = export(store, tmp_path / "a", settings, DAY)
    second = export(store, tmp_path / "b", settings, DAY)
    # A second store loaded from the bundled files: parsing again names the same things the same way.
    fresh = OxigraphStore(tmp_path / "fresh")
    try:
        load_bundled(fresh)
        third = export(fresh, tmp_path / "c", settings, DAY)
    finally:
        fresh.close()
    again = export(store, tmp_path / "a", settings, DAY)  # the same release written over itself
    files = first.files()
    assert files == second.files() == third.files() == again.files()
    for name in files:
        data = (first.folder / name).read_bytes()
        for other in (second, third, again):
            assert data == (other.folder / name).read_bytes(), (name, other.folder)
    assert (first.folder / "zitkg.nt.gz").read_bytes()[4:8] == b"\x00" * 4  # gzip header: mtime 0


class _PlainStore:
    """A store whose graphs keep blank nodes (as a remote store may): what snapshot() needs, nothing more."""

    def __init__(self, turtle: str) -> None:
        self.lock, self.version = threading.Lock(), 0
        self._store = ox.Store()
        self._store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(GRAPH_BASE + "x"))
                                for t in (q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)))

    def published_graphs(self) -> list[str]:
        return [GRAPH_BASE + "x"]

    def read_store(self) -> ox.Store:
        return self._store


def test_blank_nodes_get_canonical_labels(settings, tmp_path):
    turtle = """@prefix ex: <http://example.org/> .
    ex:a ex:p [ ex:q [ ex:r "1" ] ], [ ex:q "2" ] ; ex:list ( ex:x ex:y ) ."""
    first, second = _PlainStore(turtle), _PlainStore(turtle)  # parsed twice: different blank node ids
    assert snapshot(first).data_hash == snapshot(second).data_hash
    one = export(first, tmp_path / "one", settings, DAY)
    two = export(second, tmp_path / "two", settings, DAY)
    for name in one.files():
        assert (one.folder / name).read_bytes() == (two.folder / name).read_bytes(), name
    assert "_:c14n0" in (one.folder / "zitkg.ttl").read_text()


def test_no_csv_cell_starts_with_a_formula(store, settings, tmp_path):
    nasty = {
        "hyperlink": '=HYPERLINK("http://example.org","kliknij")',
        "plus": "+48 formuła",
        "minus": "-2+3",
        "at": "@SUM(A1:A3)",
        "tab": "\t=1+1",
    }
    triples = [t for slug, label in nasty.items()
               for t in practice(f"formula-{slug}", label, **{"http://purl.org/dc/terms/description": label})]
    store.replace_graphs({GRAPH_BASE + "submission/formulas": triples})
    release = export(store, tmp_path / "out", settings, DAY)
    cells = []
    for table in TABLES:
        with open(release.folder / f"{table.name}.csv", encoding="utf-8", newline="") as fh:
            cells += [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA)]
    for label in nasty.values():
        assert "'" + label in cells
    assert "'+48 000 000 001" in cells  # a consented telephone number, defused too


def test_csvw_metadata_describes_every_column(release):
    meta = json.loads((release.folder / "csv-metadata.json").read_text(encoding="utf-8"))
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw"
    assert [t["url"] for t in meta["tables"]] == [f"{t.name}.csv" for t in TABLES]
    for table in meta["tables"]:
        with open(release.folder / table["url"], encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        columns = table["tableSchema"]["columns"]
        assert rows[0] == [c["name"] for c in columns]
        assert len(rows) > 1, table["url"]
        for column in columns:
            assert set(column["titles"]) == {"und", "pl", "en"}
            assert column["titles"]["und"] == [column["name"]]
            assert column["datatype"] in {"anyURI", "string", "date", "gYear", "decimal", "boolean"}
        iri = columns[0]
        assert iri["name"] == "iri" and iri["datatype"] == "anyURI"
        assert table["tableSchema"]["primaryKey"] == "iri"
        for row in rows[1:]:
            assert row[0].startswith(ID)
    practices = next(t for t in meta["tables"] if t["url"] == "practices.csv")["tableSchema"]["columns"]
    by_name = {c["name"]: c for c in practices}
    assert by_name["label_pl"]["lang"] == "pl" and by_name["created"]["datatype"] == "date"
    assert by_name["theme"]["propertyUrl"] == ZIT + "theme" and by_name["theme"]["valueUrl"] == "{+theme}"
    assert by_name["theme_label_en"]["suppressOutput"] is True


def test_csv_tables_carry_labels_and_iris(release):
    with open(release.folder / "memberships.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    bof = next(r for r in rows if r["iri"] == f"{ID}membership/co4energy-bof")
    assert bof["member"] == f"{ID}org/bof" and bof["role"] == f"{ID}role/leader"
    assert bof["member_label_pl"] == "Stowarzyszenie Białostockiego Obszaru Funkcjonalnego"
    assert bof["network_label_en"] and bof["role_label_pl"]
    with open(release.folder / "organisations.csv", encoding="utf-8", newline="") as fh:
        orgs = {r["iri"]: r for r in csv.DictReader(fh)}
    assert len(orgs) == 11 and orgs[f"{ID}org/bof"]["voivodeship"] == f"{ID}voivodeship/20"


def test_graphml_is_valid_and_holds_the_network(release):
    path = release.folder / "zitkg.graphml"
    root = ET.parse(path).getroot()
    graph = root.find("g:graph", GRAPHML_NS)
    nodes = {n.get("id"): {d.get("key"): d.text for d in n.findall("g:data", GRAPHML_NS)}
             for n in graph.findall("g:node", GRAPHML_NS)}
    kinds = {n["kind"] for n in nodes.values()}
    assert kinds == {"organisation", "network", "practice", "mof", "expert", "theme"}
    edges = graph.findall("g:edge", GRAPHML_NS)
    assert len({e.get("id") for e in edges}) == len(edges)
    edge_kinds = set()
    for edge in edges:
        assert edge.get("source") in nodes and edge.get("target") in nodes
        edge_kinds |= {d.text for d in edge.findall("g:data", GRAPHML_NS) if d.get("key") == "e_kind"}
    assert {"membership", "pilot", "support", "theme", "competence", "broader"} <= edge_kinds
    assert sum(n["kind"] == "network" for n in nodes.values()) == 5
    import networkx  # the GraphML reader Gephi-style tools share

    loaded = networkx.read_graphml(path)
    assert loaded.number_of_nodes() == len(nodes) and loaded.number_of_edges() == len(edges)


def test_sha256sums_cover_every_file(release):
    lines = (release.folder / SUMS).read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == set(release.files()) - {SUMS}
    for name, digest in listed.items():
        assert hashlib.sha256((release.folder / name).read_bytes()).hexdigest() == digest
    manifest = json.loads((release.folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert entry["sha256"] == listed[entry["name"]]
        assert entry["bytes"] == (release.folder / entry["name"]).stat().st_size


def test_changelog_against_the_previous_release(store, settings, tmp_path):
    out = tmp_path / "releases"
    first = export(store, out, settings, date(2025, 1, 10))
    assert "Pierwsze wydanie" in (first.folder / "CHANGELOG.md").read_text()
    store.replace_graphs({GRAPH_BASE + "submission/new": practice("nowa-praktyka", "Nowa praktyka")})
    store.drop_graphs([GRAPH_BASE + "submission/none"])
    second = export(store, out, settings, date(2025, 2, 10))
    log = (second.folder / "CHANGELOG.md").read_text()
    assert f"Zmiany względem wydania {first.name}" in log and f"Changes since release {first.name}" in log
    assert log.count(f"<{ID}practice/nowa-praktyka>") == 2  # listed in Polish and in English
    assert "- dodane trójki: 2" in log and "- triples added: 2" in log and "- triples removed: 0" in log
    changes = second.manifest["changes"]
    assert changes["previous"] == first.name and changes["subjects_added"] == [f"{ID}practice/nowa-praktyka"]
    assert second.manifest["first_issued"] == "2025-01-10"
    store.drop_graphs([GRAPH_BASE + "submission/new"])
    third = export(store, out, settings, date(2025, 3, 10))
    assert third.manifest["changes"]["subjects_removed"] == [f"{ID}practice/nowa-praktyka"]
    assert third.manifest["data_hash"] == first.manifest["data_hash"]


def _private_values() -> set[str]:
    """Contact values of the bundled examples that have no consent (they must never be published)."""
    private = set()
    for path in sorted((resources.data_dir() / "examples").glob("*.ttl")):
        _public, withheld = split_private(read_turtle(path))
        private |= {t.object.value for t in withheld if t.predicate.value in CONTACT_PROPERTIES}
    return private


def test_no_personal_field_without_consent_in_any_file(release):
    private = _private_values()
    assert any(v.endswith("@example.org") for v in private)
    texts = file_texts(release.folder)
    for name, text in texts.items():
        leaked = [v for v in private if v in text]
        assert leaked == [], name
    assert "anna.przykladowa@example.org" in texts["experts.csv"]  # consented: published
    assert "anna.przykladowa@example.org" in texts["zitkg.ttl"]


def test_unpublished_graphs_appear_in_no_file(store, settings, tmp_path):
    secret = ox.NamedNode(f"{ID}practice/nieopublikowana-xyz")
    triples = [ox.Triple(secret, RDF_TYPE, ox.NamedNode(ZIT + "GoodPractice")),
               ox.Triple(secret, RDFS_LABEL, ox.Literal("Czeka na recenzję QWERTY", language="pl"))]
    store.replace_graphs({GRAPH_BASE + "submission/pending": triples}, published=False)
    release = export(store, tmp_path / "out", settings, DAY)
    for name, text in file_texts(release.folder).items():
        assert "nieopublikowana-xyz" not in text and "QWERTY" not in text, name
        assert "submission/pending" not in text, name


def test_cli_export_writes_a_release(tmp_path):
    from zitkg.cli import main

    out = tmp_path / "out"
    args = ["export", str(out), "--store", str(tmp_path / "store"), "--date", "2025-04-01"]
    result = CliRunner().invoke(main, args, env={"ZITKG_PUBLIC_URL": "https://zit.example.org/"})
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip())
    assert folder.parent == out and folder.name.startswith("2025-04-01_")
    assert (folder / SUMS).is_file()
    catalog = Graph().parse(folder / "catalog.ttl")
    assert (None, URIRef("http://www.w3.org/ns/dcat#downloadURL"),
            URIRef("https://zit.example.org/downloads/zitkg.ttl")) in catalog
    bad = CliRunner().invoke(main, ["export", str(out), "--date", "14.03.2025"])
    assert bad.exit_code == 2
