import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import cli
from tests.fakes import FakeEmbedder, FakeGenerator

REPO = Path(__file__).resolve().parent.parent
COMMANDS = [[], ["index"], ["search"], ["ask"], ["chat"], ["serve"], ["models"],
            ["models", "list"], ["models", "fetch"], ["models", "verify"], ["articles"],
            ["remove"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rag")
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.fixture
def fake_models(monkeypatch):
    embedder, generator = FakeEmbedder(), FakeGenerator()
    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: embedder)
    monkeypatch.setattr("rag.parts.build_generator", lambda settings: generator)


def test_index_then_ask_json(fake_models, tmp_path):
    runner = CliRunner()
    index = str(tmp_path / "idx")
    result = runner.invoke(cli, ["index", str(REPO / "corpus"), "--index", index, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total_articles"] == 1
    result = runner.invoke(cli, ["ask", "Quale fatturato ha registrato Amazon per AWS?",
                                 "--index", index, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["citations"] and not data["abstained"]
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= data["timings"].keys()


def test_index_keeps_sentence_vectors_then_search(fake_models, tmp_path):
    runner = CliRunner()
    index = tmp_path / "idx"
    result = runner.invoke(cli, ["index", str(REPO / "corpus"), "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total_sentences"] > report["total_chunks"] > 0
    result = runner.invoke(cli, ["search", "fatturato di AWS", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    assert "AWS" in json.loads(result.output)["passages"][0]["text"]


def test_index_reports_skipped_files_in_exit_code(fake_models, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("Title\n\nSome real text about Rome.")
    (folder / "empty.txt").write_text("")
    result = CliRunner().invoke(cli, ["index", str(folder), "--index", str(tmp_path / "idx")])
    assert result.exit_code == 3
    assert "empty.txt" in result.output and "1 added" in result.output


def test_missing_model_says_what_to_run(tmp_path):
    result = CliRunner().invoke(cli, ["search", "Tesla", "--index", str(tmp_path / "i")],
                                env={"RAG_HOME": str(tmp_path / "home")})
    assert result.exit_code == 2
    assert "rag models fetch" in result.output


def test_unknown_setting_is_an_error(tmp_path):
    result = CliRunner().invoke(cli, ["articles"], env={"RAG_NOPE": "1"})
    assert result.exit_code == 2 and "unknown setting RAG_NOPE" in result.output


@pytest.mark.parametrize("command", ["ask", "search"])
def test_empty_index_says_how_to_fill_it(fake_models, tmp_path, command):
    result = CliRunner().invoke(cli, [command, "Tesla?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "holds no articles yet" in result.output and "rag index corpus/" in result.output
