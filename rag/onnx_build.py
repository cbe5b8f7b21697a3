"""Making the int8 ONNX copy of an embedding model, locally, from its verified weights.

`prepare(model_dir, recipe)` exports the model's transformer body (the part before
pooling) from the sentence-transformers directory to ONNX with ``torch.onnx``, quantizes
its Linear layers with ONNX Runtime, checks the result against the reference on a few
texts, and moves it into place atomically:

    {home}/models/{model}.onnx/{recipe}/model.onnx   (+ model.onnx.data, stamp.json)

The stamp records the source weights' fingerprint, the recipe, the library versions and
the file's sha256; `ready` re-checks size and mtime (and the sha256 with ``full=True``),
so a changed or truncated file is rebuilt, never used. Building takes a few minutes, once
(``python -m rag.onnx_build``, ``scripts/setup.sh``, or on first use).

Both recipes give per-tensor dynamic int8 to every Linear layer except the MLP's down
projection and the attention output, whose inputs carry outliers; they differ in those two:
- ``int8``: 8-bit weights with block-wise (32) int8 activations (``MatMulNBits``, accuracy
  level 4). Fast where the CPU has VNNI; without it ONNX Runtime's block-wise kernel is
  slower than float32 (0.5-0.7x on an AVX2-only CPU, `benchmarks/embedding.py kernels`).
- ``int8-mixed``: the two stay float32. Faster than ``int8`` on CPUs without VNNI (1.26x)
  and as close to the reference (cosine >= 0.993; BENCHMARKS.md, embedding).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

RECIPES = ("int8", "int8-mixed")
RECIPE_VERSION = 1
MIN_COSINE = 0.98  # each check text's vector against the reference's
CHECK_TEXTS = (
    "title: none | text: Il governo ha approvato ieri sera la legge di bilancio: "
    "18 miliardi di euro per ridurre le tasse sul lavoro.",
    "title: Tesla | text: Tesla could offer data storage to other companies, which "
    "might intensify the rivalry between Elon Musk and Jeff Bezos.",
    "task: search result | query: Quanto ha guadagnato Lumetta Ceramiche nel 2024?",
)
STAMP = "stamp.json"


class OnnxBuildError(RuntimeError):
    """The ONNX copy could not be made or does not match the reference."""


def target_dir(model_dir: Path, recipe: str) -> Path:
    model_dir = Path(model_dir)
    return model_dir.parent / f"{model_dir.name}.onnx" / f"{recipe}-v{RECIPE_VERSION}"


def source_fingerprint(model_dir: Path) -> str:
    """The source weights, by name, size and mtime (a re-fetched model changes it)."""
    weights = sorted(Path(model_dir).rglob("*.safetensors"))
    parts = [(str(p.relative_to(model_dir)), p.stat().st_size, p.stat().st_mtime_ns)
             for p in weights]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def ready(model_dir: Path, recipe: str, *, full: bool = False) -> Path | None:
    """The ONNX file if it exists, matches its stamp and today's source weights."""
    folder = target_dir(model_dir, recipe)
    try:
        stamp = json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("source") != source_fingerprint(model_dir):
        return None
    for name, entry in stamp.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return None
        if full and _sha256(path) != entry["sha256"]:
            return None
    return folder / "model.onnx"


def prepare(model_dir: Path, recipe: str, *, progress: bool = False) -> Path:
    """The ONNX file of ``recipe`` for the model, made now if it is missing or stale."""
    if recipe not in RECIPES:
        raise OnnxBuildError(f"unknown ONNX recipe {recipe!r}; known: {', '.join(RECIPES)}")
    found = ready(model_dir, recipe)
    if found:
        return found
    final = target_dir(model_dir, recipe)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        _say(progress, f"exporting {model_dir.name} to ONNX (a few minutes, once)")
        body = _export(Path(model_dir), work / "body.onnx")
        _say(progress, f"quantizing ({recipe})")
        out = work / "out"
        out.mkdir()
        _quantize(body, out / "model.onnx", work, recipe)
        _say(progress, "checking against the reference")
        worst = _check(Path(model_dir), out / "model.onnx")
        files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(out.iterdir())}
        (out / STAMP).write_text(json.dumps({
            "source": source_fingerprint(model_dir), "recipe": recipe,
            "recipe_version": RECIPE_VERSION, "min_cosine": round(worst, 5),
            "versions": _versions(), "files": files}, indent=1))
        for path in out.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(out, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final / "model.onnx"


def _export(model_dir: Path, path: Path) -> Path:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), dtype=torch.float32,
                                      local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    class Body(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids,
                              attention_mask=attention_mask).last_hidden_state

    sample = tokenizer(["title: none | text: an example", "short"], padding=True,
                       return_tensors="pt")
    batch, seq = torch.export.Dim("batch", min=1, max=4096), torch.export.Dim("seq", min=2,
                                                                              max=8192)
    torch.onnx.export(Body().eval(), (sample["input_ids"], sample["attention_mask"]), str(path),
                      input_names=["input_ids", "attention_mask"],
                      output_names=["token_embeddings"], dynamo=True, external_data=True,
                      dynamic_shapes={"input_ids": {0: batch, 1: seq},
                                      "attention_mask": {0: batch, 1: seq}},
                      verbose=False)
    return path


def _quantize(body: Path, out: Path, work: Path, recipe: str) -> None:
    """Per-tensor int8 for the Linear layers; the outlier-prone projections block-wise
    8-bit (``int8``) or left float32 (``int8-mixed``)."""
    import onnx

    model = onnx.load(str(body))
    linear = [n.name for n in model.graph.node if n.op_type == "MatMul"
              and any(i.name == n.input[1] for i in model.graph.initializer)]
    outliers = [n for n in linear if _projection(model, n) in ("down_proj", "o_proj")]
    if not outliers:
        raise OnnxBuildError("ONNX export: found no down_proj/o_proj projections to keep")
    if recipe == "int8":
        staged = blockwise_8bit(model, exclude=[n for n in linear if n not in outliers])
        body, outliers = work / "staged.onnx", []
        staged.save_model_to_file(str(body), use_external_data_format=True)
    dynamic_int8(body, out, exclude=outliers)


def blockwise_8bit(model, *, exclude: list[str]):
    """``model`` (an ``onnx.ModelProto``) with its MatMuls but ``exclude`` given 8-bit
    weights and block-wise (32) int8 activations (``MatMulNBits``, accuracy level 4)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    _quiet()
    nbits = MatMulNBitsQuantizer(model, bits=8, block_size=32, is_symmetric=True,
                                 accuracy_level=4, nodes_to_exclude=exclude)
    nbits.process()
    return nbits.model


def dynamic_int8(source: Path, out: Path, *, exclude: list[str]) -> None:
    """Per-tensor dynamic int8 for the constant-weight MatMuls of ``source`` but ``exclude``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    _quiet()
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], nodes_to_exclude=exclude,
                     extra_options={"MatMulConstBOnly": True}, use_external_data_format=True)


def _quiet() -> None:
    """ONNX Runtime's quantizers log advice at INFO level; keep warnings."""
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))


def _projection(model, node_name: str) -> str:
    """Which Linear layer a MatMul node computes, from its weight's traced source name."""
    node = next(n for n in model.graph.node if n.name == node_name)
    for prop in node.metadata_props:
        if prop.key in ("pkg.torch.onnx.name_scopes", "namespace", "pkg.torch.onnx.stack_trace"):
            for name in ("down_proj", "o_proj"):
                if f".{name}'" in prop.value:
                    return name
    return ""


def _check(model_dir: Path, onnx_file: Path) -> float:
    """The worst cosine between the ONNX copy's vectors and the reference's."""
    from .encoders import TorchEncoder
    from .onnx_encoder import OnnxEncoder

    reference = TorchEncoder(model_dir, dtype="float32").encode(CHECK_TEXTS, batch_size=4)
    candidate = OnnxEncoder(model_dir, onnx_file, backend="check").encode(CHECK_TEXTS,
                                                                          batch_size=4)
    worst = float(np.min(np.sum(reference * candidate, axis=1)))
    if worst < MIN_COSINE:
        raise OnnxBuildError(f"the ONNX copy of {model_dir} disagrees with the reference "
                             f"(cosine {worst:.4f} < {MIN_COSINE}); it was not installed")
    return worst


def _versions() -> dict[str, str]:
    import onnxruntime
    import torch

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _say(progress: bool, text: str) -> None:
    if progress:
        print(f"[onnx] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m rag.onnx_build [--recipe R] [MODEL]``: make an int8 copy of the embedder."""
    import argparse

    from .backends import onnx_backend_for_cpu, recipe_of
    from .models import ensure_ready
    from .settings import Settings

    parser = argparse.ArgumentParser(prog="python -m rag.onnx_build", description=(
        "Make the int8 ONNX copy of an embedding model from its verified weights "
        "(a few minutes, once)."))
    parser.add_argument("model", nargs="?", help="registry name or model directory "
                        "(default: the configured embedder)")
    parser.add_argument("--recipe", choices=RECIPES, default=recipe_of(onnx_backend_for_cpu()),
                        help="quantization recipe (default: this CPU's, %(default)s)")
    args = parser.parse_args(argv)
    settings = Settings.load()
    _, path = ensure_ready(args.model or settings.embedder, "embedder", settings.home)
    print(prepare(path, args.recipe, progress=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
