"""PostgreSQL store: the `Store` contract on a PostgreSQL server with pgvector, for teams.

``RAG_STORE=postgresql://user@host/db`` puts articles, passages, vectors (HNSW) and the
keyword index (BM25 in SQL, `rag.pg_keyword`) in one transactional server that several
writers and readers on different machines share, that backs up and replicates as any
database does. The tables are described in `rag.pg_schema`; writes in `rag.pg_write`.

Search: up to `EXACT_SEARCH_LIMIT` vectors the nearest passages are found exactly (a scan,
as the local store does); above, through pgvector's HNSW index, at a search breadth that
grows with the store (capped by pgvector at 1000) and, under filters, with iterative
scans; when a filtered HNSW search finds fewer than asked, it is redone exactly.

The connection string is shown only as `location`, with its password masked; errors name
that, never the password.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import numpy as np

from .store import StoreError

try:
    import psycopg
    from pgvector.psycopg import register_vector
    from psycopg.types import TypeInfo
    from psycopg_pool import ConnectionPool
except ImportError as missing:  # the optional extra
    raise StoreError("a postgresql:// store needs the PostgreSQL driver: "
                     "pip install -e '.[postgres]'") from missing

from .chunking import Chunk
from .corpus import Article
from .filters import Filters
from .pg_keyword import bm25_params, query_tokens, scored_sql
from .pg_schema import (WRITE_LOCK, existing, from_json, prepare, read_manifest,
                        schema_exists)
from .pg_write import Writer
from .store import (Change, Entry, Manifest, Ranked, SentenceVectors, StoreStats, masked_url,
                    url_secrets)

EXACT_SEARCH_LIMIT = 20_000   # vectors; above, HNSW
HNSW_EF_SEARCH = 512          # search breadth per 100k vectors, as the local store
HNSW_EF_SEARCH_MAX = 1000     # pgvector's largest hnsw.ef_search
SENTENCES_PER_PASSAGE = 4     # sentence hits read per passage asked for
POOL_SIZE = 4
COUNT_TTL_S = 5.0             # how long a read of the store's size is used
CONNECT_TIMEOUT_S = 10
_CHUNK_COLUMNS = "c.id, c.text, c.data"


class PostgresStore:
    """A `Store` in the schema ``rag`` of a PostgreSQL database (thread-safe: a small pool
    of connections)."""

    def __init__(self, url: str, wanted: Manifest, found: Manifest | None, pool: ConnectionPool,
                 fresh: bool):
        self.location = masked_url(url)
        self._secrets = url_secrets(url)
        self._wanted = wanted
        self._found = found  # the manifest in the database; None: no store there (yet)
        self._pool = pool
        self._fresh = fresh  # the next write replaces everything; reads see an empty store
        self._counted: tuple[float, dict[str, int]] = (-COUNT_TTL_S, {})

    @classmethod
    def open(cls, url: str, wanted: Manifest, *, fresh: bool = False) -> "PostgresStore":
        """The store in the database at ``url``, created if the database has none.
        Refuses one built with another embedder or chunking (`check_manifest`) unless
        ``fresh``: then the first `apply` replaces it whole (until then it is untouched).
        A ``wanted.dim`` of 0 (embedder not loaded) opens to read: a database without a
        store then reads as empty until a writer creates one."""
        location, secrets = masked_url(url), url_secrets(url)
        with _translated(location, secrets):
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                 application_name="rag") as conn:
                found = None if fresh else prepare(conn, wanted, location)
            pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=True, timeout=30,
                                  kwargs={"autocommit": True, "application_name": "rag",
                                          "connect_timeout": CONNECT_TIMEOUT_S}, name="rag")
        return cls(url, wanted, found, pool, fresh)

    @classmethod
    def recorded(cls, url: str) -> Manifest | None:
        """The manifest of the store in the database at ``url``, unchecked; None if none."""
        with _translated(masked_url(url), url_secrets(url)):
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                 application_name="rag") as conn:
                return read_manifest(conn) if schema_exists(conn) else None

    @classmethod
    def drop(cls, url: str) -> None:
        """Remove the store (the schema ``rag`` and everything in it) from the database."""
        with _translated(masked_url(url), url_secrets(url)):
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    conn.execute("DROP SCHEMA IF EXISTS rag CASCADE")

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        with _translated(self.location, self._secrets), self._pool.connection() as conn:
            if conn.adapters.types.get("vector") is None:
                if TypeInfo.fetch(conn, "vector") is not None:
                    register_vector(conn)
            yield conn

    @property
    def _empty(self) -> bool:
        """Reads see no store: a fresh one not written yet, or none in the database yet
        (looked for again, as another process may have created it since)."""
        if self._fresh:
            return True
        if self._found is None:
            with self._conn() as conn:
                self._found = existing(conn, self._wanted, self.location)
        return self._found is None

    def close(self) -> None:
        self._pool.close()

    # -- reading ----------------------------------------------------------------------
    def manifest(self) -> Manifest:
        """The manifest the store was built with (the wanted one until it exists)."""
        return self._wanted if self._empty else self._found

    def stats(self) -> StoreStats:
        if self._empty:
            return StoreStats()
        with self._conn() as conn:
            row = conn.execute("SELECT articles, chunks, sentences FROM rag.stats").fetchone()
        return StoreStats(*map(int, row))

    def articles(self) -> list[Article]:
        if self._empty:
            return []
        with self._conn() as conn:
            rows = conn.execute("SELECT data FROM rag.articles ORDER BY id")
            return [from_json(Article, row[0]) for row in rows]

    def article(self, article_id: str) -> Article | None:
        if self._empty:
            return None
        with self._conn() as conn:
            row = conn.execute("SELECT data FROM rag.articles WHERE id = %s",
                               (article_id,)).fetchone()
        return from_json(Article, row[0]) if row else None

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids or self._empty:
            return []
        with self._conn() as conn:
            rows = conn.execute(f"SELECT {_CHUNK_COLUMNS} FROM rag.chunks c "
                                "WHERE c.id = ANY(%s)", (list(ids),)).fetchall()
        found = {row[0]: _chunk(row) for row in rows}
        return [found[i] for i in ids if i in found]

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        return self._nearest("chunks", vector, k, filters)

    def search_sentences(self, vector: np.ndarray, k: int,
                         filters: Filters | None = None) -> Ranked:
        if not self.manifest().sentence_vectors:
            return Ranked()
        found = self._nearest("sentences", vector, SENTENCES_PER_PASSAGE * k, filters)
        best: dict[str, int] = {}  # each passage at its best sentence, in order
        for i, chunk_id in enumerate(found.ids):
            best.setdefault(chunk_id, i)
        keep = list(best.values())[:k]
        return Ranked(tuple(found.ids[i] for i in keep), found.scores[keep])

    def _nearest(self, table: str, vector: np.ndarray, k: int, filters: Filters | None) -> Ranked:
        """The ``k`` rows of ``table`` (chunks or sentences) nearest to ``vector``, as
        (chunk id, inner product), among the passages ``filters`` allow."""
        if k <= 0 or self._empty:
            return Ranked()
        join, where, params = filter_sql(filters)
        source = ("rag.chunks c" if table == "chunks" else
                  "rag.sentences v JOIN rag.chunks c ON c.rowid = v.chunk")
        column = "c.embedding" if table == "chunks" else "v.embedding"
        query = (f"SELECT c.id, -({column} <#> %(q)s) FROM {source} {join} WHERE {where} "
                 f"ORDER BY {column} <#> %(q)s LIMIT %(k)s")
        params.update(q=np.asarray(vector, np.float32).ravel(), k=k)
        total = self._count(table)
        rows = self._search(query, params, total, k, exact=total <= EXACT_SEARCH_LIMIT,
                            filtered=bool(filters))
        if total > EXACT_SEARCH_LIMIT and filters and len(rows) < min(k, total):
            rows = self._search(query, params, total, k, exact=True, filtered=True)
        return _ranked(rows)  # (HNSW found fewer than asked: few allowed, scanned exactly)

    def _search(self, query: str, params: dict, total: int, k: int, *, exact: bool,
                filtered: bool) -> list:
        """``query`` run with the search settings, in one round trip (a pipeline)."""
        with self._conn() as conn, conn.transaction(), conn.pipeline():
            _set_search(conn, total, k, exact, filtered)
            cursor = conn.execute(query, params)
        return cursor.fetchall()

    def _count(self, table: str) -> int:
        """How many rows ``table`` (chunks, sentences) holds, re-read every few seconds
        (it chooses exact or HNSW search and the HNSW breadth)."""
        now = time.monotonic()
        if now - self._counted[0] > COUNT_TTL_S:
            with self._conn() as conn:
                chunks, sentences = conn.execute(
                    "SELECT chunks, sentences FROM rag.stats").fetchone()
            self._counted = (now, {"chunks": chunks, "sentences": sentences})
        return self._counted[1][table]

    def cosines(self, ids: Sequence[str], vector: np.ndarray) -> np.ndarray:
        found = self._vectors(ids)
        known = [i for i in ids if i in found]
        if not known:
            return np.zeros(0, np.float32)
        return np.stack([found[i] for i in known]) @ np.asarray(vector, np.float32)

    def _vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids or self._empty:
            return {}
        with self._conn() as conn, conn.cursor(binary=True) as cur:
            cur.execute("SELECT id, embedding FROM rag.chunks WHERE id = ANY(%s)", (list(ids),))
            return {i: v.to_numpy() for i, v in cur}

    def search_keyword(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        if k <= 0 or self._empty:
            return Ranked()
        join, where, params = filter_sql(filters)
        with self._conn() as conn:
            tokens = query_tokens(conn, query)
            if not tokens:
                return Ranked()
            params.update(bm25_params(tokens, query), k=k)
            rows = conn.execute(scored_sql(
                f"SELECT c.id, sc.score FROM scored sc JOIN rag.chunks c ON c.rowid = sc.chunk "
                f"{join} WHERE {where} AND sc.score > 0 ORDER BY sc.score DESC, c.rowid "
                f"LIMIT %(k)s"), params).fetchall()
        return _ranked(rows)

    def keyword_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        if not ids or self._empty:
            return np.zeros(0, np.float32)
        with self._conn() as conn:
            tokens = query_tokens(conn, query)
            rows = conn.execute("SELECT id FROM rag.chunks WHERE id = ANY(%s)",
                                (list(ids),)).fetchall()
            known = {row[0] for row in rows}
            scores = {}
            if tokens and known:
                scores = dict(conn.execute(scored_sql(
                    "SELECT c.id, sc.score FROM scored sc JOIN rag.chunks c "
                    "ON c.rowid = sc.chunk WHERE c.id = ANY(%(ids)s)"),
                    {**bm25_params(tokens, query), "ids": list(known)}).fetchall())
        return np.array([scores.get(i, 0.0) for i in ids if i in known], np.float32)

    def sentences(self, ids: Sequence[str]) -> list[SentenceVectors]:
        if not ids or self._empty or not self._found.sentence_vectors:
            return [self._sentence_vectors(i, (), ()) for i in ids]
        with self._conn() as conn:
            return self._sentences_on(conn, ids)

    def _sentences_on(self, conn: psycopg.Connection, ids: Sequence[str]) -> list[SentenceVectors]:
        found: dict[str, tuple[list, list]] = {}
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT c.id, v.start_at, v.end_at, v.embedding FROM rag.sentences v "
                        "JOIN rag.chunks c ON c.rowid = v.chunk WHERE c.id = ANY(%s) "
                        "ORDER BY v.chunk, v.n", (list(ids),))
            for chunk_id, start, end, vector in cur:
                spans, vectors = found.setdefault(chunk_id, ([], []))
                spans.append((start, end))
                vectors.append(vector.to_numpy())
        return [self._sentence_vectors(i, *found.get(i, ((), ()))) for i in ids]

    def _sentence_vectors(self, chunk_id: str, spans, vectors) -> SentenceVectors:
        array = (np.stack(vectors) if len(vectors)
                 else np.zeros((0, self.manifest().dim), np.float32))
        return SentenceVectors(chunk_id, tuple(spans), array)

    def entries(self) -> Iterator[Entry]:
        """Every article with its passages and vectors, from one consistent snapshot."""
        if self._empty:
            return
        with self._conn() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            ids = [row[0] for row in conn.execute("SELECT id FROM rag.articles ORDER BY id")]
            for start in range(0, len(ids), 200):
                yield from self._entries_of(conn, ids[start:start + 200])

    def _entries_of(self, conn: psycopg.Connection, ids: list[str]) -> Iterator[Entry]:
        articles = {row[0]: from_json(Article, row[1]) for row in conn.execute(
            "SELECT id, data FROM rag.articles WHERE id = ANY(%s)", (ids,))}
        chunks: dict[str, list[tuple[Chunk, np.ndarray]]] = {i: [] for i in ids}
        with conn.cursor(binary=True) as cur:
            cur.execute(f"SELECT {_CHUNK_COLUMNS}, c.embedding FROM rag.chunks c "
                        "WHERE c.article_id = ANY(%s) ORDER BY c.article_id, c.n", (ids,))
            for row in cur:
                chunk = _chunk(row)
                chunks[chunk.article_id].append((chunk, row[3].to_numpy()))
        for article_id in ids:
            passages = tuple(c for c, _ in chunks[article_id])
            vectors = (np.stack([v for _, v in chunks[article_id]]) if passages
                       else np.zeros((0, self.manifest().dim), np.float32))
            sentences = (tuple(self._sentences_on(conn, [c.id for c in passages]))
                         if self._found.sentence_vectors else ())
            yield Entry(articles[article_id], passages, vectors, sentences)

    # -- writing ----------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        """Add, replace and remove articles in one transaction, serialized across
        processes and machines by an advisory lock."""
        if change or self._fresh:
            self.copy_in(change.added, removed=change.removed)

    def copy_in(self, entries: Iterable[Entry], *, removed: Iterable[str] = (),
                progress=None) -> int:
        """Add (or replace) the streamed ``entries`` and remove ``removed`` in one
        transaction; returns the number of articles added. A large copy into a store much
        smaller than it builds the HNSW indexes once at the end."""
        manifest = self._wanted if self._fresh or self._empty else self._found
        if not manifest.dim:
            raise StoreError(f"cannot write to {self.location}: opened without the "
                             "embedder's dimension (open it to write)")
        with self._conn() as conn, conn.transaction():
            writer = Writer.begin(conn, manifest, fresh=self._fresh)
            if conn.adapters.types.get("vector") is None:
                register_vector(conn)  # the vector type was created by this write
            writer.remove(set(removed))
            added = writer.add_stream(entries, progress)
            writer.finish()
        self._fresh, self._found = False, manifest
        self._counted = (-COUNT_TTL_S, {})
        return added


def filter_sql(filters: Filters | None) -> tuple[str, str, dict]:
    """(join, where, params) restricting ``rag.chunks c`` as `Filters.allows` does."""
    if not filters:
        return "", "TRUE", {}
    conds, params, join = [], {}, ""
    if filters.sources:
        conds.append("c.source_key = ANY(%(sources)s)")
        params["sources"] = [s.casefold() for s in filters.sources]
    if filters.authors:
        join = "JOIN rag.articles a ON a.id = c.article_id"
        conds.append("(" + " OR ".join(f"strpos(a.author_key, %(author{i})s) > 0"
                                        for i in range(len(filters.authors))) + ")")
        params.update({f"author{i}": a.casefold() for i, a in enumerate(filters.authors)})
    if filters.dated:
        span = [cond for cond, value in (('c.date >= %(date_from)s COLLATE "C"',
                                          filters.date_from),
                                         ('c.date <= %(date_to)s COLLATE "C"',
                                          filters.date_to)) if value]
        params.update(date_from=filters.date_from, date_to=filters.date_to)
        conds.append(f"(c.date = '' OR ({' AND '.join(span)}))" if filters.undated
                     else f"(c.date <> '' AND {' AND '.join(span)})")
    return join, " AND ".join(conds), params


def _set_search(conn: psycopg.Connection, total: int, k: int, exact: bool,
                filtered: bool) -> None:
    """Exact scan, or HNSW with a breadth for ``total`` vectors (iterative under filters)."""
    if exact:
        conn.execute("SET LOCAL enable_indexscan = off")
        return
    breadth = max(HNSW_EF_SEARCH, HNSW_EF_SEARCH * total // 100_000, k)
    conn.execute(f"SET LOCAL hnsw.ef_search = {min(HNSW_EF_SEARCH_MAX, breadth)}")
    if filtered:
        conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")


def _chunk(row) -> Chunk:
    chunk_id, text, data = row[:3]
    return from_json(Chunk, data, text=text)


def _ranked(rows: list) -> Ranked:
    return Ranked(tuple(r[0] for r in rows), np.array([r[1] for r in rows], np.float32))


@contextmanager
def _translated(location: str, secrets: Sequence[str]) -> Iterator[None]:
    """Database errors as `StoreError`s that name ``location`` and never a password."""
    try:
        yield
    except psycopg.Error as exc:
        message = str(exc).strip() or type(exc).__name__
        for secret in secrets:
            message = message.replace(secret, "***")
        raise StoreError(f"PostgreSQL store {location}: {message}") from None
