"""Parts: the models and the store an assistant uses, built from the settings on first use.

Weights load when a part is first needed, not when the assistant is made; parts passed in
(fakes in tests, a shared model) are used as they are. The store is opened for reading
without loading the embedder (its manifest's dimension is checked only on a write), and
reopened knowing the embedder's dimension before the first write.
"""

from __future__ import annotations

import logging
import threading

from .answering import PROMPT_HEAD
from .corpus import detect_language
from .embed import CachedEmbedder, Embedder, build_embedder
from .generate import Generator, build_generator
from .settings import Settings
from .store import Manifest, Store, open_store, recorded_manifest

log = logging.getLogger(__name__)


class Parts:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 generator: Generator | None = None, store: Store | None = None):
        self.settings = settings
        self._embedder, self._generator, self._store = embedder, generator, store
        self._embedder_given = embedder is not None
        self._queries: CachedEmbedder | None = None
        self._lock = threading.RLock()
        self._priming: threading.Thread | None = None

    @property
    def embedder(self) -> Embedder:
        """The settings' embedder, on the backend the existing index was built with (an
        index made where bf16 runs stays usable where the int8 copy is chosen, and back);
        a rebuild takes the settings' own backend."""
        with self._lock:
            if self._embedder is None:
                embedder = build_embedder(self.settings)
                recorded = recorded_manifest(self.settings.store or self.settings.index_dir)
                if recorded is not None and hasattr(embedder, "for_index"):
                    embedder = embedder.for_index(recorded.embedder)
                self._embedder = embedder
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

    def store(self, write: bool = False, fresh: bool = False) -> Store:
        """The store; to write, one opened knowing the embedder's dimension; ``fresh``
        starts it over (the old index stays until the first write replaces it), embedded
        on the settings' own backend whatever the old index was built with."""
        with self._lock:
            if fresh and not self._embedder_given:  # not adapted to the index it replaces
                self._embedder, self._queries = build_embedder(self.settings), None
            if self._store is None or fresh or (write and not self._store.manifest().dim):
                s = self.settings
                manifest = Manifest(self.embedder.name, self.embedder.dim if write else 0,
                                    s.chunk_tokens, s.chunk_overlap,
                                    sentence_vectors=s.sentence_vectors)
                self._store = open_store(s.store or s.index_dir, manifest, fresh=fresh)
            return self._store

    def prime_in_background(self) -> None:
        """Load the LLM and its fixed instructions in a thread, once. A new process's first
        question then loads the LLM (native code, off the interpreter lock) while the embedder
        loads and the question is retrieved; the answer's own `prime` waits for it. A failure
        is logged here and raised again by the answer's own call. The thread is not a daemon:
        a process that ends while it is inside llama.cpp crashes (SIGSEGV after `rag ask`
        printed an abstention), so the process waits for it before it exits."""
        with self._lock:
            if self._priming is not None:
                return
            self._priming = threading.Thread(target=self._prime, name="prime")
            self._priming.start()

    def _prime(self) -> None:
        try:
            self.generator.prime(PROMPT_HEAD)
        except Exception as exc:  # noqa: BLE001 - reported by the question that needs it
            log.info("loading the LLM in the background failed: %s", exc)

    def warm_up(self) -> None:
        """Load the store and both models, and evaluate the fixed instructions into the
        LLM's prompt cache, so that the first question pays for none of it."""
        self.store().stats()
        detect_language("Quanto vale il settore?")  # the detector's models load on first use
        self.query_embedder.embed(["warm-up"], kind="query")
        self.generator.prime(PROMPT_HEAD)
