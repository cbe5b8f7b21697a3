"""Feeds parsed with feedparser: RSS 2.0 and Atom items, hostile XML refused, malformed
feeds marked incomplete, feeds announced by a page discovered."""

from __future__ import annotations

import pytest

from rag.sources.feeds import FeedError, discover_feeds, html_text, parse_feed
from tests.helpers.news_site import STORIES, atom, rss

URL = "http://127.0.0.1:8000/feed.xml"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>http://127.0.0.1:8000/a</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title>
<item><title>&secret;</title><link>http://127.0.0.1:8000/a</link></item></channel></rss>"""


def test_rss_items():
    feed = parse_feed(rss([(s, f"/news/{s.slug}") for s in STORIES]), URL)
    assert feed.title == "Daily Ledger" and feed.complete
    assert [i.title for i in feed.items] == [s.title for s in STORIES]
    first = feed.items[0]
    assert (first.key, first.link, first.date) == (
        "port", "http://127.0.0.1:8000/news/port", "2026-05-04")  # relative link resolved
    assert first.text == STORIES[0].paragraphs[0]


def test_atom_items_with_html_content():
    feed = parse_feed(atom([(s, f"http://127.0.0.1:8000/{s.slug}") for s in STORIES[:2]]), URL)
    item = feed.items[1]
    assert (item.key, item.author, item.date) == ("urn:ledger:wine", "Giulia Neri", "2026-05-04")
    assert item.text.split("\n") == list(STORIES[1].paragraphs)  # one line per paragraph


def test_fingerprint_changes_with_the_item_only():
    items = [(s, f"/{s.slug}") for s in STORIES]
    before = parse_feed(rss(items), URL).items
    edited = STORIES[1].__class__(STORIES[1].slug, STORIES[1].title + " (updated)",
                                  STORIES[1].paragraphs)
    after = parse_feed(rss([items[0], (edited, "/wine"), items[2]]), URL).items
    assert [a.fingerprint == b.fingerprint for a, b in zip(before, after)] == [True, False, True]
    assert [a.key for a in after] == [b.key for b in before]


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                      BILLION_LAUGHS.decode().encode("utf-16")])
def test_entity_declarations_are_refused(document):
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(document, URL)


def test_truncated_feed_is_incomplete():
    data = rss([(s, f"/{s.slug}") for s in STORIES])
    feed = parse_feed(data[: data.index(b"<item>", data.index(b"<item>") + 1) + 40], URL)
    assert not feed.complete and feed.problem.startswith("malformed XML")
    assert feed.items[0].title == STORIES[0].title


@pytest.mark.parametrize("document", [b"<html><body><p>A page</p></body></html>", b"",
                                      b"\x00\x01\x02 binary", b'{"json": true}'])
def test_not_a_feed(document):
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(document, URL)


def test_items_listed_twice_are_one():
    feed = parse_feed(rss([(STORIES[0], "/port"), (STORIES[0], "/port")]), URL)
    assert len(feed.items) == 1


def test_feed_discovery():
    html = b"""<html><head>
      <link rel="alternate" type="application/rss+xml" href="/rss.xml">
      <link rel="alternate" type="application/atom+xml" href="https://x.example/atom">
      <link rel="stylesheet" href="/s.css"></head><body></body></html>"""
    assert discover_feeds(html, "http://127.0.0.1:8000/news/") == [
        "http://127.0.0.1:8000/rss.xml", "https://x.example/atom"]
    assert discover_feeds(b"", "http://127.0.0.1:8000/") == []


def test_html_text():
    assert html_text("<p>One <b>two</b>.</p><p>Three<br>four</p>") == "One two.\nThree\nfour"
    assert html_text("plain text") == "plain text"
    assert html_text("  ") == ""
