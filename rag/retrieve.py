"""Retrieval: dense (FAISS), keyword (BM25) or hybrid search with filters and fusion.

Hybrid fuses the two rankings with weighted reciprocal rank fusion, then drops
near-duplicate passages (the same wire story in two articles) so they do not fill
the top-k twice. Every hit carries the cosine similarity between question and
passage, whatever the mode: abstention is decided on that evidence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .chunking import Chunk
from .embed import Embedder
from .lexical import words
from .settings import Settings
from .store import Index

MODES = ("hybrid", "dense", "keyword")
DUPLICATE_JACCARD = 0.8


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to articles by date (ISO, inclusive) and source."""

    date_from: str = ""
    date_to: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)

    def allows(self, chunk: Chunk) -> bool:
        if self.sources and chunk.source.casefold() not in {s.casefold() for s in self.sources}:
            return False
        if (self.date_from or self.date_to) and not chunk.date:
            return False
        if self.date_from and chunk.date < self.date_from:
            return False
        return not (self.date_to and chunk.date > self.date_to)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage. `rank` starts at 1; `similarity` is the question–passage cosine."""

    chunk: Chunk
    rank: int
    score: float
    similarity: float
    keyword: float = 0.0


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, *, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        if not self.index.chunks:
            return []
        allowed = self._allowed_rows(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        qvec = self.embedder.embed([query], kind="query")[0]
        n = self.settings.candidates
        rankings, keyword_scores = [], np.zeros(len(self.index.chunks), np.float32)
        if mode in ("hybrid", "dense"):
            rows, _ = self.index.search_dense(qvec, n, allowed)
            rankings.append((rows, self.settings.dense_weight if mode == "hybrid" else 1.0))
        if mode in ("hybrid", "keyword"):
            keyword_scores = self.index.keyword.scores(query)
            rows = _top_rows(keyword_scores, n, allowed)
            rankings.append((rows, 1 - self.settings.dense_weight if mode == "hybrid" else 1.0))
        fused = self._fuse(rankings)
        return self._select(fused, qvec, keyword_scores, k)

    def _allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        if not filters:
            return None
        return np.array([i for i, c in enumerate(self.index.chunks) if filters.allows(c)],
                        dtype=np.int64)

    def _fuse(self, rankings: Sequence[tuple[np.ndarray, float]]) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for rows, weight in rankings:
            for rank, row in enumerate(rows, start=1):
                scores[int(row)] = scores.get(int(row), 0.0) + weight / (self.settings.rrf_k + rank)
        if self.settings.recency_half_life_days > 0:
            scores = {row: s * self._recency(row) for row, s in scores.items()}
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _recency(self, row: int) -> float:
        newest = max((c.date for c in self.index.chunks if c.date), default="")
        date = self.index.chunks[row].date
        if not date or not newest:
            return 0.5
        age = (dt.date.fromisoformat(newest) - dt.date.fromisoformat(date)).days
        return 0.5 + 0.5 * 0.5 ** (max(age, 0) / self.settings.recency_half_life_days)

    def _select(self, fused: list[tuple[int, float]], qvec: np.ndarray,
                keyword_scores: np.ndarray, k: int) -> list[Hit]:
        hits: list[Hit] = []
        kept_words: list[set[str]] = []
        for row, score in fused:
            chunk = self.index.chunks[row]
            bag = set(words(chunk.text))
            if any(_jaccard(bag, other) >= DUPLICATE_JACCARD for other in kept_words):
                continue
            similarity = float(self.index.dense.reconstruct(row) @ qvec)
            keyword = float(keyword_scores[row]) if len(keyword_scores) else 0.0
            hits.append(Hit(chunk, len(hits) + 1, score, similarity, keyword))
            kept_words.append(bag)
            if len(hits) == k:
                break
        return hits


def _top_rows(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> np.ndarray:
    if allowed is not None:
        masked = np.full_like(scores, -np.inf)
        masked[allowed] = scores[allowed]
        scores = masked
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n] if n else np.zeros(0, np.int64)
    top = top[np.argsort(-scores[top], kind="stable")]
    return top[scores[top] > 0]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
