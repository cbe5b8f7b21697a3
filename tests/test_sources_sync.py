"""Feeds kept in sync and pages added by URL, against a local server and the real library
(fake embedder): items appear, change and disappear between syncs; failures lose nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.assistant import Assistant
from rag.settings import Settings
from rag.sources.fetch import Fetcher, FetchError, Limits
from rag.sources.registry import Registry
from rag.sources.sync import Sources
from tests.fakes import FakeEmbedder, FakeGenerator
from tests.helpers.news_site import STORIES, atom, page, rss
from tests.helpers.web_server import LocalWeb, Route, guard_network

PORT, WINE, CHESS = STORIES
FEED = "/feed.xml"


@pytest.fixture
def web(monkeypatch):
    blocked = guard_network(monkeypatch)
    server = LocalWeb()
    yield server
    server.stop()
    assert blocked == [], f"the tests reached beyond 127.0.0.1: {blocked}"


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
    [first] = sources.sync()
    assert (first.added, first.removed, first.error) == (2, 0, "")
    assert titles(assistant) == {PORT.title, WINE.title}
    port = by_title(assistant, PORT.title)
    assert (port.url, port.feed, port.source) == (
        web.url("/news/port"), web.url(FEED), "Daily Ledger")

    changed = replace(WINE, paragraphs=WINE.paragraphs + ("The first grapes were picked today.",),
                      date="2026-05-05")
    publish(web, [changed, CHESS], kind=kind)      # wine changed, port gone, chess new
    [second] = sources.sync()
    assert (second.added, second.updated, second.removed) == (1, 1, 1)
    assert titles(assistant) == {WINE.title, CHESS.title}
    assert "first grapes" in by_title(assistant, WINE.title).text


def test_keep_policy_keeps_articles_of_gone_items(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED))                 # policy "keep" by default
    sources.sync()
    publish(web, [WINE])
    [report] = sources.sync()
    assert (report.removed, report.kept, report.unchanged) == (0, 1, 1)
    assert titles(assistant) == {PORT.title, WINE.title}


def test_unchanged_items_are_not_fetched_again(web, assistant, sources):
    publish(web, [PORT, WINE])
    sources.add_feed(web.url(FEED))
    sources.sync()
    [report] = sources.sync()
    assert (report.added, report.unchanged) == (0, 2)
    assert len(web.hits("/news/port")) == 1


def test_unchanged_feed_is_answered_304(web, assistant, sources):
    publish(web, [PORT], etag='"v1"')
    sources.add_feed(web.url(FEED))
    sources.sync()
    [report] = sources.sync()
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
    [report] = sources.sync()
    assert report.error and report.removed == 0
    assert titles(assistant) == {PORT.title, WINE.title}
    assert sources.feeds()[0].last_error == report.error
    publish(web, [PORT, WINE])
    [report] = sources.sync()
    assert report.error == "" and sources.feeds()[0].last_error == ""


def test_truncated_or_emptied_feed_removes_nothing(web, assistant, sources):
    publish(web, [PORT, WINE, CHESS])
    sources.add_feed(web.url(FEED), policy="remove")
    sources.sync()
    full = web.routes[FEED].body
    web.routes[FEED] = Route(full[:full.index(b"</item>") + 7], content_type="application/rss+xml")
    [report] = sources.sync()
    assert report.warning.startswith("malformed XML") and report.removed == 0
    web.routes[FEED] = Route(rss([]), content_type="application/rss+xml")
    [report] = sources.sync()
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
    [report] = sources.sync()
    assert "declares XML entities" in report.error
    assert titles(assistant) == {PORT.title}


def test_unreadable_page_falls_back_to_the_feed_text_then_to_the_page(web, assistant, sources):
    publish(web, [PORT])
    web.routes["/news/port"] = Route(b"gone", status=404)
    sources.add_feed(web.url(FEED))
    [report] = sources.sync()
    assert report.added == 1
    assert by_title(assistant, PORT.title).text == PORT.paragraphs[0]  # the feed's summary
    publish(web, [PORT])                             # the page is back
    [report] = sources.sync()
    assert report.updated == 1
    assert PORT.paragraphs[2] in by_title(assistant, PORT.title).text


def test_page_failing_later_keeps_the_article(web, assistant, sources):
    publish(web, [PORT])
    sources.add_feed(web.url(FEED))
    sources.sync()
    edited = replace(PORT, title=PORT.title + " again")
    publish(web, [edited])
    web.routes["/news/port"] = Route(b"down", status=503)
    [report] = sources.sync()
    assert report.removed == 0
    assert PORT.paragraphs[2] in by_title(assistant, PORT.title).text


def test_item_without_page_or_text_is_reported(web, assistant, sources):
    publish(web, [PORT], summary=False)
    web.routes["/news/port"] = Route(b"gone", status=410)
    sources.add_feed(web.url(FEED))
    [report] = sources.sync()
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
    [report] = sources.sync()
    assert (report.added, report.unchanged) == (1, 1)
    assert len(assistant.articles()) == 2
    publish(web, [WINE])                             # gone from the feed, but added by URL
    [report] = sources.sync()
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


def test_feed_items_return_after_the_index_loses_them(web, assistant, sources):
    publish(web, [PORT], etag='"v1"')
    sources.add_feed(web.url(FEED))
    sources.sync()
    assistant.remove([a.id for a in assistant.articles()])
    [report] = sources.sync()   # no conditional request: the registry knows items are missing
    assert report.added == 1 and not report.not_modified

