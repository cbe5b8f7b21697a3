"""PostgreSQL schema of the store: tables, indexes, the manifest checked on open, URLs.

Everything lives in the schema ``rag`` of the database the URL names::

    rag.meta        key -> jsonb: "manifest" (the `Manifest`), "analyzer" (ANALYZER_VERSION),
                    "passages_by_lang" (passages per language label, for keyword search)
    rag.stats       one row: articles, chunks, sentences, tokens (for BM25's average length)
                    and the corpus languages in the lexicon's order
    rag.articles    one row per article: its fields as jsonb, the casefolded author
    rag.chunks      one row per passage: a bigint ``rowid`` (the join key), its text, its
                    other fields as jsonb and those that filters read as columns (date,
                    casefolded source), ``embedding vector(dim)`` under an HNSW index (inner
                    product: vectors are unit length)
    rag.sentences   one vector per passage sentence (when the manifest keeps them), HNSW
    rag.postings    (token, chunk row) -> term frequency and the passage's token count: the
                    keyword index, read by BM25 in SQL through its primary key
    rag.analyzed    each passage's token count and a digest of its tokens
    rag.lexicon     the language of each corpus word (`rag.lexical.Lexicon`)

Writers serialize on a transaction-level advisory lock (`WRITE_LOCK`); a write is one
transaction, so readers see the store before or after it, never half of it.
"""

from __future__ import annotations

import dataclasses
import json
import logging

from psycopg import Connection, sql
from psycopg.types.json import Jsonb

from .lexical import ANALYZER_VERSION
from .pg_keyword import reanalyze
from .store import Manifest, check_manifest

log = logging.getLogger(__name__)

SCHEMA = "rag"
WRITE_LOCK = 0x7261675F73746F72  # "rag_stor": pg_advisory_xact_lock key of every writer
HNSW_M = 32                      # the local store's HNSW parameters
HNSW_EF_CONSTRUCTION = 80

_TABLES = """
CREATE TABLE rag.meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE rag.stats (
    id int PRIMARY KEY CHECK (id = 1), articles bigint NOT NULL, chunks bigint NOT NULL,
    sentences bigint NOT NULL, tokens bigint NOT NULL, langs text[] NOT NULL);
INSERT INTO rag.stats VALUES (1, 0, 0, 0, 0, '{{}}');
CREATE TABLE rag.articles (id text PRIMARY KEY, author_key text NOT NULL, data jsonb NOT NULL);
CREATE SEQUENCE rag.chunk_rows;
CREATE TABLE rag.chunks (
    rowid bigint PRIMARY KEY, id text NOT NULL UNIQUE, article_id text NOT NULL,
    n int NOT NULL, text text NOT NULL, lang text NOT NULL, date text NOT NULL,
    source_key text NOT NULL, data jsonb NOT NULL, embedding vector({dim}) NOT NULL);
ALTER TABLE rag.chunks ALTER COLUMN embedding SET STORAGE PLAIN;
CREATE INDEX chunks_article ON rag.chunks (article_id, n);
CREATE INDEX chunks_date ON rag.chunks (date);
CREATE INDEX chunks_source ON rag.chunks (source_key);
CREATE TABLE rag.sentences (
    chunk bigint NOT NULL, n int NOT NULL, start_at int NOT NULL, end_at int NOT NULL,
    embedding vector({dim}) NOT NULL, PRIMARY KEY (chunk, n));
ALTER TABLE rag.sentences ALTER COLUMN embedding SET STORAGE PLAIN;
CREATE TABLE rag.postings (
    token text NOT NULL, chunk bigint NOT NULL, tf int NOT NULL, tokens int NOT NULL,
    PRIMARY KEY (token, chunk) INCLUDE (tf, tokens));
CREATE INDEX postings_chunk ON rag.postings (chunk);
CREATE TABLE rag.analyzed (chunk bigint PRIMARY KEY, tokens int NOT NULL, digest text NOT NULL);
CREATE TABLE rag.lexicon (word text PRIMARY KEY, lang text NOT NULL);
"""

VECTOR_INDEXES = {"chunks": "chunks_vectors", "sentences": "sentences_vectors"}


def schema_exists(conn: Connection) -> bool:
    return conn.execute("SELECT to_regclass('rag.meta') IS NOT NULL").fetchone()[0]


def create_schema(conn: Connection, manifest: Manifest, analyzer: int) -> None:
    """The tables and indexes for ``manifest`` (inside the caller's transaction)."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    conn.execute(_TABLES.format(dim=int(manifest.dim)))
    create_vector_indexes(conn)
    write_meta(conn, "manifest", dataclasses.asdict(manifest))
    write_meta(conn, "analyzer", analyzer)


def drop_schema(conn: Connection) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))


def create_vector_indexes(conn: Connection) -> None:
    """HNSW indexes over the passage and sentence vectors (inner product)."""
    for table, name in VECTOR_INDEXES.items():
        conn.execute(sql.SQL(
            "CREATE INDEX IF NOT EXISTS {} ON rag.{} USING hnsw (embedding vector_ip_ops) "
            "WITH (m = {}, ef_construction = {})").format(
                sql.Identifier(name), sql.Identifier(table),
                sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION)))


def drop_vector_indexes(conn: Connection) -> None:
    for name in VECTOR_INDEXES.values():
        conn.execute(sql.SQL("DROP INDEX IF EXISTS rag.{}").format(sql.Identifier(name)))


def read_meta(conn: Connection, key: str):
    row = conn.execute("SELECT value FROM rag.meta WHERE key = %s", (key,)).fetchone()
    return None if row is None else row[0]


def write_meta(conn: Connection, key: str, value) -> None:
    conn.execute("INSERT INTO rag.meta VALUES (%s, %s::jsonb) ON CONFLICT (key) "
                 "DO UPDATE SET value = EXCLUDED.value", (key, json.dumps(value)))


def to_json(record, leave_out: tuple[str, ...] = ()) -> Jsonb:
    """A dataclass (an `Article`, a `Chunk`) as jsonb, without the ``leave_out`` fields."""
    return Jsonb({k: v for k, v in dataclasses.asdict(record).items() if k not in leave_out})


def from_json(cls, data: dict, **more):
    """``cls`` from stored fields (JSON lists back into tuples; unknown fields ignored)."""
    known = {f.name for f in dataclasses.fields(cls)}
    fields = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
              if isinstance(v, list) else v for k, v in {**data, **more}.items() if k in known}
    return cls(**fields)


def read_manifest(conn: Connection) -> Manifest:
    return Manifest.from_record(read_meta(conn, "manifest") or {})


def existing(conn: Connection, wanted: Manifest, location: str) -> Manifest | None:
    """The manifest of the store in the database, checked against ``wanted``; None if none."""
    if not schema_exists(conn):
        return None
    found = read_manifest(conn)
    check_manifest(found, wanted, location)
    return found


def prepare(conn: Connection, wanted: Manifest, location: str) -> Manifest | None:
    """The store's manifest, checked; created when the database has none and ``wanted``
    knows its dimension. Re-analyzes the passages if the keyword analyzer changed."""
    if not schema_exists(conn) and wanted.dim:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            if not schema_exists(conn):
                create_schema(conn, wanted, ANALYZER_VERSION)
                return wanted
    found = existing(conn, wanted, location)
    if found is None:
        return None
    if read_meta(conn, "analyzer") != ANALYZER_VERSION:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            if read_meta(conn, "analyzer") != ANALYZER_VERSION:
                log.warning("the keyword index at %s was made by analyzer %s (now %s): "
                            "re-analyzing its passages", location,
                            read_meta(conn, "analyzer"), ANALYZER_VERSION)
                reanalyze(conn, force=True)
    return found
