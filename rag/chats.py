"""Chats: conversations kept on this machine, so that a chat outlives a reload or a restart.

    conversation = assistant.conversation(save=True)       # saved after every turn
    conversation.ask("How much revenue did AWS report?").answer()
    assistant.chats.list()                                  # [ChatSummary(id, title, …)]
    again = assistant.conversation(conversation.id)         # reopened, after a restart too
    assistant.chats.delete(conversation.id)

One SQLite file, ``chats.sqlite``, beside a local index (in the home folder for a database
store). Each turn is saved whole when its answer is done: the question and the checked
`Answer` with its citations, quotes and passages. A chat is listed once it has a turn.
Each call opens its own connection, so one `ChatStore` serves many threads; SQLite's
locking serializes writers across processes, and a turn saved by two processes into the
same chat at once is kept twice, in order, never lost.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .answer import Answer
from .conversation import Conversation, Turn
from .errors import RagError
from .settings import Settings
from .sqlite_wal import use_wal
from .store import store_file

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from .response import Response

TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    asked REAL NOT NULL, PRIMARY KEY (chat_id, position));
"""


class ChatNotFound(RagError, LookupError):
    """No saved chat has this id."""


@dataclass(frozen=True)
class ChatSummary:
    """A saved chat as listed: its title, number of turns, and when it was started and
    last answered (seconds since the epoch)."""

    id: str
    title: str
    turns: int
    created: float
    updated: float


class ChatStore:
    """The saved chats in one SQLite file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._ready = False

    @classmethod
    def for_settings(cls, settings: Settings) -> "ChatStore":
        return cls(chats_path(settings))

    # -- conversations ----------------------------------------------------------------
    def new(self, ask: Callable[..., "Response"]) -> Conversation:
        """A new conversation, saved after each of its turns."""
        return Conversation(ask, on_turn=self.save_turn)

    def open(self, chat_id: str, ask: Callable[..., "Response"]) -> Conversation:
        """The saved chat ``chat_id`` as a conversation that goes on being saved."""
        summary = self.summary(chat_id)
        return Conversation(ask, id=summary.id, title=summary.title, turns=self.turns(chat_id),
                            on_turn=self.save_turn)

    def save_turn(self, conversation: Conversation) -> None:
        """Save the latest turn of ``conversation`` (creating the chat at its first)."""
        turn = conversation.turns[-1]
        answer = self._answers.dump_json(turn.answer).decode("utf-8")
        now = time.time()
        title = (conversation.title or turn.question)[:TITLE_CHARS]
        with self._db() as db:
            db.execute("INSERT INTO chats VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                       "SET updated = excluded.updated", (conversation.id, title, now, now))
            db.execute("INSERT INTO turns SELECT ?, COALESCE(MAX(position), -1) + 1, ?, ?, ? "
                       "FROM turns WHERE chat_id = ?",
                       (conversation.id, turn.question, answer, now, conversation.id))

    # -- listing and managing ---------------------------------------------------------
    def list(self) -> list[ChatSummary]:
        """Every saved chat, the most recently answered first."""
        return self._summaries("", ())

    def summary(self, chat_id: str) -> ChatSummary:
        """Chat ``chat_id`` as listed; `ChatNotFound` if there is none."""
        found = self._summaries("WHERE c.id = ?", (chat_id,))
        if not found:
            raise ChatNotFound(f"no saved chat {chat_id!r}; see `rag chats list`")
        return found[0]

    def turns(self, chat_id: str) -> list[Turn]:
        """The turns of chat ``chat_id``, in order."""
        self.summary(chat_id)
        with self._db() as db:
            rows = db.execute("SELECT question, answer FROM turns WHERE chat_id = ? "
                              "ORDER BY position", (chat_id,)).fetchall()
        return [Turn(question, self._answers.validate_json(answer)) for question, answer in rows]

    def rename(self, chat_id: str, title: str) -> ChatSummary:
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            raise ValueError("title: must not be empty")
        self.summary(chat_id)  # ChatNotFound if there is none
        with self._db() as db:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))
        return self.summary(chat_id)

    def delete(self, chat_id: str) -> None:
        """Forget chat ``chat_id`` and its turns."""
        self.summary(chat_id)  # ChatNotFound if there is none
        with self._db() as db:
            db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- storage ----------------------------------------------------------------------
    def _summaries(self, where: str, values: tuple) -> list[ChatSummary]:
        if not self.path.exists():  # nothing saved yet: read without creating anything
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, COUNT(t.position), c.created, c.updated FROM chats c "
                f"LEFT JOIN turns t ON t.chat_id = c.id {where} GROUP BY c.id "
                "ORDER BY c.updated DESC, c.id", values).fetchall()
        return [ChatSummary(*row) for row in rows]

    @cached_property
    def _answers(self) -> "TypeAdapter[Answer]":
        """Answers to and from JSON, nested dataclasses included (pydantic)."""
        from pydantic import TypeAdapter
        return TypeAdapter(Answer)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                use_wal(db)  # readers never wait for a writer
                db.executescript(_SCHEMA)
                self._ready = True
            with db:  # one transaction: committed on success, rolled back on error
                yield db


def chats_path(settings: Settings) -> Path:
    """Where the saved chats of ``settings``' store live (`rag.store.store_file`)."""
    return store_file(settings, "chats")
