"""Store: the contract for where articles, their passages and vectors live.

The retriever and the library speak only this protocol, so the same answers come from
either implementation:

* `rag.local_store.LocalStore` — FAISS + BM25 files in an index folder (the default);
* `rag.pg_store.PostgresStore` — PostgreSQL with pgvector, for teams (``RAG_STORE=postgresql://…``).

Passages are addressed by their chunk id (``"{article_id}:{n}"``). A store keeps, for each
passage, its unit vector and (when its manifest says so) one vector per sentence. Writes
are whole `Change`s applied atomically: a reader sees the store before or after a change,
never half of it, and an interrupted write leaves the previous state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterator, Protocol, Sequence, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from .chunking import CHUNKER_VERSION, Chunk
from .corpus import Article
from .errors import RagError
from .filters import Filters

FORMAT_VERSION = 2


class StoreError(RagError, RuntimeError):
    """The store is missing, corrupt, unreachable, or was built with other settings."""


class EmptyIndexError(StoreError):
    """A search or question on a store that holds no articles yet."""


@dataclass(frozen=True)
class Manifest:
    """What a store was built with; checked on open, so vectors are never mixed."""

    embedder: str
    dim: int
    chunk_tokens: int
    chunk_overlap: int
    chunker: int = CHUNKER_VERSION
    format_version: int = FORMAT_VERSION
    sentence_vectors: bool = True  # one vector per passage sentence is kept

    @classmethod
    def from_record(cls, record: dict) -> "Manifest":
        """The manifest written in ``record`` (a stored JSON object; other keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})


@dataclass(frozen=True)
class StoreStats:
    articles: int = 0
    chunks: int = 0
    sentences: int = 0


@dataclass(frozen=True, eq=False)
class Ranked:
    """Chunk ids with their scores, best first."""

    ids: tuple[str, ...] = ()
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class SentenceVectors:
    """The sentences of one passage (spans in article offsets) and a unit vector for each."""

    chunk_id: str
    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (len(spans), dim) float32


@dataclass(frozen=True, eq=False)
class Entry:
    """One article as stored: its passages, their vectors, and their sentence vectors
    (one `SentenceVectors` per chunk, in chunk order, when the store keeps them)."""

    article: Article
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # (len(chunks), dim) float32, unit length
    sentences: tuple[SentenceVectors, ...] = ()


@dataclass(frozen=True)
class Change:
    """Articles to add or replace (by id) and article ids to remove, applied atomically."""

    added: tuple[Entry, ...] = ()
    removed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@runtime_checkable
class Store(Protocol):
    """Articles, passages and vectors, searchable by vector and by keywords."""

    location: str  # where it lives, printable (never with a password)

    def manifest(self) -> Manifest: ...

    def stats(self) -> StoreStats: ...

    def articles(self) -> list[Article]:
        """Every stored article."""

    def article(self, article_id: str) -> Article | None: ...

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The passages with these ids, in that order (unknown ids are left out)."""

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        """The ``k`` passages nearest to ``vector`` (cosine), among those ``filters`` allow."""

    def search_keyword(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        """The ``k`` best BM25 matches for ``query``; only passages that match any term."""

    def search_sentences(self, vector: np.ndarray, k: int,
                         filters: Filters | None = None) -> Ranked:
        """The ``k`` passages whose best sentence is nearest; empty without sentence vectors."""

    def cosines(self, ids: Sequence[str], vector: np.ndarray) -> np.ndarray:
        """The cosine between ``vector`` and each passage."""

    def keyword_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        """The BM25 score of each passage for ``query`` (0 where nothing matches)."""

    def sentences(self, ids: Sequence[str]) -> list[SentenceVectors]:
        """The sentence vectors of each passage, in order (empty spans without them)."""

    def apply(self, change: Change) -> None:
        """Add, replace and remove articles atomically (serialized across processes)."""

    def entries(self) -> Iterator[Entry]:
        """Everything stored, article by article (to copy into another store)."""

    def close(self) -> None: ...


def check_manifest(found: Manifest, wanted: Manifest, location: str) -> None:
    """Refuse a store built with another embedder, dimension or chunking, naming the fix.
    A ``wanted.dim`` of 0 means "not known yet" (the embedder is not loaded): not checked."""
    rebuild = (f"Rebuild with: RAG_STORE={location} rag index --rebuild corpus/"
               if is_database_url(location) else
               f"Rebuild with: rag index --rebuild corpus/ --index {location}")
    if found.format_version != wanted.format_version:
        raise StoreError(f"the index at {location} has format {found.format_version}, this "
                         f"version reads {wanted.format_version}. {rebuild}")
    if found.chunker != wanted.chunker:
        raise StoreError(f"the index at {location} was chunked by chunker version "
                         f"{found.chunker}, this version chunks with {wanted.chunker}. {rebuild}")
    if (found.chunk_tokens, found.chunk_overlap) != (wanted.chunk_tokens, wanted.chunk_overlap):
        raise StoreError(
            f"the index at {location} was built with chunks of {found.chunk_tokens} tokens "
            f"(overlap {found.chunk_overlap}), but the settings ask for {wanted.chunk_tokens} "
            f"(overlap {wanted.chunk_overlap}). Use the same RAG_CHUNK_TOKENS/"
            f"RAG_CHUNK_OVERLAP or {rebuild[0].lower()}{rebuild[1:]}")
    if found.embedder != wanted.embedder or (wanted.dim and found.dim != wanted.dim):
        raise StoreError(
            f"the index at {location} was built with embedder {found.embedder!r} "
            f"(dim {found.dim}), but the configured embedder is {wanted.embedder!r} "
            f"(dim {wanted.dim}). Use the same embedder (RAG_EMBEDDER) or {rebuild[0].lower()}"
            f"{rebuild[1:]}")


def is_database_url(location: str | object) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def open_store(location: str | object, wanted: Manifest, *, fresh: bool = False) -> Store:
    """The store at ``location``: a ``postgresql://`` URL or an index folder (created empty
    if missing). Refuses one built with another embedder or chunking (`check_manifest`);
    ``fresh`` starts it over, empty, with the ``wanted`` manifest (``rag index --rebuild``)."""
    if is_database_url(location):
        from .pg_store import PostgresStore
        return PostgresStore.open(str(location), wanted, fresh=fresh)
    from .local_store import LocalStore
    return LocalStore.open(Path(str(location)), wanted, fresh=fresh)


# --------------------------------------------------------------------------- locations

_SECRET_PARAMS = {"password", "sslpassword"}


def masked_url(url: str) -> str:
    """``url`` with its password (in the user part or the query) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The passwords written in ``url`` (to scrub them from any message)."""
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_PARAMS and v]
    return found


def recorded_manifest(location: str | object) -> Manifest | None:
    """What the store at ``location`` was built with, read without checking; None if there
    is no store there yet."""
    if is_database_url(location):
        from .pg_store import PostgresStore
        return PostgresStore.recorded(str(location))
    from .local_store import LocalStore
    return LocalStore.recorded(Path(str(location)))


def store_file(settings, name: str) -> Path:
    """A file kept beside the store (``chats``, ``sources``): ``{name}.sqlite`` in a local
    index folder; for a database store, a file in the home folder named after its
    location (password left out, so changing it moves nothing)."""
    if not settings.store:
        return Path(settings.index_dir) / f"{name}.sqlite"
    digest = hashlib.sha256(masked_url(settings.store).encode("utf-8")).hexdigest()[:16]
    return Path(settings.home) / name / f"{digest}.sqlite"
