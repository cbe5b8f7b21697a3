"""Formats: an article file's bytes to its text and metadata fields.

Reading is strict about what is not text (binary, undecodable, too large, empty) and says
why in a `BadArticle`; everything else is decoded (BOM-aware, else UTF-8, cp1252, latin-1).
Each format gives plain fields (``title``, ``text``, ``date``…) that `rag.corpus` turns
into `Article`s:

* plain text / Markdown — an optional ``key: value`` front matter, fenced by ``---`` lines
  or ended by the first blank line;
* HTML — main text and metadata extracted with trafilatura;
* JSON (one object or a list) and JSON Lines (one object a line) — fields by the aliases in
  `JSON_FIELDS`; a bad record skips only itself.
"""

from __future__ import annotations

import codecs
import json
import unicodedata
from pathlib import Path
from typing import Any, Iterator, Sequence

MAX_FILE_BYTES = 10 * 1024 * 1024
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


class BadArticle(ValueError):
    """Input that cannot become an article; the message is the human reason."""


def read_text(path: Path) -> str:
    """The text of an article file (not too large, not empty, not binary)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadArticle(f"too large: {size:,} bytes (limit {MAX_FILE_BYTES:,})")
    data = path.read_bytes()
    if not data:
        raise BadArticle("empty file")
    return decode(data)


def decode(data: bytes) -> str:
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
    controls = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
                   and ch not in "\n\t\f")
    return controls / max(len(text), 1)


def parse_plain(text: str, keys: Sequence[str]) -> dict[str, str]:
    """Front-matter metadata and body of a .txt/.md file.

    The header is ``key: value`` lines (``keys`` only) at the very top, either between
    ``---`` fences or ended by a blank line or the first other line. Without a valid header
    the whole file is the body.
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
        if not sep or key not in keys:
            if meta and not fenced:
                return {**meta, "text": "\n".join(lines[i:])}
            break
        meta[key] = value.strip().strip("\"'")
    return {"text": text}


def parse_html(html: str) -> dict[str, str]:
    """The main text and metadata of an HTML page (trafilatura)."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if doc is None or not (doc.text or "").strip():
        raise BadArticle("no article text found in the HTML")
    found = {"text": doc.text, "title": doc.title, "date": doc.date, "author": doc.author,
             "source": doc.sitename, "url": doc.url, "lang": doc.language}
    return {k: v for k, v in found.items() if isinstance(v, str) and v}


def json_records(path: Path, text: str, *, lines: bool
                 ) -> Iterator[tuple[str, dict[str, str] | BadArticle]]:
    """Each record of a .json (one object or a list) or .jsonl file, as (where, fields) —
    where is "file.jsonl#12" for line 12 — or (where, the reason it is bad)."""
    if lines:
        for n, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield f"{path}#{n}", _fields_of_json(line, "malformed JSON line")
        return
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise BadArticle(f"malformed JSON: {exc}") from None
    if not isinstance(data, list):
        yield str(path), _fields_or_reason(data)
        return
    if not data:
        raise BadArticle("JSON list is empty")
    for n, record in enumerate(data, start=1):
        yield f"{path}#{n}", _fields_or_reason(record)


def _fields_of_json(line: str, problem: str) -> dict[str, str] | BadArticle:
    try:
        return _fields_or_reason(json.loads(line))
    except (ValueError, RecursionError) as exc:
        return BadArticle(f"{problem}: {exc}")


def _fields_or_reason(record: Any) -> dict[str, str] | BadArticle:
    try:
        return record_fields(record)
    except BadArticle as exc:
        return exc


def record_fields(record: Any) -> dict[str, str]:
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


def read_sidecar(path: Path, keys: Sequence[str]) -> dict[str, str]:
    """The metadata fields (``keys``) of a `X.meta.json` sidecar."""
    try:
        data = json.loads(read_text(path))
    except ValueError as exc:
        if isinstance(exc, BadArticle):
            raise
        raise BadArticle(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadArticle("metadata sidecar must be a JSON object")
    return {k: v for k, v in data.items() if k in keys and isinstance(v, str) and v}
