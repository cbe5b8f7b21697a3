"""Saved conversations (rag.chats): saved after every turn, listed with a title, reopened
by a new Assistant (a restart) with every answer whole, deleted and renamed; many threads
and processes saving at once lose nothing. Export to Markdown (rag.export) keeps the
numbered sources and quotes. `rag chats list|show|export|delete`."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.answer import Answer, AnswerSentence, Citation, Quote
from rag.assistant import Assistant
from rag.chats import ChatNotFound, ChatStore, chats_path
from rag.chunking import Chunk
from rag.conversation import Conversation, Turn
from rag.export import answer_markdown, chat_markdown
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator

REPO = Path(__file__).resolve().parent.parent
AWS = "Quanto ha registrato Amazon di fatturato per AWS?"
JASSY = "E cosa ha detto Jassy?"


def make(tmp_path: Path, generator: FakeGenerator | None = None) -> Assistant:
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": tmp_path / "c"},
                             environ={})
    return Assistant(settings, embedder=FakeEmbedder(), generator=generator or FakeGenerator())


@pytest.fixture
def assistant(tmp_path):
    assistant = make(tmp_path)
    assistant.index_files([REPO / "corpus"])
    return assistant


def test_a_saved_conversation_is_reopened_after_a_restart(assistant, tmp_path):
    conversation = assistant.conversation(save=True)
    first = conversation.ask(AWS).answer()
    conversation.ask(JASSY).answer()
    assert first.citations and not first.abstained
    restarted = make(tmp_path)  # a new process would see the same
    (listed,) = restarted.chats.list()
    assert (listed.id, listed.title, listed.turns) == (conversation.id, AWS, 2)
    assert listed.created <= listed.updated
    reopened = restarted.conversation(conversation.id)
    assert reopened.turns == conversation.turns  # every answer whole: citations, quotes…
    assert reopened.title == AWS
    generator = restarted.generator
    reopened.ask("E quanto è cresciuto?").answer()  # a follow-up of the saved turns
    assert AWS in generator.prompts[0][-1].content  # condensed with the saved history
    assert restarted.chats.summary(conversation.id).turns == 3
    assert [t.question for t in make(tmp_path).conversation(conversation.id).turns] == [
        AWS, JASSY, "E quanto è cresciuto?"]


def test_only_conversations_asked_to_be_saved_are_saved(assistant):
    assistant.conversation().ask(AWS).answer()
    assert assistant.chats.list() == []
    assistant.conversation(save=True)  # nothing asked yet: nothing listed
    assert assistant.chats.list() == []


def test_delete_rename_and_unknown_chats(assistant):
    conversation = assistant.conversation(save=True)
    conversation.ask(AWS).answer()
    renamed = assistant.chats.rename(conversation.id, "  AWS   revenue ")
    assert renamed.title == "AWS revenue" and renamed.turns == 1
    with pytest.raises(ValueError, match="title"):
        assistant.chats.rename(conversation.id, "   ")
    assistant.chats.delete(conversation.id)
    assert assistant.chats.list() == []
    for call in (lambda: assistant.chats.delete(conversation.id),
                 lambda: assistant.conversation(conversation.id),
                 lambda: assistant.chats.rename(conversation.id, "x")):
        with pytest.raises(ChatNotFound, match="rag chats list"):
            call()


def test_reading_chats_creates_nothing(tmp_path):
    store = ChatStore(tmp_path / "index" / "chats.sqlite")
    assert store.list() == []
    with pytest.raises(ChatNotFound):
        store.turns("nope")
    with pytest.raises(ChatNotFound):
        store.delete("nope")
    assert not (tmp_path / "index").exists()


def test_chats_live_beside_the_index_or_in_home_for_a_database_store(tmp_path):
    local = Settings.load({"index_dir": tmp_path / "idx"}, environ={})
    assert chats_path(local) == tmp_path / "idx" / "chats.sqlite"
    remote = Settings.load({"home": tmp_path / "home", "store": "postgresql://u@h/db"},
                           environ={})
    path = chats_path(remote)
    assert path.parent == tmp_path / "home" / "chats" and path.suffix == ".sqlite"
    assert "u@h" not in str(path)


# --------------------------------------------------------------------------- concurrency

def sample_answer(n: int) -> Answer:
    chunk = Chunk(f"a:{n}", "a", n, f"Fact number {n}.", 0, 15, "Facts", "en", "2024-01-02",
                  "Gazette")
    quote = Quote(f"Fact number {n}.", 0, 15)
    return Answer(f"Question {n}?", f"Fact number {n} [1].", "generated",
                  citations=(Citation(1, chunk, (quote,), url="https://example.org/a"),),
                  sentences=(AnswerSentence(f"Fact number {n} [1].", (1,), (quote,)),))


def save_turns(path: str, chat_id: str, start: int, count: int) -> None:
    store = ChatStore(Path(path))
    conversation = Conversation(lambda *a, **k: None, id=chat_id, title="Shared")
    for n in range(start, start + count):
        conversation.turns.append(Turn(f"Question {n}?", sample_answer(n)))
        store.save_turn(conversation)


def test_threads_and_processes_saving_at_once_lose_nothing(tmp_path):
    path = tmp_path / "chats.sqlite"
    threads = [threading.Thread(target=save_turns, args=(str(path), f"own{k}", 0, 10))
               for k in range(4)]
    threads += [threading.Thread(target=save_turns, args=(str(path), "shared", 100 * k, 10))
                for k in range(4)]
    context = multiprocessing.get_context("spawn")  # fork with threads running may deadlock
    processes = [context.Process(target=save_turns, args=(str(path), "shared", 1000 * k, 10))
                 for k in range(1, 3)]
    for worker in processes + threads:
        worker.start()
    for worker in threads + processes:
        worker.join(timeout=120)
    assert all(p.exitcode == 0 for p in processes)
    store = ChatStore(path)
    counts = {c.id: c.turns for c in store.list()}
    assert counts == {**{f"own{k}": 10 for k in range(4)}, "shared": 60}
    shared = store.turns("shared")
    assert sorted(t.question for t in shared) == sorted(
        {f"Question {n}?" for k in range(4) for n in range(100 * k, 100 * k + 10)}
        | {f"Question {n}?" for k in (1, 2) for n in range(1000 * k, 1000 * k + 10)})
    for turn in shared:
        n = int(turn.question.split()[1].rstrip("?"))
        assert turn.answer == sample_answer(n)
    order = [int(t.question.split()[1].rstrip("?")) for t in shared]
    for first in (0, 100, 200, 300, 1000, 2000):  # each writer's turns in its order
        mine = [n for n in order if first <= n < first + 10]
        assert mine == sorted(mine)


# --------------------------------------------------------------------------- export

def test_chat_markdown_has_numbered_sources_and_quotes(assistant):
    conversation = assistant.conversation(save=True)
    answer = conversation.ask(AWS).answer()
    text = chat_markdown(conversation)
    assert text.startswith(f"# {AWS}\n")
    assert f"## {AWS}" in text and answer.text in text
    for c in answer.citations:
        assert f"[{c.marker}] **{c.chunk.title}**" in text
        for q in c.quotes:
            assert f"> “{' '.join(q.text.split())}”" in text


def test_answer_markdown_notes_what_was_not_verified():
    answer = sample_answer(1)
    unsure = AnswerSentence("Facts are always true [1].", (1,), state="unverified",
                            reason="no cited sentence says so")
    shown = answer_markdown(Answer(answer.question, answer.text + " Facts are always true [1].",
                                   "generated", answer.citations,
                                   answer.sentences + (unsure,)))
    assert "**Checks**" in shown and "Not verified: “Facts are always true [1].” — no cited " \
        "sentence says so" in shown
    assert "[1] **Facts** — 2024-01-02, Gazette, <https://example.org/a>" in shown
    assert "> “Fact number 1.”" in shown
    nothing = answer_markdown(Answer("Q?", "The articles do not say.", "abstained"))
    assert "Sources" not in nothing and "The articles do not say." in nothing


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def saved(assistant):
    """A saved chat; the `rag chats` commands read it without loading any model."""
    conversation = assistant.conversation(save=True)
    conversation.ask(AWS).answer()
    conversation.ask(JASSY).answer()
    return conversation


def run(args: list[str], index: Path):
    from rag.cli import cli
    return CliRunner().invoke(cli, [*args, "--index", str(index)])


def test_cli_chats(saved, assistant, tmp_path):
    index = assistant.settings.index_dir
    listed = run(["chats", "list", "--json"], index)
    assert listed.exit_code == 0, listed.output
    assert [(c["id"], c["turns"]) for c in json.loads(listed.output)] == [(saved.id, 2)]
    assert saved.id in run(["chats", "list"], index).output
    shown = json.loads(run(["chats", "show", saved.id, "--json"], index).output)
    assert [t["question"] for t in shown["turns"]] == [AWS, JASSY]
    assert shown["turns"][0]["answer"] == saved.turns[0].answer.to_json()
    assert AWS in run(["chats", "show", saved.id], index).output
    out = tmp_path / "chat.md"
    exported = run(["chats", "export", saved.id, "-o", str(out)], index)
    assert exported.exit_code == 0, exported.output
    markdown = out.read_text(encoding="utf-8")
    assert markdown.startswith(f"# {AWS}\n") and f"## {JASSY}" in markdown and "> “" in markdown
    one = json.loads(run(["chats", "export", saved.id, "--turn", "2", "--json"], index).output)
    assert one["markdown"].startswith(f"## {JASSY}")
    too_far = run(["chats", "export", saved.id, "--turn", "3"], index)
    assert too_far.exit_code == 2 and "2 turns" in too_far.output
    unknown = run(["chats", "delete", saved.id, "nope"], index)
    assert unknown.exit_code == 2 and "no saved chat 'nope'" in unknown.output
    assert len(assistant.chats.list()) == 1  # all or none
    deleted = run(["chats", "delete", saved.id, "--json"], index)
    assert json.loads(deleted.output) == {"deleted": [saved.id]}
    assert assistant.chats.list() == []


def test_cli_chats_help():
    from rag.cli import cli
    for command in (["chats"], ["chats", "list"], ["chats", "show"], ["chats", "export"],
                    ["chats", "delete"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        assert command == ["chats"] or "--json" in result.output
