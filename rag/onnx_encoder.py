"""The ONNX Runtime encoder: the model's transformer run from a locally made ONNX file.

Without a file given, the int8 copy is made on first use (`rag.onnx_build.prepare`).

The file (see `rag.onnx_build`) holds the transformer body only, with its Linear layers
quantized to int8; the tokenizer, pooling, Dense layers and normalization come from the
sentence-transformers directory itself (`rag.encoders.DenseHead`), so whole texts and late
chunks are pooled exactly as the reference does.
"""

from __future__ import annotations

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
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)

    @cached_property
    def session(self):
        import onnxruntime as ort

        from .onnx_build import prepare

        path = self.onnx_file or prepare(self.model_dir, "int8", progress=True)
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
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

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
        features = self.tokenizer(texts, return_offsets_mapping=True, return_tensors="np",
                                  padding=True, truncation=True, max_length=self.max_tokens)
        attention = features["attention_mask"].astype(np.int64)
        states = self.session.run(None, {"input_ids": features["input_ids"].astype(np.int64),
                                         "attention_mask": attention})[0]
        pooled = [mean_pool(s, pooling_masks(a, o, own)) for s, a, o, own in
                  zip(states, attention, features["offset_mapping"], spans)]
        vectors = self.head(np.concatenate(pooled))
        return np.split(vectors, np.cumsum([len(p) for p in pooled])[:-1])
