"""Snapshot: one immutable, in-memory generation of the local index, searchable by row.

It holds the articles, the chunks (a chunk's row is its position), the passage vectors
(FAISS), the BM25 index and, when the manifest keeps them, the sentence vectors with the
row and article span of each sentence. `updated` returns a new snapshot; a snapshot
is never modified, so readers in other threads keep a consistent view.

FAISS search is exact up to `EXACT_SEARCH_LIMIT` vectors and HNSW above, with a search
breadth that grows with the index (`hnsw_ef_search`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Sequence

import faiss
import numpy as np

from .chunking import Chunk
from .corpus import Article
from .filters import Filters
from .keyword_index import KeywordIndex
from .store import Change, Entry, Manifest, Ranked, SentenceVectors, StoreStats

EXACT_SEARCH_LIMIT = 100_000  # above this many vectors, HNSW instead of exact search
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# HNSW search breadth per 100k vectors: recall@10 against exact search stays ~0.97 when the
# breadth grows with the index (benchmarks/store.py measures it).
HNSW_EF_SEARCH = 512
HNSW_EF_SEARCH_MAX = 8192
SENTENCES_PER_PASSAGE = 4  # candidates read per passage wanted from the sentence index
_CACHED_QUERIES = 8


@dataclass(frozen=True, eq=False)
class Snapshot:
    manifest: Manifest
    articles: dict[str, Article]
    chunks: tuple[Chunk, ...]
    dense: faiss.Index
    keyword: KeywordIndex
    sentences: faiss.Index | None = None
    sentence_rows: np.ndarray | None = None  # (n, 3) int64: chunk row, start, end
    rows: dict[str, int] = field(default_factory=dict)
    _cache: OrderedDict = field(default_factory=OrderedDict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def empty(cls, manifest: Manifest) -> "Snapshot":
        sentences = faiss.IndexFlatIP(manifest.dim) if manifest.sentence_vectors else None
        rows = np.zeros((0, 3), np.int64) if manifest.sentence_vectors else None
        return cls(manifest, {}, (), faiss.IndexFlatIP(manifest.dim), KeywordIndex.build([], []),
                   sentences, rows)

    @classmethod
    def assemble(cls, manifest, articles, chunks, dense, keyword, sentences=None,
                 sentence_rows=None) -> "Snapshot":
        for index in (dense, sentences):
            if index is not None and faiss_kind(index.ntotal) == "hnsw":
                set_search_breadth(index)
        return cls(manifest, articles, tuple(chunks), dense, keyword, sentences, sentence_rows,
                   {c.id: row for row, c in enumerate(chunks)})

    def stats(self) -> StoreStats:
        return StoreStats(len(self.articles), len(self.chunks),
                          self.sentences.ntotal if self.sentences is not None else 0)

    # -- reading ----------------------------------------------------------------------
    def rows_of(self, ids: Sequence[str]) -> np.ndarray:
        return np.array([self.rows[i] for i in ids if i in self.rows], np.int64)

    def chunks_of(self, ids: Sequence[str]) -> list[Chunk]:
        return [self.chunks[self.rows[i]] for i in ids if i in self.rows]

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """The rows ``filters`` allow (None: every row), computed once per filter value."""
        if not filters:
            return None
        return self._cached(("allowed", filters), lambda: np.array(
            [row for row, c in enumerate(self.chunks)
             if filters.allows(c, self.articles.get(c.article_id))], np.int64))

    def _cached(self, key, compute):
        """``compute()``, remembered for the last few keys (query scores, filter rows)."""
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > _CACHED_QUERIES:
                self._cache.popitem(last=False)
        return value

    def _ranked(self, rows: np.ndarray, scores: np.ndarray) -> Ranked:
        return Ranked(tuple(self.chunks[r].id for r in rows), np.asarray(scores, np.float32))

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None) -> Ranked:
        allowed = self.allowed(filters)
        if self.dense.ntotal == 0 or k <= 0 or (allowed is not None and not len(allowed)):
            return Ranked()
        q = np.asarray(vector, np.float32).reshape(1, -1)
        scores, rows = self.dense.search(q, min(k, self.dense.ntotal),
                                         params=_only(self.dense, allowed))
        valid = rows[0] >= 0
        return self._ranked(rows[0][valid], scores[0][valid])

    def keyword_all(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (remembered for the last few queries)."""
        return self._cached(("bm25", query), lambda: self.keyword.scores(query))

    def search_keyword(self, query: str, k: int, filters: Filters | None) -> Ranked:
        scores = self.keyword_all(query)
        if not len(scores) or k <= 0:
            return Ranked()
        allowed = self.allowed(filters)
        if allowed is not None:
            masked = np.full_like(scores, -np.inf)
            masked[allowed] = scores[allowed]
            scores = masked
        n = min(k, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return self._ranked(top, scores[top])

    def keyword_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        scores = self.keyword_all(query)
        rows = self.rows_of(ids)
        return scores[rows] if len(scores) else np.zeros(len(rows), np.float32)

    def cosines(self, ids: Sequence[str], vector: np.ndarray) -> np.ndarray:
        rows = self.rows_of(ids)
        if not len(rows):
            return np.zeros(0, np.float32)
        return self.dense.reconstruct_batch(rows) @ np.asarray(vector, np.float32)

    def search_sentences(self, vector: np.ndarray, k: int, filters: Filters | None) -> Ranked:
        """Passages ranked by their best sentence; the score is that sentence's cosine."""
        if self.sentences is None or self.sentences.ntotal == 0 or k <= 0:
            return Ranked()
        allowed = self.allowed(filters)
        ids = None
        if allowed is not None:
            ids = np.flatnonzero(np.isin(self.sentence_rows[:, 0], allowed))
            if not len(ids):
                return Ranked()
        q = np.asarray(vector, np.float32).reshape(1, -1)
        wanted = min(SENTENCES_PER_PASSAGE * k, self.sentences.ntotal)
        scores, found = self.sentences.search(q, wanted, params=_only(self.sentences, ids))
        valid = found[0] >= 0
        rows = self.sentence_rows[found[0][valid], 0]
        _, first = np.unique(rows, return_index=True)
        first = np.sort(first)[:k]
        return self._ranked(rows[first], scores[0][valid][first])

    @cached_property
    def _sentences_by_row(self) -> dict[int, np.ndarray]:
        """Each chunk row's sentence numbers."""
        if self.sentence_rows is None or not len(self.sentence_rows):
            return {}
        owners = self.sentence_rows[:, 0]
        order = np.argsort(owners, kind="stable")
        rows, starts = np.unique(owners[order], return_index=True)
        return dict(zip(map(int, rows), np.split(order, starts[1:])))

    def sentences_of(self, ids: Sequence[str]) -> list[SentenceVectors]:
        found = []
        by_row = self._sentences_by_row
        for chunk_id in ids:
            which = by_row.get(self.rows.get(chunk_id, -1))
            if which is None:
                found.append(SentenceVectors(chunk_id, (), np.zeros((0, self.manifest.dim),
                                                                    np.float32)))
                continue
            spans = tuple((int(s), int(e)) for s, e in self.sentence_rows[which, 1:])
            found.append(SentenceVectors(chunk_id, spans,
                                         self.sentences.reconstruct_batch(which)))
        return found

    def entries(self) -> Iterator[Entry]:
        by_article: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            by_article.setdefault(chunk.article_id, []).append(row)
        for article_id, rows in by_article.items():
            chunks = tuple(self.chunks[r] for r in rows)
            vectors = self.dense.reconstruct_batch(np.array(rows, np.int64))
            sentences = (tuple(self.sentences_of([c.id for c in chunks]))
                         if self.sentences is not None else ())
            yield Entry(self.articles[article_id], chunks, vectors, sentences)

    # -- updating ---------------------------------------------------------------------
    def updated(self, change: Change) -> "Snapshot":
        """A new snapshot without ``change.removed`` and with ``change.added`` (re)placed."""
        dim = self.manifest.dim
        replaced = set(change.removed) | {e.article.id for e in change.added}
        kept = np.array([c.article_id not in replaced for c in self.chunks], bool)
        new = [_vectors_of(e, dim) for e in change.added]
        chunks = ([c for c, k in zip(self.chunks, kept) if k]
                  + [c for e in change.added for c in e.chunks])
        articles = {k: a for k, a in self.articles.items() if k not in replaced}
        articles.update({e.article.id: e.article for e in change.added})
        dense = updated_vectors(self.dense, kept, new, dim)
        keyword = KeywordIndex.build([c.text for c in chunks], [c.lang for c in chunks])
        sentences, sentence_rows = self._updated_sentences(kept, change.added)
        return Snapshot.assemble(self.manifest, articles, chunks, dense, keyword, sentences,
                                 sentence_rows)

    def _updated_sentences(self, kept_chunks: np.ndarray, added: Sequence[Entry]):
        if self.sentences is None:
            return None, None
        kept = kept_chunks[self.sentence_rows[:, 0]]
        renumber = np.cumsum(kept_chunks) - 1  # a kept chunk's row in the new snapshot
        rows = self.sentence_rows[kept].copy()
        rows[:, 0] = renumber[rows[:, 0]]
        parts, new, base = [rows], [], int(kept_chunks.sum())
        for entry in added:
            if len(entry.sentences) != len(entry.chunks):
                raise ValueError(f"article {entry.article.id}: an index with sentence vectors "
                                 "needs them for every passage")
            for number, sv in enumerate(entry.sentences):
                spans = np.asarray(sv.spans, np.int64).reshape(-1, 2)
                parts.append(np.column_stack([np.full(len(spans), base + number), spans]))
                new.append(np.asarray(sv.vectors, np.float32).reshape(-1, self.manifest.dim))
            base += len(entry.chunks)
        index = updated_vectors(self.sentences, kept, new, self.manifest.dim)
        return index, np.concatenate(parts).astype(np.int64)


def _vectors_of(entry: Entry, dim: int) -> np.ndarray:
    """An entry's passage vectors, one per chunk of the store's dimension, or why not."""
    vectors = np.asarray(entry.vectors, np.float32)
    if vectors.shape != (len(entry.chunks), dim):
        raise ValueError(f"article {entry.article.id}: {vectors.shape} passage vectors for "
                         f"{len(entry.chunks)} passages of dimension {dim}")
    return vectors


# --------------------------------------------------------------------------- FAISS

def updated_vectors(index: faiss.Index, kept: np.ndarray, new: Sequence[np.ndarray],
                    dim: int) -> faiss.Index:
    """``index`` with only the ``kept`` rows (a mask), then the ``new`` ones. When nothing is
    removed and the kind stays, a copy is extended (an HNSW graph is not rebuilt for one
    article); otherwise the index is rebuilt from the kept vectors."""
    total = int(kept.sum()) + sum(len(v) for v in new)
    if kept.all() and faiss_kind(total) == faiss_kind(index.ntotal):
        grown = faiss.clone_index(index)
        if new and total > index.ntotal:
            grown.add(np.ascontiguousarray(np.vstack(new)))
        return grown
    old = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), np.float32)
    return build_faiss(np.vstack([old[kept], *new]), dim)


def _only(index: faiss.Index, ids: np.ndarray | None) -> faiss.SearchParameters | None:
    """Search parameters that restrict ``index`` to ``ids`` (at its usual HNSW breadth)."""
    if ids is None:
        return None
    selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))
    if faiss_kind(index.ntotal) == "hnsw":
        return faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw_ef_search(index.ntotal))
    return faiss.SearchParameters(sel=selector)


def faiss_kind(n_vectors: int) -> str:
    return "flat" if n_vectors <= EXACT_SEARCH_LIMIT else "hnsw"


def hnsw_ef_search(n_vectors: int) -> int:
    """HNSW's search breadth for an index of ``n_vectors``: at a fixed breadth the graph's
    recall falls as it grows, so the breadth grows in proportion (HNSW_EF_SEARCH per 100k
    vectors, at most HNSW_EF_SEARCH_MAX)."""
    scaled = HNSW_EF_SEARCH * n_vectors // EXACT_SEARCH_LIMIT
    return int(min(HNSW_EF_SEARCH_MAX, max(HNSW_EF_SEARCH, scaled)))


def build_faiss(vectors: np.ndarray, dim: int) -> faiss.Index:
    """Exact inner-product search up to EXACT_SEARCH_LIMIT vectors, HNSW above."""
    index = faiss.IndexFlatIP(dim) if faiss_kind(len(vectors)) == "flat" else new_hnsw(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def new_hnsw(dim: int) -> faiss.IndexHNSWFlat:
    """An empty HNSW graph with the store's parameters (M, efConstruction)."""
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return index


def set_search_breadth(hnsw: faiss.Index) -> None:
    """Give an HNSW index the search breadth its size needs (`hnsw_ef_search`)."""
    faiss.ParameterSpace().set_index_parameter(hnsw, "efSearch", hnsw_ef_search(hnsw.ntotal))
