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


def _with_sentences(i: int) -> tuple[tuple[Article, list[Chunk], np.ndarray], tuple]:
    """Article ``a{i}`` with two one-sentence chunks; sentence vector of chunk j is axis 2i+j."""
    text = f"First sentence of article {i}. Second sentence of article {i}."
    half = text.index(" Second")
    article = Article(id=f"a{i}", title=f"T{i}", text=text, lang="en")
    chunks = [Chunk(f"a{i}:0", f"a{i}", 0, text[:half], 0, half, f"T{i}", "en"),
              Chunk(f"a{i}:1", f"a{i}", 1, text[half + 1:], half + 1, len(text), f"T{i}", "en")]
    sentences = np.eye(16, dtype=np.float32)[[2 * i, 2 * i + 1]]
    return (article, chunks, np.full((2, 16), 0.25, np.float32)), (sentences, np.array([0, 1]))


def _sentence_index(ids) -> Index:
    pairs = [_with_sentences(i) for i in ids]
    return Index.empty("fake", 16, 50, 10, sentence_vectors=True).updated(
        [a for a, _ in pairs], set(), [s for _, s in pairs])


@pytest.mark.parametrize("limit", [100_000, 2])  # flat, and HNSW for the sentences
def test_sentence_vectors_follow_their_chunks_through_updates_and_a_round_trip(
        tmp_path, monkeypatch, limit):
    import rag.store as store
    monkeypatch.setattr(store, "EXACT_SEARCH_LIMIT", limit)
    article, sentences = _with_sentences(3)
    index = _sentence_index([0, 1, 2]).updated([article], {"a1"}, [sentences])
    index.save(tmp_path)
    loaded = Index.open(tmp_path, embedder="fake")
    assert loaded.manifest.sentence_vectors and loaded.manifest.n_sentences == 6
    for i in (0, 2, 3):
        for j in (0, 1):
            rows = loaded.search_sentences(np.eye(16, dtype=np.float32)[2 * i + j], k=1)
            assert loaded.chunks[rows[0]].id == f"a{i}:{j}"
    rows = np.arange(len(loaded.chunks))
    best = loaded.best_sentence_cosines(rows, np.eye(16, dtype=np.float32)[5])  # a2:1
    assert [loaded.chunks[r].id for r in rows[best > 0.9]] == ["a2:1"]
    allowed = np.array([r for r in rows if loaded.chunks[r].article_id == "a0"])
    found = loaded.search_sentences(np.eye(16, dtype=np.float32)[4], k=3, allowed=allowed)
    assert {loaded.chunks[r].article_id for r in found} == {"a0"}


def test_an_index_without_sentence_vectors_has_none_and_needs_none():
    index = _index()
    assert index.sentences is None and not index.manifest.sentence_vectors
    assert len(index.search_sentences(np.eye(8, dtype=np.float32)[0], k=3)) == 0
    with pytest.raises(ValueError, match="sentence vectors"):
        _sentence_index([0]).updated([_with_sentences(1)[0]], set())
