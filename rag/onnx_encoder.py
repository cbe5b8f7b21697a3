"""The ONNX Runtime encoder: the model's transformer run from a locally made ONNX file.

Without a file given, the copy of its backend's recipe is made on first use
(`rag.onnx_build.prepare`).

The file (see `rag.onnx_build`) holds the transformer body only, its Linear layers
quantized as the recipe says; the tokenizer, pooling, Dense layers and normalization come
from the sentence-transformers directory itself (`rag.encoders.DenseHead`), so whole texts
and late chunks are pooled exactly as the reference does. The tokenizer is the directory's
``tokenizer.json`` read by the `tokenizers` library itself, giving the same ids, masks and
offsets as the model's own tokenizer (special tokens, right padding, truncation) without
importing transformers: a new process answering its first question saves seconds.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from .encoders import DenseHead, Span, mean_pool, pooled_in_batches, pooling_masks


class OnnxEncoder:
    """`Encoder` over an ONNX file of the transformer body, loaded on first use."""

    def __init__(self, model_dir: Path, onnx_file: Path | None, *, backend: str,
                 truncate_dim: int | None = None, threads: int = 0, max_tokens: int = 2048):
        self.model_dir, self.onnx_file = Path(model_dir), onnx_file
        self.backend, self.truncate_dim = backend, truncate_dim
        self.threads, self.max_tokens = threads, max_tokens
        from .onnx_build import RECIPE_VERSION

        self.variant = f"/recipe-v{RECIPE_VERSION}"

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))

    @cached_property
    def pad_token(self) -> str:
        """The model's padding token, as its tokenizer configuration names it."""
        try:
            config = json.loads((self.model_dir / "tokenizer_config.json").read_text())
        except (OSError, ValueError):
            config = {}
        token = config.get("pad_token")
        return token.get("content", "<pad>") if isinstance(token, dict) else token or "<pad>"

    def features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token ids, attention mask and character offsets of a batch, as the model's own
        tokenizer gives them: content cut to fit ``max_tokens`` with the special tokens
        (BOS, EOS) added after, then padded on the right."""
        tokenizer = self.tokenizer
        room = self.max_tokens - tokenizer.num_special_tokens_to_add(False)
        encodings = []
        for encoding in tokenizer.encode_batch(list(texts), add_special_tokens=False):
            encoding.truncate(room)
            encodings.append(tokenizer.post_process(encoding, None, True))
        width = max(len(e.ids) for e in encodings)
        pad_id = tokenizer.token_to_id(self.pad_token) or 0
        for encoding in encodings:
            encoding.pad(width, pad_id=pad_id, pad_token=self.pad_token, direction="right")
        offsets = np.array([e.offsets for e in encodings], np.int64).reshape(-1, width, 2)
        return (np.array([e.ids for e in encodings], np.int64),
                np.array([e.attention_mask for e in encodings], np.int64), offsets)

    @cached_property
    def session(self):
        import onnxruntime as ort

        from .backends import recipe_of
        from .onnx_build import prepare

        path = self.onnx_file or prepare(self.model_dir, recipe_of(self.backend), progress=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), options,
                                    providers=["CPUExecutionProvider"])

    @cached_property
    def head(self) -> DenseHead:
        return DenseHead(self.model_dir, self.truncate_dim)

    @property
    def dim(self) -> int:
        width = self.head.layers[-1][0].shape[1] if self.head.layers else 0
        return min(width, self.truncate_dim or width)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], *, batch_size: int,
               progress: bool = False) -> np.ndarray:
        vectors = self.encode_spans(texts, [()] * len(texts), batch_size=batch_size,
                                    progress=progress)
        return np.stack([v[0] for v in vectors]) if vectors else \
            np.zeros((0, self.dim), np.float32)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]], *,
                     batch_size: int, progress: bool = False) -> list[np.ndarray]:
        return pooled_in_batches(self._pooled, texts, spans, batch_size, progress)

    def _pooled(self, texts: list[str], spans: list[Sequence[Span]]) -> list[np.ndarray]:
        ids, attention, offsets = self.features(texts)
        states = self.session.run(None, {"input_ids": ids, "attention_mask": attention})[0]
        pooled = [mean_pool(s, pooling_masks(a, o, own)) for s, a, o, own in
                  zip(states, attention, offsets, spans)]
        vectors = self.head(np.concatenate(pooled))
        return np.split(vectors, np.cumsum([len(p) for p in pooled])[:-1])
