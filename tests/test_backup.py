"""Backups: dump a live store (with a pending submission and private data) and restore it elsewhere."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
from click.testing import CliRunner

from zitkg.cli import main
from zitkg.store import OxigraphStore


def test_dump_and_restore_round_trip(tmp_path, store):
    pending = "https://w3id.org/sieci-zit/graph/submission/0123456789abcdef"
    store.replace_graphs({pending: [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c"))]},
                         published=False)
    store.close()
    source = tmp_path / "store"
    dump_file = tmp_path / "backup.nq.gz"
    result = CliRunner().invoke(main, ["dump", str(dump_file), "--store", str(source)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "restored"
    result = CliRunner().invoke(main, ["restore", str(dump_file), "--store", str(target)])
    assert result.exit_code == 0, result.output

    original, restored = OxigraphStore(source, read_only=True), OxigraphStore(target)
    assert restored.quad_count() == original.quad_count()
    assert set(map(str, restored.quads())) == set(map(str, original.quads()))
    assert restored.published_graphs() == original.published_graphs()
    assert pending not in restored.published_graphs() and pending in restored.named_graphs()
    # the restored store answers public queries from its published graphs only
    assert not list(restored.read_store().quads_for_pattern(None, None, None, ox.NamedNode(pending)))
    second = tmp_path / "again.nq.gz"
    CliRunner().invoke(main, ["dump", str(second), "--store", str(target)])
    assert gzip.decompress(second.read_bytes()) == gzip.decompress(dump_file.read_bytes())


def test_restore_of_a_broken_file_fails_cleanly(tmp_path):
    bad = tmp_path / "bad.nq"
    bad.write_text("<urn:a> <urn:b> .\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["restore", str(bad), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "not valid N-Quads" in result.output


def test_a_restore_broken_half_way_leaves_the_store_empty(tmp_path):
    """The bulk loader is not one transaction; a parse error after good lines still changes nothing."""
    good = "".join(f"<urn:s{i}> <urn:p> \"{i}\" <urn:g> .\n" for i in range(5000))
    bad = tmp_path / "half.nq"
    bad.write_text(good + "<urn:a> <urn:b> .\n", encoding="utf-8")
    target = tmp_path / "s"
    result = CliRunner().invoke(main, ["restore", str(bad), "--store", str(target)])
    assert result.exit_code == 2 and "not valid N-Quads" in result.output and "5001" in result.output
    assert OxigraphStore(target, read_only=True).quad_count() == 0


def test_restore_into_a_store_with_data_replaces_the_dumped_graphs(tmp_path):
    """The first restore fills an empty store (bulk loader), the second replaces graphs (one update)."""
    target = tmp_path / "store"
    first, second = tmp_path / "first.nq", tmp_path / "second.nq"
    graph = "<https://w3id.org/sieci-zit/graph/extra>"
    first.write_text(f'<urn:s> <urn:p> "old" {graph} .\n<urn:t> <urn:p> "kept" <urn:other> .\n', encoding="utf-8")
    second.write_text(f'<urn:s> <urn:p> "new" {graph} .\n', encoding="utf-8")
    for dump_file in (first, second):
        result = CliRunner().invoke(main, ["restore", str(dump_file), "--store", str(target)])
        assert result.exit_code == 0, result.output
    quads = {str(q) for q in OxigraphStore(target, read_only=True).quads()}
    assert f'<urn:s> <urn:p> "new" {graph}' in quads
    assert f'<urn:s> <urn:p> "old" {graph}' not in quads
    assert '<urn:t> <urn:p> "kept" <urn:other>' in quads
