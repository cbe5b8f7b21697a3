"""app.py, the README's entry point: a start on an index it cannot use says how to fix it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from rag.chunking import Chunk
from rag.corpus import Article
from rag.settings import Settings
from tests.helpers.stores import entry, local_store

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def test_index_from_an_older_chunker_stops_app_with_the_rebuild_command(tmp_path):
    text = "Tesla entra nel settore dei data center."
    article = Article(id="a", title="T", text=text, lang="it")
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "T", "it")
    index_dir = tmp_path / "index"
    local_store(index_dir, [entry(article, [chunk], np.eye(1, 8, dtype=np.float32))], 8,
                embedder=Settings().embedder)
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["chunker"] = 1
    (gen / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "corpus").mkdir()
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_CORPUS_DIR": str(tmp_path / "corpus")}
    done = subprocess.run([sys.executable, str(REPO / "app.py")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "chunker version 1" in done.stderr and "rag index --rebuild" in done.stderr
    assert "Traceback" not in done.stderr
