"""Migrate: copy a whole store into another, vectors included, without re-embedding.

``rag migrate --to postgresql://…`` copies the local index folder into a PostgreSQL
database (and ``--from postgresql://… --to folder/`` copies it back, e.g. for a laptop).
The target gets the source's manifest (embedder, dimension, chunking, sentence vectors);
an existing target built otherwise is refused as any store is (`check_manifest`). The
copy is one write of the target: into PostgreSQL it streams in one transaction, so an
interrupted copy leaves the target as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tqdm import tqdm

from .store import Change, Store, StoreError


@dataclass(frozen=True)
class Migration:
    """What a copy did: where from and to (printable), what the target now holds."""

    source: str
    target: str
    articles: int
    chunks: int
    sentences: int
    seconds: float


def migrate(source: Store, target: Store, *, progress: bool = False) -> Migration:
    """Copy every article of ``source``, with its passages and vectors, into ``target``
    (articles already there with the same id are replaced)."""
    started = time.perf_counter()
    if not source.stats().articles:
        raise StoreError(f"nothing to copy: {source.location} holds no articles")
    copy_in = getattr(target, "copy_in", None)  # PostgreSQL: streamed, one transaction
    if copy_in is not None:
        copy_in(source.entries(), progress=progress)
    else:
        entries = tqdm(source.entries(), desc="reading articles", unit=" articles",
                       disable=not progress)
        target.apply(Change(added=tuple(entries)))
    stats = target.stats()
    return Migration(source.location, target.location, stats.articles, stats.chunks,
                     stats.sentences, time.perf_counter() - started)
