"""The real default models in tests: required where a test needs them (a failure under CI,
where `scripts/setup.sh` must have prepared them; a skip elsewhere), and the bundled corpus
indexed with them in a folder of the test's own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.models import status

REPO = Path(__file__).resolve().parents[2]


def require_default_models(settings: Settings | None = None) -> Settings:
    """``settings`` (default: loaded), once its embedder and LLM are prepared."""
    settings = settings or Settings.load()
    if not all(s.state == "ok" for s in status(settings.home)
               if s.name in (settings.embedder, settings.llm)):
        message = "default models are not prepared: run scripts/setup.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return settings


def bundled_corpus_assistant(root: Path, settings: Settings | None = None) -> Assistant:
    """An assistant over a copy of `corpus/` in ``root``, indexed with the real models."""
    settings = require_default_models(settings)
    shutil.copytree(REPO / "corpus", root / "corpus")
    assistant = Assistant(settings.replace(index_dir=root / "index", corpus_dir=root / "corpus"))
    assistant.index_files([root / "corpus"])
    return assistant
