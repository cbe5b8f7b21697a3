"""Corpus: read news articles from files into `Article`s.

(Interface stub: being written. See the docstrings for the contract.)
"""
from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class Skipped:
    """A file (or record) that could not be read as an article, and why."""
    path: str
    reason: str


@dataclass(frozen=True)
class LoadResult:
    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...]
