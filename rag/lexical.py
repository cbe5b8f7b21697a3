"""Keyword search: BM25 (bm25s) over language-aware analyzed tokens.

The analyzer lowercases, removes Italian/French elided articles and prepositions
(``dell'economia`` → ``economia``, ``l’azienda`` → ``azienda``) and English
possessives (``Musk's`` → ``musk``), keeps numbers whole (``22,1``, ``2.9``),
drops stopwords (matched accent-insensitively, so ``perche`` is ``perché``),
Snowball-stems each passage in its own language, then folds accents. A question
is analyzed with the stemmers of every language in the index, so an English
question still matches Italian names and figures, and an Italian question
matches Italian stems.

`ANALYZER_VERSION` changes whenever the tokens or the BM25 parameters change. An
index saved by another version still opens: its BM25 is rebuilt in memory from
the generation's ``chunks.jsonl`` (and saved at the next index update).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s import stopwords as bm25_stopwords

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.INFO)  # its per-build DEBUG line is noise

ANALYZER_VERSION = 2
# BM25 variant and parameters (tuned on the SQuAD-it dev split, see rag/evaluate.py).
BM25_METHOD = "lucene"
BM25_K1 = 0.75
BM25_B = 0.5

# Words every question is full of, beyond the stock lists (compared accent-folded).
_EXTRA_STOPWORDS = {
    "it": """quale quali quanto quanta quanti quante cosa cos chi come dove quando perche
             perchè cui essere stato stata stati state era erano viene vengono venne furono
             ha hanno aveva avevano fatto fatta molto molti molte poi gia ancora anche solo
             nome tipo quali""",
    "en": """what which who whom whose when where why how was were is are been being be
             did does do done has have had there their them they its it this that these
             those than then also into onto about over after before such other some many
             much more most any each name named called type kind""",
}
_LANGUAGES = {
    "en": ("english", bm25_stopwords.STOPWORDS_EN_PLUS),
    "it": ("italian", bm25_stopwords.STOPWORDS_ITALIAN),
    "fr": ("french", bm25_stopwords.STOPWORDS_FRENCH),
    "de": ("german", bm25_stopwords.STOPWORDS_GERMAN),
    "es": ("spanish", bm25_stopwords.STOPWORDS_SPANISH),
    "pt": ("portuguese", bm25_stopwords.STOPWORDS_PORTUGUESE),
}
DEFAULT_LANG = "en"
# Words, and numbers with inner separators kept whole: 22,1  250.000  12%  2022
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_APOSTROPHE = "['’`´]"
# Italian (and French) elisions: l'anno, dell'economia, un'azienda, c'è, quest'anno, d'Italia.
_ELISION = re.compile(
    r"\b(?:l|un|d|c|s|m|t|v|n|j|qu|ch|dell|dall|nell|sull|all|coll|pell|quell|quest|"
    r"bell|sant|buon|nessun|tutt|lorsqu|puisqu|jusqu)" + _APOSTROPHE + r"(?=\w)",
    re.UNICODE | re.IGNORECASE)
# English possessive and contractions: Musk's, Biden’s, don't (the suffix goes).
_ENGLISH_SUFFIX = re.compile(r"(?<=\w)" + _APOSTROPHE + r"(?:s|t|re|ve|ll|d|m)\b", re.UNICODE)


def _lang(lang: str) -> str:
    return lang if lang in _LANGUAGES else DEFAULT_LANG


@lru_cache(maxsize=None)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_LANGUAGES[_lang(lang)][0])


@lru_cache(maxsize=None)
def _stopwords(lang: str) -> frozenset[str]:
    lang = _lang(lang)
    listed = [*_LANGUAGES[lang][1], *_EXTRA_STOPWORDS.get(lang, "").split()]
    return frozenset(fold_accents(w.lower()) for w in listed)


def fold_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lowercased words and numbers, without elided articles (l', dell') or possessives."""
    text = _ENGLISH_SUFFIX.sub("", _ELISION.sub(" ", text.lower()))
    return _TOKEN.findall(text)


def analyze(text: str, lang: str) -> list[str]:
    """Tokens of a passage in language ``lang``: stopwords out, stemmed, accents folded."""
    stop = _stopwords(lang)
    kept = [w for w in words(text) if fold_accents(w) not in stop]
    return [fold_accents(s) for s in _stemmer(lang).stemWords(kept)]


def analyze_query(text: str, langs: Iterable[str]) -> list[str]:
    """Query tokens: the union of the analyses in each of ``langs``, order kept."""
    seen: dict[str, None] = {}
    for lang in sorted(set(map(_lang, langs))) or [DEFAULT_LANG]:
        for token in analyze(text, lang):
            seen.setdefault(token, None)
    return list(seen)


def _signature() -> dict:
    return {"analyzer": ANALYZER_VERSION, "bm25": [BM25_METHOD, BM25_K1, BM25_B]}


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
        bm25 = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B)
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
        meta = {**_signature(), "langs": list(self.langs), "size": self.size}
        (directory / "keyword.json").write_text(json.dumps(meta))
        if self._bm25 is not None:
            self._bm25.save(str(directory / "bm25"), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        """The saved BM25; if it was built by another analyzer version, rebuilt from the
        passages in ``chunks.jsonl`` beside it (an index folder's layout, see store.py)."""
        meta = json.loads((directory / "keyword.json").read_text())
        if {k: meta.get(k) for k in _signature()} != _signature():
            return cls._rebuild(directory, meta)
        bm25 = None
        if meta["size"]:
            bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
        return cls(bm25, meta["langs"], meta["size"])

    @classmethod
    def _rebuild(cls, directory: Path, meta: dict) -> "KeywordIndex":
        chunks_file = directory.parent / "chunks.jsonl"
        if not chunks_file.is_file():
            raise ValueError(f"keyword index analyzer version {meta.get('analyzer')} "
                             f"!= {ANALYZER_VERSION}, and no chunks.jsonl to rebuild it from")
        log.warning("keyword index in %s was built by analyzer %s (now %s): rebuilding it in "
                    "memory; the next index update saves it", directory,
                    meta.get("analyzer"), ANALYZER_VERSION)
        texts, langs = [], []
        with open(chunks_file, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    chunk = json.loads(line)
                    texts.append(chunk["text"])
                    langs.append(chunk.get("lang", ""))
        return cls.build(texts, langs)
