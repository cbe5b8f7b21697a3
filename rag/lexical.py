"""Keyword search: BM25 (bm25s) over language-aware analyzed tokens.

The analyzer splits Italian elisions (``dell'economia`` → ``economia``), keeps
numbers whole (``22,1``), drops stopwords, Snowball-stems each passage in its own
language, then folds accents. A question is analyzed with the stemmers of every
language in the index, so an English question still matches Italian names and
figures, and an Italian question matches Italian stems.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s import stopwords as bm25_stopwords

ANALYZER_VERSION = 1
_LANGUAGES = {
    "en": ("english", bm25_stopwords.STOPWORDS_EN),
    "it": ("italian", bm25_stopwords.STOPWORDS_ITALIAN),
    "fr": ("french", bm25_stopwords.STOPWORDS_FRENCH),
    "de": ("german", bm25_stopwords.STOPWORDS_GERMAN),
    "es": ("spanish", bm25_stopwords.STOPWORDS_SPANISH),
    "pt": ("portuguese", bm25_stopwords.STOPWORDS_PORTUGUESE),
}
DEFAULT_LANG = "en"
# Words, and numbers with inner separators kept whole: 22,1  250.000  12%  2022
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_ELISION = re.compile(r"\b\w{1,5}['’](?=\w)", re.UNICODE)


def _lang(lang: str) -> str:
    return lang if lang in _LANGUAGES else DEFAULT_LANG


@lru_cache(maxsize=None)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_LANGUAGES[_lang(lang)][0])


@lru_cache(maxsize=None)
def _stopwords(lang: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _LANGUAGES[_lang(lang)][1])


def fold_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lowercased words and numbers, with elided articles (l', dell', un') removed."""
    text = _ELISION.sub(" ", text.lower())
    return _TOKEN.findall(text)


def analyze(text: str, lang: str) -> list[str]:
    """Tokens of a passage in language ``lang``: stopwords out, stemmed, accents folded."""
    stop = _stopwords(lang)
    kept = [w for w in words(text) if w not in stop]
    return [fold_accents(s) for s in _stemmer(lang).stemWords(kept)]


def analyze_query(text: str, langs: Iterable[str]) -> list[str]:
    """Query tokens: the union of the analyses in each of ``langs``, order kept."""
    seen: dict[str, None] = {}
    for lang in sorted(set(map(_lang, langs))) or [DEFAULT_LANG]:
        for token in analyze(text, lang):
            seen.setdefault(token, None)
    return list(seen)


class KeywordIndex:
    """BM25 over analyzed passages; positions match the dense index's rows."""

    def __init__(self, bm25: bm25s.BM25 | None, langs: Sequence[str], size: int):
        self._bm25 = bm25
        self.langs = tuple(sorted(set(langs)))
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], langs: Sequence[str]) -> "KeywordIndex":
        if not texts:
            return cls(None, (), 0)
        corpus = [analyze(t, lang) for t, lang in zip(texts, langs)]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(bm25, [_lang(lang) for lang in langs], len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros where nothing matches)."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in analyze_query(query, self.langs) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return self._bm25.get_scores(tokens).astype(np.float32)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"analyzer": ANALYZER_VERSION, "langs": list(self.langs), "size": self.size}
        (directory / "keyword.json").write_text(json.dumps(meta))
        if self._bm25 is not None:
            self._bm25.save(str(directory / "bm25"), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        meta = json.loads((directory / "keyword.json").read_text())
        if meta.get("analyzer") != ANALYZER_VERSION:
            raise ValueError(f"keyword index analyzer version {meta.get('analyzer')} "
                             f"!= {ANALYZER_VERSION}")
        bm25 = None
        if meta["size"]:
            bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
        return cls(bm25, meta["langs"], meta["size"])
