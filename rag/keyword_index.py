"""Keyword search: BM25 (bm25s) over `rag.lexical` tokens, weighed in the question's language.

BM25 weighs each word of a question by its inverse document frequency (IDF): the rarer the
word among the passages, the more a match counts. In a corpus of two languages, counting
every passage misjudges a question's words. An Italian question's "Apollo" or "Nixon" is
rare among the Italian paragraphs but common in English news, and "missione" shares its
stem with English "mission": the English passages lower those words' weight, and the
Italian paragraph that answers loses rank to Italian paragraphs that match the question's
other words. So the index keeps each passage language's document frequencies
(`LanguageStats`) and weighs a question's tokens by their rarity among the passages in the
question's language (`lexical.question_language`, from its function words). A question of
no clear language, or in a language no passage is written in, is weighed over all passages;
in a corpus of one language both ways are the same. Every passage can still match: only the
weights change.

An index saved by another `ANALYZER_VERSION` or BM25 parameters still opens: its BM25 is
rebuilt in memory from the generation's ``chunks.jsonl`` (and saved at the next update).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping, Sequence

import bm25s
import numpy as np

from .lexical import (ANALYZER_VERSION, BM25_B, BM25_K1, BM25_METHOD, Lexicon,
                      corpus_tokens, question_language, words)
from .templates import line_key, without_lines

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.INFO)  # its per-build DEBUG line is noise

STATS_FILE = "languages.npz"


def idf(passages, df):
    """BM25's (Lucene's) inverse document frequency of tokens found in ``df`` of
    ``passages`` passages."""
    return np.log1p((passages - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, eq=False)
class LanguageStats:
    """For each passage language label: how many passages carry it (``passages[i]``) and
    in how many of them each token occurs (``df[i, token id]``)."""

    langs: tuple[str, ...]
    passages: np.ndarray
    df: np.ndarray

    @classmethod
    def count(cls, corpus: Sequence[Sequence[str]], langs: Sequence[str],
              vocabulary: Mapping[str, int]) -> "LanguageStats":
        """The statistics of ``corpus`` (token lists labelled ``langs``)."""
        labels = tuple(sorted(set(langs)))
        row_of = {lang: i for i, lang in enumerate(labels)}
        df = np.zeros((len(labels), len(vocabulary)), np.int32)
        rows, cols = [], []
        for tokens, lang in zip(corpus, langs):
            ids = {vocabulary[t] for t in tokens}
            rows.extend([row_of[lang]] * len(ids))
            cols.extend(ids)
        np.add.at(df, (np.asarray(rows, np.int64), np.asarray(cols, np.int64)), 1)
        counts = Counter(langs)
        passages = np.array([counts[lang] for lang in labels], np.int64)
        return cls(labels, passages, df)

    def weights(self, lang: str, ids: Sequence[int]) -> np.ndarray | None:
        """Factors that turn the corpus IDF of tokens ``ids`` into their IDF among the
        passages in ``lang``; None when there are none to weigh by (no ``lang``, no
        passage in it) or that changes nothing (one language in the corpus)."""
        if not lang or len(self.langs) < 2 or lang not in self.langs:
            return None
        ids = np.asarray(ids, np.int64)
        own = self.langs.index(lang)
        overall = idf(self.passages.sum(), self.df[:, ids].sum(axis=0))
        return idf(self.passages[own], self.df[own, ids]) / overall

    def save(self, path: Path) -> None:
        np.savez(path, langs=np.array(self.langs, dtype=str), passages=self.passages,
                 df=self.df)

    @classmethod
    def load(cls, path: Path) -> "LanguageStats":
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(str(x) for x in data["langs"]), data["passages"], data["df"])


def _signature() -> dict:
    return {"analyzer": ANALYZER_VERSION, "bm25": [BM25_METHOD, BM25_K1, BM25_B]}


class KeywordIndex:
    """BM25 over the passages' `Lexicon` tokens; positions match the dense index's rows.

    ``ignore_lines`` are lines that carry no keywords wherever they occur (the lines that
    every document of a source repeats, see `rag.templates`); they are compared as
    `templates.line_key` normalizes them."""

    def __init__(self, bm25: bm25s.BM25 | None, lexicon: Lexicon, size: int,
                 ignore_lines: Collection[str] = (), stats: LanguageStats | None = None):
        self._bm25 = bm25
        self.lexicon = lexicon
        self.size = size
        self.ignore_lines = frozenset(ignore_lines)
        self.stats = stats

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(sorted(self.lexicon.langs)) if self.size else ()

    @classmethod
    def build(cls, texts: Sequence[str], langs: Sequence[str], *,
              ignore_lines: Collection[str] = ()) -> "KeywordIndex":
        ignore = frozenset(map(line_key, ignore_lines))
        if not texts:
            return cls(None, Lexicon(), 0, ignore)
        lexicon, corpus = corpus_tokens(
            [without_lines(t, ignore) if ignore else t for t in texts], langs)
        bm25 = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B)
        bm25.index(corpus, show_progress=False)
        stats = LanguageStats.count(corpus, langs, bm25.vocab_dict)
        return cls(bm25, lexicon, len(texts), ignore, stats)

    def query_tokens(self, query: str) -> list[str]:
        """The question's tokens that occur in the corpus, each once."""
        if self._bm25 is None:
            return []
        vocabulary = self._bm25.vocab_dict
        return [t for t in self.lexicon.query(query, vocabulary) if t in vocabulary]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros where nothing matches), each
        token weighed by its rarity among the passages in the question's language."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        tokens = self.query_tokens(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        ids = [self._bm25.vocab_dict[t] for t in tokens]
        weights = None
        if self.stats is not None:
            weights = self.stats.weights(question_language(words(query)), ids)
        if weights is None:
            return self._bm25.get_scores_from_ids(ids).astype(np.float32)
        total = np.zeros(self.size, dtype=np.float64)
        for token_id, weight in zip(ids, weights):
            total += weight * self._bm25.get_scores_from_ids([token_id])
        return total.astype(np.float32)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {**_signature(), "langs": list(self.langs), "size": self.size,
                "ignore_lines": sorted(self.ignore_lines)}
        (directory / "keyword.json").write_text(json.dumps(meta, ensure_ascii=False))
        (directory / "lexicon.json").write_text(json.dumps(self.lexicon.to_json(),
                                                           ensure_ascii=False))
        if self._bm25 is not None:
            self._bm25.save(str(directory / "bm25"), show_progress=False)
            self.stats.save(directory / STATS_FILE)

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        """The saved BM25; if it was built by another analyzer version, rebuilt from the
        passages in ``chunks.jsonl`` beside it (an index folder's layout, see store.py)."""
        meta = json.loads((directory / "keyword.json").read_text())
        if {k: meta.get(k) for k in _signature()} != _signature():
            return cls._rebuild(directory, meta)
        lexicon = Lexicon.from_json(json.loads((directory / "lexicon.json").read_text()))
        bm25 = stats = None
        if meta["size"]:
            bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
            stats = LanguageStats.load(directory / STATS_FILE)
        return cls(bm25, lexicon, meta["size"], meta.get("ignore_lines", ()), stats)

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
        return cls.build(texts, langs, ignore_lines=meta.get("ignore_lines", ()))
