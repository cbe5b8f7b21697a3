"""rag: a private, local chat assistant over a corpus of news articles.

The public API, all importable from here; nothing heavy is loaded at import (models
load their weights on first use):

* `Assistant` — index articles, search them, `ask` (a `Response`), `conversation`;
* `Response` — iterate for the draft text, then `answer()` for the checked `Answer`;
  `events()` for `Stage`, `Sources`, `Draft` and `Done`;
* `Conversation`, `Turn`, `Exchange` — follow-up questions and their history; `ChatStore`,
  `ChatSummary` — the saved ones (`Assistant.chats`);
* `Answer`, `Citation`, `Quote`, `AnswerSentence`, `Hit`, `Evidence`, `IndexReport`;
* `Settings`, `Filters`;
* errors: `RagError` and its kinds `SettingsError`, `StoreError`, `EmptyIndexError`,
  `ModelError`, `ChatNotFound`, `FetchError`; `Cancelled`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Assistant": "assistant", "Response": "response", "Cancelled": "response",
    "Conversation": "conversation", "Turn": "conversation", "Exchange": "conversation",
    "Answer": "answer", "Citation": "answer", "Quote": "answer", "AnswerSentence": "answer",
    "Timings": "answer", "Hit": "retrieve", "Evidence": "evidence", "IndexReport": "library",
    "Stage": "events", "Sources": "events", "Draft": "events", "Done": "events",
    "Settings": "settings", "SettingsError": "settings", "Filters": "filters",
    "StoreError": "store", "EmptyIndexError": "store", "ModelError": "models",
    "RagError": "errors", "ChatStore": "chats", "ChatSummary": "chats",
    "ChatNotFound": "chats", "FetchError": "sources.fetch",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
