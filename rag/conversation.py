"""Conversation: questions that build on each other, and the turns so far.

    conversation = assistant.conversation()
    conversation.ask("How much revenue did AWS report?").answer()
    conversation.ask("And what did Jassy say?").answer()   # condensed with the history

Each finished response becomes a `Turn`. A conversation with a `ConversationStore`
(`rag.chats`) is saved after every turn and can be reopened by its id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .answer import Answer

if TYPE_CHECKING:
    from .response import Response

HISTORY_TURNS = 3  # earlier turns a follow-up is condensed with


@dataclass(frozen=True)
class Exchange:
    """An earlier question and its answer's text: what a follow-up is condensed with."""

    question: str
    answer: str


@dataclass(frozen=True)
class Turn:
    question: str
    answer: Answer


@dataclass
class Conversation:
    """The turns of one chat; `ask` answers in their context."""

    ask_fn: Callable[..., "Response"] = field(repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    title: str = ""
    turns: list[Turn] = field(default_factory=list)
    on_turn: Callable[["Conversation"], None] | None = field(default=None, repr=False)

    def ask(self, question: str, **options: Any) -> "Response":
        """Answer ``question`` as a follow-up of this conversation."""
        history = [Exchange(t.question, t.answer.text) for t in self.turns]
        return self.ask_fn(question, history=history, on_done=self._add(question), **options)

    def _add(self, question: str) -> Callable[[Answer], None]:
        def add(answer: Answer) -> None:
            self.turns.append(Turn(question, answer))
            self.title = self.title or question[:80]
            if self.on_turn is not None:
                self.on_turn(self)
        return add
