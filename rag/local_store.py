"""Local store: the default `Store` — FAISS vectors, BM25, chunks and articles in a folder.

Layout of an index folder::

    CURRENT                  name of the live generation, replaced atomically
    gen-<id>/manifest.json   the `Manifest`, counts, and every file's sha256
    gen-<id>/articles.jsonl  gen-<id>/chunks.jsonl  gen-<id>/dense.faiss  gen-<id>/keyword/
    gen-<id>/sentences.faiss one vector per passage sentence (when the manifest keeps them),
    gen-<id>/sentences.npy   and for each: its chunk row, start and end (article offsets)

A write builds a complete new generation beside the old one and then swaps ``CURRENT``
under an exclusive file lock; a crash at any point leaves the old index loadable. Every
file's sha256 is checked on load, so truncation or corruption is reported, not used. A
reader notices a generation written by another process at its next call.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import faiss
import numpy as np

from .chunking import Chunk
from .corpus import Article
from .filters import Filters
from .keyword_index import KeywordIndex
from .snapshot import Snapshot
from .store import (Change, Entry, Manifest, Ranked, SentenceVectors, StoreError, StoreStats,
                    check_manifest)

_OPEN_ATTEMPTS = 5  # reads retried when a concurrent writer swaps generations


class LocalStore:
    """The index folder ``directory`` as a `Store` (one instance may serve many threads)."""

    def __init__(self, directory: Path, wanted: Manifest):
        self.directory = Path(directory)
        self.location = str(self.directory)
        self.wanted = wanted
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._generation: str | None = None
        self._fresh = False  # the next write starts from an empty index

    @classmethod
    def open(cls, directory: Path, wanted: Manifest, *, fresh: bool = False) -> "LocalStore":
        """The index in ``directory``. A ``fresh`` one starts empty: the old index stays
        on disk, untouched and unread, until the first `apply` replaces it."""
        store = cls(directory, wanted)
        store._fresh = fresh
        store.snapshot()  # refuse a mismatched or corrupt index now, not at the first search
        return store

    @classmethod
    def recorded(cls, directory: Path) -> Manifest | None:
        """The manifest of the index in ``directory``, unchecked; None if none is readable."""
        name = _current_name(Path(directory))
        if not name:
            return None
        try:
            return Manifest.from_record(
                json.loads((Path(directory) / name / "manifest.json").read_text()))
        except (OSError, ValueError):
            return None

    # -- reading ----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The current generation (reloaded if another process wrote a newer one)."""
        name = None if self._fresh else _current_name(self.directory)
        with self._lock:
            if self._snapshot is None or name != self._generation:
                self._snapshot = (self._read(name) if name
                                  else Snapshot.empty(self.wanted))
                self._generation = name
            return self._snapshot

    def _read(self, name: str) -> Snapshot:
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return read_generation(self.directory, name, self.wanted)
            except Exception:
                latest = _current_name(self.directory)
                if attempt + 1 == _OPEN_ATTEMPTS or latest == name:
                    raise
                name = latest or name
        raise AssertionError("unreachable")

    def manifest(self) -> Manifest:
        return self.snapshot().manifest

    def stats(self) -> StoreStats:
        return self.snapshot().stats()

    def articles(self) -> list[Article]:
        return list(self.snapshot().articles.values())

    def article(self, article_id: str) -> Article | None:
        return self.snapshot().articles.get(article_id)

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        return self.snapshot().chunks_of(ids)

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        return self.snapshot().search_dense(vector, k, filters)

    def search_keyword(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        return self.snapshot().search_keyword(query, k, filters)

    def search_sentences(self, vector: np.ndarray, k: int,
                         filters: Filters | None = None) -> Ranked:
        return self.snapshot().search_sentences(vector, k, filters)

    def cosines(self, ids: Sequence[str], vector: np.ndarray) -> np.ndarray:
        return self.snapshot().cosines(ids, vector)

    def keyword_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        return self.snapshot().keyword_scores(query, ids)

    def sentences(self, ids: Sequence[str]) -> list[SentenceVectors]:
        return self.snapshot().sentences_of(ids)

    def entries(self) -> Iterator[Entry]:
        yield from self.snapshot().entries()

    def close(self) -> None:
        with self._lock:
            self._snapshot = None

    # -- writing ----------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        """Write a new generation with ``change`` applied, under the folder's write lock."""
        if not change and _current_name(self.directory) and not self._fresh:
            return
        with write_lock(self.directory):
            name = None if self._fresh else _current_name(self.directory)
            base = self._read(name) if name else Snapshot.empty(self.wanted)
            updated = base.updated(change)
            written = save_generation(updated, self.directory)
        with self._lock:
            self._snapshot, self._generation, self._fresh = updated, written.name, False


# --------------------------------------------------------------------------- generations

def save_generation(snapshot: Snapshot, directory: Path) -> Path:
    """Write ``snapshot`` as a new generation and make it current atomically."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    staging = directory / f".tmp-{name}"
    staging.mkdir()
    try:
        _write_lines(staging / "articles.jsonl",
                     (dataclasses.asdict(a) for a in snapshot.articles.values()))
        _write_lines(staging / "chunks.jsonl", (dataclasses.asdict(c) for c in snapshot.chunks))
        faiss.write_index(snapshot.dense, str(staging / "dense.faiss"))
        if snapshot.sentences is not None:
            faiss.write_index(snapshot.sentences, str(staging / "sentences.faiss"))
            np.save(staging / "sentences.npy", snapshot.sentence_rows)
        snapshot.keyword.save(staging / "keyword")
        files = {str(p.relative_to(staging)): file_hash(p)
                 for p in sorted(staging.rglob("*")) if p.is_file()}
        record = {**dataclasses.asdict(snapshot.manifest),
                  **dataclasses.asdict(snapshot.stats()), "files": files}
        (staging / "manifest.json").write_text(json.dumps(record, indent=1, sort_keys=True))
        _fsync_tree(staging)
        os.rename(staging, directory / name)
        _replace_file(directory / "CURRENT", name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_generations(directory, keep=name)
    return directory / name


def read_generation(directory: Path, name: str, wanted: Manifest) -> Snapshot:
    """Load generation ``name``, verifying the manifest and every file's checksum."""
    gen = directory / name
    if not gen.is_dir():
        raise StoreError(f"index folder {gen} named by {directory}/CURRENT is missing. "
                         f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
    try:
        record = json.loads((gen / "manifest.json").read_text())
        manifest = Manifest.from_record(record)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"index manifest {gen / 'manifest.json'} is unreadable ({exc}). "
                         f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
    check_manifest(manifest, wanted, str(directory))
    for relative, expected in record.get("files", {}).items():
        path = gen / relative
        if not path.is_file() or file_hash(path) != expected:
            raise StoreError(f"index file {path} is missing or corrupt (checksum mismatch). "
                             f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
    articles = {a["id"]: Article(**_listed(a)) for a in _read_lines(gen / "articles.jsonl")}
    chunks = tuple(Chunk(**c) for c in _read_lines(gen / "chunks.jsonl"))
    sentences = rows = None
    if manifest.sentence_vectors:
        sentences = faiss.read_index(str(gen / "sentences.faiss"))
        rows = np.load(gen / "sentences.npy")
    return Snapshot.assemble(manifest, articles, chunks, faiss.read_index(str(gen / "dense.faiss")),
                             KeywordIndex.load(gen / "keyword"), sentences, rows)


def _listed(record: dict) -> dict:
    """JSON lists back into the tuples an `Article` holds."""
    return {k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
            if isinstance(v, list) else v for k, v in record.items()}


def _current_name(directory: Path) -> str | None:
    try:
        return (Path(directory) / "CURRENT").read_text().strip() or None
    except OSError:
        return None


def current_generation(directory: Path) -> Path | None:
    name = _current_name(directory)
    return Path(directory) / name if name else None


@contextmanager
def write_lock(directory: Path) -> Iterator[None]:
    """Serialize writers (processes and threads) of one index folder."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    with open(Path(directory) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def file_hash(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_lines(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _fsync_tree(root: Path) -> None:
    for path in [*root.rglob("*"), root]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace_file(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_old_generations(directory: Path, keep: str) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and entry.name != keep and (
                entry.name.startswith("gen-") or entry.name.startswith(".tmp-gen-")):
            shutil.rmtree(entry, ignore_errors=True)
