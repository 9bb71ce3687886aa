"""The embedded store: bundled graphs, idempotent and atomic loading, memory copy in step with disk."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from zitkg.bundle import bundled_graphs, ensure_loaded, load_bundled
from zitkg.store import GRAPH_BASE, META_GRAPH, OxigraphStore


def _quads(store: OxigraphStore) -> set[str]:
    # Blank nodes get fresh labels on every load; compare with them masked out.
    return {
        str(q) if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object)) else "bnode-quad"
        for q in store.read_store().quads_for_pattern(None, None, None, None)
    }


def test_each_bundled_source_has_its_named_graph(store):
    names = {g.iri for g in bundled_graphs()}
    assert names == {GRAPH_BASE + n for n in ("ontology", "vocabularies", "themes", "programme", "examples")}
    assert set(store.published_graphs()) == names
    assert META_GRAPH in store.named_graphs()
    for graph in names:
        assert any(True for _ in store.read_store().quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def test_loading_twice_changes_nothing(store):
    before_count, before = store.quad_count(), _quads(store)
    load_bundled(store)
    assert store.quad_count() == before_count
    assert _quads(store) == before


def test_examples_are_in_their_own_graph_and_marked(store):
    examples = ox.NamedNode(GRAPH_BASE + "examples")
    is_example = ox.NamedNode("https://w3id.org/sieci-zit/ontology#isExample")
    practice = ox.NamedNode("https://w3id.org/sieci-zit/ontology#GoodPractice")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    practices = {q.subject for q in store.read_store().quads_for_pattern(None, rdf_type, practice, None)}
    assert len(practices) >= 25
    for p in practices:
        assert list(store.read_store().quads_for_pattern(p, is_example, ox.Literal(True), examples)), p


def test_disk_is_the_record_and_reopens_with_the_same_data(tmp_path):
    path = tmp_path / "store"
    first = OxigraphStore(path)
    assert ensure_loaded(first) is True
    count = first.quad_count()
    first.close()
    del first
    reopened = OxigraphStore(path)
    assert reopened.quad_count() == count
    assert ensure_loaded(reopened) is False  # not empty: nothing is loaded again
    assert reopened.disk is not reopened.read_store()  # reads come from the in-memory copy


def test_a_write_reaches_disk_and_memory_in_one_step(store):
    version = store.version
    graph = "https://w3id.org/sieci-zit/graph/test"
    triple = ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c"))
    store.replace_graphs({graph: [triple]})
    assert store.version == version + 1
    for s in (store.disk, store.read_store()):
        assert len(list(s.quads_for_pattern(None, None, None, ox.NamedNode(graph)))) == 1
    assert graph in store.published_graphs()
    store.drop_graphs([graph])
    assert graph not in store.published_graphs() and graph not in store.named_graphs()


def test_a_failed_load_leaves_the_store_unchanged(store, monkeypatch, tmp_path):
    """A broken file anywhere in the bundle means nothing of the bundle is replaced."""
    import zitkg.bundle as bundle

    bad = tmp_path / "bad.ttl"
    bad.write_text("<urn:a> <urn:b> .\n", encoding="utf-8")
    original = bundle.bundled_graphs()
    broken = [*original[:-1], bundle.BundledGraph("examples", (*original[-1].files, bad))]
    monkeypatch.setattr(bundle, "bundled_graphs", lambda: broken)
    before = _quads(store)
    with pytest.raises(Exception, match=r"bad\.ttl"):
        bundle.load_bundled(store)
    assert _quads(store) == before


def test_result_cache_serves_repeats_and_a_write_empties_it(store, settings):
    from zitkg.sparql.service import SparqlService

    service = SparqlService(store, settings)
    try:
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        first = service.query(query)
        assert service.query(query) is first  # the same answer object: no evaluation
        graph = "https://w3id.org/sieci-zit/graph/test"
        store.replace_graphs({graph: [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c"))]})
        after = service.query(query)
        assert after is not first and after.body != first.body
    finally:
        service.close()
