"""The store contract: the same tests against every `Store` implementation.

Each test runs on the local index folder (`LocalStore`) and on a real PostgreSQL +
pgvector server (`PostgresStore`, started on 127.0.0.1 by tests/helpers/postgres.py).
Expected results are computed independently: nearest passages by brute force over the
fixture's vectors, keyword scores by `rag.lexical.KeywordIndex` (the definition of BM25
ranking), filters by `Filters.allows`.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from rag.filters import Filters
from rag.keyword_index import KeywordIndex
from rag.store import Change, Store, StoreError, StoreStats
from tests.fakes import FakeEmbedder
from tests.helpers import postgres
from tests.helpers.store_corpus import ARTICLES, entries, entry, manifest

QUERY_TEXTS = ("electric cranes in the harbour", "vendemmia anticipo siccità",
               "telescope galaxy stars", "budget 250 million", "treni autobus pendolari",
               "formaggio latte malga")
FILTERS = (Filters(sources=("PORT GAZETTE",)), Filters(date_from="2024-03-02"),
           Filters(date_to="2024-03-02", undated=False), Filters(authors=("bob lee",)),
           Filters(date_from="2024-01-01", date_to="2024-08-31", sources=("Gusto", "Port Gazette")),
           Filters(sources=("nobody",)))


def database_url() -> str:
    try:
        return postgres.new_database()
    except postgres.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(params=["local", "postgres"])
def opener(request, tmp_path):
    """``opener(manifest, fresh=False)``: the test's store (same place at every call)."""
    opened: list[Store] = []
    if request.param == "local":
        from rag.local_store import LocalStore
        folder = tmp_path / "index"

        def open_one(wanted, fresh=False):
            return LocalStore.open(folder, wanted, fresh=fresh)
    else:
        from rag.pg_store import PostgresStore
        url = database_url()

        def open_one(wanted, fresh=False):
            return PostgresStore.open(url, wanted, fresh=fresh)

    def tracked(wanted=None, fresh=False):
        store = open_one(wanted or manifest(), fresh)
        opened.append(store)
        return store

    yield tracked
    for store in opened:
        store.close()


@pytest.fixture
def store(opener):
    store = opener()
    store.apply(Change(added=entries()))
    return store


def all_chunks():
    return [(c, v, e.article) for e in entries() for c, v in zip(e.chunks, e.vectors)]


def query_vector(text: str) -> np.ndarray:
    return FakeEmbedder().embed([text], kind="query")[0]


def cosines(vector, filters=None) -> dict[str, float]:
    """Brute force: chunk id -> cosine, over the passages ``filters`` allow."""
    return {c.id: float(v @ vector) for c, v, a in all_chunks()
            if not filters or filters.allows(c, a)}


def assert_ranked_alike(found, expected: dict[str, float], k: int):
    """``found`` holds the ``k`` best of ``expected`` (id -> score): the same scores, best
    first; ties may come in any order."""
    best = sorted(expected.values(), reverse=True)[:k]
    np.testing.assert_allclose(found.scores, best, rtol=1e-4, atol=1e-5)
    assert len(set(found.ids)) == len(found.ids)
    np.testing.assert_allclose([expected[i] for i in found.ids], found.scores,
                               rtol=1e-4, atol=1e-5)


def bm25(query):
    """Chunk id -> BM25 score by the keyword index the local store is defined by."""
    chunks = [c for c, _, _ in all_chunks()]
    scores = KeywordIndex.build([c.text for c in chunks], [c.lang for c in chunks]).scores(query)
    return {c.id: float(s) for c, s in zip(chunks, scores)}


# --------------------------------------------------------------------------- contents

def test_an_empty_store_is_empty_and_searchable(opener):
    store = opener()
    assert store.stats() == StoreStats(0, 0, 0)
    assert store.articles() == [] and store.article("a-harbour") is None
    assert len(store.search_dense(query_vector("cranes"), 5)) == 0
    assert len(store.search_keyword("cranes", 5)) == 0
    assert len(store.search_sentences(query_vector("cranes"), 5)) == 0
    assert list(store.entries()) == []


def test_articles_and_passages_come_back_as_stored(store):
    stored = entries()
    assert store.stats() == StoreStats(
        len(ARTICLES), sum(len(e.chunks) for e in stored),
        sum(len(s.spans) for e in stored for s in e.sentences))
    assert sorted(store.articles(), key=lambda a: a.id) == sorted(ARTICLES, key=lambda a: a.id)
    assert store.article("b-vendemmia") == ARTICLES[1]
    chunks = [c for e in stored for c in e.chunks]
    wanted = [chunks[3].id, "no-such:0", chunks[0].id]
    assert store.chunks(wanted) == [chunks[3], chunks[0]]  # in order, unknown left out
    assert len([e for e in stored if len(e.chunks) > 1]) == 1  # the long article is split


def test_entries_give_back_everything_with_its_vectors(store):
    by_id = {e.article.id: e for e in store.entries()}
    for original in entries():
        copy = by_id[original.article.id]
        assert copy.article == original.article and copy.chunks == original.chunks
        np.testing.assert_allclose(copy.vectors, original.vectors, atol=1e-6)
        assert [s.spans for s in copy.sentences] == [s.spans for s in original.sentences]
        for a, b in zip(copy.sentences, original.sentences):
            np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)


def test_a_copy_through_entries_searches_alike(store, opener, tmp_path):
    from rag.local_store import LocalStore
    copy = LocalStore.open(tmp_path / "copy", manifest())
    copy.apply(Change(added=tuple(store.entries())))
    for text in QUERY_TEXTS:
        assert_ranked_alike(copy.search_dense(query_vector(text), 4), cosines(query_vector(text)), 4)
        matching = {i: s for i, s in bm25(text).items() if s > 0}
        assert_ranked_alike(copy.search_keyword(text, 4), matching, 4)
    copy.close()


# --------------------------------------------------------------------------- searching

@pytest.mark.parametrize("text", QUERY_TEXTS)
def test_dense_search_finds_the_nearest_passages(store, text):
    vector = query_vector(text)
    assert_ranked_alike(store.search_dense(vector, 4), cosines(vector), 4)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe())
def test_filters_restrict_every_search_as_filters_allow(store, filters):
    vector = query_vector("the new telescope galaxy budget cranes vendemmia formaggio")
    allowed = {c.id for c, _, a in all_chunks() if filters.allows(c, a)}
    dense = store.search_dense(vector, 10, filters)
    assert_ranked_alike(dense, cosines(vector, filters), 10)
    assert set(dense.ids) == allowed
    keyword = store.search_keyword("the telescope budget cranes vendemmia formaggio", 10,
                                   filters)
    scores = bm25("the telescope budget cranes vendemmia formaggio")
    assert set(keyword.ids) == {i for i in allowed if scores[i] > 0}
    sentences = store.search_sentences(vector, 10, filters)
    assert set(sentences.ids) <= allowed and len(sentences) == len(allowed)


# questions in a language weigh their tokens among that language's passages
LANGUAGE_QUESTIONS = ("Perché la vendemmia è in anticipo con la siccità?",
                      "Which telescope took the images of the galaxy?")


@pytest.mark.parametrize("text", QUERY_TEXTS + LANGUAGE_QUESTIONS
                         + ("galassia telescopio", "the of and", ""))
def test_keyword_search_ranks_by_bm25(store, text):
    expected = {i: s for i, s in bm25(text).items() if s > 0}
    found = store.search_keyword(text, 10)
    assert set(found.ids) == set(expected)
    np.testing.assert_allclose(found.scores, [expected[i] for i in found.ids], rtol=1e-4)
    assert list(found.scores) == sorted(found.scores, reverse=True)
    ids = [c.id for c, _, _ in all_chunks()]
    np.testing.assert_allclose(store.keyword_scores(text, ids),
                               [bm25(text)[i] for i in ids], rtol=1e-4, atol=1e-6)


def test_keyword_search_keeps_the_k_best(store):
    found = store.search_keyword("the telescope galaxy survey images", 2)
    expected = sorted(bm25("the telescope galaxy survey images").items(), key=lambda x: -x[1])
    assert list(found.ids) == [i for i, _ in expected[:2]]


def test_cosines_are_the_stored_vectors_times_the_query(store):
    vector = query_vector("cranes galaxy")
    chunks = all_chunks()
    ids = [chunks[4][0].id, chunks[0][0].id]
    np.testing.assert_allclose(store.cosines(ids, vector),
                               [chunks[4][1] @ vector, chunks[0][1] @ vector], atol=1e-6)


def test_sentence_search_ranks_passages_by_their_best_sentence(store):
    stored = entries()
    target = stored[4].sentences[-1]  # a sentence of the long article's last passage
    found = store.search_sentences(target.vectors[-1], 3)
    assert found.ids[0] == target.chunk_id and found.scores[0] == pytest.approx(1.0, abs=1e-5)
    assert len(set(found.ids)) == len(found.ids) == 3
    got = store.sentences([target.chunk_id, "no-such:0"])
    assert got[0].spans == target.spans and got[1].spans == ()
    np.testing.assert_allclose(got[0].vectors, target.vectors, atol=1e-6)


def test_a_store_without_sentence_vectors_has_none(opener):
    store = opener(manifest(sentence_vectors=False))
    store.apply(Change(added=entries(sentence_vectors=False)))
    assert store.stats().sentences == 0
    assert len(store.search_sentences(query_vector("telescope"), 3)) == 0
    assert store.sentences(["a-harbour:0"])[0].spans == ()


# --------------------------------------------------------------------------- writing

def test_replacing_and_removing_articles_updates_every_search(store, opener):
    changed = replace(ARTICLES[0], text="Zebras crossed the savannah at dawn.")
    store.apply(Change(added=(entry(changed),), removed=frozenset({"b-vendemmia"})))
    for reader in (store, opener()):  # this handle and a new one
        assert reader.article("b-vendemmia") is None
        assert reader.article("a-harbour").text.startswith("Zebras")
        assert reader.search_keyword("vendemmia", 5).ids == ()
        assert reader.search_keyword("cranes", 5).ids == ()
        assert reader.search_keyword("zebras savannah", 5).ids == ("a-harbour:0",)
        assert reader.search_dense(query_vector("zebras savannah"), 1).ids == ("a-harbour:0",)
        assert all(not i.startswith("b-") for i in reader.search_sentences(
            query_vector("vendemmia"), 20).ids)
        assert reader.stats().articles == len(ARTICLES) - 1


def test_a_store_reopens_with_its_contents(store, opener):
    again = opener()
    assert again.stats() == store.stats()
    assert again.search_dense(query_vector("galaxy"), 3).ids == store.search_dense(
        query_vector("galaxy"), 3).ids


def test_another_embedder_or_chunking_is_refused_with_the_fix(store, opener):
    with pytest.raises(StoreError, match=r"embedder 'fake-embedder'.*rag index --rebuild"):
        opener(manifest(embedder="other-model"))
    with pytest.raises(StoreError, match=r"chunks of 40 tokens.*RAG_CHUNK_TOKENS"):
        opener(replace(manifest(), chunk_tokens=99))


def test_a_fresh_store_replaces_the_old_one_at_its_first_write(store, opener):
    other = replace(manifest(embedder="other-model"))
    fresh = opener(other, fresh=True)
    assert fresh.stats() == StoreStats(0, 0, 0)
    assert opener().stats().articles == len(ARTICLES)  # untouched until the first write
    fresh.apply(Change(added=(entry(ARTICLES[2]),)))
    assert [a.id for a in opener(other).articles()] == ["c-budget"]
    with pytest.raises(StoreError):
        opener(manifest())


def test_vectors_of_the_wrong_size_are_refused_and_nothing_changes(store):
    bad = entry(ARTICLES[0])
    bad = replace(bad, vectors=np.zeros((len(bad.chunks), 3), np.float32))
    with pytest.raises(ValueError, match="a-harbour"):
        store.apply(Change(added=(entry(ARTICLES[1]), bad), removed=frozenset({"c-budget"})))
    assert store.stats().articles == len(ARTICLES)
    assert store.article("c-budget") is not None


def test_keyword_scores_follow_the_corpus_through_every_change(opener):
    """Tokens depend on the whole corpus (a word's language is that of the passages that
    use it most), so each change can re-tokenize passages it did not touch."""
    store = opener()
    steps = [Change(added=entries()[:2]), Change(added=entries()[2:5]),
             Change(added=(entry(replace(ARTICLES[3], lang="en")),)),
             Change(removed=frozenset({"b-vendemmia", "e-telescope"})),
             Change(added=(entries()[5], entries()[1]))]
    current = {}
    for change in steps:
        store.apply(change)
        current = {k: v for k, v in current.items() if k not in change.removed}
        current.update({e.article.id: e for e in change.added})
        chunks = [c for e in current.values() for c in e.chunks]
        index = KeywordIndex.build([c.text for c in chunks], [c.lang for c in chunks])
        for text in QUERY_TEXTS + ("i treni e la vendemmia", "the galaxy and the ships"):
            np.testing.assert_allclose(store.keyword_scores(text, [c.id for c in chunks]),
                                       index.scores(text), rtol=1e-4, atol=1e-6)


def test_a_reader_that_does_not_know_the_dimension_opens_any_store(store, opener):
    reader = opener(replace(manifest(sentence_vectors=False), dim=0))
    assert reader.manifest().dim == manifest().dim
    assert reader.manifest().sentence_vectors  # what the store was built with
    assert reader.stats() == store.stats()
    assert len(reader.search_sentences(query_vector("galaxy"), 2)) == 2


def test_a_reader_of_an_empty_place_sees_what_a_writer_adds_later(opener):
    reader = opener(replace(manifest(), dim=0))
    assert reader.stats() == StoreStats(0, 0, 0) and reader.articles() == []
    opener().apply(Change(added=entries()[:1]))
    assert [a.id for a in reader.articles()] == ["a-harbour"]
    assert reader.search_keyword("cranes", 3).ids == ("a-harbour:0",)
