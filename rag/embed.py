"""Embedding: the `Embedder` protocol and its sentence-transformers implementation.

Weights load on first use, never at import. Passages are embedded with the model's
document prompt (EmbeddingGemma: ``title: {title} | text: {passage}``) and questions
with its query prompt; vectors are L2-normalized so inner product = cosine.

`embed_passages` also returns one vector per sentence span of each passage, pooled from
the passage's own forward pass (late chunking, see `rag.encoders`), at no extra model cost.

The forward pass is an `Encoder` chosen by ``Settings.embed_backend`` (see
`rag.backends`): the sentence-transformers model itself (the reference), or a copy of
the same weights made locally for CPUs without bf16. Document vectors are kept in a
persistent `VectorCache`, so a passage is never embedded twice.

`name` goes into index manifests. The reference backends (float32 and bfloat16, whose
vectors agree to rounding) record the model's name alone; another backend records
``{model}+{backend}``, so an index always says which vectors it holds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .encoders import Encoder, Span
from .settings import Settings
from .vector_cache import VectorCache, text_key

SAVE_EVERY = 128  # documents embedded between two writes to the vector cache

__all__ = ["Embedder", "PassageVectors", "SentenceTransformerEmbedder", "CachedEmbedder",
           "build_embedder"]


@dataclass(frozen=True)
class PassageVectors:
    """Unit vectors of passages, and of each passage's sentence spans (late-chunked)."""

    passages: np.ndarray                 # (n, dim)
    sentences: tuple[np.ndarray, ...]    # n arrays (m_i, dim), in span order


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. `name` identifies the model in index manifests."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim). kind: "document" or "query"."""

    def embed_passages(self, texts: Sequence[str], titles: Sequence[str] | None,
                       spans: Sequence[Sequence[Span]], *,
                       progress: bool = False) -> PassageVectors:
        """Document vectors of ``texts`` and, per text, one vector per (start, end)
        character span of that text, pooled from the text's own forward pass."""

    def count_tokens(self, text: str) -> int: ...


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory, loaded lazily on first use."""

    def __init__(self, path: Path, name: str, *, dtype: str = "auto", truncate_dim: int = 0,
                 batch_size: int = 16, threads: int = 0, backend: str = "torch",
                 cache: VectorCache | None = None, encoder: Encoder | None = None):
        from .backends import make_encoder, manifest_name

        self.path = Path(path)
        self.truncate_dim = truncate_dim or None
        self.batch_size = batch_size
        self.encoder = encoder or make_encoder(self.path, backend, dtype=dtype,
                                               truncate_dim=self.truncate_dim, threads=threads)
        self.backend = self.encoder.backend
        self.name = manifest_name(name, self.backend, truncate_dim)
        self.cache = cache
        self._lock = threading.Lock()  # inference is not re-entrant across UI threads

    def for_index(self, recorded: str) -> "SentenceTransformerEmbedder":
        """The embedder whose vectors an index recorded as ``recorded`` holds: this one, or
        the same model on the backend that built the index (its questions and new passages
        must be embedded alike). Another model is not adapted to: opening the index then
        fails with the store's own message."""
        from .backends import parse_manifest_name

        if recorded == self.name:
            return self
        mine, theirs = parse_manifest_name(self.name), parse_manifest_name(recorded)
        if (mine.model, mine.dim) != (theirs.model, theirs.dim):
            return self
        return SentenceTransformerEmbedder(
            self.path, mine.model, truncate_dim=mine.dim, batch_size=self.batch_size,
            threads=getattr(self.encoder, "threads", 0), backend=theirs.backend,
            cache=self.cache)

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def dtype(self) -> str:
        return getattr(self.encoder, "dtype", "float32")

    @property
    def model(self):
        """The loaded sentence-transformers model (the torch backend's)."""
        return self.encoder.model

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)

    @cached_property
    def prompts(self) -> dict[str, str]:
        config = self.path / "config_sentence_transformers.json"
        try:
            return dict(json.loads(config.read_text()).get("prompts") or {})
        except (OSError, ValueError):
            return {}

    @cached_property
    def identity(self) -> str:
        """What the vector cache keys on besides the text: model, backend, weights."""
        weights = sorted(self.path.rglob("*.safetensors")) + sorted(self.path.glob("*.bin"))
        stamp = hashlib.sha256(repr([(str(p.relative_to(self.path)), p.stat().st_size,
                                      p.stat().st_mtime_ns) for p in weights]).encode())
        variant = getattr(self.encoder, "variant", "")  # e.g. the int8 copy's recipe
        return f"{self.name}|{self.backend}{variant}|{stamp.hexdigest()[:16]}"

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if kind == "query":  # questions are never written to the cache
            inputs = [self._prompt("query") + t for t in texts]
            with self._lock:
                return self.encoder.encode(inputs, batch_size=self.batch_size,
                                           progress=progress)
        inputs = self.document_inputs(texts, titles)
        keys = [text_key(x) for x in inputs]
        found = self._cached(keys)
        missing = list(dict.fromkeys(x for x, f in zip(inputs, found) if f is None))
        where: dict[str, np.ndarray] = {}
        for part in _parts(missing, progress):
            with self._lock:
                fresh = self.encoder.encode(part, batch_size=self.batch_size)
            self._store([text_key(x) for x in part], list(fresh))
            where.update(zip(part, fresh))
        return np.stack([f[0] if f is not None else where[x]
                         for x, f in zip(inputs, found)]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str], titles: Sequence[str] | None,
                       spans: Sequence[Sequence[Span]], *,
                       progress: bool = False) -> PassageVectors:
        if len(spans) != len(texts):
            raise ValueError(f"embed_passages: {len(texts)} texts but {len(spans)} span lists")
        pieces = self._documents(texts, titles)
        inputs = [prefix + text for prefix, text in pieces]
        shifted = [[(len(prefix) + a, len(prefix) + b) for a, b in own]
                   for (prefix, _), own in zip(pieces, spans)]
        keys = [text_key(x + "\0spans:" + repr(s)) for x, s in zip(inputs, shifted)]
        found = self._cached(keys)
        todo = [i for i, f in enumerate(found) if f is None or len(f) != 1 + len(spans[i])]
        for part in _parts(todo, progress):
            with self._lock:
                fresh = self.encoder.encode_spans(
                    [inputs[i] for i in part], [shifted[i] for i in part],
                    batch_size=self.batch_size)
            self._store([keys[i] for i in part] + [text_key(inputs[i]) for i in part],
                        list(fresh) + [v[:1] for v in fresh])
            for i, vectors in zip(part, fresh):
                found[i] = vectors
        return PassageVectors(
            passages=np.stack([f[0] for f in found]).astype(np.float32) if found else
            np.zeros((0, self.dim), np.float32),
            sentences=tuple(np.asarray(f[1:], np.float32) for f in found))

    def _cached(self, keys: list[bytes]) -> list[np.ndarray | None]:
        return self.cache.get(self.identity, keys, self.dim) if self.cache else [None] * len(keys)

    def _store(self, keys: list[bytes], vectors: list[np.ndarray]) -> None:
        if self.cache:
            self.cache.put(self.identity, keys, vectors)

    def _prompt(self, kind: str) -> str:
        prompts = self.prompts
        return prompts.get(kind) or prompts.get("Retrieval-query" if kind == "query" else "", "")

    def document_inputs(self, texts: Sequence[str],
                        titles: Sequence[str] | None = None) -> list[str]:
        """The exact texts the model reads for these documents (prompt and title included)."""
        return [prefix + text for prefix, text in self._documents(texts, titles)]

    def _documents(self, texts: Sequence[str],
                   titles: Sequence[str] | None) -> list[tuple[str, str]]:
        """(prefix, text) per document: the model reads prefix + text."""
        prompt = self._prompt("document")
        titles = list(titles) if titles is not None else [""] * len(texts)
        if "title: none" in prompt:  # EmbeddingGemma's document prompt takes the title
            return [(prompt.replace("none", (t or "none").replace("\n", " "), 1), x)
                    for t, x in zip(titles, texts)]
        return [(prompt + (f"{t}\n\n" if t else ""), x) for t, x in zip(titles, texts)]


def _parts(items: list, progress: bool, size: int = SAVE_EVERY):
    """``items`` in slices of ``size`` (each slice's vectors are cached as soon as they are
    made, so an interrupted indexing run loses little), with one progress bar."""
    from tqdm import tqdm

    with tqdm(total=len(items), desc="embedding", unit="passage",
              disable=not progress or not items) as bar:
        for start in range(0, len(items), size):
            part = items[start: start + size]
            yield part
            bar.update(len(part))


class CachedEmbedder:
    """An `Embedder` that remembers recent vectors of texts embedded without titles
    (questions, and passage sentences for the grounding checks), so a passage retrieved
    again is not re-embedded. Passages being indexed (with titles) pass straight through."""

    def __init__(self, embedder: Embedder, size: int = 20_000):
        self.inner, self.size = embedder, size
        self.name = embedder.name
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_passages(self, texts: Sequence[str], titles: Sequence[str] | None,
                       spans: Sequence[Sequence[Span]], *,
                       progress: bool = False) -> PassageVectors:
        return self.inner.embed_passages(texts, titles, spans, progress=progress)

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        if titles is not None:
            return self.inner.embed(texts, kind=kind, titles=titles, progress=progress)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._vectors))
        fresh = self.inner.embed(missing, kind=kind, progress=progress) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh):
                self._vectors[(kind, text)] = vector
            found = [self._vectors.get((kind, t)) for t in texts]
            for t in texts:
                if (kind, t) in self._vectors:
                    self._vectors.move_to_end((kind, t))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        if any(v is None for v in found):  # evicted meanwhile by a huge batch: embed directly
            return self.inner.embed(texts, kind=kind, progress=progress)
        return np.stack(found).astype(np.float32) if found else \
            np.zeros((0, self.dim), dtype=np.float32)


def build_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedder named by the settings; its files are checked, its weights not yet loaded."""
    from .models import ensure_ready

    name, path = ensure_ready(settings.embedder, "embedder", settings.home)
    cache = VectorCache(settings.home / "vector-cache.sqlite",
                        max_mb=settings.embed_cache_mb) if settings.embed_cache_mb else None
    return SentenceTransformerEmbedder(
        path, name, dtype=settings.embed_dtype, truncate_dim=settings.embed_dim,
        batch_size=settings.embed_batch_size, threads=settings.usable_threads,
        backend=settings.embed_backend, cache=cache)
