"""Feeds: RSS (0.9x, 1.0, 2.0) and Atom documents read with feedparser into `Feed`s.

feedparser is only ever given bytes already fetched (given a string it would fetch it
itself). A document that declares XML entities in its DOCTYPE is refused before parsing:
no real feed needs them, and they are how entity-expansion ("billion laughs") and
external-entity attacks are built. A malformed feed whose items could still be read is
returned with ``complete=False``: its items may be added, but an item missing from it is
not taken as gone. Item content (HTML) becomes text with lxml.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

_ENTITY_DECLARATION = re.compile(r"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE)
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
           "tr", "section", "article", "pre")
_HARMLESS = ("CharacterEncodingOverride", "NonXMLContentType")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


class FeedError(ValueError):
    """A document that is not a readable, harmless RSS or Atom feed (message: why)."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    key: str          # its guid / Atom id, else its link, else a hash of its title
    link: str         # the article page ("" if the item has none)
    title: str
    text: str         # its content or summary as plain text ("" if none)
    date: str         # ISO "YYYY-MM-DD" of publication (else last update), "" if unknown
    author: str
    fingerprint: str  # changes when the item's title, link, date or text change


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[FeedItem, ...]
    complete: bool = True  # False: malformed XML, some items may be missing
    problem: str = ""      # what was wrong with it, when not complete


def parse_feed(data: bytes, url: str, content_type: str = "") -> Feed:
    """The feed in ``data`` (fetched from ``url``); `FeedError` if it is none or hostile."""
    import feedparser

    if _declares_entities(data):
        raise FeedError("refused: the document declares XML entities (<!ENTITY> in its "
                        "DOCTYPE), which no feed needs and entity-expansion attacks use")
    headers = {"content-location": url, **({"content-type": content_type} if content_type else {})}
    parsed = feedparser.parse(data, response_headers=headers, sanitize_html=True,
                              resolve_relative_uris=True)
    problem = _problem(parsed)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS or Atom feed" + (f" ({problem})" if problem else ""))
    items = tuple(_item(entry, url) for entry in parsed.entries)
    title = " ".join(parsed.feed.get("title", "").split())
    return Feed(title, _unique(items), complete=not problem, problem=problem)


def discover_feeds(html: bytes, base_url: str) -> list[str]:
    """The feed URLs a web page announces (``<link rel="alternate" type="…rss+xml">``)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError, TypeError, SyntaxError):
        return []
    found = [urljoin(base_url, link.get("href", "").strip())
             for link in root.iter("link")
             if "alternate" in (link.get("rel") or "").lower().split()
             and (link.get("type") or "").lower().strip() in _FEED_TYPES and link.get("href")]
    return list(dict.fromkeys(found))


def html_text(fragment: str) -> str:
    """The text of an HTML fragment, one line per paragraph."""
    from lxml import etree
    from lxml import html as lxml_html

    if not fragment.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(fragment.split())
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _declares_entities(data: bytes) -> bool:
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("latin-1")
    return bool(_ENTITY_DECLARATION.search(text))


def _problem(parsed: Any) -> str:
    """What made feedparser's reading of it loose ("" if nothing that matters)."""
    if not parsed.get("bozo"):
        return ""
    exc = parsed.get("bozo_exception")
    if type(exc).__name__ in _HARMLESS:
        return ""
    return f"malformed XML: {exc}" if exc else "malformed XML"


def _item(entry: Any, feed_url: str) -> FeedItem:
    link = urljoin(feed_url, entry.get("link", "").strip()) if entry.get("link") else ""
    title = html_text(entry.get("title", ""))
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    text = html_text(body)
    date = _date(entry.get("published_parsed") or entry.get("updated_parsed"))
    key = (entry.get("id") or "").strip() or link or "title:" + _hash(title)
    stamp = entry.get("updated", "") or entry.get("published", "")
    fingerprint = _hash("\n".join((key, link, title, stamp, text)))
    author = " ".join(entry.get("author", "").split())
    return FeedItem(key, link, title, text, date, author, fingerprint)


def _date(parsed: time.struct_time | None) -> str:
    if not parsed:
        return ""
    try:
        return time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(parsed)))
    except (OverflowError, ValueError):
        return ""


def _unique(items: tuple[FeedItem, ...]) -> tuple[FeedItem, ...]:
    """Items by key, the first of each kept (a feed listing one item twice)."""
    return tuple({item.key: item for item in reversed(items)}[key]
                 for key in dict.fromkeys(item.key for item in items))


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
