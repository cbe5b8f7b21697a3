from pathlib import Path

import pytest

from rag.settings import Settings, SettingsError


def test_defaults_need_no_environment():
    s = Settings.load(environ={})
    assert s.index_dir == Path("index")
    assert s.host == "127.0.0.1"
    assert s.embedder == "embeddinggemma-300m"


def test_environment_overrides_defaults_and_flags_override_environment():
    s = Settings.load({"top_k": 7}, environ={"RAG_TOP_K": "3", "RAG_VERIFY": "false",
                                             "RAG_INDEX_DIR": "/tmp/x"})
    assert s.top_k == 7
    assert s.verify is False
    assert s.index_dir == Path("/tmp/x")


def test_none_overrides_are_ignored():
    assert Settings.load({"top_k": None}, environ={"RAG_TOP_K": "9"}).top_k == 9


@pytest.mark.parametrize("source", ["env", "override"])
def test_unknown_keys_are_errors(source):
    with pytest.raises(SettingsError, match="unknown setting"):
        if source == "env":
            Settings.load(environ={"RAG_TOPK": "3"})
        else:
            Settings.load({"topk": 3}, environ={})


def test_bad_values_name_the_setting():
    with pytest.raises(SettingsError, match="RAG_TOP_K"):
        Settings.load(environ={"RAG_TOP_K": "many"})


def test_replace_converts_like_the_cli():
    s = Settings.load(environ={}).replace(port="8000", verify="no")
    assert s.port == 8000 and s.verify is False


def test_the_settings_reference_is_current_and_describes_every_setting():
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "scripts/settings_doc.py", "--check"], cwd=repo,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    rows = [line for line in (repo / "docs" / "settings.md").read_text().splitlines()
            if line.startswith("| `")]
    assert rows and all(not line.rstrip().endswith("|  |") for line in rows), \
        [line.split("|")[1] for line in rows if line.rstrip().endswith("|  |")]
