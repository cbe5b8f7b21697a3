"""Library: the articles you keep — add, update, remove and list them, incrementally.

Every way in (folders of files, uploads, pasted text, web pages, feeds) ends in `sync`:
given the articles found and which stored articles they may replace (a scope), it embeds
only what is new, removes what is gone and writes one atomic `Change` to the store.
Unchanged articles are never embedded again (an article's id is a hash of its content).
Text that addresses the assistant is flagged here, at indexing time (`rag.injection`).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tqdm.auto import tqdm

from .chunking import Chunk, chunk_article, split_sentences
from .corpus import SUPPORTED_SUFFIXES, Article, Skipped, article_from_text, load_articles
from .embed import Embedder
from .injection import flag_instructions
from .settings import Settings
from .store import Change, EmptyIndexError, Entry, SentenceVectors, Store, StoreStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexReport:
    """What one indexing call did, and what the index holds afterwards."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    skipped: tuple[Skipped, ...] = ()
    flagged: tuple[str, ...] = ()  # titles of new articles with text addressing the assistant
    total_articles: int = 0
    total_chunks: int = 0
    total_sentences: int = 0
    seconds: float = 0.0


class Library:
    """The articles of one store, embedded with one embedder."""

    def __init__(self, settings: Settings, store: Callable[..., Store],
                 embedder: Callable[[], Embedder]):
        """``store(write=False)`` gives the store (``write=True``: ready for writing)."""
        self.settings = settings
        self._store = store
        self._embedder = embedder

    @property
    def store(self) -> Store:
        return self._store()

    # -- reading ----------------------------------------------------------------------
    def articles(self) -> list[Article]:
        """Every article, newest first (undated last), then by title."""
        return sorted(self.store.articles(), key=lambda a: (a.date, a.title), reverse=True)

    def sources(self) -> list[str]:
        return sorted({a.source for a in self.store.articles() if a.source}, key=str.casefold)

    def require_articles(self) -> StoreStats:
        """The store's counts; `EmptyIndexError` (saying what to run) if it holds nothing."""
        stats = self.store.stats()
        if not stats.articles:
            raise EmptyIndexError(
                f"the index at {self.store.location} holds no articles yet: add some with "
                f"`rag index corpus/` (or any folder or files of articles)")
        return stats

    # -- writing ----------------------------------------------------------------------
    def index_paths(self, paths: Iterable[str | Path], *, progress: bool = False) -> IndexReport:
        """Add, update and remove the articles under ``paths`` (folders or files)."""
        roots = [Path(p).resolve() for p in paths]
        loaded = load_articles(roots)
        failed = {s.path.split("#")[0] for s in loaded.skipped}
        return self.sync(loaded.articles, lambda a: _under(a.path, roots)
                         and a.path.split("#")[0] not in failed, loaded.skipped, progress)

    def import_files(self, files: Iterable[str | Path], *, progress: bool = False) -> IndexReport:
        """Copy files (browser uploads) into the corpus folder and index them. A file that
        cannot be read is reported as skipped and not kept."""
        saved, refused = [], []
        for f in files:
            try:
                saved.append(save_upload(Path(f), self.uploads_dir, self.settings.max_upload_mb))
            except (ValueError, OSError) as exc:
                refused.append(Skipped(str(f), str(exc)))
        report = self.index_paths(saved, progress=progress)
        for skipped in report.skipped:
            Path(skipped.path.split("#")[0]).unlink(missing_ok=True)
        return replace(report, skipped=tuple(refused) + report.skipped)

    def add_text(self, text: str, *, title: str = "", **meta: str) -> IndexReport:
        """Save one pasted article in the corpus folder and index it."""
        article = article_from_text(text, title=title, **meta)
        header = "".join(f"{k}: {v}\n" for k, v in {"title": article.title, **meta}.items() if v)
        path = self.uploads_dir / f"pasted-{article.id}.txt"
        write_new(path, f"---\n{header}---\n{text.strip()}\n")
        return self.index_paths([path])

    @property
    def uploads_dir(self) -> Path:
        return self.settings.corpus_dir / "uploads"

    def remove(self, article_ids: Iterable[str]) -> IndexReport:
        """Remove articles (and delete the files of removed uploads)."""
        ids = list(article_ids)
        stored = {a.id: a for a in self.store.articles()}
        unknown = [i for i in ids if i not in stored]
        if unknown:
            raise KeyError(f"no such article in the index: {', '.join(unknown)}")
        report = self.sync([], lambda a: a.id in ids)
        uploads = self.uploads_dir.resolve()
        for i in ids:  # an uploaded file would come back at the next start
            path = Path(stored[i].path)
            if stored[i].path and uploads in path.resolve().parents:
                path.unlink(missing_ok=True)
        return report

    def sync(self, found: Sequence[Article], in_scope: Callable[[Article], bool],
             skipped: Sequence[Skipped] = (), progress: bool = False) -> IndexReport:
        """Make the stored articles ``in_scope`` be exactly ``found``: embed and add the new
        ones, remove the in-scope ones not found, keep the rest untouched."""
        started = time.perf_counter()
        store = self._store(write=True)
        stored = {a.id: a for a in store.articles()}
        scoped = {i for i, a in stored.items() if in_scope(a)}
        found = list({a.id: a for a in found}.values())
        new = [a for a in found if a.id not in stored]
        edited = [a for a in found if a.id in stored  # its metadata (sidecar, header) changed
                  and replace(stored[a.id], instructions=(), feed=a.feed) != a]
        gone = scoped - {a.id for a in found}
        updated = {i for i in gone if stored[i].path in {a.path for a in new} and stored[i].path}
        entries = self._entries(new + edited, progress)
        store.apply(Change(tuple(entries), frozenset(gone)))
        stats = store.stats()
        return IndexReport(
            added=len(new) - len(updated), updated=len(updated) + len(edited),
            removed=len(gone) - len(updated),
            unchanged=len(found) - len(new) - len(edited), chunks_embedded=sum(len(e.chunks) for e in entries),
            skipped=tuple(skipped),
            flagged=tuple(e.article.title for e in entries if e.article.instructions),
            total_articles=stats.articles, total_chunks=stats.chunks,
            total_sentences=stats.sentences, seconds=time.perf_counter() - started)

    def copy_from(self, other: Store, *, progress: bool = False) -> IndexReport:
        """Copy every article of ``other`` with its vectors (no re-embedding)."""
        started = time.perf_counter()
        entries = list(tqdm(other.entries(), desc="copying", unit="article",
                            disable=not progress))
        store = self._store(write=True)
        store.apply(Change(tuple(entries)))
        stats = store.stats()
        return IndexReport(added=len(entries), total_articles=stats.articles,
                           total_chunks=stats.chunks, total_sentences=stats.sentences,
                           seconds=time.perf_counter() - started)

    def _entries(self, articles: Sequence[Article], progress: bool) -> list[Entry]:
        """Each new article flagged, chunked and embedded, in one embedding pass."""
        s, embedder = self.settings, self._embedder()
        articles = [flag_instructions(a) for a in articles]
        chunked = [(a, chunk_article(a, embedder.count_tokens, s.chunk_tokens, s.chunk_overlap))
                   for a in tqdm(articles, desc="chunking", unit="article", disable=not progress)]
        chunks = [c for _, cs in chunked for c in cs]
        if not chunks:
            return []
        keep_sentences = self._store(write=True).manifest().sentence_vectors
        passages, sentences = embed_passages(embedder, chunks, keep_sentences, progress)
        entries, at = [], 0
        for article, cs in chunked:
            entries.append(Entry(article, tuple(cs), passages[at:at + len(cs)],
                                 tuple(sentences[at:at + len(cs)])))
            at += len(cs)
        return entries


def embed_passages(embedder: Embedder, chunks: Sequence[Chunk], with_sentences: bool,
                   progress: bool) -> tuple:
    """Passage vectors and, per passage, its sentence vectors (late-chunked from the
    passage's own forward pass when the embedder can; else each sentence embedded alone)."""
    texts, titles = [c.text for c in chunks], [c.title for c in chunks]
    spans = [split_sentences(c.text, c.lang) for c in chunks] if with_sentences else None
    if spans is not None and hasattr(embedder, "embed_passages"):
        result = embedder.embed_passages(texts, titles, spans, progress=progress)
        passages, per_chunk = result.passages, result.sentences
    else:
        passages = embedder.embed(texts, kind="document", titles=titles, progress=progress)
        per_chunk = [embedder.embed([c.text[a:b] for a, b in sp], kind="document",
                                    titles=[c.title] * len(sp)) if sp else passages[:0]
                     for c, sp in zip(chunks, spans)] if spans is not None else []
    sentences = [SentenceVectors(c.id, tuple((c.start + a, c.start + b) for a, b in sp), v)
                 for c, sp, v in zip(chunks, spans or [], per_chunk)]
    return passages, sentences


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
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                if target.is_file() and target.read_bytes() == data:
                    return target
        raise ValueError(f"{source.name}: no free name left in {folder}")
    finally:
        os.unlink(tmp)


def write_new(path: Path, content: str | bytes) -> None:
    """Write ``path`` atomically (a temporary file renamed over it)."""
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
    return bool(path) and any(file == root or root in file.parents for root in roots)
