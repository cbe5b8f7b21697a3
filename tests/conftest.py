"""Shared pytest hooks: the run's summary names the llama.cpp build the answers came from
(so a CI log shows which builds the end-to-end tests passed on); and `fake_assistant`."""

from __future__ import annotations

import os

import pytest

# Offline and private in every test, whatever imports first (gradio_client pulls in
# huggingface_hub, which otherwise thinks it is online and calls home).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def fake_assistant(tmp_path):
    """Builds an `Assistant` on the fake models: ``fake_assistant(reply, **settings)``."""
    from rag import Assistant, Settings
    from tests.fakes import FakeEmbedder, FakeGenerator

    def build(reply, **overrides):
        settings = Settings.load({"index_dir": tmp_path / "index",
                                  "corpus_dir": tmp_path / "corpus", **overrides}, environ={})
        return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator(reply))
    return build


def pytest_configure(config):
    config.build_runs = []  # lines from tests/test_portable_build.py (`request.config`)


def llama_build() -> str:
    """The CPU features the imported llama.cpp was compiled with, e.g. "AVX2 AVX512"."""
    try:
        import llama_cpp
    except ImportError:
        return "llama-cpp-python not installed"
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    flags = [part.split("=")[0].strip() for part in info.split("|") if part.strip().endswith("= 1")]
    wanted = [f for f in flags if f.startswith(("AVX", "FMA", "F16C", "BMI2", "AMX"))]
    return f"llama-cpp-python {llama_cpp.__version__}: " + " ".join(wanted)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"llama.cpp build of this run: {llama_build()}, "
                                f"RAG_THREADS={os.environ.get('RAG_THREADS', 'all cores')}")
    for line in config.build_runs:
        terminalreporter.write_line(line)
