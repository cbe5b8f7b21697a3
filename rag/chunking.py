"""Chunking: sentence-aware, token-sized, overlapping passages with exact offsets.

(Interface stub: being written.)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: `article.text[start:end] == text`."""
    id: str            # f"{article_id}:{index}"
    article_id: str
    index: int
    text: str
    start: int
    end: int
    title: str = ""
    lang: str = ""
    date: str = ""
    source: str = ""
