"""Chunking: sentence-aware, token-sized, overlapping passages with exact offsets.

`split_sentences` finds sentence spans with pysbd, one line at a time (a newline
is always a sentence boundary). pysbd's own character offsets are not trusted:
each sentence it returns is located again in the text, and text it dropped or
altered is folded into the next sentence, so the spans always cover every
non-whitespace character.

`chunk_article` packs whole sentences greedily up to `max_tokens`, overlapping
consecutive chunks by whole trailing sentences. A rest of at most half a chunk
joins the last chunk instead of making a chunk of its own (a 250-token article
is one passage, not 200 tokens plus a 90-token tail that repeats 40 of them), so
a chunk holds at most 1.5 × `max_tokens`. `CHUNKER_VERSION` names this
behaviour in the index manifest. Tokens are counted once per
sentence and summed: an approximation of the chunk's true count, exact for
tokenizers that split on whitespace. `count_tokens` should therefore count
without special tokens (BOS/EOS), or chunks come out smaller than they could.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from .corpus import Article

Span = tuple[int, int]
# 1: greedy packing; 2: a rest of at most max_tokens // 2 joins the last chunk.
CHUNKER_VERSION = 2
MIN_SENTENCE_CHARS = 16  # shorter "sentences" (headings, bylines) get no vector of their own


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: `article.text[start:end] == text`."""
    id: str            # f"{article_id}:{index}"
    article_id: str
    index: int
    text: str
    start: int
    end: int
    title: str = ""
    lang: str = ""
    date: str = ""
    source: str = ""

    @property
    def day(self) -> dt.date | None:
        """The article's date, when it has one (ISO ``date``)."""
        try:
            return dt.date.fromisoformat(self.date[:10])
        except ValueError:
            return None


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an overlong one) and its token count."""
    start: int
    end: int
    tokens: int


def split_sentences(text: str, lang: str = "") -> list[Span]:
    """Stripped (start, end) spans of the sentences of `text`, in order; `text[s:e]` is the sentence."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        spans.extend(_line_sentences(text, line.start(), line.end(), lang))
    return spans


def passage_sentences(chunk: Chunk) -> list[str]:
    """The sentences of a passage that get their own vector when the index keeps sentence
    vectors (a passage is then also found by its best-matching sentence)."""
    return [text for start, end in split_sentences(chunk.text, chunk.lang)
            if len(text := chunk.text[start:end]) >= MIN_SENTENCE_CHARS]


def chunk_article(article: Article, count_tokens: Callable[[str], int],
                  max_tokens: int = 200, overlap: int = 40) -> list[Chunk]:
    """Overlapping passages of ~`max_tokens` tokens (at most 1.5 ×) made of whole sentences."""
    if max_tokens < 1 or overlap < 0:
        raise ValueError("need max_tokens >= 1 and overlap >= 0")
    units = [unit for start, end in split_sentences(article.text, article.lang)
             for unit in _units(article.text, start, end, count_tokens, max_tokens)]
    return [_chunk(article, i, units[a].start, units[b - 1].end)
            for i, (a, b) in enumerate(_pack(units, max_tokens, overlap, tail=max_tokens // 2))]


# --------------------------------------------------------------------------- sentences

def _line_sentences(text: str, start: int, end: int, lang: str) -> Iterator[Span]:
    """Sentence spans within text[start:end], realigned on the text and covering it."""
    line = text[start:end]
    cursor = 0
    for sentence in _segmenter(lang).segment(line):
        sentence = sentence.strip()
        found = line.find(sentence, cursor) if sentence else -1
        if found < 0:  # pysbd altered or dropped text: let the next span absorb it
            continue
        if span := _strip(text, start + cursor, start + found + len(sentence)):
            yield span
        cursor = found + len(sentence)
    if span := _strip(text, start + cursor, end):
        yield span


def _strip(text: str, start: int, end: int) -> Span | None:
    """(start, end) narrowed to exclude surrounding whitespace; None if nothing is left."""
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped.strip():
        return None
    start += len(piece) - len(stripped)
    return start, start + len(stripped.rstrip())


@lru_cache(maxsize=None)
def _segmenter(lang: str):
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    return pysbd.Segmenter(language=lang if lang in LANGUAGE_CODES else "en", clean=False)


# --------------------------------------------------------------------------- packing

def _units(text: str, start: int, end: int, count: Callable[[str], int], max_tokens: int) -> list[_Unit]:
    """The sentence as one unit, or, if longer than `max_tokens`, as word-boundary pieces that fit."""
    tokens = count(text[start:end])
    if tokens <= max_tokens:
        return [_Unit(start, end, tokens)]
    words = [piece for m in re.finditer(r"\S+", text[start:end])
             for piece in _word_pieces(text, start + m.start(), start + m.end(), count, max_tokens)]
    return [_Unit(words[a].start, words[b - 1].end, sum(w.tokens for w in words[a:b]))
            for a, b in _pack(words, max_tokens, overlap=0)]


def _word_pieces(text: str, start: int, end: int, count: Callable[[str], int], max_tokens: int) -> Iterator[_Unit]:
    """A word as one unit, or halved until each piece fits (a very long URL, say)."""
    tokens = count(text[start:end])
    if tokens <= max_tokens or end - start == 1:
        yield _Unit(start, end, tokens)
        return
    middle = (start + end) // 2
    yield from _word_pieces(text, start, middle, count, max_tokens)
    yield from _word_pieces(text, middle, end, count, max_tokens)


def _pack(units: list[_Unit], max_tokens: int, overlap: int, tail: int = 0) -> Iterator[Span]:
    """Greedy [a, b) index ranges of `units`, each at most `max_tokens` (or one unit),
    the last one stretched by a rest of at most `tail` tokens.

    The next range starts with the trailing units of the previous one that total at
    most `overlap` tokens and still leave room for at least one new unit.
    """
    a = 0
    rest = [0] * (len(units) + 1)  # rest[i]: tokens in units[i:]
    for i in range(len(units) - 1, -1, -1):
        rest[i] = rest[i + 1] + units[i].tokens
    while a < len(units):
        b, total = a, 0
        while b < len(units) and (b == a or total + units[b].tokens <= max_tokens):
            total += units[b].tokens
            b += 1
        if rest[b] <= tail:
            b = len(units)
        yield a, b
        if b == len(units):
            return
        kept = 0
        next_a = b
        while (overlap and next_a - 1 > a and kept + units[next_a - 1].tokens <= overlap
               and kept + units[next_a - 1].tokens + units[b].tokens <= max_tokens):
            next_a -= 1
            kept += units[next_a].tokens
        a = next_a


def _chunk(article: Article, index: int, start: int, end: int) -> Chunk:
    return Chunk(
        id=f"{article.id}:{index}", article_id=article.id, index=index,
        text=article.text[start:end], start=start, end=end,
        title=article.title, lang=article.lang, date=article.date, source=article.source,
    )
