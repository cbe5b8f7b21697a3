"""Feeds kept in sync and pages added by URL, against a local server and the real library
(fake embedder): items appear, change and disappear between syncs; failures lose nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from rag.assistant import Assistant
from rag.settings import Settings
from rag.sources.fetch import Fetcher, FetchError, Limits
from rag.sources.registry import Registry
from rag.sources.sync import Sources
from tests.fakes import FakeEmbedder, FakeGenerator
from tests.helpers.news_site import STORIES, atom, page, rss
from tests.helpers.web_server import LocalWeb, Route, local_web

PORT, WINE, CHESS = STORIES
FEED = "/feed.xml"


@pytest.fixture
def web(monkeypatch):
    yield from local_web(monkeypatch)


@pytest.fixture
def assistant(tmp_path):
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": tmp_path / "corpus"})
    return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())


@pytest.fixture
def sources(assistant, tmp_path):
    with Fetcher(Limits(timeout=2.0)) as fetcher:
        yield Sources(assistant.library, Registry(tmp_path / "index" / "sources.sqlite"), fetcher)


def publish(web: LocalWeb, stories, *, kind=rss, etag: str = "", **options) -> None:
    """Serve each story's page at /news/<slug> and a feed of them at /feed.xml."""
    for story in stories:
        web.routes[f"/news/{story.slug}"] = Route(page(story))
    web.routes[FEED] = Route(kind([(s, web.url(f"/news/{s.slug}")) for s in stories], **options),
                             content_type="application/rss+xml", etag=etag)


def titles(assistant) -> set[str]:
    return {a.title for a in assistant.articles()}


def by_title(assistant, title: str):
    return next(a for a in assistant.articles() if a.title == title)


@pytest.mark.parametrize("kind", [rss, atom])
def test_items_appear_change_and_disappear(web, assistant, sources, kind):
    publish(web, [PORT, WINE], kind=kind)
    sources.add_feed(web.url(FEED), policy="remove")
    [first] = sources.sync().feeds
    assert (first.added, first.removed, first.error) == (2, 0, "")
    assert titles(assistant) == {PORT.title, WINE.title}
    port = by_title(assistant, PORT.title)
    assert (port.url, port.feed, port.source) == (
        web.url("/news/port"), web.url(FEED), "Daily Ledger")

    changed = replace(WINE, paragraphs=WINE.paragraphs + ("The first grapes were picked today.",),
                      date="2026-05-05")
    publish(web, [changed, CHESS], kind=kind)      # wine changed, port gone, chess new
    [second] = sources.sync().feeds
    assert (second.added, second.updated, second.removed) == (1, 1, 1)
    assert titles(assistant) == {WINE.title, CHESS.title}
    assert "first grapes" in by_title(assistant, WINE.title).text


def test_keep_policy_keeps_articles_of_gone_items(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED))                 # policy "keep" by default
    sources.sync()
    publish(web, [WINE])
    [report] = sources.sync().feeds
    assert (report.removed, report.kept, report.unchanged) == (0, 1, 1)
    assert titles(assistant) == {PORT.title, WINE.title}


def test_unchanged_items_are_not_fetched_again(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED))
    sources.sync()
    [report] = sources.sync().feeds
    assert (report.added, report.unchanged) == (0, 2)
    assert len(web.hits("/news/port")) == 1


def test_unchanged_feed_is_answered_304(web, assistant, sources):
    publish(web, [PORT], etag='"v1"')
    sources.add_feed(web.url(FEED))
    sources.sync()
    [report] = sources.sync().feeds
    assert report.not_modified and report.unchanged == 1
    assert web.hits(FEED)[-1].headers["If-None-Match"] == '"v1"'
    assert titles(assistant) == {PORT.title}


@pytest.mark.parametrize("failure", [
    Route(b"down", status=500),
    Route(b"<rss>", delay=5.0),                     # slower than the timeout
    Route(b"<html><body>maintenance</body></html>", content_type="text/plain"),
    Route(garbage=True),
])
def test_a_failing_feed_removes_nothing(web, assistant, sources, failure):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED), policy="remove")
    sources.sync()
    web.routes[FEED] = failure
    [report] = sources.sync().feeds
    assert report.error and report.removed == 0
    assert titles(assistant) == {PORT.title, WINE.title}
    assert sources.feeds()[0].last_error == report.error
    publish(web, [PORT, WINE])
    [report] = sources.sync().feeds
    assert report.error == "" and sources.feeds()[0].last_error == ""


def test_truncated_or_emptied_feed_removes_nothing(web, assistant, sources):
    publish(web, [PORT, WINE, CHESS])
    sources.add_feed(web.url(FEED), policy="remove")
    sources.sync()
    full = web.routes[FEED].body
    web.routes[FEED] = Route(full[:full.index(b"</item>") + 7], content_type="application/rss+xml")
    [report] = sources.sync().feeds
    assert report.warning.startswith("malformed XML") and report.removed == 0
    web.routes[FEED] = Route(rss([]), content_type="application/rss+xml")
    [report] = sources.sync().feeds
    assert report.removed == 0
    assert titles(assistant) == {PORT.title, WINE.title, CHESS.title}


def test_hostile_feed_is_refused(web, assistant, sources):
    publish(web, [PORT])
    sources.add_feed(web.url(FEED))
    sources.sync()
    web.routes[FEED] = Route(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
                             b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss version="2.0">'
                             b'<channel><title>&b;</title></channel></rss>',
                             content_type="application/rss+xml")
    [report] = sources.sync().feeds
    assert "declares XML entities" in report.error
    assert titles(assistant) == {PORT.title}


def test_unreadable_page_falls_back_to_the_feed_text_then_to_the_page(web, assistant, sources):
    publish(web, [PORT])
    web.routes["/news/port"] = Route(b"gone", status=404)
    sources.add_feed(web.url(FEED))
    [report] = sources.sync().feeds
    assert report.added == 1
    assert by_title(assistant, PORT.title).text == PORT.paragraphs[0]  # the feed's summary
    publish(web, [PORT])                             # the page is back
    [report] = sources.sync().feeds
    assert report.updated == 1
    assert PORT.paragraphs[2] in by_title(assistant, PORT.title).text


def test_page_failing_later_keeps_the_article(web, assistant, sources):
    publish(web, [PORT])
    sources.add_feed(web.url(FEED))
    sources.sync()
    edited = replace(PORT, title=PORT.title + " again")
    publish(web, [edited])
    web.routes["/news/port"] = Route(b"down", status=503)
    [report] = sources.sync().feeds
    assert report.removed == 0
    assert PORT.paragraphs[2] in by_title(assistant, PORT.title).text


def test_item_without_page_or_text_is_reported(web, assistant, sources):
    publish(web, [PORT], summary=False)
    web.routes["/news/port"] = Route(b"gone", status=410)
    sources.add_feed(web.url(FEED))
    [report] = sources.sync().feeds
    [skipped] = report.skipped
    assert skipped.path == web.url("/news/port")
    assert skipped.reason == "HTTP 410 Gone, and the feed gives no text for it"


def test_robots_disallowed_page_uses_the_feed_text(web, assistant, sources):
    publish(web, [PORT])
    web.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /news/\n",
                                      content_type="text/plain")
    sources.add_feed(web.url(FEED))
    sources.sync()
    assert web.hits("/news/port") == []
    assert by_title(assistant, PORT.title).text == PORT.paragraphs[0]


def test_same_article_by_url_and_by_feed_is_one(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_urls([web.url("/news/port")])
    sources.add_feed(web.url(FEED), policy="remove")
    [report] = sources.sync().feeds
    assert (report.added, report.unchanged) == (1, 1)
    assert len(assistant.articles()) == 2
    publish(web, [WINE])                             # gone from the feed, but added by URL
    [report] = sources.sync().feeds
    assert report.removed == 0 and titles(assistant) == {PORT.title, WINE.title}


def test_two_feeds_share_an_article(web, assistant, sources):
    publish(web, [PORT])
    web.routes["/other.xml"] = web.routes[FEED]
    sources.add_feed(web.url(FEED), policy="remove")
    sources.add_feed(web.url("/other.xml"), policy="remove")
    sources.sync()
    web.routes[FEED] = Route(rss([(WINE, web.url("/news/wine"))]),
                             content_type="application/rss+xml")
    web.routes["/news/wine"] = Route(page(WINE))
    sources.sync()
    assert titles(assistant) == {PORT.title, WINE.title}  # the other feed still lists it


def test_remove_feed_removes_its_articles(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED))
    sources.sync()
    report = sources.remove_feed(web.url(FEED))
    assert report.removed == 2 and assistant.articles() == []
    assert sources.feeds() == []
    with pytest.raises(KeyError, match="no such feed"):
        sources.remove_feed(web.url(FEED))


def test_remove_feed_can_keep_its_articles(web, assistant, sources):
    publish(web, [PORT])
    sources.add_feed(web.url(FEED))
    sources.sync()
    sources.remove_feed(web.url(FEED), keep_articles=True)
    assert titles(assistant) == {PORT.title}


def test_add_feed_finds_the_feed_a_page_announces(web, sources):
    publish(web, [PORT])
    web.routes["/"] = Route(b'<html><head><link rel="alternate" type="application/rss+xml" '
                            b'href="/feed.xml"></head><body>Home</body></html>')
    record = sources.add_feed(web.url("/"))
    assert (record.url, record.title, record.policy) == (web.url(FEED), "Daily Ledger", "keep")
    assert sources.add_feed(web.url(FEED), policy="remove").policy == "remove"
    assert [f.policy for f in sources.feeds()] == ["remove"]


@pytest.mark.parametrize("route, problem", [
    (Route(b"<html><body>No feeds here</body></html>"), "announces no RSS or Atom feed"),
    (Route(b"down", status=502), "HTTP 502"),
    (Route(b"\x89PNG", content_type="image/png"), "not an RSS or Atom feed or an HTML page"),
])
def test_add_feed_refuses_what_is_not_a_feed(web, sources, route, problem):
    web.routes["/x"] = route
    with pytest.raises(FetchError, match=problem):
        sources.add_feed(web.url("/x"))
    assert sources.feeds() == []


def test_sync_of_an_unknown_feed(sources):
    with pytest.raises(KeyError, match="no such feed"):
        sources.sync(["http://127.0.0.1:1/nothing.xml"])


def test_add_urls_then_again_unchanged_then_changed(web, assistant, sources):
    web.routes["/a"] = Route(page(PORT), etag='"1"')
    web.routes["/b"] = Route(b"down", status=500)
    report = sources.add_urls([web.url("/a"), web.url("/b")])
    assert report.added == 1
    assert [(s.path, s.reason) for s in report.skipped] == [
        (web.url("/b"), "HTTP 500 Internal Server Error")]
    again = sources.add_urls([web.url("/a")])
    assert (again.added, again.unchanged) == (0, 1)
    assert web.hits("/a")[-1].headers["If-None-Match"] == '"1"'
    web.routes["/a"] = Route(page(replace(PORT, paragraphs=PORT.paragraphs[:2])), etag='"2"')
    changed = sources.add_urls([web.url("/a")])
    assert (changed.updated, changed.added, len(assistant.articles())) == (1, 0, 1)


def test_failed_refetch_of_a_page_keeps_it(web, assistant, sources):
    web.routes["/a"] = Route(page(PORT))
    sources.add_urls([web.url("/a")])
    web.routes["/a"] = Route(b"down", status=503)
    report = sources.add_urls([web.url("/a")])
    assert report.removed == 0 and titles(assistant) == {PORT.title}


def rebuild(assistant) -> None:
    """What `rag index --rebuild` of other files does to pages and feed items: loses them."""
    assistant.index_files([], rebuild=True)
    assert assistant.articles() == []


def test_feed_items_return_after_the_index_loses_them(web, assistant, sources):
    publish(web, [PORT], etag='"v1"')
    sources.add_feed(web.url(FEED))
    sources.sync()
    rebuild(assistant)
    [report] = sources.sync().feeds  # not conditional: the registry knows items are missing
    assert report.added == 1 and not report.not_modified


def test_pages_return_after_the_index_loses_them(web, assistant, sources):
    publish(web, [PORT, WINE])
    web.routes["/report"] = Route(page(CHESS))
    sources.add_urls([web.url("/news/port"), web.url("/report")])
    sources.add_feed(web.url(FEED))
    sources.sync()
    rebuild(assistant)
    web.routes["/report"] = Route(b"down", status=503)
    report = sources.sync()
    assert report.pages.restored == 1 and report.failed
    assert [(s.path, s.reason) for s in report.pages.skipped] == [
        (web.url("/report"), "HTTP 503 Service Unavailable")]
    assert (report.feeds[0].added, report.feeds[0].unchanged) == (1, 1)  # port came back
    assert titles(assistant) == {PORT.title, WINE.title}
    web.routes["/report"] = Route(page(CHESS))      # a failed page is tried again next time
    again = sources.sync()
    assert again.pages.restored == 1 and not again.failed
    assert titles(assistant) == {PORT.title, WINE.title, CHESS.title}
    assert sources.sync().pages.restored == 0
    assert sources.sync([web.url(FEED)]).pages == sources.sync().pages  # nothing to do


@pytest.mark.parametrize("policy", ["keep", "remove"])
def test_a_removed_feed_article_stays_removed(web, assistant, sources, policy):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED), policy=policy)
    sources.sync()
    assistant.remove([by_title(assistant, PORT.title).id])   # as `rag remove` does
    [report] = sources.sync().feeds
    assert (report.added, report.unchanged) == (0, 1)
    assert titles(assistant) == {WINE.title}
    changed = replace(PORT, paragraphs=PORT.paragraphs + ("The port reopened today.",))
    publish(web, [changed, WINE])                   # still in the feed, even changed upstream
    sources.sync()
    assert titles(assistant) == {WINE.title} and len(web.hits("/news/port")) == 1
    assert [f.articles for f in sources.feeds()] == [1]
    publish(web, [WINE])                            # it leaves the feed: it is forgotten
    sources.sync()
    assert {i.url for i in sources.registry.items(web.url(FEED)).values()} == {
        web.url("/news/wine")}


def test_a_removed_feed_article_comes_back_when_added_by_url(web, assistant, sources):
    publish(web, [PORT, WINE], etag='"v1"')
    sources.add_feed(web.url(FEED), policy="remove")
    sources.sync()
    assistant.remove([by_title(assistant, PORT.title).id])
    [report] = sources.sync().feeds
    assert report.not_modified                     # a dismissed item needs no fetch
    assert sources.add_urls([web.url("/news/port")]).added == 1
    [report] = sources.sync().feeds
    assert report.removed == 0 and titles(assistant) == {PORT.title, WINE.title}
    assert [f.articles for f in sources.feeds()] == [2]   # back in the library: the feed's
    assistant.remove([by_title(assistant, PORT.title).id])
    sources.sync()
    assert titles(assistant) == {WINE.title} and sources.registry.pages() == []


def test_a_removed_page_is_forgotten_and_can_be_added_again(web, assistant, sources):
    web.routes["/a"] = Route(page(PORT), etag='"1"')
    sources.add_urls([web.url("/a")])
    assistant.remove([a.id for a in assistant.articles()])
    assert sources.registry.page(web.url("/a")) is None
    assert sources.sync().pages.restored == 0 and assistant.articles() == []
    report = sources.add_urls([web.url("/a")])
    assert report.added == 1 and titles(assistant) == {PORT.title}
    assert "If-None-Match" not in web.hits("/a")[-1].headers   # fetched afresh


def test_feeds_count_their_articles_in_the_library(web, assistant, sources):
    publish(web, [PORT, WINE])
    web.routes["/other.xml"] = Route(rss([(PORT, web.url("/news/port"))]),
                                     content_type="application/rss+xml")
    sources.add_urls([web.url("/news/port")])
    sources.add_feed(web.url(FEED))
    sources.add_feed(web.url("/other.xml"))
    assert [f.articles for f in sources.feeds()] == [0, 0]
    sources.sync()
    counts = {f.url: f.articles for f in sources.feeds()}
    assert counts == {web.url(FEED): 2, web.url("/other.xml"): 1}  # port once in each
    assert [f.articles for f in sources.feeds(assistant.articles()[:0])] == [0, 0]
    assistant.remove([by_title(assistant, WINE.title).id])
    assert {f.url: f.articles for f in sources.feeds()}[web.url(FEED)] == 1


def test_a_registry_from_before_dismissal_keeps_working(web, assistant, tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE feeds (url TEXT PRIMARY KEY, title TEXT NOT NULL, policy TEXT NOT NULL,
                etag TEXT NOT NULL, last_modified TEXT NOT NULL, added REAL NOT NULL,
                last_sync REAL NOT NULL, last_error TEXT NOT NULL);
            CREATE TABLE items (feed TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE,
                key TEXT NOT NULL, url TEXT NOT NULL, article_id TEXT NOT NULL,
                fingerprint TEXT NOT NULL, from_summary INTEGER NOT NULL,
                PRIMARY KEY (feed, key));
            CREATE TABLE pages (url TEXT PRIMARY KEY, article_id TEXT NOT NULL, etag TEXT NOT NULL,
                last_modified TEXT NOT NULL, fetched REAL NOT NULL);""")
    publish(web, [PORT, WINE])
    feed = web.url(FEED)
    with sqlite3.connect(path) as db:  # what the older code wrote after one sync
        db.execute("INSERT INTO feeds VALUES (?, 'Daily Ledger', 'keep', '', '', 1, 1, '')",
                   (feed,))
    with Fetcher(Limits(timeout=2.0)) as fetcher:
        sources = Sources(assistant.library, Registry(path), fetcher)
        [report] = sources.sync().feeds
        assert report.added == 2
        sources.dismiss([by_title(assistant, PORT.title).id])
        assistant.library.remove([by_title(assistant, PORT.title).id])
        [report] = sources.sync().feeds
        assert report.added == 0 and titles(assistant) == {WINE.title}
        assert {i.url: i.dismissed for i in sources.registry.items(feed).values()} == {
            web.url("/news/port"): True, web.url("/news/wine"): False}
    Registry(path).feeds()  # opened again: the column is there once
