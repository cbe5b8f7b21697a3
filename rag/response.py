"""Response: one answer in the making — iterate it for the draft, then read the answer.

    response = assistant.ask("Why might the Musk–Bezos rivalry grow?")
    for text in response:            # the model's draft, piece by piece
        print(text, end="")
    answer = response.answer()       # the checked Answer (runs the rest if needed)

`events()` gives everything instead: stages, the sources as soon as retrieval has them,
the draft pieces, and `Done`. A response runs once, lazily, in whichever thread reads it;
`cancel()` (from any thread) stops it, generation included, at the next event.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

from .answer import Answer
from .events import Done, Draft, Event, Sources


class Cancelled(RuntimeError):
    """The response was cancelled before its answer was ready."""


class Response:
    def __init__(self, events: Iterator[Event],
                 on_done: Callable[[Answer], None] | None = None):
        self._events = events
        self._on_done = on_done
        self._answer: Answer | None = None
        self._sources: Sources | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    def events(self) -> Iterator[Event]:
        """The events not yet read, in order; stops early when cancelled."""
        with self._lock:
            for event in self._events:
                if isinstance(event, Sources):
                    self._sources = event
                if isinstance(event, Done):
                    self._answer = event.answer
                    if self._on_done is not None:
                        self._on_done(event.answer)
                yield event
                if self._cancel.is_set():
                    self._events.close()
                    return

    def __iter__(self) -> Iterator[str]:
        for event in self.events():
            if isinstance(event, Draft):
                yield event.text

    def answer(self) -> Answer:
        """The checked answer, running whatever is left of the response."""
        for _ in self.events():
            pass
        if self._answer is None:
            raise Cancelled("the response was cancelled before its answer was ready")
        return self._answer

    def text(self) -> str:
        return self.answer().text

    @property
    def sources(self) -> Sources | None:
        """The passages and evidence, once retrieval has run."""
        return self._sources

    @property
    def done(self) -> bool:
        return self._answer is not None

    def cancel(self) -> None:
        self._cancel.set()
