"""The local store: generations on disk, checksums, refusals, and the in-memory snapshot."""

import json
import shutil

import numpy as np
import pytest

from rag.chunking import Chunk
from rag.corpus import Article
from rag.filters import Filters
from rag.local_store import LocalStore, current_generation
from rag.store import Change, SentenceVectors, StoreError
from tests.helpers.stores import entry, local_store, manifest, snapshot


def _entry(i: int, dim: int = 8):
    text = f"Article number {i} talks about topic {i}."
    article = Article(id=f"a{i}", title=f"T{i}", text=text, lang="en")
    chunk = Chunk(f"a{i}:0", f"a{i}", 0, text, 0, len(text), f"T{i}", "en")
    vector = np.zeros((1, dim), np.float32)
    vector[0, i % dim] = 1.0
    return entry(article, [chunk], vector)


def _store(tmp_path, n: int = 3, **kw) -> LocalStore:
    return local_store(tmp_path, [_entry(i) for i in range(n)], 8, tokens=50, overlap=10, **kw)


def _open(tmp_path, **kw) -> LocalStore:
    return LocalStore.open(tmp_path, manifest(kw.pop("dim", 8), tokens=kw.pop("tokens", 50),
                                              overlap=kw.pop("overlap", 10), **kw))


def test_save_and_open_round_trip(tmp_path):
    written = _store(tmp_path)
    loaded = _open(tmp_path)
    assert loaded.chunks(["a0:0", "a1:0", "a2:0"]) == written.chunks(["a0:0", "a1:0", "a2:0"])
    assert {a.id for a in loaded.articles()} == {"a0", "a1", "a2"}
    found = loaded.search_dense(np.eye(8, dtype=np.float32)[2], k=1)
    assert found.ids == ("a2:0",) and found.scores[0] == pytest.approx(1.0)


def test_updates_remove_and_replace_without_touching_others(tmp_path):
    store = _store(tmp_path)
    store.apply(Change((_entry(5),), frozenset({"a1"})))
    assert sorted(a.id for a in store.articles()) == ["a0", "a2", "a5"]
    assert store.search_dense(np.eye(8, dtype=np.float32)[5], k=1).ids == ("a5:0",)
    assert store.chunks(["a1:0"]) == []


def test_another_embedder_is_refused_with_the_fix(tmp_path):
    _store(tmp_path)
    with pytest.raises(StoreError, match=r"built with embedder 'fake-embedder'.*rag index --rebuild"):
        _open(tmp_path, embedder="other-model")


def test_corrupt_or_truncated_file_is_detected(tmp_path):
    _store(tmp_path)
    target = current_generation(tmp_path) / "chunks.jsonl"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(StoreError, match="corrupt"):
        _open(tmp_path)


def test_failed_write_leaves_the_old_index(tmp_path, monkeypatch):
    store = _store(tmp_path, n=2)
    before = current_generation(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr("rag.local_store.faiss.write_index", boom)
    with pytest.raises(OSError):
        store.apply(Change((_entry(4),)))
    assert current_generation(tmp_path) == before
    assert len(_open(tmp_path).articles()) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_filtered_dense_search_only_returns_allowed_passages(tmp_path):
    store = _store(tmp_path, n=4)
    found = store.search_dense(np.eye(8, dtype=np.float32)[1], k=4,
                               filters=Filters(sources=("nowhere",)))
    assert found.ids == ()


def test_missing_generation_named_by_current_is_an_error_not_an_empty_index(tmp_path):
    _store(tmp_path)
    shutil.rmtree(current_generation(tmp_path))
    with pytest.raises(StoreError, match="is missing"):
        _open(tmp_path)


def test_other_chunking_settings_are_refused(tmp_path):
    _store(tmp_path)
    assert _open(tmp_path).articles()
    with pytest.raises(StoreError, match=r"chunks of 50 tokens.*asks? for 80"):
        _open(tmp_path, tokens=80)


def test_index_chunked_by_an_older_chunker_is_refused_with_the_fix(tmp_path):
    _store(tmp_path)
    path = current_generation(tmp_path) / "manifest.json"
    record = json.loads(path.read_text())
    assert record["chunker"] == 2
    record["chunker"] = 1
    path.write_text(json.dumps(record))
    with pytest.raises(StoreError, match=r"chunker version 1.*rag index --rebuild"):
        _open(tmp_path)


def test_a_fresh_store_leaves_the_old_index_until_its_first_write(tmp_path):
    _store(tmp_path)
    before = current_generation(tmp_path)
    fresh = LocalStore.open(tmp_path, manifest(8, tokens=80, overlap=10), fresh=True)
    assert fresh.articles() == [] and current_generation(tmp_path) == before
    fresh.apply(Change((_entry(7),)))
    assert [a.id for a in _open(tmp_path, tokens=80).articles()] == ["a7"]


@pytest.mark.parametrize("limit", [100_000, 2])  # flat, and HNSW from 3 vectors on
def test_an_update_that_only_adds_extends_a_copy_and_matches_a_rebuild(monkeypatch, limit):
    import rag.snapshot as snap
    monkeypatch.setattr(snap, "EXACT_SEARCH_LIMIT", limit)
    before = snapshot([_entry(i) for i in range(3)], 8)
    build = snap.build_faiss
    monkeypatch.setattr(snap, "build_faiss", None)  # the added path must not rebuild
    grown = before.updated(Change(tuple(_entry(i) for i in range(3, 6))))
    monkeypatch.setattr(snap, "build_faiss", build)
    rebuilt = snapshot([_entry(i) for i in range(6)], 8)
    assert before.dense.ntotal == 3  # snapshots are immutable
    assert np.array_equal(grown.dense.reconstruct_n(0, 6), rebuilt.dense.reconstruct_n(0, 6))
    for axis in range(6):
        assert grown.search_dense(np.eye(8, dtype=np.float32)[axis], 1, None).ids == (f"a{axis}:0",)


def test_hnsw_search_breadth_grows_with_the_index(monkeypatch, tmp_path):
    import rag.snapshot as snap
    assert snap.hnsw_ef_search(50_000) == snap.HNSW_EF_SEARCH
    assert snap.HNSW_EF_SEARCH < snap.hnsw_ef_search(300_000) < snap.HNSW_EF_SEARCH_MAX
    assert snap.hnsw_ef_search(10**8) == snap.HNSW_EF_SEARCH_MAX
    monkeypatch.setattr(snap, "EXACT_SEARCH_LIMIT", 2)  # HNSW from 3 vectors on
    small = snapshot([_entry(i) for i in range(3)], 8)
    grown = small.updated(Change(tuple(_entry(i) for i in range(3, 6))))  # extends a copy
    assert small.dense.hnsw.efSearch == snap.hnsw_ef_search(3)
    assert grown.dense.hnsw.efSearch == snap.hnsw_ef_search(6) > snap.hnsw_ef_search(3)
    store = local_store(tmp_path, [_entry(i) for i in range(6)], 8, tokens=50, overlap=10)
    assert _open(tmp_path).snapshot().dense.hnsw.efSearch == snap.hnsw_ef_search(6)
    assert store.stats().chunks == 6


def _with_sentences(i: int):
    """Article ``a{i}`` with two one-sentence chunks; sentence vector of chunk j is axis 2i+j."""
    text = f"First sentence of article {i}. Second sentence of article {i}."
    half = text.index(" Second")
    article = Article(id=f"a{i}", title=f"T{i}", text=text, lang="en")
    chunks = [Chunk(f"a{i}:0", f"a{i}", 0, text[:half], 0, half, f"T{i}", "en"),
              Chunk(f"a{i}:1", f"a{i}", 1, text[half + 1:], half + 1, len(text), f"T{i}", "en")]
    eye = np.eye(16, dtype=np.float32)
    sentences = [SentenceVectors(c.id, ((c.start, c.end),), eye[[2 * i + j]])
                 for j, c in enumerate(chunks)]
    return entry(article, chunks, np.full((2, 16), 0.25, np.float32), sentences)


@pytest.mark.parametrize("limit", [100_000, 2])  # flat, and HNSW for the sentences
def test_sentence_vectors_follow_their_chunks_through_updates_and_a_round_trip(
        tmp_path, monkeypatch, limit):
    import rag.snapshot as snap
    monkeypatch.setattr(snap, "EXACT_SEARCH_LIMIT", limit)
    store = local_store(tmp_path, [_with_sentences(i) for i in (0, 1, 2)], 16)
    store.apply(Change((_with_sentences(3),), frozenset({"a1"})))
    loaded = LocalStore.open(tmp_path, manifest(16))
    assert loaded.stats().sentences == 6
    eye = np.eye(16, dtype=np.float32)
    for i in (0, 2, 3):
        for j in (0, 1):
            assert loaded.search_sentences(eye[2 * i + j], k=1).ids == (f"a{i}:{j}",)
    (found,) = loaded.sentences(["a2:1"])
    assert found.spans == ((found.spans[0][0], found.spans[0][1]),)
    assert float(found.vectors[0] @ eye[5]) == pytest.approx(1.0)
    only_a0 = loaded.search_sentences(eye[4], k=3, filters=Filters(authors=("nobody",)))
    assert only_a0.ids == ()


def test_a_store_without_sentence_vectors_has_none_and_needs_none(tmp_path):
    store = _store(tmp_path, sentences=False)
    assert store.stats().sentences == 0 and not store.manifest().sentence_vectors
    assert store.search_sentences(np.eye(8, dtype=np.float32)[0], k=3).ids == ()
    with_them = snapshot([_with_sentences(0)], 16)
    full = _with_sentences(1)
    bare = entry(full.article, full.chunks, full.vectors, sentences=[])
    with pytest.raises(ValueError, match="sentence vectors"):
        with_them.updated(Change((bare,)))
