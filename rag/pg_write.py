"""Writing the PostgreSQL store: one transaction per change, one writer at a time.

A `Writer` lives inside the caller's transaction. `Writer.begin` takes the advisory lock
that serializes every writer of the database (other processes, other machines wait
there), so two writers never interleave, and nothing is visible to readers before the
commit: a writer killed at any point leaves the store as it was.

Rows go in by binary COPY. A copy into an empty store (a first load, a migration, a
rebuild) drops the HNSW indexes and builds them once at the end, which is several times
faster than growing the graphs one row at a time.
"""

from __future__ import annotations

import itertools
from typing import Iterable, Iterator, Sequence

import numpy as np
from psycopg import Connection
from tqdm import tqdm

from .lexical import ANALYZER_VERSION
from .pg_keyword import reanalyze
from .pg_schema import (WRITE_LOCK, create_schema, create_vector_indexes, drop_schema,
                        drop_vector_indexes, schema_exists, to_json)
from .store import Entry, Manifest

BATCH_ARTICLES = 256
BUILD_MEMORY_MAX = 6 << 30        # most maintenance_work_mem asked for an HNSW build
_CHUNK_TYPES = ["int8", "text", "text", "int4", "text", "text", "text", "text", "jsonb",
                "vector"]
_SENTENCE_TYPES = ["int8", "int4", "int4", "int4", "vector"]


class Writer:
    """Removes and adds articles inside one transaction that holds the write lock."""

    def __init__(self, conn: Connection, manifest: Manifest, bulk: bool):
        self.conn = conn
        self.manifest = manifest
        self.bulk = bulk  # vector indexes dropped, rebuilt by finish()

    @classmethod
    def begin(cls, conn: Connection, manifest: Manifest, *, fresh: bool = False) -> "Writer":
        """Wait for the write lock; a ``fresh`` write starts from an empty store."""
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        if fresh:
            drop_schema(conn)
        if fresh or not schema_exists(conn):
            create_schema(conn, manifest, ANALYZER_VERSION)
        empty = conn.execute("SELECT chunks = 0 FROM rag.stats").fetchone()[0]
        if empty:
            drop_vector_indexes(conn)
        return cls(conn, manifest, bulk=empty)

    def remove(self, article_ids: Iterable[str]) -> None:
        ids = list(set(article_ids))
        if not ids:
            return
        rows = [r[0] for r in self.conn.execute(
            "SELECT rowid FROM rag.chunks WHERE article_id = ANY(%s)", (ids,))]
        if rows:
            for table in ("postings", "analyzed", "sentences"):
                self.conn.execute(f"DELETE FROM rag.{table} WHERE chunk = ANY(%s)", (rows,))
            self.conn.execute("DELETE FROM rag.chunks WHERE rowid = ANY(%s)", (rows,))
        self.conn.execute("DELETE FROM rag.articles WHERE id = ANY(%s)", (ids,))

    def add_stream(self, entries: Iterable[Entry], progress: bool = False) -> int:
        """Add (or replace) every entry, in batches; returns how many articles."""
        added = 0
        bar = tqdm(desc="copying articles", unit=" articles", disable=not progress)
        for batch in _batches(iter(entries), BATCH_ARTICLES):
            self.add(batch)
            added += len(batch)
            bar.update(len(batch))
        bar.close()
        return added

    def add(self, entries: Sequence[Entry]) -> None:
        latest = {e.article.id: e for e in entries}  # an article given twice: the last wins
        entries = list(latest.values())
        for entry in entries:
            _check(entry, self.manifest)
        self.remove(latest)
        total = sum(len(e.chunks) for e in entries)
        rows = iter([r[0] for r in self.conn.execute(
            "SELECT nextval('rag.chunk_rows') FROM generate_series(1, %s)", (total,))])
        with self.conn.cursor() as cur:
            with cur.copy("COPY rag.articles FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "text", "jsonb"])
                for e in entries:
                    copy.write_row((e.article.id, e.article.author.casefold(),
                                    to_json(e.article)))
            chunk_rows = self._copy_chunks(cur, entries, rows)
            if self.manifest.sentence_vectors:
                self._copy_sentences(cur, entries, chunk_rows)

    def _copy_chunks(self, cur, entries: list[Entry], rows: Iterator[int]) -> list[list[int]]:
        chunk_rows = []
        with cur.copy("COPY rag.chunks (rowid, id, article_id, n, text, lang, date, "
                      "source_key, data, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_CHUNK_TYPES)
            for e in entries:
                mine = []
                for c, vector in zip(e.chunks, np.asarray(e.vectors, np.float32)):
                    row = next(rows)
                    mine.append(row)
                    copy.write_row((row, c.id, c.article_id, c.index, c.text, c.lang, c.date,
                                    c.source.casefold(), to_json(c, ("text",)), vector))
                chunk_rows.append(mine)
        return chunk_rows

    def _copy_sentences(self, cur, entries: list[Entry], chunk_rows: list[list[int]]) -> None:
        with cur.copy("COPY rag.sentences (chunk, n, start_at, end_at, embedding) "
                      "FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_SENTENCE_TYPES)
            for e, rows in zip(entries, chunk_rows):
                for row, found in zip(rows, e.sentences):
                    vectors = np.asarray(found.vectors, np.float32)
                    for n, ((start, end), vector) in enumerate(zip(found.spans, vectors)):
                        copy.write_row((row, n, start, end, vector))

    def finish(self) -> None:
        """Keyword index and counts brought up to date; vector indexes rebuilt if dropped."""
        reanalyze(self.conn)
        self.conn.execute(
            "UPDATE rag.stats SET articles = (SELECT count(*) FROM rag.articles), "
            "chunks = (SELECT count(*) FROM rag.chunks), "
            "sentences = (SELECT count(*) FROM rag.sentences)")
        if self.bulk:
            vectors = self.conn.execute("SELECT chunks + sentences FROM rag.stats").fetchone()[0]
            _reserve_build_memory(self.conn, vectors, self.manifest.dim)
            create_vector_indexes(self.conn)


def _check(entry: Entry, manifest: Manifest) -> None:
    """Refuse an entry whose vectors do not fit the store, naming the article."""
    name = f"article {entry.article.id}"
    vectors = np.asarray(entry.vectors)
    if vectors.shape != (len(entry.chunks), manifest.dim):
        raise ValueError(f"{name}: vectors of shape {vectors.shape}, the store needs "
                         f"({len(entry.chunks)}, {manifest.dim})")
    if any(c.article_id != entry.article.id for c in entry.chunks):
        raise ValueError(f"{name}: a passage belongs to another article")
    if not manifest.sentence_vectors:
        return
    if len(entry.sentences) != len(entry.chunks):
        raise ValueError(f"{name}: the store keeps sentence vectors, one set per passage is "
                         f"needed ({len(entry.sentences)} for {len(entry.chunks)} passages)")
    for found in entry.sentences:
        if np.asarray(found.vectors).reshape(-1, manifest.dim).shape[0] != len(found.spans):
            raise ValueError(f"{name}: passage {found.chunk_id} has {len(found.spans)} "
                             f"sentences but {len(found.vectors)} sentence vectors")


def _reserve_build_memory(conn: Connection, vectors: int, dim: int) -> None:
    """Raise maintenance_work_mem (this transaction only) so the HNSW graph fits."""
    needed = min(BUILD_MEMORY_MAX, int(vectors * (dim * 4 + 600) * 1.2) + (64 << 20))
    current = conn.execute("SELECT setting::bigint * 1024 FROM pg_settings "
                           "WHERE name = 'maintenance_work_mem'").fetchone()[0]
    if needed > current:
        conn.execute(f"SET LOCAL maintenance_work_mem = '{needed // 1024}kB'")


def _batches(items: Iterator[Entry], size: int) -> Iterator[list[Entry]]:
    while batch := list(itertools.islice(items, size)):
        yield batch
