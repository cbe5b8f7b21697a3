"""Corpus: read news articles from files into `Article`s.

`load_articles(paths)` accepts files and folders (walked recursively, sorted,
hidden entries and symlink loops skipped) in these formats:

* ``.txt`` / ``.md`` — plain text. The title is the first non-empty line (a
  leading markdown ``#`` is dropped). An optional front-matter block at the very
  top sets metadata: ``key: value`` lines for the keys in `META_FIELDS`, either
  fenced by ``---`` lines or ended by the first blank line.
* ``.html`` / ``.htm`` — main text and metadata extracted with trafilatura.
* ``.pdf`` — text page by page and metadata (`rag.sources.pdf`); scans without a text
  layer, encrypted and broken PDFs are skipped with the reason.
* ``.json`` (one object or a list of objects) and ``.jsonl`` (one object per
  line) with fields ``title``, ``text`` (or ``content`` / ``body``), ``date`` (or
  ``publish_date``), ``url``, ``source`` (or ``publisher`` / ``sitename``),
  ``author`` (or ``authors``, a list) and ``lang`` (or ``language``).

A sidecar ``X.meta.json`` beside ``X.ext`` provides or overrides the metadata
fields of `META_FIELDS` for the articles in ``X.ext``; it is not an article.

Boilerplate lines (newsletter prompts, image credits, reading times, share
prompts, repeats of the title) are removed from the body; everything else is
kept verbatim, so chunk offsets point into the text as written.

Nothing here raises on bad input: every unreadable file or record becomes a
`Skipped(path, reason)` and a logged warning.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from . import formats
from .formats import BadArticle
from .lexical import function_words, words

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"})
supported_suffixes = SUPPORTED_SUFFIXES  # the name other modules were told about
SIDECAR_SUFFIX = ".meta.json"
META_FIELDS = ("title", "date", "source", "url", "author", "lang")
DETECT_LANGUAGES = ("ENGLISH", "ITALIAN", "FRENCH", "GERMAN", "SPANISH", "PORTUGUESE")
MIN_LANG_CONFIDENCE = 0.5
MAX_TITLE_CHARS = 150
MAX_BOILERPLATE_LINE = 200

_STOCK_SITES = r"(pixabay|unsplash|pexels|shutterstock|getty ?images|istock|adobe ?stock|freepik|depositphotos|wikimedia commons)"
# Whole (stripped) lines shorter than MAX_BOILERPLATE_LINE that are not article content.
BOILERPLATE = tuple(re.compile(p, re.IGNORECASE) for p in (
    # newsletter and notification prompts
    r"ricevi una notifica con le ultime notizie.*",
    r"(sign up|subscribe) (for|to) (our|the) newsletter.*",
    r"iscriviti alla (nostra )?newsletter.*",
    # image credits
    rf"(immagine|foto|photo|image) (di|by|da) .{{1,80}} (da|on|via|su|from) {_STOCK_SITES}\.?",
    r"(foto|photo|image|immagine)( credits?)?\s*[:©].*",
    r"(image|photo) credits?\b.*",
    # reading time
    r"\d+\s*['’′]\s*di lettura",
    r"\d+\s*min(ute)?s?\.? read",
    r"(tempo di lettura|reading time)\s*:?\s*\d+\s*(min|minuti|minutes)?\.?",
    # share / follow prompts
    r"(condividi|share)( (su|on|questo|this|l'articolo|the) .{0,60})?[.!:]?",
    r"(seguici|follow us) (su|on) .{1,60}",
))


@dataclass(frozen=True)
class Article:
    """One news article. `text` is the clean body; chunk offsets point into it."""
    id: str            # stable id from the content (hex, 16 chars)
    title: str
    text: str
    path: str = ""     # the file it came from ("" for pasted text); "file.jsonl#3" for line 3
    lang: str = ""     # ISO 639-1 code, "" if unknown
    date: str = ""     # ISO "YYYY-MM-DD", "" if unknown
    source: str = ""   # publisher, e.g. "Benzinga Italia"
    url: str = ""
    author: str = ""
    pages: tuple[int, ...] = ()   # where each page starts in `text` (PDFs); () if unpaged
    feed: str = ""                # the feed URL it came from, "" if none
    # Spans of `text` that address the assistant (orders, role tokens, "ignore previous
    # instructions"): flagged at indexing time, never used as evidence.
    instructions: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Skipped:
    """A file (or record) that could not be read as an article, and why."""
    path: str
    reason: str


@dataclass(frozen=True)
class LoadResult:
    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...]


# --------------------------------------------------------------------------- public API

def load_articles(paths: Iterable[str | Path]) -> LoadResult:
    """Read every article under `paths` (files or folders). Never raises."""
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for item in _walk(paths):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        for result in _load_file(item):
            (skipped if isinstance(result, Skipped) else articles).append(result)
    return LoadResult(tuple(articles), tuple(skipped))


def article_from_text(text: str, *, title: str = "", path: str = "", **meta: str) -> Article:
    """An article from pasted text, cleaned like a file. Raises `BadArticle` if nothing is left.

    `meta` may hold the keys of `META_FIELDS` other than ``title``.
    """
    unknown = set(meta) - set(META_FIELDS)
    if unknown:
        raise TypeError(f"unknown metadata fields: {sorted(unknown)}")
    return _make_article(text.replace("\r\n", "\n").replace("\r", "\n"), path=path, title=title, **meta)


def article_id(title: str, text: str) -> str:
    """First 16 hex chars of sha256 over the whitespace-collapsed title and text."""
    norm = " ".join(title.split()) + "\n" + " ".join(text.split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


def detect_language(text: str, *, fallback: tuple[str, ...] = ()) -> str:
    """ISO 639-1 code of `text` among `DETECT_LANGUAGES`.

    When unsure: the likeliest of the `fallback` languages, or "" if none is given.
    """
    if not any(ch.isalpha() for ch in text):
        return fallback[0] if fallback else ""
    scores = {c.language.iso_code_639_1.name.lower(): c.value
              for c in _detector().compute_language_confidence_values(text[:5000])}
    best = max(scores, key=scores.get, default="")
    if best and scores[best] >= MIN_LANG_CONFIDENCE:
        return best
    return max(fallback, key=lambda code: scores.get(code, 0.0)) if fallback else ""


# Elided function words only Italian writes ("dell'articolo", "un'azienda", "quest'anno").
_ITALIAN_ELISION = re.compile(r"\b(?:dell|all|nell|dall|sull|coll|un|quest|quell|anch|"
                              r"com|dov|sant)['’](?=\w)", re.IGNORECASE)


def answer_language(question: str, *, fallback: tuple[str, ...] = ("en", "it")) -> str:
    """The language to answer ``question`` in: the one its function words clearly point to
    ("Chi è il CEO di Amazon Web Services?" is Italian, however English its names and
    borrowed words read; so is "Qual è l'argomento dell'articolo?", by its elided "dell'",
    although "qual" and "è" read as Portuguese too), else `detect_language`'s."""
    counts = function_words(words(question))
    counts["it"] += len(_ITALIAN_ELISION.findall(question))
    hits = (+counts).most_common(2)
    if hits and (len(hits) == 1 or hits[0][1] > hits[1][1]):
        return hits[0][0]
    return detect_language(question, fallback=fallback)


def clean_text(text: str, title: str = "") -> str:
    """`text` without boilerplate lines or later repeats of `title`; runs of blank lines collapsed."""
    title_key = _line_key(title)
    kept: list[str] = []
    seen_content = False
    for line in text.split("\n"):
        key = _line_key(line)
        is_title_repeat = bool(title_key) and key == title_key and seen_content
        if key and (is_title_repeat or _is_boilerplate(key)):
            continue
        if key or (kept and kept[-1].strip()):  # keep one blank line between paragraphs
            kept.append(line)
        seen_content = seen_content or bool(key)
    return "\n".join(kept).strip()


# --------------------------------------------------------------------------- walking

def _walk(paths: Iterable[str | Path]) -> Iterator[Path | Skipped]:
    seen: set[Path] = set()
    for raw in paths:
        yield from _walk_one(Path(raw), explicit=True, seen=seen, ancestors=())


def _walk_one(path: Path, *, explicit: bool, seen: set[Path], ancestors: tuple[Path, ...]) -> Iterator[Path | Skipped]:
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        yield _skip(path, "broken symlink" if path.is_symlink() else "no such file or folder")
        return
    except RuntimeError:  # how Python < 3.13 reports a symlink loop
        yield _skip(path, "symlink loop")
        return
    except OSError as exc:
        yield _skip(path, _os_reason(exc))
        return
    if real in ancestors:
        yield _skip(path, f"symlink loop: points back to {real}")
        return
    if real in seen:
        log.debug("already read %s (as %s)", path, real)
        return
    seen.add(real)
    if path.is_dir():
        yield from _walk_dir(path, real, explicit=explicit, seen=seen, ancestors=ancestors)
    elif not path.is_file():
        yield _skip(path, "not a regular file")
    elif path.name.endswith(SIDECAR_SUFFIX):
        if explicit:
            yield _skip(path, f"a {SIDECAR_SUFFIX} sidecar holds metadata, not an article")
    elif path.suffix.lower() in SUPPORTED_SUFFIXES:
        yield path
    elif explicit:
        yield _skip(path, f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    else:
        log.debug("ignoring %s: unsupported file type", path)


def _walk_dir(path: Path, real: Path, *, explicit: bool, seen: set[Path], ancestors: tuple[Path, ...]) -> Iterator[Path | Skipped]:
    if not explicit and path.suffix.lower() in SUPPORTED_SUFFIXES:
        yield _skip(path, f"is a directory named like a {path.suffix} file; not read")
        return
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        yield _skip(path, _os_reason(exc))
        return
    for child in children:
        if child.name.startswith("."):
            log.debug("ignoring hidden %s", child)
            continue
        yield from _walk_one(child, explicit=False, seen=seen, ancestors=ancestors + (real,))


# --------------------------------------------------------------------------- one file

def _load_file(path: Path) -> Iterator[Article | Skipped]:
    """Articles and skips from one file; turns every failure into a `Skipped`."""
    try:
        sidecar = _sidecar(path)
        if isinstance(sidecar, Skipped):
            yield sidecar
            sidecar = {}
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            from .sources.pdf import read_pdf_file
            yield read_pdf_file(path, **sidecar)
            return
        text = formats.read_text(path)
        if suffix in (".json", ".jsonl"):
            for where, fields in formats.json_records(path, text, lines=suffix == ".jsonl"):
                yield _record_article(where, fields, sidecar)
            return
        fields = formats.parse_html(text) if suffix in (".html", ".htm") else \
            formats.parse_plain(text, META_FIELDS)
        yield _make_article(path=str(path), **{**fields, **sidecar})
    except BadArticle as exc:
        yield _skip(path, str(exc))
    except OSError as exc:
        yield _skip(path, _os_reason(exc))
    except Exception as exc:  # a library choking on odd input must not stop the load
        yield _skip(path, f"unexpected error: {type(exc).__name__}: {exc}")


def _record_article(where: str, fields: dict[str, str] | BadArticle,
                    sidecar: dict[str, str]) -> Article | Skipped:
    try:
        if isinstance(fields, BadArticle):
            raise fields
        return _make_article(path=where, **{**fields, **sidecar})
    except BadArticle as exc:
        return _skip(where, str(exc))


def _sidecar(path: Path) -> dict[str, str] | Skipped:
    """Metadata from `X.meta.json` beside `X.ext` ({} if none), or why it cannot be read."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        return formats.read_sidecar(sidecar, META_FIELDS)
    except (BadArticle, ValueError) as exc:
        return _skip(sidecar, str(exc))
    except OSError as exc:
        return _skip(sidecar, _os_reason(exc))


# --------------------------------------------------------------------------- building articles

def _make_article(text: str, *, path: str, title: str = "", date: str = "", source: str = "",
                  url: str = "", author: str = "", lang: str = "") -> Article:
    title = " ".join(title.split()) or _title_from(text)
    body = clean_text(text, title)
    if not body:
        raise BadArticle("no text left after removing boilerplate")
    return Article(
        id=article_id(title, body), title=title, text=body, path=path,
        lang=_normalize_lang(lang) or detect_language(body), date=_normalize_date(date),
        source=source.strip(), url=url.strip(), author=author.strip(),
    )


def _title_from(text: str) -> str:
    first = next((key for line in text.split("\n") if (key := _line_key(line))), "")
    return textwrap.shorten(first, MAX_TITLE_CHARS, placeholder="…")


def _normalize_date(value: str) -> str:
    """ISO "YYYY-MM-DD" from "2022/06/17", "2022-06-17T10:00:00Z", "June 17, 2022"...; "" if unreadable."""
    from dateutil import parser

    if not value.strip():
        return ""
    try:
        return parser.parse(value.strip()).date().isoformat()
    except (ValueError, OverflowError):
        log.debug("unreadable date %r", value)
        return ""


def _normalize_lang(value: str) -> str:
    """"it", "it-IT", "IT_it" -> "it"; anything else -> ""."""
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 and code.isalpha() else ""


def _line_key(line: str) -> str:
    """A line as compared for boilerplate: stripped, without markdown heading marks."""
    return " ".join(line.strip().lstrip("#").split())


def _is_boilerplate(key: str) -> bool:
    return len(key) < MAX_BOILERPLATE_LINE and any(p.fullmatch(key) for p in BOILERPLATE)


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in DETECT_LANGUAGES)).build()


def _skip(path: str | Path, reason: str) -> Skipped:
    log.warning("skipped %s: %s", path, reason)
    return Skipped(str(path), reason)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return exc.strerror or str(exc) or type(exc).__name__
