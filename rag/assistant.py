"""Assistant: the public Python API — a small facade over the library and the answering.

    from rag import Assistant
    assistant = Assistant.load()                 # settings from defaults + RAG_* env
    assistant.index_files(["corpus/"])           # incremental: only new text is embedded
    response = assistant.ask("Why might the Musk–Bezos rivalry grow?")
    for text in response:                        # the draft, as it is written
        print(text, end="")
    print(response.answer().citations)           # the checked answer

Models and the store are built from the settings when not passed in, on first use. One
Assistant serves many threads: the store swaps whole snapshots, each model serializes
its own calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from . import prompts
from .answer import Answer
from .answering import Answerer, Options
from .conversation import Conversation
from .corpus import Article, detect_language
from .embed import CachedEmbedder, Embedder, build_embedder
from .filters import Filters
from .generate import Generator, Message, build_generator
from .library import IndexReport, Library
from .response import Response
from .retrieve import Hit, Retriever
from .settings import Settings
from .store import Manifest, Store, open_store

if TYPE_CHECKING:
    from .chats import ChatStore
    from .sources.sync import Sources

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 generator: Generator | None = None, store: Store | None = None):
        self.settings = settings or Settings.load()
        self._embedder, self._generator, self._store = embedder, generator, store
        self._queries: CachedEmbedder | None = None
        self._lock = threading.RLock()
        self.ready = threading.Event()  # set once the models are loaded and warm
        self.library = Library(self.settings, self._store_for, lambda: self.embedder)

    @classmethod
    def load(cls, settings: Settings | None = None, **overrides: Any) -> "Assistant":
        return cls((settings or Settings.load()).replace(**overrides))

    # -- parts, built on first use ----------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = build_embedder(self.settings)
            return self._embedder

    @property
    def query_embedder(self) -> CachedEmbedder:
        """The embedder for questions and checks, remembering recent vectors."""
        with self._lock:
            if self._queries is None:
                self._queries = CachedEmbedder(self.embedder)
            return self._queries

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = build_generator(self.settings)
            return self._generator

    @property
    def store(self) -> Store:
        return self._store_for()

    def _store_for(self, write: bool = False, fresh: bool = False) -> Store:
        """The store; to write, one opened knowing the embedder's dimension."""
        with self._lock:
            if self._store is None or fresh or (write and not self._store.manifest().dim):
                s = self.settings
                manifest = Manifest(self.embedder.name, self.embedder.dim if write else 0,
                                    s.chunk_tokens, s.chunk_overlap,
                                    sentence_vectors=s.sentence_vectors)
                self._store = open_store(s.store or s.index_dir, manifest, fresh=fresh)
            return self._store

    # -- the library ------------------------------------------------------------------
    def index_files(self, paths: Iterable[str | Path], *, rebuild: bool = False,
                    progress: bool = False) -> IndexReport:
        """Add, update and remove the articles under ``paths`` (folders or files)."""
        self._store_for(write=True, fresh=rebuild)
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
        return Retriever(self.store, self.query_embedder, self.settings).search(
            query, k=k, mode=mode, filters=filters, today=today)

    def ask(self, question: str, *, history: Sequence[tuple[str, str]] = (),
            k: int | None = None, mode: str | None = None, filters: Filters | None = None,
            today: dt.date | None = None, max_tokens: int | None = None,
            verify: bool | None = None,
            on_done: Callable[[Answer], None] | None = None) -> Response:
        """Answer ``question`` (a follow-up of ``history``: earlier (question, answer) pairs).
        Nothing runs until the response is read."""
        options = Options(k, mode, filters, today, max_tokens, verify)

        def events():
            self.library.require_articles()
            answerer = Answerer(self.settings, self.store, self.query_embedder, self.generator)
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
        """Load the store and both models, and evaluate the fixed instructions into the
        LLM's prompt cache, so that the first question pays for none of it."""
        self.store.stats()
        detect_language("Quanto vale il settore?")  # the detector's models load on first use
        self.query_embedder.embed(["warm-up"], kind="query")
        messages = [Message("system", prompts.SYSTEM), Message("user", prompts.EVIDENCE_HEAD)]
        for _ in self.generator.generate(messages, max_tokens=1):
            pass
        self.ready.set()

    def warm_up_in_background(self) -> threading.Thread:
        """`warm_up` in a daemon thread (while a page opens or a user types); a failure is
        logged here and reported again, in full, when a question needs the model."""
        def run() -> None:
            try:
                self.warm_up()
            except Exception as exc:  # noqa: BLE001 - see the docstring
                log.warning("warm-up failed: %s", exc)
        thread = threading.Thread(target=run, daemon=True, name="warm-up")
        thread.start()
        return thread
