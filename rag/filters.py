"""Filters: hard restrictions on which articles a search may return.

Dates are ISO ``YYYY-MM-DD`` (inclusive) and validated on construction, so a bad date is
refused where it is typed, naming the field. Undated articles are kept by a date filter
unless ``undated=False``: most readers would rather see an undated article than lose it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .chunking import Chunk
from .corpus import Article


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval by date (inclusive), source and author.

    Sources match whole (case-insensitive); an author matches when the name is part of the
    article's author field ("Smith" matches "Jane Smith, Bob Lee").
    """

    date_from: str = ""
    date_to: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)
    authors: tuple[str, ...] = field(default_factory=tuple)
    undated: bool = True  # a date filter keeps articles without a date

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = (getattr(self, name) or "").strip()
            if value:
                try:
                    value = dt.date.fromisoformat(value).isoformat()
                except ValueError:
                    raise ValueError(f"{name}: {value!r} is not a date; use YYYY-MM-DD, "
                                     "e.g. 2024-03-31") from None
            object.__setattr__(self, name, value)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from ({self.date_from}) is after date_to ({self.date_to})")
        object.__setattr__(self, "sources", tuple(s.strip() for s in self.sources if s.strip()))
        object.__setattr__(self, "authors", tuple(a.strip() for a in self.authors if a.strip()))

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources or self.authors)

    @property
    def dated(self) -> bool:
        return bool(self.date_from or self.date_to)

    def allows(self, chunk: Chunk, article: Article | None = None) -> bool:
        if self.sources and chunk.source.casefold() not in {s.casefold() for s in self.sources}:
            return False
        if self.authors:
            author = (article.author if article else "").casefold()
            if not any(a.casefold() in author for a in self.authors):
                return False
        if not chunk.date:
            return self.undated or not self.dated
        if self.date_from and chunk.date < self.date_from:
            return False
        return not (self.date_to and chunk.date > self.date_to)

    def describe(self) -> str:
        """The filters in words: 'from 2024-01-01 to 2024-03-31, source Gazzetta'."""
        parts = [x for x in (self.date_from and f"from {self.date_from}",
                             self.date_to and f"to {self.date_to}") if x]
        if self.dated and not self.undated:
            parts.append("dated articles only")
        if self.sources:
            parts.append("source " + ", ".join(self.sources))
        if self.authors:
            parts.append("author " + ", ".join(self.authors))
        return ", ".join(parts) or "none"
