"""Offline and private: no network connection while indexing, asking or serving, and
models that fail their checksum are refused with the command that fixes them.

Sockets are guarded by plain monkeypatching: any connect/send/DNS lookup to a
non-loopback address is recorded and refused. The fake models stand in for the
weights; the real model-loading code (registry checks, SentenceTransformerEmbedder,
LlamaCppGenerator) runs up to the library call, which is replaced by a recorder.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import model_fetch, models
from rag.assistant import Assistant
from rag.conversation import Exchange
from rag.models import ModelError, ModelSpec
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator

REPO = Path(__file__).resolve().parent.parent


def _is_local_host(host) -> bool:
    if host in (None, "", "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_local(address) -> bool:
    """A socket address: AF_UNIX paths are local, (host, port, ...) tuples by their host."""
    return not isinstance(address, tuple) or _is_local_host(address[0])


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Refuse and record every attempt to reach a non-loopback address."""
    attempts: list[str] = []

    def guard(name, real, where):
        def wrapper(*args, **kwargs):
            target = where(args)
            if target is not None and not (_is_local_host(target) if name in NAME_LOOKUPS
                                           else _is_local(target)):
                attempts.append(f"{name} {target!r}")
                raise OSError(f"network access blocked in tests: {name} {target!r}")
            return real(*args, **kwargs)
        return wrapper

    def arg(i):
        return lambda args: args[i] if len(args) > i else None

    for method in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, method,
                            guard(method, getattr(socket.socket, method), arg(1)))
    monkeypatch.setattr(socket.socket, "sendto",
                        guard("sendto", socket.socket.sendto, lambda args: args[-1]))
    monkeypatch.setattr(socket, "create_connection",
                        guard("create_connection", socket.create_connection, arg(0)))
    for name in NAME_LOOKUPS:
        monkeypatch.setattr(socket, name, guard(name, getattr(socket, name), arg(0)))
    return attempts


NAME_LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex")


def test_guard_really_blocks(no_network):
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(OSError, match="blocked"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(OSError, match="blocked"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"x", ("8.8.8.8", 53))
    assert len(no_network) == 3
    socket.getaddrinfo("localhost", 80)  # loopback stays allowed
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(server.getsockname(), timeout=5).close()
    assert len(no_network) == 3
    no_network.clear()


def test_index_and_ask_open_no_connection(no_network, tmp_path):
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": tmp_path / "c"},
                             environ={})
    assistant = Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())
    assistant.index_files([REPO / "corpus"])
    answer = assistant.ask("Quale fatturato ha registrato Amazon per AWS?").answer()
    assert answer.citations
    assistant.ask("E Tesla?", history=[Exchange("Quanto ha fatturato AWS?", answer.text)]).answer()
    report = assistant.add_text("Il porto di Genova ha movimentato 412 navi a marzo.",
                                title="Porto di Genova")
    upload = tmp_path / "up.md"
    upload.write_text("# Bari\n\nIl porto di Bari ha riaperto.")
    assistant.import_files([upload])
    assistant.remove([a.id for a in assistant.articles() if a.title == "Porto di Genova"])
    fresh = Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())
    assert fresh.search("porto di Bari")
    assert report.added == 1
    assert no_network == []


# --------------------------------------------------------------------------- model code

GGUF = b"GGUF" + bytes(range(256)) * 8
ST_FILES = {"modules.json": b"[]", "config.json": b"{}", "model.safetensors": b"w" * 3000}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_registry(tmp_path, monkeypatch) -> Path:
    """A home with a prepared fake embedder and fake LLM registered under their names."""
    home = tmp_path / "home"
    emb = ModelSpec(name="fake-emb", kind="embedder", description="t", license="MIT",
                    packages=("fake-emb==1",), member="x", layout="zip",
                    files=tuple((rel, _sha(data)) for rel, data in ST_FILES.items()), size=1)
    llm = ModelSpec(name="fake-llm", kind="llm", description="t", license="MIT",
                    packages=("fake-llm==1",), member="x", layout="file",
                    files=(("model.gguf", _sha(GGUF)),), size=len(GGUF))
    for spec in (emb, llm):
        monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    for rel, data in ST_FILES.items():
        path = home / "models" / "fake-emb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (home / "models" / "fake-llm").mkdir(parents=True)
    (home / "models" / "fake-llm" / "model.gguf").write_bytes(GGUF)

    def no_download(*args, **kwargs):
        raise AssertionError("a model download was attempted")
    monkeypatch.setattr(model_fetch, "_download_wheel", no_download)
    monkeypatch.setattr(model_fetch.subprocess, "run", no_download)
    return home


def test_model_loading_code_paths_open_no_connection(no_network, fake_registry, monkeypatch,
                                                     tmp_path):
    """Registry checks and model construction, up to the library call, stay local; the
    library calls are made with local files only."""
    from rag.embed import build_embedder
    from rag.generate import build_generator

    calls = {}

    class FakeSentenceTransformer:
        def __init__(self, path, **kwargs):
            calls["sentence_transformers"] = (path, kwargs)

    class FakeLlama:
        def __init__(self, **kwargs):
            calls["llama"] = kwargs

    monkeypatch.setitem(sys.modules, "sentence_transformers",
                        types.SimpleNamespace(SentenceTransformer=FakeSentenceTransformer))
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(
        set_num_threads=lambda n: None, float32="float32", bfloat16="bfloat16"))
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    settings = Settings.load({"home": fake_registry, "embedder": "fake-emb", "llm": "fake-llm",
                              "index_dir": tmp_path / "i"}, environ={})
    assert [s.state for s in models.status(fake_registry) if s.name.startswith("fake")] == \
        ["unverified", "unverified"]
    embedder, generator = build_embedder(settings), build_generator(settings)
    assert models.verify(models.get("fake-emb"), fake_registry, full=True).ok
    embedder.model  # noqa: B018 - "loads" through the recorder
    generator.llm  # noqa: B018
    path, kwargs = calls["sentence_transformers"]
    assert Path(path) == fake_registry / "models" / "fake-emb"
    assert kwargs["local_files_only"] is True and kwargs["device"] == "cpu"
    import os
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert calls["llama"]["model_path"] == str(fake_registry / "models" / "fake-llm" /
                                               "model.gguf")
    assert no_network == []


def test_serving_the_ui_opens_no_outside_connection(tmp_path):
    """In a fresh process (so that importing gradio is covered too): guard the sockets,
    import the UI, serve it on loopback, load the page and ask one question."""
    script = r"""
import ipaddress, json, socket, sys
attempts = []
def local(a):
    if not isinstance(a, tuple): return True
    try: return a[0] in ("", "localhost") or ipaddress.ip_address(a[0].split("%")[0]).is_loopback
    except ValueError: return False
def guard(name, real, i):
    def wrapper(*args, **kwargs):
        if len(args) > i and not local(args[i] if name != "getaddrinfo" else (args[i],)):
            attempts.append(f"{name} {args[i]!r}"); raise OSError("blocked")
        return real(*args, **kwargs)
    return wrapper
for m in ("connect", "connect_ex"): setattr(socket.socket, m, guard(m, getattr(socket.socket, m), 1))
socket.socket.sendto = guard("sendto", socket.socket.sendto, 2)
socket.create_connection = guard("create_connection", socket.create_connection, 0)
socket.getaddrinfo = guard("getaddrinfo", socket.getaddrinfo, 0)
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
except OSError:
    pass
assert attempts, "the guard does not work"
attempts.clear()

from pathlib import Path
import httpx
from rag.server import serve
from rag.assistant import Assistant
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator
tmp = Path(sys.argv[1])
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
settings = Settings.load({"index_dir": tmp / "index", "corpus_dir": tmp / "corpus",
                          "port": port}, environ={})
assistant = Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())
assistant.index_files([Path(sys.argv[2])])
server = serve(settings, assistant=assistant, block=False)
try:
    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
    from gradio_client import Client
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    _, chat, _, _ = client.predict("Quale fatturato ha registrato Amazon per AWS?", "", "", [],
                                   True, 4, 200, api_name="/ask")
finally:
    server.close()
print(json.dumps({"status": page.status_code, "answered": "cite" in str(chat),
                  "attempts": attempts}))
"""
    pytest.importorskip("gradio_client")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(REPO / "corpus")],
                            capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"status": 200, "answered": True, "attempts": []}, report


# --------------------------------------------------------------------------- integrity

def _assistant(home: Path, tmp_path: Path, **overrides) -> Assistant:
    settings = Settings.load({"home": home, "index_dir": tmp_path / "index",
                              "corpus_dir": tmp_path / "corpus", **overrides}, environ={})
    return Assistant(settings, **{k: v for k, v in (("embedder", FakeEmbedder()),)
                                  if "embedder" not in overrides})


def test_tampered_default_llm_is_refused_by_the_assistant(tmp_path):
    """The real registry entry: a file at the right place with the wrong bytes."""
    spec = models.get("qwen2.5-coder-1.5b")
    home = tmp_path / "home"
    gguf = models.model_path(spec, home)
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(b"GGUF" + b"\0" * 4096)  # a truncated download, say
    assistant = _assistant(home, tmp_path, llm=spec.name)
    assistant.index_files([REPO / "corpus"])
    with pytest.raises(ModelError) as error:
        assistant.ask("Quale fatturato ha registrato Amazon per AWS?").answer()
    message = str(error.value)
    assert "model.gguf" in message and "sha256 mismatch" in message
    assert f"rag models fetch {spec.name} --force" in message


def test_tampered_embedder_is_refused_before_loading(fake_registry, tmp_path):
    target = fake_registry / "models" / "fake-emb" / "model.safetensors"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF  # same size: only the checksum can tell
    target.write_bytes(bytes(data))
    assistant = _assistant(fake_registry, tmp_path, embedder="fake-emb", llm="fake-llm")
    with pytest.raises(ModelError) as error:
        assistant.search("anything")
    assert "model.safetensors" in str(error.value)
    assert "rag models fetch fake-emb --force" in str(error.value)


def test_tampered_llm_through_the_cli_says_what_to_run(fake_registry, tmp_path, monkeypatch):
    from rag.cli import cli

    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: FakeEmbedder())
    gguf = fake_registry / "models" / "fake-llm" / "model.gguf"
    gguf.write_bytes(gguf.read_bytes()[:-7])
    index = tmp_path / "idx"
    env = {"RAG_HOME": str(fake_registry), "RAG_LLM": "fake-llm"}
    assert CliRunner().invoke(cli, ["index", str(REPO / "corpus"), "--index", str(index)],
                              env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["ask", "Quale fatturato ha registrato Amazon per AWS?",
                                      "--index", str(index)], env=env)
    assert result.exit_code == 2, result.output
    assert "model.gguf" in result.output and "rag models fetch fake-llm --force" in result.output
    assert "Traceback" not in result.output
