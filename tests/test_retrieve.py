"""Retriever: fusion, near-duplicates, filters in every mode, date hints and recency."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rag.chunking import Chunk
from rag.corpus import Article
from rag.filters import Filters
from rag.retrieve import MODES, Retriever
from rag.settings import Settings
from rag.store import SentenceVectors
from tests.fakes import FakeEmbedder
from tests.helpers.stores import entry, temporary_store

DIM = 8


def _unit(*components: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(components)] = components
    return v / np.linalg.norm(v)


def _store(docs: list[dict], sentences: bool = False):
    """A store whose dense vectors are given explicitly (one chunk per article); with
    ``sentences``, each doc's "sentences" vectors too."""
    entries = []
    for d in docs:
        article = Article(id=d["id"], title=d.get("title", d["id"]), text=d["text"], lang="en",
                          date=d.get("date", ""), source=d.get("source", ""),
                          author=d.get("author", ""))
        chunk = Chunk(id=f"{d['id']}:0", article_id=d["id"], index=0, text=d["text"], start=0,
                      end=len(d["text"]), title=article.title, lang="en", date=article.date,
                      source=article.source)
        found = None
        if sentences:
            found = [SentenceVectors(chunk.id, tuple((0, len(d["text"])) for _ in d["sentences"]),
                                     np.stack(d["sentences"]))]
        entries.append(entry(article, [chunk], d["vector"].reshape(1, -1), found))
    return temporary_store(entries, DIM, embedder="table", sentences=sentences)


QUERY = _unit(1, 0)
FUSION_DOCS = [
    # found by both: shares the query's words and its direction
    {"id": "both", "text": "The harbour of Bari reopened after the storm.", "vector": _unit(1, 0.2)},
    # found only by keyword: the words, but an unrelated direction
    {"id": "keyword", "text": "Bari harbour storm: the reopening was delayed.", "vector": _unit(-1, 0, 1)},
    # found only by dense: no shared word, but the query's direction
    {"id": "dense", "text": "Apulian port traffic resumed after the gale.", "vector": _unit(1, 0.35)},
    *({"id": f"filler{i}", "text": f"Unrelated filler text number {i} about cooking pasta.",
       "vector": _unit(0, 1, 0.1 * i)} for i in range(6)),
]


def _retriever(docs=FUSION_DOCS, **settings) -> Retriever:
    return Retriever(_store(docs), FakeEmbedder(), Settings(**settings))


def _ids(hits) -> list[str]:
    return [h.chunk.article_id for h in hits]


@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_hybrid_ranks_the_passage_found_by_both_first(fusion):
    retriever = _retriever(fusion=fusion, dense_weight=0.5)
    hits = retriever.search("harbour of Bari storm", k=3, mode="hybrid", vector=QUERY)
    assert _ids(hits)[0] == "both"
    assert set(_ids(hits)) == {"both", "keyword", "dense"}
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_single_modes_find_only_their_own():
    retriever = _retriever()
    keyword = retriever.search("harbour of Bari storm", k=2, mode="keyword", vector=QUERY)
    assert set(_ids(keyword)) == {"both", "keyword"}
    dense = retriever.search("harbour of Bari storm", k=2, mode="dense", vector=QUERY)
    assert _ids(dense) == ["both", "dense"]


def test_every_hit_has_the_question_passage_cosine():
    retriever = _retriever()
    for mode in MODES:
        for hit in retriever.search("harbour of Bari storm", k=5, mode=mode, vector=QUERY):
            expected = float(retriever.store.cosines([hit.chunk.id], QUERY)[0])
            assert hit.similarity == pytest.approx(expected, abs=1e-5)


def test_dense_weight_moves_the_balance():
    to_keyword = _retriever(dense_weight=0.1).search("Bari storm harbour reopening", k=9,
                                                     vector=QUERY)
    to_dense = _retriever(dense_weight=0.95).search("Bari storm harbour reopening", k=9,
                                                   vector=QUERY)
    assert _ids(to_keyword).index("keyword") < _ids(to_keyword).index("dense")
    assert _ids(to_dense).index("dense") < _ids(to_dense).index("keyword")


def test_near_duplicates_are_suppressed():
    story = "Wheat prices rose sharply as exports from the Black Sea stalled this week."
    docs = [
        {"id": "wire1", "text": story, "vector": _unit(1, 0.1)},
        {"id": "wire2", "text": story + " Reuters", "vector": _unit(1, 0.12)},
        {"id": "other", "text": "Wheat harvest in Puglia was smaller than expected.",
         "vector": _unit(1, 0.5)},
    ]
    for mode in MODES:
        hits = _retriever(docs).search("wheat prices exports", k=3, mode=mode, vector=QUERY)
        assert set(_ids(hits)) == {"wire1", "other"} or set(_ids(hits)) == {"wire2", "other"}


NEWS = [
    {"id": "old", "text": "Bari harbour storm damage report.", "date": "2022-05-02",
     "source": "Gazzetta", "author": "Anna Rossi", "vector": _unit(1, 0.1)},
    {"id": "june", "text": "Bari harbour storm reopening news.", "date": "2022-06-14",
     "source": "Reuters", "author": "John Smith, Mary Jones", "vector": _unit(1, 0.3)},
    {"id": "undated", "text": "Bari harbour storm analysis.", "vector": _unit(1, 0.2)},
    {"id": "july", "text": "Bari harbour storm anniversary.", "date": "2022-07-20",
     "source": "Gazzetta", "vector": _unit(1, 0.4)},
]


@pytest.mark.parametrize("mode", MODES)
def test_filters_in_every_mode(mode):
    retriever = _retriever(NEWS)
    search = lambda f: set(_ids(retriever.search("Bari harbour storm", k=10, mode=mode,  # noqa
                                                 filters=f, vector=QUERY)))
    assert search(None) == {"old", "june", "undated", "july"}
    assert search(Filters(date_from="2022-06-01", undated=False)) == {"june", "july"}
    assert search(Filters(date_to="2022-06-30", undated=False)) == {"old", "june"}
    assert search(Filters("2022-06-01", "2022-06-30", undated=False)) == {"june"}
    # by default a date filter keeps the articles without a date
    assert search(Filters("2022-06-01", "2022-06-30")) == {"june", "undated"}
    assert search(Filters(sources=("gazzetta",))) == {"old", "july"}
    assert search(Filters(authors=("smith",))) == {"june"}
    assert search(Filters(sources=("Reuters",), date_to="2022-01-01")) == set()


def test_date_hint_boosts_articles_of_the_period_softly():
    question = "What happened to the Bari harbour storm last June?"
    today = dt.date(2022, 9, 1)
    plain = _retriever(NEWS, date_hints=False).search(question, k=4, vector=QUERY, today=today)
    hinted = _retriever(NEWS, date_boost=1.0).search(question, k=4, vector=QUERY, today=today)
    assert _ids(plain)[0] != "june"
    assert _ids(hinted)[0] == "june"
    assert set(_ids(hinted)) == set(_ids(plain))  # a preference, not a filter
    # The reference date matters: "last June" seen from 2023 is June 2022... from 2024 not.
    later = _retriever(NEWS, date_boost=1.0).search(question, k=4, vector=QUERY,
                                                    today=dt.date(2024, 1, 10))
    assert _ids(later) == _ids(plain)


def test_recency_prefers_newer_articles_relative_to_the_reference_date():
    question = "Bari harbour storm"
    plain = _retriever(NEWS).search(question, k=4, mode="dense", vector=QUERY)
    assert _ids(plain)[0] == "old"
    recent = _retriever(NEWS, recency_half_life_days=7).search(
        question, k=4, mode="dense", vector=QUERY, today=dt.date(2022, 7, 21))
    assert _ids(plain).index("july") > _ids(plain).index("june")
    assert _ids(recent).index("july") < _ids(recent).index("june")
    assert max(h.score for h in recent) < max(h.score for h in plain)  # old ones lose


def test_unknown_mode_or_fusion_is_an_error():
    with pytest.raises(ValueError, match="mode"):
        _retriever().search("x", mode="fuzzy", vector=QUERY)
    with pytest.raises(ValueError, match="fusion"):
        _retriever(fusion="magic").search("x", vector=QUERY)


def test_candidates_grow_to_k():
    hits = _retriever(candidates=2).search("pasta cooking filler", k=6, mode="dense",
                                           vector=QUERY)
    assert len(hits) == 6


def test_empty_index_and_empty_filter():
    empty = Retriever(_store([]), FakeEmbedder(), Settings())
    assert empty.search("anything", vector=QUERY) == []
    assert _retriever(NEWS).search("Bari", filters=Filters(sources=("Nobody",)),
                                   vector=QUERY) == []


def test_near_duplicate_is_jaccard_at_least_the_threshold():
    from rag.retrieve import _near_duplicate
    base = frozenset(f"w{i}" for i in range(10))
    eight_of_ten = frozenset(list(base)[:8])                 # 8 / 10 = 0.8
    seven_shared = frozenset([*list(base)[:7], "x", "y", "z"])  # 7 / 13
    assert _near_duplicate(eight_of_ten, [seven_shared, base])
    assert not _near_duplicate(seven_shared, [base])
    assert not _near_duplicate(frozenset(), [frozenset()])


SENTENCE_DOCS = [
    # a long passage about many things, one sentence of which is exactly the question
    {"id": "needle", "text": "Many things. One of them answers.", "vector": _unit(0.9, 1),
     "sentences": [_unit(0, 1), _unit(1, 0)]},
    # a passage near the question as a whole, no sentence nearer
    {"id": "broad", "text": "Broadly related text. More of it.", "vector": _unit(1, 0.8),
     "sentences": [_unit(1, 0.8), _unit(1, 0.9)]},
    *({"id": f"filler{i}", "text": f"Filler {i}. Nothing here.", "vector": _unit(0, 1, 0.1 * i),
       "sentences": [_unit(0, 1, 0.1 * i)]} for i in range(4)),
]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_a_passage_is_found_by_its_best_sentence_when_the_index_keeps_sentence_vectors(mode):
    index = _store(SENTENCE_DOCS, sentences=True)
    vector = QUERY
    with_sentences = Retriever(index, FakeEmbedder(), Settings(mode=mode)).search(
        "question", k=2, vector=vector)
    passages_only = Retriever(index, FakeEmbedder(), Settings(mode=mode, sentence_weight=0)
                              ).search("question", k=2, vector=vector)
    assert _ids(with_sentences)[0] == "needle"
    assert _ids(passages_only)[0] == "broad"
    assert with_sentences[0].similarity == pytest.approx(float(_unit(0.9, 1) @ QUERY))
    only_broad = Filters(sources=("x",))
    assert Retriever(index, FakeEmbedder(), Settings(mode=mode)).search(
        "question", k=2, vector=vector, filters=only_broad) == []
