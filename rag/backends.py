"""Backends: which forward pass embeds, chosen per CPU, and how an index records it.

``Settings.embed_backend``:
- ``torch``: the sentence-transformers model (the reference), in bfloat16 where the CPU
  has native bf16 and float32 elsewhere (``Settings.embed_dtype`` overrides).
- ``onnx-int8`` and ``onnx-int8-mixed``: ONNX Runtime over an int8 copy of the same
  weights (recipes ``int8`` and ``int8-mixed`` of `rag.onnx_build`), made locally on first
  use (a few minutes, once). ``onnx-int8`` is for CPUs with VNNI, where it embeds passages
  about 2x faster than float32 (and faster than bf16); ``onnx-int8-mixed`` keeps two
  projections in float32 and is the faster one on CPUs with only AVX2 (1.2-1.3x float32,
  near the int8 ceiling there: BENCHMARKS.md). Either loads in less than half torch's time,
  embeds a question faster and spares a new process importing torch, which is what a
  one-shot question waits for.
- ``auto``: where ONNX Runtime is installed, the int8 copy for this CPU
  (`onnx_backend_for_cpu`) if it is made (``scripts/setup.sh`` makes it), or on a CPU
  without bf16 the other copy if only that is made; else ``torch`` (bfloat16 where the CPU
  has native bf16, float32 elsewhere). A CPU with bf16 but no VNNI keeps ``torch``.

The index manifest records ``embedder.name``: the model's name for the reference backends
(float32 and bfloat16 agree to rounding), ``{model}+{backend}`` for any other, so that an
index never silently mixes vectors of two backends.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .encoders import Encoder, TorchEncoder

ONNX_RECIPES = {"onnx-int8": "int8", "onnx-int8-mixed": "int8-mixed"}
BACKENDS = ("auto", "torch", *ONNX_RECIPES)
REFERENCE = ("torch-float32", "torch-bfloat16")


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux), read once; empty where unknown."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_bf16() -> bool:
    flags = cpu_flags()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_has_vnni() -> bool:
    """Integer dot-product instructions (AVX-512 VNNI or AVX-VNNI)."""
    flags = cpu_flags()
    return "avx512_vnni" in flags or "avx_vnni" in flags


def onnx_backend_for_cpu() -> str:
    """The faster int8 copy on this CPU: block-wise projections need VNNI to be fast."""
    return "onnx-int8" if cpu_has_vnni() else "onnx-int8-mixed"


def recipe_of(backend: str) -> str:
    """The `rag.onnx_build` recipe of an ONNX backend."""
    return ONNX_RECIPES[backend]


def choose_backend(requested: str, model_dir: Path | None = None) -> str:
    """The concrete backend for a setting value ("auto" decided for this CPU and, given
    ``model_dir``, for the int8 copies made already: auto never builds one)."""
    if requested not in BACKENDS:
        raise ValueError(f"unknown embedding backend {requested!r}; known: {', '.join(BACKENDS)}")
    if requested != "auto":
        return requested
    bf16 = cpu_has_bf16()
    if importlib.util.find_spec("onnxruntime") is None or (bf16 and not cpu_has_vnni()):
        return "torch"
    preferred = onnx_backend_for_cpu()
    if model_dir is None:
        return preferred
    from .onnx_build import ready

    # the CPU's own copy first; without bf16, the other one, if only that is made, still
    # beats float32
    candidates = (preferred,) if bf16 else dict.fromkeys((preferred, *ONNX_RECIPES))
    return next((b for b in candidates if ready(model_dir, recipe_of(b))), "torch")


def make_encoder(path: Path, backend: str, *, dtype: str = "auto",
                 truncate_dim: int | None = None, threads: int = 0) -> Encoder:
    """The encoder for a model directory and a backend setting (nothing loaded yet)."""
    backend = choose_backend(backend, path)
    if backend in ONNX_RECIPES:
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
