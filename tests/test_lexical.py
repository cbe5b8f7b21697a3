"""Analyzer (elisions, possessives, accents, numbers, stopwords) and the BM25 index."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag import lexical
from rag.chunking import Chunk
from rag.corpus import Article
from rag.lexical import KeywordIndex, analyze, analyze_query, fold_accents, words
from rag.store import Index


@pytest.mark.parametrize("text, expected", [
    ("dell'economia", ["economia"]),
    ("l’azienda", ["azienda"]),
    ("Un'auto nell'anno, c'è quest'anno", ["auto", "anno", "è", "anno"]),
    ("all'Italia e sull'Europa", ["italia", "e", "europa"]),
    ("Musk's company and Biden’s plan", ["musk", "company", "and", "biden", "plan"]),
    ("Il PIL è cresciuto del 22,1% nel 2022", ["il", "pil", "è", "cresciuto", "del", "22,1",
                                               "nel", "2022"]),
    ("2.9 million, 250.000 euro", ["2.9", "million", "250.000", "euro"]),
])
def test_words(text, expected):
    assert words(text) == expected


def test_italian_analysis_stems_folds_and_drops_stopwords():
    tokens = analyze("Perché la città dell'economia è cresciuta del 22,1%?", "it")
    assert "22,1" in tokens
    assert not {"perche", "perché", "la", "del", "e", "è"} & set(tokens)
    assert all(t == fold_accents(t) for t in tokens)
    # the same word with or without its accent gives the same token
    assert analyze("città", "it") == analyze("citta", "it")
    assert analyze("perche quale", "it") == []  # unaccented stopwords too
    # inflections share a stem
    assert len(set(analyze("economia economiche economico economici", "it"))) == 1


def test_english_analysis():
    assert analyze("What did Musk's companies report?", "en") == ["musk", "compani", "report"]


def test_query_is_analyzed_in_every_index_language():
    tokens = analyze_query("Quali aziende hanno investito?", ["it", "en"])
    assert set(analyze("Quali aziende hanno investito?", "it")) <= set(tokens)
    assert analyze_query("x", []) == analyze("x", "en")


def test_keyword_index_ranks_matching_passages():
    texts = ["L'azienda ha registrato ricavi per 22,1 miliardi.",
             "La città di Bari ha riaperto il porto.",
             "Tesla enters the data center business."]
    index = KeywordIndex.build(texts, ["it", "it", "en"])
    scores = index.scores("Quanti ricavi ha registrato l'azienda? 22,1")
    assert int(np.argmax(scores)) == 0
    assert index.scores("porto di Bari").argmax() == 1
    assert not index.scores("zzzz").any()
    assert KeywordIndex.build([], []).scores("x").shape == (0,)


def test_save_and_load_round_trip(tmp_path):
    index = KeywordIndex.build(["Bari harbour reopened.", "Wheat prices rose."], ["en", "en"])
    index.save(tmp_path / "keyword")
    loaded = KeywordIndex.load(tmp_path / "keyword")
    assert loaded.langs == ("en",)
    np.testing.assert_allclose(loaded.scores("wheat"), index.scores("wheat"))


def test_an_index_from_an_older_analyzer_is_rebuilt_from_its_chunks(tmp_path, monkeypatch):
    text = "Musk's companies reported record revenue."
    article = Article(id="a", title="T", text=text, lang="en")
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "T", "en")
    vector = np.eye(4, dtype=np.float32)[:1]
    Index.empty("fake", 4, 50, 10).updated([(article, [chunk], vector)], set()).save(tmp_path)
    gen = next(tmp_path.glob("gen-*"))
    meta = json.loads((gen / "keyword" / "keyword.json").read_text())
    monkeypatch.setattr(lexical, "ANALYZER_VERSION", meta["analyzer"] + 1)
    reopened = Index.open(tmp_path, embedder="fake")  # checksums still hold; BM25 rebuilt
    assert reopened.keyword.scores("musk")[0] > 0
    (gen / "chunks.jsonl").rename(gen / "moved.jsonl")
    with pytest.raises(ValueError, match="analyzer version"):
        KeywordIndex.load(gen / "keyword")
