"""One browser tab's chat: its conversation, the turns it shows, the answer in progress.

`ChatSession.answer` asks the question through `Assistant.conversation()` and turns each
event of the `Response` into the page's view of the turn (`ShownTurn`); `stop` cancels
the response, which stops generation at the model's next token. The form's filters are
read by `parse_filters`, whose messages name the field as the page labels it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Iterator, Literal, Sequence

from .assistant import Assistant
from .errors import RagError
from .events import Done, Draft, Event, Sources, Stage
from .filters import Filters
from .response import Response
from .store import EmptyIndexError
from .ui_render import Progress, ShownTurn
from .ui_words import one_line, seconds

log = logging.getLogger(__name__)

Change = Literal["started", "stage", "sources", "draft", "done"]
DATE_LABELS = {"date_from": "From", "date_to": "To"}


def parse_filters(date_from: str | None, date_to: str | None,
                  sources: Sequence[str] | None = (), undated: bool = True) -> Filters | None:
    """The form's filters; a bad date raises ValueError naming the field as labelled."""
    values = {"date_from": (date_from or "").strip(), "date_to": (date_to or "").strip()}
    for field, value in values.items():
        try:
            Filters(**{field: value})
        except ValueError:
            raise ValueError(f"“{DATE_LABELS[field]}” date: {value!r} is not a date. Pick one "
                             "from the calendar or type it as YYYY-MM-DD, e.g. 2024-03-31."
                             ) from None
    try:
        filters = Filters(values["date_from"], values["date_to"], tuple(sources or ()),
                          undated=undated)
    except ValueError:
        raise ValueError(f"The “From” date ({values['date_from']}) is after the “To” date "
                         f"({values['date_to']}).") from None
    return filters or None


class ChatSession:
    """The chat of one browser tab (a live object: Gradio keeps it per session)."""

    def __init__(self, assistant: Assistant, *, save: bool = True):
        """``save``: keep the conversation in `Assistant.chats` after every turn."""
        self.assistant = assistant
        self.save = save
        self.conversation = assistant.conversation(save=save)
        self.turns: list[ShownTurn] = []
        self.response: Response | None = None
        self._answering: list[ShownTurn] = self.turns  # the turns the running answer is in
        self._stopping = threading.Event()

    def __deepcopy__(self, memo: dict) -> "ChatSession":
        """A new, empty chat over the same assistant: Gradio gives each browser session a
        deep copy of the initial state."""
        return ChatSession(self.assistant, save=self.save)

    @property
    def running(self) -> bool:
        return self.response is not None

    @property
    def saved(self) -> bool:
        """Whether the conversation is kept in `Assistant.chats` (it is once it has a turn)."""
        return self.save and bool(self.conversation.turns)

    def restart(self, chat_id: str | None = None) -> None:
        """A new conversation, or the saved one ``chat_id`` reopened (`rag.chats.ChatNotFound`
        if there is none); an answer running is stopped."""
        conversation = self.assistant.conversation(chat_id) if chat_id else \
            self.assistant.conversation(save=self.save)
        self.stop()
        self.conversation = conversation
        self.turns = [ShownTurn(f"{self.conversation.id}-{i}", t.question, answer=t.answer)
                      for i, t in enumerate(self.conversation.turns)]

    def resume(self, chat_id: str | None) -> None:
        """When the page opens: reopen the saved conversation ``chat_id`` it showed last (a
        new one if it is gone), unless a question was already asked here: on a busy server
        the page's opening can come after the reader's first question, which must stay."""
        if not (self.turns or self.running):
            self.reopen(chat_id)

    def reopen(self, chat_id: str | None) -> None:
        """The saved conversation ``chat_id``, or a new one if it is gone (deleted meanwhile,
        or in another store) or none is given."""
        try:
            self.restart(chat_id or None)
        except LookupError:
            self.restart()

    def stop(self) -> None:
        """Stop the answer in progress: generation ends at the model's next token."""
        response = self.response
        if response is not None:
            self._stopping.set()
            response.cancel()
            turn = self._answering[-1] if self._answering else None
            if turn is not None and turn.progress is not None:
                self._update(progress=replace(turn.progress, stopping=True))

    def answer(self, question: str, *, filters: Filters | None = None, k: int | None = None,
               max_tokens: int | None = None) -> Iterator[Change]:
        """Answer ``question`` as the next turn, yielding after each change to it."""
        key = f"{self.conversation.id}-{len(self.turns)}"
        started = time.perf_counter()
        self._answering = self.turns  # a conversation opened meanwhile is left alone
        self.turns.append(ShownTurn(key, question, filters=filters, progress=Progress(
            loading=not self.assistant.ready.is_set())))
        self._stopping.clear()
        self.response = self.conversation.ask(question, filters=filters, k=k,
                                              max_tokens=max_tokens)
        events = self.response.events()
        try:
            yield "started"
            for event in events:
                yield self._apply(event, started)
            if self._answering[-1].answer is None:
                self._end("stopped", f"after {seconds(_ms(started))}, before the answer "
                                     "was checked.")
        except EmptyIndexError as error:
            self._end("empty", one_line(error))
        except RagError as error:
            self._end("error", f"Could not answer: {one_line(error)}")
        except Exception as error:  # shown in the turn, in one line; logged in full
            log.exception("answering %r failed", question)
            self._end("error", f"Could not answer: {one_line(error)}")
        finally:
            self.response.cancel()
            events.close()
            self.response = None
        yield "done"

    def _apply(self, event: Event, started: float) -> Change:
        progress = replace(self._answering[-1].progress, elapsed_ms=_ms(started),
                           stopping=self._stopping.is_set())
        if isinstance(event, Stage):
            if event.name not in progress.stages:
                progress = replace(progress, stages=progress.stages + (event.name,))
            self._update(progress=progress)
            return "stage"
        if isinstance(event, Sources):
            self._update(progress=replace(progress, sources=event))
            return "sources"
        if isinstance(event, Draft):
            self._update(progress=replace(progress, draft=progress.draft + event.text))
            return "draft"
        if isinstance(event, Done):
            self._update(progress=progress, answer=event.answer,
                         cut_off=event.answer.truncated)
        return "done"

    def _update(self, **changes) -> None:
        self._answering[-1] = replace(self._answering[-1], **changes)

    def _end(self, kind: str, note: str) -> None:
        self._update(note_kind=kind, note=note)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
