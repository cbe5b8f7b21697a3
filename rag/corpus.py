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

import codecs
import errno
import hashlib
import json
import logging
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"})
supported_suffixes = SUPPORTED_SUFFIXES  # the name other modules were told about
SIDECAR_SUFFIX = ".meta.json"
MAX_FILE_BYTES = 10 * 1024 * 1024
META_FIELDS = ("title", "date", "source", "url", "author", "lang")
DETECT_LANGUAGES = ("ENGLISH", "ITALIAN", "FRENCH", "GERMAN", "SPANISH", "PORTUGUESE")
MIN_LANG_CONFIDENCE = 0.5
MAX_TITLE_CHARS = 150
MAX_BOILERPLATE_LINE = 200
MAX_CONTROL_CHAR_RATIO = 0.05

# Field aliases in JSON records, first match wins.
JSON_FIELDS = {
    "title": ("title", "headline"),
    "text": ("text", "content", "body"),
    "date": ("date", "publish_date", "published", "date_publish"),
    "url": ("url", "link"),
    "source": ("source", "publisher", "sitename"),
    "author": ("author", "authors"),
    "lang": ("lang", "language"),
}

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


class BadArticle(ValueError):
    """Input that cannot become an article; the message is the human reason."""


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
        sidecar, sidecar_skip = _read_sidecar(path)
        if sidecar_skip:
            yield sidecar_skip
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            from .sources.pdf import read_pdf_file
            yield read_pdf_file(path, **sidecar)
            return
        text = _decode(_read_bytes(path))
        if suffix in (".json", ".jsonl"):
            yield from (_load_jsonl if suffix == ".jsonl" else _load_json)(path, text, sidecar)
            return
        fields = _parse_html(text) if suffix in (".html", ".htm") else _parse_plain(text)
        yield _make_article(path=str(path), **{**fields, **sidecar})
    except BadArticle as exc:
        yield _skip(path, str(exc))
    except OSError as exc:
        yield _skip(path, _os_reason(exc))
    except Exception as exc:  # a library choking on odd input must not stop the load
        yield _skip(path, f"unexpected error: {type(exc).__name__}: {exc}")


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadArticle(f"too large: {size:,} bytes (limit {MAX_FILE_BYTES:,})")
    data = path.read_bytes()
    if not data:
        raise BadArticle("empty file")
    return data


def _decode(data: bytes) -> str:
    """Text from bytes: BOM-aware, else UTF-8, else cp1252 (then latin-1); binary rejected.

    charset_normalizer is not used: it misreads short latin-1 Italian as cp1250
    ("città" -> "cittŕ"), and our corpus is Western European.
    """
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8):], "utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16")
    elif b"\0" in data:
        raise BadArticle("binary file (contains NUL bytes)")
    else:
        text = _try_decode(data, "utf-8") or _try_decode(data, "cp1252") or data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > MAX_CONTROL_CHAR_RATIO:
        raise BadArticle("binary file (mostly non-printable characters)")
    if not text.strip():
        raise BadArticle("no text (only whitespace)")
    return text


def _strict(data: bytes, encoding: str) -> str:
    text = _try_decode(data, encoding)
    if text is None:
        raise BadArticle(f"cannot decode as {encoding} despite its byte-order mark")
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _control_ratio(text: str, sample: int = 100_000) -> float:
    """Share of control/unassigned characters in the first `sample` characters."""
    text = text[:sample]
    controls = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\t\f")
    return controls / max(len(text), 1)


# --------------------------------------------------------------------------- formats

def _parse_plain(text: str) -> dict[str, str]:
    """Front-matter metadata and body of a .txt/.md file.

    The header is ``key: value`` lines (keys from `META_FIELDS`) at the very top,
    either between ``---`` fences or ended by a blank line or the first other line.
    Without a valid header the whole file is the body.
    """
    lines = text.split("\n")
    fenced = lines[0].strip() == "---"
    end_marker = "---" if fenced else ""
    meta: dict[str, str] = {}
    for i in range(int(fenced), len(lines)):
        line = lines[i].strip()
        if line == end_marker:
            return {**meta, "text": "\n".join(lines[i + 1:])}
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in META_FIELDS:
            if meta and not fenced:
                return {**meta, "text": "\n".join(lines[i:])}
            break
        meta[key] = value.strip().strip("\"'")
    return {"text": text}


def _parse_html(html: str) -> dict[str, str]:
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if doc is None or not (doc.text or "").strip():
        raise BadArticle("no article text found in the HTML")
    found = {"text": doc.text, "title": doc.title, "date": doc.date, "author": doc.author,
             "source": doc.sitename, "url": doc.url, "lang": doc.language}
    return {k: v for k, v in found.items() if isinstance(v, str) and v}


def _load_jsonl(path: Path, text: str, sidecar: dict[str, str]) -> Iterator[Article | Skipped]:
    """One article per non-blank line; a bad line skips only itself ("file.jsonl#12")."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}#{n}"
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            yield _skip(where, f"malformed JSON line: {exc}")
            continue
        yield _record_article(where, record, sidecar)


def _load_json(path: Path, text: str, sidecar: dict[str, str]) -> Iterator[Article | Skipped]:
    """One object, or a list of objects ("file.json#3" for the third)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise BadArticle(f"malformed JSON: {exc}") from None
    if not isinstance(data, list):
        yield _record_article(str(path), data, sidecar)
        return
    if not data:
        raise BadArticle("JSON list is empty")
    for n, record in enumerate(data, start=1):
        yield _record_article(f"{path}#{n}", record, sidecar)


def _record_article(where: str, record: Any, sidecar: dict[str, str]) -> Article | Skipped:
    try:
        return _make_article(path=where, **{**_record_fields(record), **sidecar})
    except BadArticle as exc:
        return _skip(where, str(exc))


def _record_fields(record: Any) -> dict[str, str]:
    """Article fields from a JSON object, using the aliases in `JSON_FIELDS`."""
    if not isinstance(record, dict):
        raise BadArticle(f"expected a JSON object, got {type(record).__name__}")
    fields: dict[str, str] = {}
    for name, aliases in JSON_FIELDS.items():
        value = next((record[a] for a in aliases if record.get(a) not in (None, "", [])), None)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ", ".join(v.strip() for v in value if v.strip())
        if value is not None and not isinstance(value, str):
            raise BadArticle(f"field {name!r} is not a string")
        if value:
            fields[name] = value
    if "text" not in fields:
        raise BadArticle("missing text field (looked for 'text', 'content', 'body')")
    return fields


def _read_sidecar(path: Path) -> tuple[dict[str, str], Skipped | None]:
    """Metadata from `X.meta.json` beside `X.ext` ({} if none), or a Skipped for a bad one."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}, None
    try:
        data = json.loads(_decode(_read_bytes(sidecar)))
        if not isinstance(data, dict):
            raise BadArticle("metadata sidecar must be a JSON object")
        return {k: v for k, v in data.items() if k in META_FIELDS and isinstance(v, str) and v}, None
    except BadArticle as exc:
        return {}, _skip(sidecar, str(exc))
    except ValueError as exc:
        return {}, _skip(sidecar, f"malformed JSON: {exc}")
    except OSError as exc:
        return {}, _skip(sidecar, _os_reason(exc))


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
