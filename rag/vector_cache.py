"""A persistent cache of document vectors, so no passage is embedded twice.

Re-indexing the same passages (a rebuild, another index over the same articles, an
evaluation index that mixes two datasets) looks each passage up here first. Vectors are
keyed by the embedder's identity (model, backend, weights) and the sha256 of the exact
text the model reads (prompt and title included), and stored as float32 bytes in one
SQLite file, ``{home}/vector-cache.sqlite`` by default.

Only document texts are cached: questions are never written to disk. The file is shared
by threads and processes (WAL journal, a busy timeout, one transaction per batch) and
bounded: once it holds more than ``max_mb`` of vectors, the least recently used tenth
is dropped. `clear` empties it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .sqlite_wal import use_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL UNIQUE,  -- sha256 of (embedder identity, text key)
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used);
"""
_CHUNK = 500  # keys per SELECT (SQLite's limit on bound parameters is 32766)


class VectorCacheError(RuntimeError):
    """The cache file cannot be opened or read; the message names it."""


@dataclass(frozen=True)
class CacheStats:
    """What the cache file holds."""

    path: str
    vectors: int
    megabytes: float
    models: tuple[str, ...]


def text_key(text: str) -> bytes:
    """The lookup key of one exact model input."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorCache:
    """Float32 vectors by (embedder identity, input text), in a SQLite file."""

    def __init__(self, path: Path, *, max_mb: int = 1024):
        self.path = Path(path)
        self.max_bytes = max_mb * 1024 * 1024
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connect()  # fail early, naming the file

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
                use_wal(connection)
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(SCHEMA)
            except (sqlite3.Error, OSError) as exc:
                raise VectorCacheError(
                    f"the vector cache {self.path} cannot be opened ({exc}); delete the file "
                    f"or turn the cache off (RAG_EMBED_CACHE_MB=0)") from exc
            self._local.connection = connection
        return connection

    def get(self, model: str, keys: Sequence[bytes], dim: int) -> list[np.ndarray | None]:
        """The cached vectors of each key, shape (rows, dim) (None where missing)."""
        found: dict[bytes, np.ndarray] = {}
        db = self._connect()
        unique = list(dict.fromkeys(_row_key(model, k) for k in keys))
        for start in range(0, len(unique), _CHUNK):
            part = unique[start: start + _CHUNK]
            rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN "
                              f"({','.join('?' * len(part))})", part).fetchall()
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.size and vector.size % dim == 0:
                    found[key] = vector.reshape(-1, dim)
        if found:
            self._touch(db, list(found))
        return [found.get(_row_key(model, k)) for k in keys]

    def put(self, model: str, keys: Sequence[bytes], vectors: Sequence[np.ndarray]) -> None:
        """Store one array of vectors per key (a vector or several rows) under ``model``."""
        if not keys:
            return
        now = time.time()
        rows = [(_row_key(model, k), model,
                 np.ascontiguousarray(v, dtype=np.float32).tobytes(), now)
                for k, v in zip(keys, vectors)]
        db = self._connect()
        self._write(db, "INSERT OR REPLACE INTO vectors (key, model, vector, used) "
                        "VALUES (?, ?, ?, ?)", rows)
        self._bound(db)

    def stats(self) -> CacheStats:
        db = self._connect()
        count = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        models = tuple(m for (m,) in db.execute("SELECT DISTINCT model FROM vectors"))
        return CacheStats(str(self.path), count, round(_used_bytes(db) / 2**20, 1), models)

    def clear(self) -> int:
        """Drop every vector; the number dropped."""
        with self._write_lock:
            db = self._connect()
            dropped = db.execute("DELETE FROM vectors").rowcount
            db.execute("VACUUM")
        return dropped

    def _write(self, db: sqlite3.Connection, sql: str, rows: list[tuple]) -> None:
        """One transaction (threads of this process take turns; processes wait on SQLite)."""
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _touch(self, db: sqlite3.Connection, keys: list[bytes]) -> None:
        """Mark vectors as just used (the last to be dropped when the file is trimmed)."""
        now = time.time()
        self._write(db, "UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in keys])

    def _bound(self, db: sqlite3.Connection) -> None:
        """Drop the least recently used tenth of the vectors while the file is too big."""
        while _used_bytes(db) > self.max_bytes:
            count = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            if not count:
                return
            self._write(db, "DELETE FROM vectors WHERE id IN (SELECT id FROM vectors "
                            "ORDER BY used LIMIT ?)", [(max(1, count // 10),)])


def _row_key(model: str, key: bytes) -> bytes:
    return hashlib.sha256(model.encode("utf-8") + b"\0" + key).digest()


def _used_bytes(db: sqlite3.Connection) -> int:
    """Bytes of the file's pages in use (freed pages are reused before the file grows)."""
    pages, free, size = (db.execute(f"PRAGMA {p}").fetchone()[0]
                         for p in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size
