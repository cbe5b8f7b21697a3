"""Backends: which forward pass embeds, chosen per CPU, and how an index records it.

``Settings.embed_backend``:
- ``torch``: the sentence-transformers model (the reference), in bfloat16 where the CPU
  has native bf16 and float32 elsewhere (``Settings.embed_dtype`` overrides).
- ``onnx-int8``: ONNX Runtime over an int8 copy of the same weights, made locally on
  first use (`rag.onnx_build`, a few minutes, once); for CPUs without bf16, where torch
  runs in float32. It embeds passages about 2x faster than float32 where the CPU has VNNI
  and at float32's speed where it has only AVX2 (BENCHMARKS.md), and everywhere it loads in
  less than half the time, embeds a question faster and spares a new process importing
  torch, which is what a one-shot question waits for.
- ``auto``: ``torch`` (bfloat16) where the CPU has native bf16, else ``onnx-int8`` where
  ONNX Runtime is installed and the int8 copy is made (``scripts/setup.sh`` makes it on
  such CPUs), else ``torch`` (float32).

The index manifest records ``embedder.name``: the model's name for the reference backends
(float32 and bfloat16 agree to rounding), ``{model}+{backend}`` for any other, so that an
index never silently mixes vectors of two backends.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .encoders import Encoder, TorchEncoder

BACKENDS = ("auto", "torch", "onnx-int8")
REFERENCE = ("torch-float32", "torch-bfloat16")


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux); empty where unknown."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_bf16() -> bool:
    flags = cpu_flags()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_backend(requested: str, model_dir: Path | None = None) -> str:
    """The concrete backend for a setting value ("auto" decided for this CPU and, given
    ``model_dir``, for the int8 copy being made already: auto never builds it)."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown embedding backend {requested!r}; known: {', '.join(BACKENDS)}")
    if requested != "auto":
        return requested
    if cpu_has_bf16() or importlib.util.find_spec("onnxruntime") is None:
        return "torch"
    if model_dir is not None:
        from .onnx_build import ready

        if ready(model_dir, "int8") is None:
            return "torch"
    return "onnx-int8"


def make_encoder(path: Path, backend: str, *, dtype: str = "auto",
                 truncate_dim: int | None = None, threads: int = 0) -> Encoder:
    """The encoder for a model directory and a backend setting (nothing loaded yet)."""
    backend = choose_backend(backend, path)
    if backend == "onnx-int8":
        from .onnx_encoder import OnnxEncoder

        return OnnxEncoder(path, None, backend=backend, truncate_dim=truncate_dim,
                           threads=threads)
    dtype = ("bfloat16" if cpu_has_bf16() else "float32") if dtype == "auto" else dtype
    return TorchEncoder(path, dtype=dtype, truncate_dim=truncate_dim, threads=threads)


def manifest_name(model: str, backend: str, truncate_dim: int | None = None) -> str:
    """What an index records: ``model[+backend][@dim]``."""
    suffix = "" if backend in REFERENCE else f"+{backend}"
    return f"{model}{suffix}" + (f"@{truncate_dim}" if truncate_dim else "")


@dataclass(frozen=True)
class RecordedEmbedder:
    """An index's embedder name, read back: the model, the backend setting, the size."""

    model: str
    backend: str  # "torch" for the reference vectors
    dim: int


def parse_manifest_name(name: str) -> RecordedEmbedder:
    """Inverse of `manifest_name`."""
    rest, _, dim = name.rpartition("@") if "@" in name else (name, "", "0")
    model, _, backend = rest.partition("+")
    return RecordedEmbedder(model, backend or "torch", int(dim) if dim.isdigit() else 0)
