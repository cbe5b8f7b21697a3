"""Store: the on-disk index — FAISS vectors, BM25, chunks, articles and a manifest.

Layout of an index directory::

    CURRENT              name of the live generation, replaced atomically
    gen-<id>/manifest.json   format version, embedder id + dim, chunking, file checksums,
                             per-article content hashes
    gen-<id>/articles.jsonl  gen-<id>/chunks.jsonl  gen-<id>/dense.faiss  gen-<id>/keyword/
    gen-<id>/sentences.faiss  gen-<id>/sentence_chunks.npy   only with sentence vectors:
                             one vector per passage sentence, and the chunk row it belongs to

A write builds a complete new generation beside the old one and then swaps
``CURRENT``; a crash at any point leaves the old index loadable. Every file's
sha256 is checked on load, so truncation or corruption is reported, not used.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator, Sequence

import faiss
import numpy as np

from .chunking import CHUNKER_VERSION, Chunk
from .corpus import Article
from .lexical import KeywordIndex, words

FORMAT_VERSION = 1
EXACT_SEARCH_LIMIT = 100_000  # above this many chunks, HNSW instead of exact search
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# HNSW search breadth per 100k vectors: recall@10 against exact search stays ~0.97 when the
# breadth grows with the index (100k: 512 -> 0.966; 1M: 5120 -> 0.976, where 512 gives only
# 0.819; benchmarks/perf.py scale, EmbeddingGemma-like vectors, real question vectors).
HNSW_EF_SEARCH = 512
HNSW_EF_SEARCH_MAX = 8192  # ~1.6M chunks; beyond it recall slowly falls below 0.95
_OPEN_ATTEMPTS = 5  # reads retried when a concurrent writer swaps generations


class StoreError(RuntimeError):
    """The index is missing, corrupt, or was built with other settings."""


class EmptyIndexError(StoreError):
    """A search or question on an index that holds no articles yet."""



@dataclass(frozen=True)
class Manifest:
    embedder: str
    dim: int
    chunk_tokens: int
    chunk_overlap: int
    format_version: int = FORMAT_VERSION
    chunker: int = 1  # rag.chunking.CHUNKER_VERSION at build time (1 if not recorded)
    faiss_type: str = "flat"
    n_chunks: int = 0
    article_hashes: tuple[tuple[str, str], ...] = ()  # (article id, sha256 of its text)
    files: tuple[tuple[str, str], ...] = ()           # (relative file, sha256)
    updated: float = 0.0
    sentence_vectors: bool = False  # passages also have one vector per sentence
    n_sentences: int = 0

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["article_hashes"] = dict(self.article_hashes)
        data["files"] = dict(self.files)
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["article_hashes"] = tuple(sorted(data.get("article_hashes", {}).items()))
        data["files"] = tuple(sorted(data.get("files", {}).items()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True, eq=False)
class Index:
    """An immutable snapshot of the index; updates return a new one."""

    manifest: Manifest
    articles: dict[str, Article]
    chunks: tuple[Chunk, ...]
    dense: faiss.Index
    keyword: KeywordIndex
    sentences: faiss.Index | None = None        # with sentence vectors: one per sentence
    sentence_chunks: np.ndarray | None = None   # the chunk row of each sentence vector

    # -- building ---------------------------------------------------------------------
    @classmethod
    def empty(cls, embedder: str, dim: int, chunk_tokens: int, chunk_overlap: int,
              sentence_vectors: bool = False) -> "Index":
        manifest = Manifest(embedder=embedder, dim=dim, chunk_tokens=chunk_tokens,
                            chunk_overlap=chunk_overlap, chunker=CHUNKER_VERSION,
                            sentence_vectors=sentence_vectors)
        sentences = faiss.IndexFlatIP(dim) if sentence_vectors else None
        return cls(manifest, {}, (), faiss.IndexFlatIP(dim), KeywordIndex.build([], []),
                   sentences, np.zeros(0, np.int64) if sentence_vectors else None)

    def updated(self, added: Sequence[tuple[Article, Sequence[Chunk], np.ndarray]],
                removed: set[str],
                sentences: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> "Index":
        """A new index without the articles in ``removed`` and with ``added`` (re)placed.

        An index with sentence vectors needs, for each added article, its sentence
        vectors and the number (within the article) of the chunk each belongs to.
        """
        replaced = removed | {article.id for article, _, _ in added}
        kept = np.array([c.article_id not in replaced for c in self.chunks], bool)
        new = [np.asarray(v, np.float32).reshape(-1, self.manifest.dim) for _, _, v in added]
        chunks = ([c for c, k in zip(self.chunks, kept) if k]
                  + [c for _, cs, _ in added for c in cs])
        articles = {k: a for k, a in self.articles.items() if k not in replaced}
        articles.update({a.id: a for a, _, _ in added})
        dense, kind = _updated_vectors(self.dense, kept, new, self.manifest.dim)
        keyword = KeywordIndex.build([c.text for c in chunks], [c.lang for c in chunks])
        sentence_index, owners = self._updated_sentences(kept, added, sentences)
        manifest = dataclasses.replace(
            self.manifest, faiss_type=kind, n_chunks=len(chunks), updated=time.time(),
            n_sentences=sentence_index.ntotal if sentence_index is not None else 0,
            article_hashes=tuple(sorted((a.id, text_hash(a.text)) for a in articles.values())))
        return Index(manifest, articles, tuple(chunks), dense, keyword, sentence_index, owners)

    def _updated_sentences(self, kept_chunks: np.ndarray, added: Sequence[tuple],
                           sentences: Sequence[tuple[np.ndarray, np.ndarray]]
                           ) -> tuple[faiss.Index | None, np.ndarray | None]:
        """The sentence vectors of the kept chunks (a mask; rows renumbered) and of the added
        ones."""
        if self.sentences is None:
            return None, None
        if len(sentences) != len(added):
            raise ValueError("an index with sentence vectors needs them for every added article")
        kept = kept_chunks[self.sentence_chunks]
        renumber = np.cumsum(kept_chunks) - 1  # a kept chunk's row in the new index
        owners, new, base = [renumber[self.sentence_chunks[kept]]], [], int(kept_chunks.sum())
        for (_, chunks, _), (vectors, chunk_numbers) in zip(added, sentences):
            new.append(np.asarray(vectors, np.float32).reshape(-1, self.manifest.dim))
            owners.append(base + np.asarray(chunk_numbers, np.int64))
            base += len(chunks)
        index, _ = _updated_vectors(self.sentences, kept, new, self.manifest.dim)
        return index, np.concatenate(owners)

    def vectors(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """The stored unit vectors of the given chunk rows (all by default)."""
        everything = _all_vectors(self.dense, self.manifest.dim)
        return everything if rows is None else everything[list(rows)]

    # -- searching --------------------------------------------------------------------
    @cached_property
    def _word_bags(self) -> dict[int, frozenset[str]]:
        return {}

    def word_bag(self, row: int) -> frozenset[str]:
        """The words of a chunk (for near-duplicate checks), computed once per snapshot."""
        bag = self._word_bags.get(row)
        if bag is None:
            bag = self._word_bags[row] = frozenset(words(self.chunks[row].text))
        return bag

    def search_dense(self, query: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the k nearest chunks, optionally among ``allowed`` rows."""
        if self.dense.ntotal == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            params = _only(self.dense, allowed)
        q = np.asarray(query, np.float32).reshape(1, -1)
        scores, rows = self.dense.search(q, min(k, self.dense.ntotal), params=params)
        valid = rows[0] >= 0
        return rows[0][valid], scores[0][valid]

    def search_sentences(self, query: np.ndarray, k: int,
                         allowed: np.ndarray | None = None) -> np.ndarray:
        """Rows of the k chunks whose best sentence is nearest, optionally among ``allowed``."""
        if self.sentences is None or self.sentences.ntotal == 0 or k <= 0:
            return np.zeros(0, np.int64)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(np.isin(self.sentence_chunks, allowed))
            if len(ids) == 0:
                return np.zeros(0, np.int64)
            params = _only(self.sentences, ids)
        q = np.asarray(query, np.float32).reshape(1, -1)
        wanted = min(4 * k, self.sentences.ntotal)  # about four sentences per passage
        _, ids = self.sentences.search(q, wanted, params=params)
        rows = self.sentence_chunks[ids[0][ids[0] >= 0]]
        return _first_occurrences(rows)[:k]

    def cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Question–passage cosine of each chunk row."""
        if len(rows) == 0:
            return np.zeros(0, np.float32)
        return self.dense.reconstruct_batch(np.asarray(rows, np.int64)) @ query

    def best_sentence_cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine of each chunk row's best-matching sentence (its passage's if it has none)."""
        best = self.cosines(rows, query)
        for i, row in enumerate(rows):
            ids = self._sentences_of_chunk.get(int(row))
            if ids is not None:
                best[i] = (self.sentences.reconstruct_batch(ids) @ query).max()
        return best

    @cached_property
    def _sentences_of_chunk(self) -> dict[int, np.ndarray]:
        if self.sentence_chunks is None or len(self.sentence_chunks) == 0:
            return {}
        order = np.argsort(self.sentence_chunks, kind="stable")
        rows, starts = np.unique(self.sentence_chunks[order], return_index=True)
        return dict(zip(map(int, rows), np.split(order, starts[1:])))

    # -- persistence ------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write a new generation and make it current atomically; returns its folder."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        staging = directory / f".tmp-{name}"
        staging.mkdir()
        try:
            _write_lines(staging / "articles.jsonl",
                         (dataclasses.asdict(a) for a in self.articles.values()))
            _write_lines(staging / "chunks.jsonl", (dataclasses.asdict(c) for c in self.chunks))
            faiss.write_index(self.dense, str(staging / "dense.faiss"))
            if self.sentences is not None:
                faiss.write_index(self.sentences, str(staging / "sentences.faiss"))
                np.save(staging / "sentence_chunks.npy", self.sentence_chunks)
            self.keyword.save(staging / "keyword")
            files = tuple(sorted((str(p.relative_to(staging)), file_hash(p))
                                 for p in sorted(staging.rglob("*")) if p.is_file()))
            manifest = dataclasses.replace(self.manifest, files=files)
            (staging / "manifest.json").write_text(manifest.to_json())
            _fsync_tree(staging)
            os.rename(staging, directory / name)
            _replace_file(directory / "CURRENT", name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _remove_old_generations(directory, keep=name)
        return directory / name

    @classmethod
    def open(cls, directory: Path, *, embedder: str | None = None, dim: int | None = None,
             chunking: tuple[int, int] | None = None) -> "Index":
        """Load the current generation, verifying checksums, embedder and chunking settings.

        A writer in another process may swap ``CURRENT`` and delete the generation being
        read; then the read is retried on the new generation instead of failing.
        """
        directory = Path(directory)
        for attempt in range(_OPEN_ATTEMPTS):
            gen = current_generation(directory)
            try:
                return cls._open_generation(directory, gen, embedder, dim, chunking)
            except Exception:
                if attempt + 1 == _OPEN_ATTEMPTS or current_generation(directory) == gen:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _open_generation(cls, directory: Path, gen: Path | None, embedder: str | None,
                         dim: int | None, chunking: tuple[int, int] | None) -> "Index":
        if gen is None:
            raise StoreError(f"no index in {directory}/. Build one with: rag index corpus/ "
                              f"--index {directory}")
        if not gen.is_dir():
            raise StoreError(f"index folder {gen} named by {directory}/CURRENT is missing. "
                             f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
        try:
            manifest = Manifest.from_json((gen / "manifest.json").read_text())
        except (OSError, ValueError, TypeError, AttributeError) as exc:  # not JSON, or not an object
            raise StoreError(f"index manifest {gen / 'manifest.json'} is unreadable ({exc}). "
                              f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
        check_compatible(manifest, embedder, dim, directory, chunking)
        for relative, expected in manifest.files:
            path = gen / relative
            if not path.is_file() or file_hash(path) != expected:
                raise StoreError(f"index file {path} is missing or corrupt (checksum mismatch). "
                                  f"Rebuild with: rag index --rebuild corpus/ --index {directory}")
        articles = {a["id"]: Article(**a) for a in _read_lines(gen / "articles.jsonl")}
        chunks = tuple(Chunk(**c) for c in _read_lines(gen / "chunks.jsonl"))
        dense = faiss.read_index(str(gen / "dense.faiss"))
        if manifest.faiss_type == "hnsw":
            set_search_breadth(dense)
        sentences = owners = None
        if manifest.sentence_vectors:
            sentences = faiss.read_index(str(gen / "sentences.faiss"))
            owners = np.load(gen / "sentence_chunks.npy")
            if faiss_kind(sentences.ntotal) == "hnsw":
                set_search_breadth(sentences)
        return cls(manifest, articles, chunks, dense, KeywordIndex.load(gen / "keyword"),
                   sentences, owners)


def check_compatible(manifest: Manifest, embedder: str | None, dim: int | None,
                     directory: Path, chunking: tuple[int, int] | None = None) -> None:
    if manifest.format_version != FORMAT_VERSION:
        raise StoreError(f"index in {directory}/ has format {manifest.format_version}, this "
                          f"version reads {FORMAT_VERSION}. Rebuild with: rag index --rebuild "
                          f"corpus/ --index {directory}")
    if embedder is not None and (manifest.embedder != embedder or
                                 (dim is not None and manifest.dim != dim)):
        raise StoreError(
            f"index in {directory}/ was built with embedder {manifest.embedder!r} "
            f"(dim {manifest.dim}), but the configured embedder is {embedder!r}"
            f"{f' (dim {dim})' if dim else ''}. Use the same embedder (RAG_EMBEDDER) or "
            f"rebuild with: rag index --rebuild corpus/ --index {directory}")
    built = (manifest.chunk_tokens, manifest.chunk_overlap)
    if chunking is not None and manifest.chunker != CHUNKER_VERSION:
        raise StoreError(
            f"index in {directory}/ was chunked by chunker version {manifest.chunker}, this "
            f"version chunks with {CHUNKER_VERSION}. Rebuild with: "
            f"rag index --rebuild corpus/ --index {directory}")
    if chunking is not None and tuple(chunking) != built:
        raise StoreError(
            f"index in {directory}/ was built with chunks of {built[0]} tokens (overlap "
            f"{built[1]}), but the settings ask for {chunking[0]} (overlap {chunking[1]}). "
            f"Use the same RAG_CHUNK_TOKENS/RAG_CHUNK_OVERLAP or rebuild with: "
            f"rag index --rebuild corpus/ --index {directory}")


def _updated_vectors(index: faiss.Index, kept: np.ndarray, new: Sequence[np.ndarray],
                     dim: int) -> tuple[faiss.Index, str]:
    """``index`` with only the ``kept`` rows (a mask) and then the ``new`` ones, and its kind.
    When nothing is removed and the kind stays, a copy is extended (an HNSW graph is not
    rebuilt for one article); otherwise the index is rebuilt from the kept vectors."""
    total = int(kept.sum()) + sum(len(v) for v in new)
    if kept.all() and faiss_kind(total) == faiss_kind(index.ntotal):
        grown = faiss.clone_index(index)
        if new:
            grown.add(np.ascontiguousarray(np.vstack(new)))
        if faiss_kind(total) == "hnsw":
            set_search_breadth(grown)
        return grown, faiss_kind(total)
    return build_faiss(np.vstack([_all_vectors(index, dim)[kept], *new]), dim)


def _only(index: faiss.Index, ids: np.ndarray) -> faiss.SearchParameters:
    """Search parameters that restrict ``index`` to ``ids`` (at its usual HNSW breadth)."""
    selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))
    if faiss_kind(index.ntotal) == "hnsw":
        return faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw_ef_search(index.ntotal))
    return faiss.SearchParameters(sel=selector)


def _all_vectors(index: faiss.Index, dim: int) -> np.ndarray:
    if index.ntotal == 0:
        return np.zeros((0, dim), np.float32)
    return index.reconstruct_n(0, index.ntotal)


def _first_occurrences(values: np.ndarray) -> np.ndarray:
    """The distinct values in order of first appearance."""
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def faiss_kind(n_chunks: int) -> str:
    return "flat" if n_chunks <= EXACT_SEARCH_LIMIT else "hnsw"


def hnsw_ef_search(n_vectors: int) -> int:
    """HNSW's search breadth for an index of ``n_vectors``: at a fixed breadth the graph's
    recall falls as it grows, so the breadth grows in proportion (HNSW_EF_SEARCH per 100k
    vectors, at most HNSW_EF_SEARCH_MAX). Search time grows with it: at 1M, 54 ms instead
    of 7 ms at breadth 512, still 3.6x faster than exact search (194 ms)."""
    scaled = HNSW_EF_SEARCH * n_vectors // EXACT_SEARCH_LIMIT
    return int(min(HNSW_EF_SEARCH_MAX, max(HNSW_EF_SEARCH, scaled)))


def build_faiss(vectors: np.ndarray, dim: int) -> tuple[faiss.Index, str]:
    """Exact inner-product search up to EXACT_SEARCH_LIMIT chunks, HNSW above."""
    kind = faiss_kind(len(vectors))
    index = faiss.IndexFlatIP(dim) if kind == "flat" else new_hnsw(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    if kind == "hnsw":
        set_search_breadth(index)
    return index, kind


def new_hnsw(dim: int) -> faiss.IndexHNSWFlat:
    """An empty HNSW graph with the store's parameters (M, efConstruction)."""
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return index


def set_search_breadth(hnsw: faiss.Index) -> None:
    """Give an HNSW index the search breadth its size needs (`hnsw_ef_search`)."""
    faiss.ParameterSpace().set_index_parameter(hnsw, "efSearch", hnsw_ef_search(hnsw.ntotal))


def current_generation(directory: Path) -> Path | None:
    try:
        name = (Path(directory) / "CURRENT").read_text().strip()
    except OSError:
        return None
    return Path(directory) / name if name else None


@contextmanager
def write_lock(directory: Path) -> Iterator[None]:
    """Serialize writers (processes and threads) of one index directory."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    with open(Path(directory) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(path: Path) -> str:
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
