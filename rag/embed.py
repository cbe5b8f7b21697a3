"""Embedding: the `Embedder` protocol and its sentence-transformers implementation.

Weights load on first use, never at import. Passages are embedded with the model's
document prompt (EmbeddingGemma: ``title: {title} | text: {passage}``) and questions
with its query prompt; vectors are L2-normalized so inner product = cosine.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .settings import Settings


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. `name` identifies the model in index manifests."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim). kind: "document" or "query"."""

    def count_tokens(self, text: str) -> int: ...


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory, loaded lazily on first use."""

    def __init__(self, path: Path, name: str, *, dtype: str = "auto", truncate_dim: int = 0,
                 batch_size: int = 16, threads: int = 0):
        self.path = Path(path)
        self.name = name + (f"@{truncate_dim}" if truncate_dim else "")
        self.dtype = ("bfloat16" if cpu_has_bf16() else "float32") if dtype == "auto" else dtype
        self.truncate_dim = truncate_dim or None
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()

    @cached_property
    def model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        return SentenceTransformer(
            str(self.path), device="cpu", local_files_only=True,
            truncate_dim=self.truncate_dim,
            model_kwargs={"dtype": getattr(torch, self.dtype)})

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension  # sentence-transformers < 5.2
        return int(getter())

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        options = dict(batch_size=self.batch_size, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=progress)
        with self._lock:  # torch inference is not re-entrant across UI threads
            if kind == "query":
                vectors = self.model.encode(texts, prompt=self._prompt("query"), **options)
            else:
                vectors = self.model.encode(self._with_titles(texts, titles), prompt="", **options)
        return np.asarray(vectors, dtype=np.float32)

    def _prompt(self, kind: str) -> str:
        prompts = getattr(self.model, "prompts", {}) or {}
        return prompts.get(kind) or prompts.get("Retrieval-query" if kind == "query" else "", "")

    def _with_titles(self, texts: list[str], titles: Sequence[str] | None) -> list[str]:
        prompt = self._prompt("document")
        titles = list(titles) if titles is not None else [""] * len(texts)
        if "title: none" in prompt:  # EmbeddingGemma's document prompt takes the title
            return [prompt.replace("none", (t or "none").replace("\n", " "), 1) + x
                    for t, x in zip(titles, texts)]
        return [prompt + (f"{t}\n\n{x}" if t else x) for t, x in zip(titles, texts)]


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
    return SentenceTransformerEmbedder(
        path, name, dtype=settings.embed_dtype, truncate_dim=settings.embed_dim,
        batch_size=settings.embed_batch_size, threads=settings.usable_threads)
