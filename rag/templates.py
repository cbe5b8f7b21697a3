"""Templates: the lines that most documents of one source repeat.

A site or a folder often starts every page with the same line ("Anno Accademico
2024/2025"), or ends it with the same footer. Such a line says nothing about the page it
sits in: it must be neither the page's title nor its keywords. Documents are grouped by
origin (`origin`: the article's source, else its URL's site, else the file or folder it
came from); in a group of at least `MIN_DOCUMENTS` documents, a line that more than
`MIN_SHARE` of them hold is a template line (`repeated_lines`, `template_lines`).

`without_lines` blanks such lines out of a text (the keyword index reads passages through
it), and `better_titles` says which articles' titles are template lines and what their
title should be instead: the first line of their text that is not one.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath
from typing import Collection, Iterable, Sequence
from urllib.parse import urlparse

from .corpus import MAX_TITLE_CHARS, Article

MIN_DOCUMENTS = 5    # smaller groups are too few to tell a template from a coincidence
MIN_SHARE = 0.5      # a template line is in more than this share of the group's documents


def line_key(line: str) -> str:
    """A line as compared across documents: casefolded, whitespace collapsed, without
    markdown heading marks."""
    return _as_title(line).casefold()


def _as_title(line: str) -> str:
    return " ".join(line.strip().lstrip("#").split())


def origin(source: str = "", url: str = "", path: str = "") -> str:
    """The group an article's templates are shared in: its source (publisher) if known,
    else its URL's site, else the file it came from (a JSONL file's records share it)
    or, for a one-article file, its folder."""
    if source.strip():
        return "source:" + source.strip().casefold()
    host = urlparse(url.strip()).netloc.casefold() if "://" in url else ""
    if host:
        return "site:" + host.removeprefix("www.")
    if "#" in path:
        return "file:" + path.split("#")[0]
    return "folder:" + str(PurePath(path).parent) if path else "pasted"


def repeated_lines(texts: Sequence[str], *, min_documents: int = MIN_DOCUMENTS,
                   min_share: float = MIN_SHARE) -> frozenset[str]:
    """The `line_key`s present in more than ``min_share`` of ``texts`` (one group's
    documents); none if the group has fewer than ``min_documents`` documents."""
    if len(texts) < min_documents:
        return frozenset()
    held = Counter(key for text in texts
                   for key in {line_key(line) for line in text.split("\n")} if key)
    return frozenset(key for key, n in held.items() if n > min_share * len(texts))


def template_lines(articles: Iterable[Article], *, min_documents: int = MIN_DOCUMENTS,
                   min_share: float = MIN_SHARE) -> frozenset[str]:
    """The template lines of every origin group of ``articles``, together."""
    groups: dict[str, list[str]] = {}
    for article in articles:
        groups.setdefault(origin(article.source, article.url, article.path), []).append(
            article.text)
    found: set[str] = set()
    for texts in groups.values():
        found |= repeated_lines(texts, min_documents=min_documents, min_share=min_share)
    return frozenset(found)


def without_lines(text: str, lines: Collection[str]) -> str:
    """``text`` with every line whose `line_key` is in ``lines`` left empty (line breaks
    kept, so the line count does not change)."""
    if not lines:
        return text
    return "\n".join("" if line_key(line) in lines else line for line in text.split("\n"))


@dataclass(frozen=True)
class TitleChoice:
    """An article whose title is a template line, and the title it should have instead
    ("" when its text has no other line)."""

    article_id: str
    title: str
    better: str


def better_titles(articles: Sequence[Article],
                  lines: Collection[str] | None = None) -> list[TitleChoice]:
    """For each article of ``articles`` whose title is a template line (of ``lines``, by
    default `template_lines` of these articles), the first line of its text that is not
    a template line, shortened like a title derived from text."""
    lines = template_lines(articles) if lines is None else lines
    choices = []
    for article in articles:
        if line_key(article.title) not in lines:
            continue
        better = next((_as_title(line) for line in article.text.split("\n")
                       if line_key(line) and line_key(line) not in lines), "")
        choices.append(TitleChoice(article.id, article.title,
                                   textwrap.shorten(better, MAX_TITLE_CHARS, placeholder="…")
                                   if better else ""))
    return choices
