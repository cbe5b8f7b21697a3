"""Assistant: the public Python API — a small facade over the library and the answering.

    from rag import Assistant
    assistant = Assistant.load()                 # settings from defaults + RAG_* env
    assistant.index_files(["corpus/"])           # incremental: only new text is embedded
    response = assistant.ask("Why might the Musk–Bezos rivalry grow?")
    for text in response:                        # the draft, as it is written
        print(text, end="")
    print(response.answer().citations)           # the checked answer

Models and the store (`rag.parts`) are built on first use. One Assistant serves many
threads: the store swaps whole snapshots, each model serializes its own calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .answer import Answer
from .answering import Answerer, Options
from .conversation import Conversation, Exchange
from .corpus import Article
from .embed import Embedder
from .filters import Filters
from .generate import Generator
from .library import IndexReport, Library
from .parts import Parts
from .response import Response
from .retrieve import Hit, Retriever
from .settings import Settings
from .store import Store

if TYPE_CHECKING:
    from .chats import ChatStore
    from .sources.sync import Sources

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 generator: Generator | None = None, store: Store | None = None):
        self.settings = settings or Settings.load()
        self.parts = Parts(self.settings, embedder, generator, store)
        self.ready = threading.Event()  # set once the models are loaded and warm
        self.library = Library(self.settings, self.parts.store, lambda: self.parts.embedder)

    @classmethod
    def load(cls, settings: Settings | None = None, **overrides: Any) -> "Assistant":
        return cls((settings or Settings.load()).replace(**overrides))

    embedder = property(lambda self: self.parts.embedder, doc="The embedding model.")
    generator = property(lambda self: self.parts.generator, doc="The language model.")
    store = property(lambda self: self.parts.store(), doc="Where the index lives.")

    # -- the library ------------------------------------------------------------------
    def index_files(self, paths: Iterable[str | Path], *, rebuild: bool = False,
                    progress: bool = False) -> IndexReport:
        """Add, update and remove the articles under ``paths`` (folders or files)."""
        self.parts.store(write=True, fresh=rebuild)
        return self.library.index_paths(paths, progress=progress)

    def import_files(self, files: Iterable[str | Path], *, progress: bool = False) -> IndexReport:
        return self.library.import_files(files, progress=progress)

    def add_text(self, text: str, *, title: str = "", **meta: str) -> IndexReport:
        return self.library.add_text(text, title=title, **meta)

    def remove(self, article_ids: Iterable[str]) -> IndexReport:
        """Remove articles for good: the pages and feed items they came from are told
        (`Sources.dismiss`), so no sync brings them back."""
        ids = list(article_ids)
        report = self.library.remove(ids)
        self.sources.dismiss(ids)
        return report

    def articles(self) -> list[Article]:
        return self.library.articles()

    @functools.cached_property
    def sources(self) -> "Sources":
        """Web pages, PDFs and feeds: ``add_urls``, ``add_feed``, ``feeds``, ``remove_feed``,
        ``sync`` (see `rag.sources.sync.Sources`)."""
        from .sources.sync import Sources
        return Sources.for_settings(self.library, self.settings)

    # -- searching and answering ------------------------------------------------------
    def search(self, query: str, *, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None, today: dt.date | None = None) -> list[Hit]:
        """The passages most relevant to ``query`` (no answer)."""
        self.library.require_articles()
        return Retriever(self.store, self.parts.query_embedder, self.settings).search(
            query, k=k, mode=mode, filters=filters, today=today)

    def ask(self, question: str, *, history: Sequence[Exchange] = (),
            k: int | None = None, mode: str | None = None, filters: Filters | None = None,
            today: dt.date | None = None, max_tokens: int | None = None,
            verify: bool | None = None,
            on_done: Callable[[Answer], None] | None = None) -> Response:
        """Answer ``question`` (a follow-up of ``history``: earlier exchanges).
        Nothing runs until the response is read."""
        options = Options(k, mode, filters, today, max_tokens, verify)

        def events():
            self.library.require_articles()
            parts = self.parts
            parts.prime_in_background()  # the LLM loads while the question is retrieved
            answerer = Answerer(self.settings, parts.store(), parts.query_embedder,
                                parts.generator)
            yield from answerer.events(question, history, options)
            self.ready.set()
        return Response(events(), on_done)

    def conversation(self, chat_id: str | None = None, *, save: bool = False) -> Conversation:
        """A new conversation: its questions are answered as follow-ups of each other. With
        ``save`` it is kept in `chats` after every turn; ``chat_id`` reopens a saved one,
        which goes on being saved (`rag.chats.ChatNotFound` if there is none)."""
        if chat_id is not None:
            return self.chats.open(chat_id, self.ask)
        return self.chats.new(self.ask) if save else Conversation(self.ask)

    @functools.cached_property
    def chats(self) -> "ChatStore":
        """The saved conversations, beside the index: ``list``, ``summary``, ``rename``,
        ``delete`` (see `rag.chats.ChatStore`)."""
        from .chats import ChatStore
        return ChatStore.for_settings(self.settings)

    # -- warming up -------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the store and both models and prime the LLM's prompt cache (`Parts`)."""
        self.parts.warm_up()
        self.ready.set()

    def warm_up_in_background(self) -> threading.Thread:
        """`warm_up` in a thread (while a page opens or a user types); a failure is logged
        here and reported again, in full, when a question needs the model. Not a daemon: a
        process waits for it before it exits, as it would crash inside llama.cpp otherwise."""
        def run() -> None:
            try:
                self.warm_up()
            except Exception as exc:  # noqa: BLE001 - see the docstring
                log.warning("warm-up failed: %s", exc)
        thread = threading.Thread(target=run, name="warm-up")
        thread.start()
        return thread
