"""Test helper: local stores built from explicit articles, chunks and vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from rag.chunking import Chunk
from rag.corpus import Article
from rag.local_store import LocalStore
from rag.snapshot import Snapshot
from rag.store import Change, Entry, Manifest, SentenceVectors


def entry(article: Article, chunks: Sequence[Chunk], vectors: np.ndarray,
          sentences: Sequence[SentenceVectors] | None = None) -> Entry:
    """An `Entry`; without ``sentences``, each chunk is one sentence with its own vector."""
    vectors = np.asarray(vectors, np.float32).reshape(len(chunks), -1)
    if sentences is None:
        sentences = [SentenceVectors(c.id, ((c.start, c.end),), v.reshape(1, -1))
                     for c, v in zip(chunks, vectors)]
    return Entry(article, tuple(chunks), vectors, tuple(sentences))


def manifest(dim: int, embedder: str = "fake-embedder", tokens: int = 200,
             overlap: int = 40, sentences: bool = True) -> Manifest:
    return Manifest(embedder, dim, tokens, overlap, sentence_vectors=sentences)


def snapshot(entries: Sequence[Entry], dim: int, **kw) -> Snapshot:
    return Snapshot.empty(manifest(dim, **kw)).updated(Change(tuple(entries)))


def local_store(directory: Path, entries: Sequence[Entry], dim: int, **kw) -> LocalStore:
    store = LocalStore.open(Path(directory), manifest(dim, **kw))
    store.apply(Change(tuple(entries)))
    return store


def temporary_store(entries: Sequence[Entry], dim: int, **kw) -> LocalStore:
    """A local store in a fresh temporary folder."""
    import tempfile
    return local_store(Path(tempfile.mkdtemp(prefix="rag-test-store-")), entries, dim, **kw)
