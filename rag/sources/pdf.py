"""PDF: a PDF file's text, page by page, as one `Article` whose citations can name the page.

pypdf extracts each page's text. Lines broken by the layout are joined back into
paragraphs (a line that fills the width and does not end a sentence goes on; a word
hyphenated across lines is joined), page numbers and running headers or footers (the same
line on most pages) are dropped, and the pages are cleaned like any article
(`rag.corpus.clean_text`). ``Article.pages`` holds where each page starts in the text;
`page_of` turns a passage's offset into its page number.

A PDF without a text layer (a scan) is refused as such, not indexed empty; an encrypted
PDF opens only if its user password is empty; a broken one is refused with pypdf's reason.
Every refusal is a `BadArticle` whose message says what is wrong.
"""

from __future__ import annotations

import bisect
import io
import logging
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from ..corpus import Article, BadArticle, article_from_text

log = logging.getLogger(__name__)

MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_RUNNING_LINE = 60     # running headers and footers are short
MIN_FULL_LINE = 0.7        # a line this share of the page's usual width is a wrapped line
_PAGE_BREAK = "\0rag-page-break\0"  # a line clean_text keeps, never in extracted text
_PAGE_NUMBER = re.compile(r"(?i)(page|pagina|pag\.|p\.)?\s*[-–]?\s*\d{1,4}\s*([/–-]|of|di)?"
                          r"\s*(\d{1,4})?\s*[-–]?")
_SENTENCE_END = tuple(".!?:;\"”»)")
_UNTITLED = re.compile(r"(?i)(untitled|microsoft word|document\d*|^\s*$|.*\.(docx?|pdf|odt|"
                       r"indd|qxd|rtf)$)")


def read_pdf_file(path: Path, **meta: str) -> Article:
    """The article in the PDF at ``path`` (``meta`` overrides its metadata)."""
    size = path.stat().st_size
    if size > MAX_PDF_BYTES:
        raise BadArticle(f"too large: {size:,} bytes (limit {MAX_PDF_BYTES:,})")
    return read_pdf(path.read_bytes(), path=str(path), **meta)


def read_pdf(data: bytes, *, path: str, **meta: str) -> Article:
    """The article in PDF bytes; ``meta`` (keys of `rag.corpus.META_FIELDS`) fills or
    overrides what the PDF says of itself. `BadArticle` if it has no text or cannot be read."""
    reader = _open(data)
    pages = _page_texts(reader)
    if not any(any(ch.isalnum() for ch in page) for page in pages):
        raise BadArticle(f"no text layer on any of its {len(pages)} page(s): a scanned PDF; "
                         "run OCR on it first (for example with ocrmypdf)")
    found = {**_metadata(reader), **{k: v for k, v in meta.items() if v}}
    title = found.pop("title", "") or _first_line(pages)
    text, starts = _joined(pages, title)
    article = article_from_text(text, title=title, path=path, **found)
    if article.text != text:  # cleaning is idempotent; if not, pages are not trusted
        log.warning("%s: page offsets not recorded (cleaning changed the text)", path)
        return article
    return replace(article, pages=tuple(starts))


def page_of(article: Article, offset: int) -> int:
    """The 1-based page of ``article`` holding character ``offset`` (0 if it is unpaged)."""
    return bisect.bisect_right(article.pages, offset) if article.pages else 0


def _open(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    if not data.lstrip()[:5] == b"%PDF-":
        raise BadArticle("not a PDF (it does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadArticle("encrypted PDF: it needs a password to be read")
        reader.pages[0]  # the page tree is read lazily; a broken one fails here
        return reader
    except FileNotDecryptedError:
        raise BadArticle("encrypted PDF: it needs a password to be read") from None
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadArticle(f"broken PDF: {exc or type(exc).__name__}") from None
    except Exception as exc:  # pypdf's dependencies raise their own types (e.g. AES missing)
        raise BadArticle(f"cannot read this PDF: {type(exc).__name__}: {exc}") from None


def _page_texts(reader) -> list[str]:
    """Each page's text, reflowed, without page numbers and running headers/footers."""
    raw = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw.append((page.extract_text() or "").replace("\0", ""))
        except Exception as exc:  # noqa: BLE001 - one bad page must not lose the others
            log.warning("page %d: text not extracted (%s: %s)", number, type(exc).__name__, exc)
            raw.append("")
    lines = [[" ".join(line.split()) for line in page.split("\n")] for page in raw]
    running = _running_lines(lines)
    return ["\n".join(_reflow([line for line in page if line and line not in running
                               and not _PAGE_NUMBER.fullmatch(line)])) for page in lines]


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Short lines among the top or bottom two of at least half the pages (of 3 or more)."""
    if len(pages) < 3:
        return set()
    edges = Counter(line for page in pages
                    for line in {*[x for x in page if x][:2], *[x for x in page if x][-2:]}
                    if len(line) <= MAX_RUNNING_LINE)
    return {line for line, n in edges.items() if n * 2 >= len(pages)}


def _reflow(lines: list[str]) -> list[str]:
    """Lines joined back into paragraphs where the layout wrapped them."""
    if not lines:
        return []
    full = MIN_FULL_LINE * sorted(len(line) for line in lines)[int(len(lines) * 0.8)]
    joined = [lines[0]]
    for line, previous in zip(lines[1:], lines):
        if len(previous) < full or previous.endswith(_SENTENCE_END):
            joined.append(line)
        elif previous.endswith("-") and previous[-2:-1].isalpha() and line[:1].islower():
            joined[-1] = joined[-1][:-1] + line
        else:
            joined[-1] += " " + line
    return joined


def _joined(pages: list[str], title: str) -> tuple[str, list[int]]:
    """The cleaned text of all pages and where each page starts in it."""
    from ..corpus import clean_text

    cleaned = clean_text(f"\n{_PAGE_BREAK}\n".join(pages), title).split(_PAGE_BREAK)
    parts, starts, at = [], [], 0
    for page in (p.strip() for p in cleaned):
        starts.append(at)
        if page:
            parts.append(page)
            at += len(page) + 2
    return "\n\n".join(parts), starts


def _metadata(reader) -> dict[str, str]:
    """Title, author and date from the PDF's document information, where usable."""
    try:
        info = reader.metadata
        if info is None:
            return {}
        title = " ".join((info.title or "").split())
        found = {"title": "" if _UNTITLED.fullmatch(title) else title,
                 "author": " ".join((info.author or "").split())}
        try:
            created = info.creation_date
            found["date"] = created.date().isoformat() if created else ""
        except ValueError:  # a malformed date string
            pass
        return {k: v for k, v in found.items() if v}
    except Exception as exc:  # noqa: BLE001 - metadata is optional; the text is what counts
        log.debug("PDF metadata unreadable: %s", exc)
        return {}


def _first_line(pages: list[str]) -> str:
    return next((line for page in pages for line in page.split("\n") if line.strip()), "")
