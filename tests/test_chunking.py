"""Tests for rag.chunking: sentence spans, exact offsets, size bound, overlap, termination."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from rag.chunking import chunk_article, split_sentences
from rag.corpus import Article, article_from_text, article_id, load_articles

BUNDLED = Path(__file__).resolve().parent.parent / "corpus" / "tesla-data-center.txt"


def words(text: str) -> int:
    """A fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def make_article(text: str, lang: str = "en") -> Article:
    return Article(id=article_id("T", text), title="T", text=text, lang=lang, date="2022-06-17", source="S")


@pytest.fixture(scope="module")
def bundled() -> Article:
    return load_articles([BUNDLED]).articles[0]


def sentences(text: str, lang: str = "") -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, lang)]


# --------------------------------------------------------------------------- sentences

def test_abbreviations_do_not_split_sentences(bundled):
    found = sentences(bundled.text, "it")
    assert "Un annuncio di lavoro di Tesla, individuato da Electrek, richiede un “Sr. Engineering Program Manager, Data Center”." in found
    assert any(s.startswith("Tesla Inc (NASDAQ:TSLA) potrebbe presto") and s.endswith("attualmente domina.") for s in found)
    assert any(s.startswith("L’azienda, nota anche") and s.endswith("(NASDAQ:GOOG)(NASDAQ:GOOGL).") for s in found)


@pytest.mark.parametrize("lang, text, expected", [
    ("it", "Il Dott. Rossi della Fiat S.p.A. ha parlato, ecc. e poi è uscito. Poi basta.",
     ["Il Dott. Rossi della Fiat S.p.A. ha parlato, ecc. e poi è uscito.", "Poi basta."]),
    ("en", "The U.S. economy grew. Mr. Smith of Acme Inc. went home.",
     ["The U.S. economy grew.", "Mr. Smith of Acme Inc. went home."]),
])
def test_abbreviations(lang, text, expected):
    assert sentences(text, lang) == expected


def test_newlines_are_hard_boundaries_and_spans_are_stripped():
    text = "  Title without period\n\nFirst sentence. Second one!\n   Third line  \n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Title without period", "First sentence.", "Second one!", "Third line"]


def test_repeated_sentences_get_their_own_offsets():
    text = "Foo. Foo. Foo. Bar."
    assert split_sentences(text) == [(0, 4), (5, 9), (10, 14), (15, 19)]


def test_text_pysbd_drops_is_still_covered():
    text = "Hello ∯ world. Foo. Bar"  # pysbd silently drops the first sentence here
    assert "".join(sentences(text)).replace(" ", "") == text.replace(" ", "")


# --------------------------------------------------------------------------- chunks

def test_bundled_chunks_exact_bounded_and_overlapping(bundled):
    chunks = chunk_article(bundled, words, max_tokens=60, overlap=15)
    assert len(chunks) > 3
    for i, c in enumerate(chunks):
        assert bundled.text[c.start:c.end] == c.text and c.text.strip() == c.text != ""
        assert words(c.text) <= 60 + 30
        assert (c.id, c.article_id, c.index) == (f"{bundled.id}:{i}", bundled.id, i)
        assert (c.title, c.lang, c.date, c.source) == (bundled.title, bundled.lang, bundled.date, bundled.source)
    assert chunks[0].start == 0 and chunks[-1].end == len(bundled.text)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:])), "some consecutive chunks overlap"
    assert all(b.start > a.start and b.end > a.end for a, b in zip(chunks, chunks[1:]))


def test_overlap_is_whole_trailing_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(20))  # 5 words each
    chunks = chunk_article(make_article(text), words, max_tokens=20, overlap=10)
    for a, b in zip(chunks, chunks[1:]):
        shared = text[b.start:a.end]
        assert shared.startswith("Sentence number") and shared.endswith("is here.")
        assert words(shared) == 10
    assert all(words(c.text) == 20 for c in chunks[:-1])


def test_a_short_rest_joins_the_last_chunk():
    def text(n_words):
        return " ".join(f"w{i}." for i in range(n_words))
    assert len(chunk_article(make_article(text(30)), words, max_tokens=20, overlap=5)) == 1
    two = chunk_article(make_article(text(31)), words, max_tokens=20, overlap=5)
    assert [words(c.text) for c in two] == [20, 16]  # 11 new words + 5 of overlap
    long = chunk_article(make_article(text(95)), words, max_tokens=20, overlap=0)
    assert [words(c.text) for c in long] == [20, 20, 20, 20, 15]
    tail = chunk_article(make_article(text(90)), words, max_tokens=20, overlap=0)
    assert [words(c.text) for c in tail] == [20, 20, 20, 30]


def test_no_overlap_when_zero():
    text = " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = chunk_article(make_article(text), words, max_tokens=20, overlap=0)
    assert all(b.start > a.end for a, b in zip(chunks, chunks[1:]))
    assert len(chunks) == 5


def test_long_sentence_is_split_at_word_boundaries():
    text = "Start. " + " ".join(f"w{i}" for i in range(95)) + ". End."
    chunks = chunk_article(make_article(text), words, max_tokens=10, overlap=3)
    for c in chunks:
        assert words(c.text) <= 10 and text[c.start:c.end] == c.text
        assert c.start == 0 or text[c.start - 1] == " "
        assert c.end == len(text) or text[c.end] in " ."
    assert chunks[-1].text.endswith("End.")


def test_long_word_is_split_by_characters():
    text = "x" * 500
    chunks = chunk_article(make_article(text), lambda t: len(t) // 40 + 1, max_tokens=5, overlap=0)
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) // 40 + 1 <= 5 for c in chunks)


def test_pasted_text_chunks():
    a = article_from_text("Titolo\n\nPrima frase. Seconda frase.")
    assert [c.text for c in chunk_article(a, words, max_tokens=200)] == [a.text]


def test_bad_arguments():
    with pytest.raises(ValueError):
        chunk_article(make_article("A b."), words, max_tokens=0)


# --------------------------------------------------------------------------- properties

ALPHABET = st.sampled_from(list("abc xyz ABC . . . ! ? \n\n\t,;:'\"()-–…0123456789àèéìòù“”’∯\u00a0\u2028") + ["Sr.", "Inc.", "S.p.A.", "U.S.", "ecc.", "Dott.", "NASDAQ:TSLA", "http://x.it/a.b"])
TEXTS = st.lists(ALPHABET, max_size=300).map("".join)


def non_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, lang=st.sampled_from(["", "en", "it", "xx"]),
       max_tokens=st.integers(1, 30), overlap=st.integers(0, 40))
def test_chunks_cover_text_exactly(text, lang, max_tokens, overlap):
    article = make_article(text, lang)
    chunks = chunk_article(article, words, max_tokens=max_tokens, overlap=overlap)
    for c in chunks:
        assert c.text and c.text.strip() and text[c.start:c.end] == c.text
        assert words(c.text) <= max_tokens + max_tokens // 2
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start:c.end] = [True] * (c.end - c.start)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:]))


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, lang=st.sampled_from(["", "it"]))
def test_sentence_spans_are_exact_ordered_and_cover(text, lang):
    spans = split_sentences(text, lang)
    assert all(s < e for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    assert non_space("".join(text[s:e] for s, e in spans)) == non_space(text)
