"""Assistant: the public Python API — index articles, search them, ask and chat.

    from rag import Assistant
    assistant = Assistant.load()                 # settings from defaults + RAG_* env
    assistant.index_files(["corpus/"])           # incremental: only new text is embedded
    answer = assistant.ask("Why might the Musk–Bezos rivalry grow?")
    print(answer.text, answer.citations)

Models are built from the settings when not passed in, and load their weights on
first use. One Assistant serves many threads: the index is an immutable snapshot
swapped atomically after each update, and each model serializes its own calls.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

from . import prompts
from .chunking import Chunk, chunk_article, passage_sentences
from .corpus import (SUPPORTED_SUFFIXES, Article, Skipped, article_from_text, detect_language,
                     load_articles)
from .embed import CachedEmbedder, Embedder, build_embedder
from .generate import Generator, Message, build_generator
from .grounding import (Citation, Evidence, Sentence, check, markers, parse_citations,
                        quote_relevance, rank_sentences, settle, strip_markers, with_markers)
from .retrieve import Filters, Hit, Retriever
from .settings import Settings
from .store import EmptyIndexError, Index, current_generation, write_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timings:
    language_ms: float = 0.0
    condense_ms: float = 0.0
    retrieve_ms: float = 0.0
    first_token_ms: float = 0.0
    generate_ms: float = 0.0
    verify_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Hit, ...]
    sentences: tuple[Sentence, ...] = ()
    standalone_question: str = ""
    language: str = "en"
    timings: Timings = field(default_factory=Timings)
    models: tuple[str, str] = ("", "")

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "language": self.language,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [_citation_json(c) for c in self.citations],
            "sentences": [{"text": s.text, "citations": list(s.citations),
                           "support": round(s.support, 4), "verified": s.verified,
                           "quotes": [{"citation": q.passage, **_quote_json(q)}
                                      for q in s.quotes]}
                          for s in self.sentences],
            "passages": [_hit_json(h) for h in self.passages],
            "timings": {k: round(v, 1) for k, v in vars(self.timings).items()},
            "models": {"embedder": self.models[0], "llm": self.models[1]},
        }


@dataclass(frozen=True)
class IndexReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    skipped: tuple[Skipped, ...] = ()
    total_articles: int = 0
    total_chunks: int = 0
    total_sentence_vectors: int = 0  # 0 unless the index keeps sentence vectors
    seconds: float = 0.0


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 generator: Generator | None = None):
        self.settings = settings or Settings.load()
        self._embedder = embedder
        self._generator = generator
        self._index: Index | None = None
        self._queries: CachedEmbedder | None = None
        self._lock = threading.RLock()
        self.warm = threading.Event()  # set once the models are loaded (warm_up or an answer)

    @classmethod
    def load(cls, settings: Settings | None = None, **overrides: Any) -> "Assistant":
        settings = (settings or Settings.load()).replace(**overrides)
        return cls(settings)

    # -- models and index, built on first use ------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = build_embedder(self.settings)
            return self._embedder

    @property
    def query_embedder(self) -> CachedEmbedder:
        """The embedder for questions and grounding checks, remembering recent vectors."""
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
    def index(self) -> Index:
        """The current index snapshot (an empty one if none was built yet)."""
        with self._lock:
            if self._index is None:
                self._index = self._read_index()
            return self._index

    def _read_index(self) -> Index:
        directory = self.settings.index_dir
        if current_generation(directory) is None:
            return self._empty_index()
        return Index.open(directory, embedder=self.embedder.name,
                          chunking=(self.settings.chunk_tokens, self.settings.chunk_overlap))

    def _empty_index(self) -> Index:
        s = self.settings
        return Index.empty(self.embedder.name, self.embedder.dim, s.chunk_tokens, s.chunk_overlap,
                           sentence_vectors=s.sentence_vectors)

    def warm_up(self) -> None:
        """Load the index and both models, and evaluate the fixed instructions into the
        LLM's prompt cache, so that the first question pays for none of it."""
        self.index
        self.query_embedder.embed(["warm-up"], kind="query")
        messages = [Message("system", prompts.SYSTEM), Message("user", prompts.PASSAGES_HEAD)]
        for _ in self.generator.generate(messages, max_tokens=1):
            pass
        self.warm.set()

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

    def reload(self) -> None:
        """Forget the cached index snapshot (another process may have updated it)."""
        with self._lock:
            self._index = None

    # -- indexing ---------------------------------------------------------------------
    def index_files(self, paths: Iterable[str | Path], *, rebuild: bool = False,
                    progress: bool = False) -> IndexReport:
        """Add, update and remove the articles under ``paths`` (folders or files)."""
        paths = [Path(p).resolve() for p in paths]
        loaded = load_articles(paths)
        with write_lock(self.settings.index_dir):
            base = self._empty_index() if rebuild else self._read_index()
            in_scope = {a.id: a for a in base.articles.values() if _under(a.path, paths)}
            failed = {s.path.split("#")[0] for s in loaded.skipped}
            found = {a.id for a in loaded.articles}
            removed = {i for i, a in in_scope.items()
                       if i not in found and a.path.split("#")[0] not in failed}
            new = [a for a in _unique(loaded.articles) if a.id not in base.articles]
            replaced_paths = {a.path for a in new}
            updated = {i for i in removed if in_scope[i].path in replaced_paths}
            return self._apply(base, new, removed, loaded.skipped, progress,
                               updated=len(updated),
                               unchanged=len(loaded.articles) - len(new))

    def import_files(self, files: Iterable[str | Path], *, progress: bool = False) -> IndexReport:
        """Copy files (e.g. browser uploads) into the corpus folder and index them.

        Only supported article types up to ``max_upload_mb`` are taken (others are
        reported as skipped); names are sanitized so nothing is written outside
        ``corpus_dir/uploads``.
        """
        saved, refused = [], []
        for f in files:
            try:
                saved.append(save_upload(Path(f), self.uploads_dir, self.settings.max_upload_mb))
            except (ValueError, OSError) as exc:
                log.warning("skipped %s: %s", f, exc)
                refused.append(Skipped(str(f), str(exc)))
        report = self.index_files(saved, progress=progress)
        return dataclasses.replace(report, skipped=tuple(refused) + report.skipped)

    def add_text(self, text: str, *, title: str = "", **meta: str) -> IndexReport:
        """Save one pasted article in the corpus folder and index it."""
        article = article_from_text(text, title=title, **meta)
        header = "".join(f"{k}: {v}\n" for k, v in
                         {"title": article.title, **meta}.items() if v)
        path = self.uploads_dir / f"pasted-{article.id}.txt"
        _write_new(path, f"---\n{header}---\n{text.strip()}\n")
        return self.index_files([path])

    @property
    def uploads_dir(self) -> Path:
        return self.settings.corpus_dir / "uploads"

    def remove(self, article_ids: Iterable[str]) -> IndexReport:
        """Remove articles from the index (and delete them if they were uploads)."""
        article_ids = list(article_ids)
        with write_lock(self.settings.index_dir):
            base = self._read_index()
            unknown = [i for i in article_ids if i not in base.articles]
            if unknown:
                raise KeyError(f"no such article in the index: {', '.join(unknown)}")
            report = self._apply(base, [], set(article_ids), (), progress=False)
        for article_id in article_ids:  # an uploaded file would come back on the next sync
            path = Path(base.articles[article_id].path)
            if self.uploads_dir.resolve() in path.parents:
                path.unlink(missing_ok=True)
        return report

    def _apply(self, base: Index, new: Sequence[Article], removed: set[str],
               skipped: Sequence[Skipped], progress: bool, *, updated: int = 0,
               unchanged: int = 0) -> IndexReport:
        started = time.perf_counter()
        s = self.settings
        chunked = [(a, chunk_article(a, self.embedder.count_tokens, s.chunk_tokens,
                                     s.chunk_overlap))
                   for a in tqdm(new, desc="chunking", unit="article", disable=not progress)]
        with_sentences = base.manifest.sentence_vectors
        if s.sentence_vectors != with_sentences and (new or removed):
            log.warning("the index at %s was built %s sentence vectors and keeps it; rebuild "
                        "(rag index --rebuild) to change that", s.index_dir,
                        "with" if with_sentences else "without")
        added, per_article = self._embed(chunked, with_sentences, progress)
        index = base if not (added or removed) and current_generation(s.index_dir) else \
            base.updated(added, removed, per_article)
        if index is not base:
            index.save(s.index_dir)
        with self._lock:
            self._index = index
        return IndexReport(
            added=len(new) - updated, updated=updated, removed=len(removed) - updated,
            unchanged=unchanged, chunks_embedded=sum(len(cs) for _, cs in chunked),
            skipped=tuple(skipped),
            total_articles=len(index.articles), total_chunks=len(index.chunks),
            total_sentence_vectors=index.manifest.n_sentences,
            seconds=time.perf_counter() - started)

    def _embed(self, chunked: Sequence[tuple[Article, list[Chunk]]], with_sentences: bool,
               progress: bool) -> tuple[list, list]:
        """Each article with its chunks and their vectors, in one embedding pass; with
        sentence vectors also, per article, the vectors of its passages' sentences and the
        number of the passage each belongs to."""
        texts = [c.text for _, cs in chunked for c in cs]
        titles = [c.title for _, cs in chunked for c in cs]
        pieces = [_sentence_pieces(chunks) for _, chunks in chunked] if with_sentences else []
        texts += [text for piece in pieces for text in piece[0]]
        titles += [title for piece in pieces for title in piece[1]]
        vectors = _embed_documents(self.embedder, texts, titles, progress) if texts else None
        added, per_article, offset = [], [], 0
        for article, chunks in chunked:
            added.append((article, chunks, vectors[offset: offset + len(chunks)]))
            offset += len(chunks)
        for _, _, chunk_numbers in pieces:
            per_article.append((vectors[offset: offset + len(chunk_numbers)], chunk_numbers))
            offset += len(chunk_numbers)
        return added, per_article

    def require_articles(self) -> Index:
        """The current index; `EmptyIndexError` (with what to run) if it holds no articles."""
        index = self.index
        if not index.articles:
            raise EmptyIndexError(
                f"the index at {self.settings.index_dir} holds no articles yet: add some with "
                f"`rag index corpus/` (or any folder or files of articles)")
        return index

    def articles(self) -> list[Article]:
        return sorted(self.index.articles.values(), key=lambda a: (a.date, a.title), reverse=True)

    # -- searching and answering ------------------------------------------------------
    def search(self, query: str, *, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        return Retriever(self.require_articles(), self.query_embedder, self.settings).search(
            query, k=k, mode=mode, filters=filters)

    def ask(self, question: str, **options: Any) -> Answer:
        """Answer ``question`` (see `stream` for the options)."""
        for item in self.stream(question, **options):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream ended without an answer")

    def chat(self, history: Sequence[tuple[str, str]], question: str, **options: Any) -> Answer:
        """Answer a follow-up: ``history`` is the earlier (question, answer) pairs."""
        return self.ask(question, history=history, **options)

    def stream(self, question: str, *, history: Sequence[tuple[str, str]] = (),
               filters: Filters | None = None, k: int | None = None,
               max_tokens: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is generated, then the checked `Answer`."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        clock = _Clock()
        lang = detect_language(question, fallback=("en", "it"))
        clock.lap("language_ms")
        standalone = question
        if history:
            standalone = self._condense(history, question)
            clock.lap("condense_ms")
        hits = self.search(standalone, k=k, filters=filters)
        clock.lap("retrieve_ms")
        if not _relevant(hits, self.settings.min_relevance):
            text = prompts.abstention(lang)
            yield text
            yield self._answer(question, standalone, lang, text, True, hits, (), (), clock)
            return
        passages = self._pack(hits, standalone, max_tokens)
        chunks = [h.chunk for h in passages]
        wanted = self.settings.key_sentences > 0 or self.settings.min_closest > 0
        ranked = rank_sentences(standalone, chunks, self.query_embedder) if wanted else []
        key = [(w.passage, w.text) for w, _ in ranked[:self.settings.key_sentences]]
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.user_message(standalone, chunks, lang, key))]
        pieces: list[str] = []
        for piece in _hold_back(self.generator.generate(
                messages, max_tokens=max_tokens or self.settings.max_answer_tokens,
                temperature=self.settings.temperature), prompts.NOT_FOUND):
            if not pieces:
                clock.mark("first_token_ms")
            pieces.append(piece)
            yield piece
        clock.lap("generate_ms")
        self.warm.set()
        raw = "".join(pieces).strip()
        closest = ranked[0] if ranked else None
        yield self._finish(question, standalone, lang, raw, passages, clock, closest)

    def _finish(self, question: str, standalone: str, lang: str, raw: str,
                passages: Sequence[Hit], clock: "_Clock",
                closest: tuple[Evidence, float] | None) -> Answer:
        chunks = [h.chunk for h in passages]
        if not raw or prompts.NOT_FOUND in raw:
            return self._abstain(question, standalone, lang, passages, (), clock, closest)
        if not self.settings.verify:
            sentences = (Sentence(raw, tuple(markers(raw))),)
            return self._answer(question, standalone, lang, raw, False, passages,
                                parse_citations(raw, chunks), sentences, clock)
        checked = check(raw, chunks, self.query_embedder, min_support=self.settings.min_support,
                        lang=lang, question=standalone)
        relevance = quote_relevance(standalone, checked.sentences, self.query_embedder)
        clock.lap("verify_ms")
        kept = settle(checked, relevance, min_evidence=self.settings.min_evidence,
                      max_gap=self.settings.max_relevance_gap)
        if kept is None:
            return self._abstain(question, standalone, lang, passages, checked.sentences,
                                 clock, closest)
        text = " ".join(with_markers(strip_markers(s.text), s.citations)
                        for s in kept.sentences)
        return self._answer(question, standalone, lang, text, False,
                            passages, kept.citations, kept.sentences, clock)

    def _abstain(self, question, standalone, lang, passages, sentences, clock,
                 closest: tuple[Evidence, float] | None) -> Answer:
        """No verified answer: say so, and quote the passage sentence closest to the
        question when it is close enough (`Settings.min_closest`) to be worth reading."""
        text, citations = prompts.abstention(lang), ()
        threshold = self.settings.min_closest
        if closest is not None and threshold > 0 and closest[1] >= threshold:
            w = closest[0]
            citations = (Citation(w.passage, passages[w.passage - 1].chunk, w.text,
                                  w.start, w.end, (w,)),)
            text = prompts.closest(lang, w.passage, w.text)
        return self._answer(question, standalone, lang, text, True, passages, citations,
                            sentences, clock)

    def _answer(self, question, standalone, lang, text, abstained, passages, citations,
                sentences, clock) -> Answer:
        clock.mark("total_ms")
        models = (self.embedder.name, getattr(self._generator, "name", self.settings.llm))
        return Answer(question=question, text=text, abstained=abstained,
                      citations=tuple(citations), passages=tuple(passages),
                      sentences=tuple(sentences), standalone_question=standalone,
                      language=lang, timings=Timings(**clock.laps), models=models)

    def _condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        # Under the answering system prompt, so its KV cache survives for the answer call.
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.condense_message(history[-3:], question))]
        text = "".join(self.generator.generate(messages, max_tokens=80, temperature=0.0))
        line = next((x.strip() for x in text.splitlines() if x.strip()), "")
        return line.strip('"“”') or question

    def _pack(self, hits: Sequence[Hit], question: str, max_tokens: int | None) -> list[Hit]:
        """The hits that fit the context, in rank order; the top hit always goes in."""
        g = self.generator
        budget = (g.context_tokens - (max_tokens or self.settings.max_answer_tokens)
                  - g.count_tokens(prompts.SYSTEM) - g.count_tokens(question) - 64)
        packed: list[Hit] = []
        for hit in hits:
            cost = g.count_tokens(hit.chunk.text) + 24
            if packed and cost > budget:
                continue
            packed.append(hit)
            budget -= cost
        return packed


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + (now - self.last) * 1000
        self.last = now

    def mark(self, name: str) -> None:
        self.laps[name] = (time.perf_counter() - self.start) * 1000


def _relevant(hits: Sequence[Hit], min_relevance: float) -> bool:
    """Worth asking the model: a passage is similar enough, or the top one shares keywords.

    Short questions ("What did Jassy say?") embed far from every passage, yet name what
    they ask about; the grounding checks still decide whether an answer is supported.
    """
    return bool(hits) and (max(h.similarity for h in hits) >= min_relevance
                           or hits[0].keyword > 0)


def _hold_back(pieces: Iterator[str], sentinel: str) -> Iterator[str]:
    """Pass pieces through, but hold back a prefix that could still become ``sentinel``."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        if sentinel.startswith(buffer.strip()) and buffer.strip():
            continue
        yield buffer
        buffer = ""
    if buffer and not sentinel.startswith(buffer.strip()):
        yield buffer


def save_upload(source: Path, folder: Path, max_mb: int) -> Path:
    """Copy ``source`` into ``folder`` under a safe, unique name; refuse bad types and sizes.

    The name is claimed atomically (a hard link of a complete temporary file), so
    concurrent uploads with the same name never overwrite each other or show a
    half-written file.
    """
    suffix = source.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"{source.name}: unsupported file type {suffix or '(none)'}; "
                         f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", source.stem).strip(".-")[:80] or "article"
    size = source.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise ValueError(f"{source.name}: {size / 2**20:.1f} MB is over the {max_mb} MB limit")
    folder.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        for n in range(10_000):
            target = folder / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
            if folder.resolve() not in target.resolve().parents:
                raise ValueError(f"{source.name}: refusing to write outside {folder}")
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                if target.is_file() and target.read_bytes() == data:
                    return target
        raise ValueError(f"{source.name}: no free name left in {folder}")
    finally:
        os.unlink(tmp)


def _write_new(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content if isinstance(content, bytes) else content.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _under(path: str, roots: Sequence[Path]) -> bool:
    file = Path(path.split("#")[0])
    return any(file == root or root in file.parents for root in roots)


def _embed_documents(embedder: Embedder, texts: list[str], titles: list[str],
                     progress: bool) -> np.ndarray:
    """Document vectors of ``texts`` under ``titles``; a repeated (text, title) pair (a
    sentence in the overlap of two passages) is embedded once."""
    pairs = list(dict.fromkeys(zip(texts, titles)))
    if len(pairs) == len(texts):
        return embedder.embed(texts, kind="document", titles=titles, progress=progress)
    where = {pair: i for i, pair in enumerate(pairs)}
    vectors = embedder.embed([t for t, _ in pairs], kind="document",
                             titles=[t for _, t in pairs], progress=progress)
    return vectors[[where[pair] for pair in zip(texts, titles)]]


def _sentence_pieces(chunks: Sequence[Chunk]) -> tuple[list[str], list[str], np.ndarray]:
    """The sentences of an article's passages that get vectors, their titles, and the
    number of the passage each belongs to."""
    found = [(text, chunk.title, number) for number, chunk in enumerate(chunks)
             for text in passage_sentences(chunk)]
    return ([t for t, _, _ in found], [t for _, t, _ in found],
            np.array([n for _, _, n in found], np.int64))


def _unique(articles: Iterable[Article]) -> list[Article]:
    return list({a.id: a for a in articles}.values())


def _citation_json(c: Citation) -> dict[str, Any]:
    return {"marker": c.marker, "chunk_id": c.chunk.id, "article_id": c.chunk.article_id,
            "title": c.chunk.title, "text": c.chunk.text, "start": c.chunk.start,
            "end": c.chunk.end, "quote": c.quote, "quote_start": c.quote_start,
            "quote_end": c.quote_end, "quotes": [_quote_json(q) for q in c.quotes]}


def _quote_json(q: Evidence) -> dict[str, Any]:
    return {"quote": q.text, "quote_start": q.start, "quote_end": q.end}


def _hit_json(h: Hit) -> dict[str, Any]:
    return {"rank": h.rank, "chunk_id": h.chunk.id, "article_id": h.chunk.article_id,
            "title": h.chunk.title, "score": round(h.score, 6),
            "similarity": round(h.similarity, 4), "date": h.chunk.date,
            "source": h.chunk.source, "text": h.chunk.text}
