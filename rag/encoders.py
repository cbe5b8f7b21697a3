"""Encoders: the forward pass of a sentence-transformers embedding model, per backend.

An `Encoder` turns model inputs (texts with their prompt already in place) into unit
vectors. Besides one vector per text, `encode_spans` returns one vector per character span
of each text, pooled from that text's own forward pass (late chunking): the token
embeddings of the tokens that overlap the span are mean-pooled and then go through the
model's own Dense layers and normalization, exactly as a whole text's tokens do.

`TorchEncoder` runs the model with sentence-transformers (float32 or bfloat16) and is
the reference; the other backends (`rag.onnx_encoder`) run a copy of the same weights
made locally and share the tokenizer and `DenseHead` defined here.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

Span = tuple[int, int]


class Encoder(Protocol):
    """One backend's forward pass. `backend` names it (``torch-float32``, ``onnx-int8``…)."""

    backend: str

    @property
    def dim(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str], *, batch_size: int,
               progress: bool = False) -> np.ndarray:
        """Unit vectors of whole texts, float32, shape (len(texts), dim)."""

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]], *,
                     batch_size: int, progress: bool = False) -> list[np.ndarray]:
        """Per text, an array (1 + len(spans[i]), dim): the text's vector, then its spans'."""


def span_token_masks(offsets: np.ndarray, spans: Sequence[Span]) -> np.ndarray:
    """Which tokens each span pools: (len(spans), n_tokens) float32 of 0/1.

    ``offsets`` (n_tokens, 2) are the tokens' character offsets in the text (special and
    padding tokens have (0, 0) and are never pooled). A token belongs to every span it
    overlaps; a span that covers no token (empty, or past the truncated end) pools the
    token nearest to its start, so it still gets a vector.
    """
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts
    masks = np.zeros((len(spans), len(offsets)), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        hit = real & (ends > start) & (starts < max(end, start + 1))
        if not hit.any() and real.any():
            candidates = np.flatnonzero(real)
            hit = np.zeros_like(real)
            hit[candidates[np.argmin(np.abs(starts[candidates] - start))]] = True
        masks[row] = hit
    return masks


def normalize(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    """Truncate to ``dim`` (Matryoshka) if given, then scale rows to unit length."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if dim:
        vectors = vectors[:, :dim]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class DenseHead:
    """A sentence-transformers model's modules after pooling (Dense layers, Normalize),
    in numpy, read from the model directory: the same arithmetic as the model's own."""

    def __init__(self, model_dir: Path, truncate_dim: int | None = None):
        from safetensors.numpy import load_file

        modules = json.loads((Path(model_dir) / "modules.json").read_text())
        self.layers: list[tuple[np.ndarray, np.ndarray | None]] = []
        for module in modules:
            kind = module["type"].rsplit(".", 1)[-1]
            folder = Path(model_dir) / module["path"]
            if kind == "Pooling":
                _check_mean_pooling(folder)
            elif kind == "Dense":
                config = json.loads((folder / "config.json").read_text())
                if not config.get("activation_function", "").endswith("Identity"):
                    raise ValueError(f"{folder}: only Dense layers without activation are "
                                     f"supported outside torch")
                tensors = load_file(str(folder / "model.safetensors"))
                weight = next(v for k, v in tensors.items() if k.endswith("weight"))
                bias = next((v for k, v in tensors.items() if k.endswith("bias")), None)
                self.layers.append((weight.astype(np.float32).T.copy(), bias))
        self.truncate_dim = truncate_dim

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        out = np.asarray(pooled, dtype=np.float32)
        for weight, bias in self.layers:
            out = out @ weight if bias is None else out @ weight + bias
        return normalize(out, self.truncate_dim)


def _check_mean_pooling(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"] or not config.get("include_prompt", True):
        raise ValueError(f"{folder}: only mean pooling over all tokens is supported "
                         f"outside torch (found {modes})")


def mean_pool(states: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Mean of token states (n_tokens, hidden) under each mask row (m, n_tokens)."""
    counts = np.maximum(masks.sum(axis=1, keepdims=True), 1e-9)
    return (masks @ states) / counts


class TorchEncoder:
    """The reference: the model run by sentence-transformers, loaded on first use."""

    def __init__(self, path: Path, *, dtype: str = "float32", truncate_dim: int | None = None,
                 threads: int = 0):
        self.path, self.dtype, self.threads = Path(path), dtype, threads
        self.truncate_dim = truncate_dim
        self.backend = f"torch-{dtype}"

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
        getter = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension  # sentence-transformers < 5.2
        return int(getter())

    @property
    def prompts(self) -> dict[str, str]:
        return getattr(self.model, "prompts", {}) or {}

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, texts: Sequence[str], *, batch_size: int,
               progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(list(texts), prompt="", batch_size=batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]], *,
                     batch_size: int, progress: bool = False) -> list[np.ndarray]:
        return pooled_in_batches(self._pooled, texts, spans, batch_size, progress)

    def _pooled(self, texts: list[str], spans: list[Sequence[Span]]) -> list[np.ndarray]:
        """One batch's forward pass, each text pooled over all its tokens and its spans'."""
        import torch

        features = self.model.tokenizer(
            texts, return_offsets_mapping=True, return_tensors="pt", padding=True,
            truncation=True, max_length=self.model.max_seq_length)
        offsets = features.pop("offset_mapping").numpy()
        with torch.inference_mode():
            states = self.model[0](dict(features))["token_embeddings"]
            masks = [torch.from_numpy(pooling_masks(mask, offs, own)).to(states.dtype)
                     for mask, offs, own in zip(features["attention_mask"].numpy(),
                                                offsets, spans)]
            pooled = torch.cat([(m @ s) / m.sum(dim=1, keepdim=True).clamp(min=1e-9)
                                for m, s in zip(masks, states)])
            out = {"sentence_embedding": pooled}
            for module in list(self.model)[2:]:  # Dense layers, Normalize
                out = module(out)
            vectors = normalize(out["sentence_embedding"].float().numpy(), self.truncate_dim)
        return np.split(vectors, np.cumsum([len(m) for m in masks])[:-1])


def pooling_masks(attention: np.ndarray, offsets: np.ndarray,
                  spans: Sequence[Span]) -> np.ndarray:
    """Row 0 pools the whole text (every attended token); the others pool each span."""
    return np.concatenate([np.asarray(attention, np.float32)[None],
                           span_token_masks(offsets, spans)])


def pooled_in_batches(pool, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                      batch_size: int, progress: bool) -> list[np.ndarray]:
    """``pool(texts, spans)`` over batches of texts of similar length (little padding),
    results in the input order, with a progress bar."""
    from tqdm import tqdm

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    results: list[np.ndarray | None] = [None] * len(texts)
    with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
        for start in range(0, len(order), batch_size):
            chosen = order[start: start + batch_size]
            for i, vectors in zip(chosen, pool([texts[i] for i in chosen],
                                               [spans[i] for i in chosen])):
                results[i] = vectors
            bar.update(len(chosen))
    return results
