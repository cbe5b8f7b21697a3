import numpy as np
import pytest

from rag.chunking import Chunk
from rag.corpus import Article
from rag.store import Index, StoreError, current_generation


def _article(i: int) -> tuple[Article, list[Chunk], np.ndarray]:
    text = f"Article number {i} talks about topic {i}."
    article = Article(id=f"a{i}", title=f"T{i}", text=text, lang="en")
    chunk = Chunk(f"a{i}:0", f"a{i}", 0, text, 0, len(text), f"T{i}", "en")
    vector = np.zeros((1, 8), np.float32)
    vector[0, i % 8] = 1.0
    return article, [chunk], vector


def _index(n: int = 3) -> Index:
    return Index.empty("fake", 8, 50, 10).updated([_article(i) for i in range(n)], set())


def test_save_and_open_round_trip(tmp_path):
    index = _index()
    index.save(tmp_path)
    loaded = Index.open(tmp_path, embedder="fake")
    assert loaded.chunks == index.chunks
    assert loaded.articles == index.articles
    rows, scores = loaded.search_dense(np.eye(8, dtype=np.float32)[2], k=1)
    assert loaded.chunks[rows[0]].article_id == "a2" and scores[0] == pytest.approx(1.0)
    assert dict(loaded.manifest.article_hashes).keys() == {"a0", "a1", "a2"}


def test_updates_remove_and_replace_without_touching_others(tmp_path):
    index = _index().updated([_article(5)], {"a1"})
    assert sorted(index.articles) == ["a0", "a2", "a5"]
    assert [c.article_id for c in index.chunks] == ["a0", "a2", "a5"]
    rows, _ = index.search_dense(np.eye(8, dtype=np.float32)[5], k=1)
    assert index.chunks[rows[0]].article_id == "a5"


def test_another_embedder_is_refused_with_the_fix(tmp_path):
    _index().save(tmp_path)
    with pytest.raises(StoreError, match=r"built with embedder 'fake'.*rag index --rebuild"):
        Index.open(tmp_path, embedder="other-model")


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(StoreError, match="rag index"):
        Index.open(tmp_path / "nothing")


def test_corrupt_or_truncated_file_is_detected(tmp_path):
    gen = _index().save(tmp_path)
    target = gen / "chunks.jsonl"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(StoreError, match="corrupt"):
        Index.open(tmp_path, embedder="fake")


def test_failed_write_leaves_the_old_index(tmp_path, monkeypatch):
    _index(2).save(tmp_path)
    before = current_generation(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr("rag.store.faiss.write_index", boom)
    with pytest.raises(OSError):
        _index(4).save(tmp_path)
    assert current_generation(tmp_path) == before
    assert len(Index.open(tmp_path, embedder="fake").articles) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_filtered_dense_search_only_returns_allowed_rows():
    index = _index(4)
    rows, _ = index.search_dense(np.eye(8, dtype=np.float32)[1], k=4, allowed=np.array([0, 3]))
    assert set(rows.tolist()) <= {0, 3}


def test_missing_generation_named_by_current_is_an_error_not_an_empty_index(tmp_path):
    import shutil
    gen = _index().save(tmp_path)
    shutil.rmtree(gen)
    with pytest.raises(StoreError, match="is missing"):
        Index.open(tmp_path, embedder="fake")


def test_other_chunking_settings_are_refused(tmp_path):
    _index().save(tmp_path)
    assert Index.open(tmp_path, embedder="fake", chunking=(50, 10)).chunks
    with pytest.raises(StoreError, match=r"chunks of 50 tokens.*asks? for 80"):
        Index.open(tmp_path, embedder="fake", chunking=(80, 10))


def test_index_chunked_by_an_older_chunker_is_refused_with_the_fix(tmp_path):
    import json
    gen = _index().save(tmp_path)
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["chunker"] == 2
    del manifest["chunker"]  # written before the chunker version was recorded
    (gen / "manifest.json").write_text(json.dumps(manifest))
    assert Index.open(tmp_path, embedder="fake").chunks  # readable for inspection
    with pytest.raises(StoreError, match=r"chunker version 1.*rag index --rebuild"):
        Index.open(tmp_path, embedder="fake", chunking=(50, 10))


@pytest.mark.parametrize("limit", [100_000, 2])  # flat, and HNSW from 3 chunks on
def test_an_update_that_only_adds_extends_a_copy_and_matches_a_rebuild(monkeypatch, limit):
    import rag.store as store
    monkeypatch.setattr(store, "EXACT_SEARCH_LIMIT", limit)
    before = _index(3)
    build = store.build_faiss
    monkeypatch.setattr(store, "build_faiss", None)  # the added path must not rebuild
    grown = before.updated([_article(i) for i in range(3, 6)], set())
    monkeypatch.setattr(store, "build_faiss", build)
    rebuilt = Index.empty("fake", 8, 50, 10).updated([_article(i) for i in range(6)], set())
    assert before.dense.ntotal == 3  # snapshots are immutable
    assert grown.manifest.faiss_type == rebuilt.manifest.faiss_type
    assert np.array_equal(grown.vectors(), rebuilt.vectors())
    for axis in range(6):
        rows, _ = grown.search_dense(np.eye(8, dtype=np.float32)[axis], k=1)
        assert grown.chunks[rows[0]].article_id == f"a{axis}"


def test_hnsw_search_breadth_grows_with_the_index(monkeypatch, tmp_path):
    import rag.store as store
    assert store.hnsw_ef_search(50_000) == store.HNSW_EF_SEARCH
    assert store.HNSW_EF_SEARCH < store.hnsw_ef_search(300_000) < store.HNSW_EF_SEARCH_MAX
    assert store.hnsw_ef_search(10**8) == store.HNSW_EF_SEARCH_MAX
    monkeypatch.setattr(store, "EXACT_SEARCH_LIMIT", 2)  # HNSW from 3 vectors on
    small = _index(3)
    grown = small.updated([_article(i) for i in range(3, 6)], set())  # extends a copy
    assert small.dense.hnsw.efSearch == store.hnsw_ef_search(3)
    assert grown.dense.hnsw.efSearch == store.hnsw_ef_search(6) > store.hnsw_ef_search(3)
    grown.save(tmp_path)
    assert Index.open(tmp_path, embedder="fake").dense.hnsw.efSearch == store.hnsw_ef_search(6)
