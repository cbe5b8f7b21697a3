"""Web pages and feeds in the Corpus tab, with the fake models, against a local web server
on 127.0.0.1 (nothing leaves the machine): what each action does and says, directly and
through the page's API."""

from __future__ import annotations

import html
import re

import pytest

from rag import ui  # noqa: F401 - first: it keeps gradio and its client offline
from rag.sources.registry import FeedRecord
from rag.ui_corpus import CorpusActions, articles_html
from rag.ui_feeds import SourcesActions, feeds_html
from tests.helpers.news_site import STORIES, page, rss
from tests.helpers.ui_app import make_assistant, serve_page
from tests.helpers.web_server import LocalWeb, Route, local_web

PORT, WINE, CHESS = STORIES
CLOSED = "http://127.0.0.1:9/nothing-listens-here"  # the discard port: connection refused


@pytest.fixture
def web(monkeypatch):
    yield from local_web(monkeypatch)


@pytest.fixture
def assistant(tmp_path):
    return make_assistant(tmp_path)


def plain(out: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", out)).split())


def publish(web: LocalWeb, stories) -> str:
    """Each story's page at /news/<slug>, an RSS feed of them at /feed.xml; its URL."""
    for story in stories:
        web.routes[f"/news/{story.slug}"] = Route(page(story))
    web.routes["/feed.xml"] = Route(rss([(s, web.url(f"/news/{s.slug}")) for s in stories]),
                                    content_type="application/rss+xml")
    return web.url("/feed.xml")


def test_pages_are_added_by_address_and_each_failure_is_said_with_its_url(web, assistant):
    publish(web, [PORT])
    good, missing = web.url("/news/port"), web.url("/news/missing")
    message, left = SourcesActions(assistant).add_urls(f"{good}\n{missing}, {CLOSED}\n{good}")
    text = plain(message)
    assert text.startswith("Added 1 article (")
    assert f"2 URLs skipped: {missing}: HTTP 404 Not Found {CLOSED}: cannot reach host" in text
    assert "The library holds 4 articles." in text
    assert left == f"{missing}\n{CLOSED}"  # what failed stays in the box to be corrected
    [added] = [a for a in assistant.articles() if a.url == good]
    assert added.title == PORT.title and added.source == "Daily Ledger"
    assert f'<a href="{good}"' in articles_html(assistant.articles())
    again, left = SourcesActions(assistant).add_urls(good)
    assert plain(again).startswith("1 article already in the library.") and left == ""
    empty, _ = SourcesActions(assistant).add_urls(" \n ")
    assert 'role="alert"' in empty and "address of a web page or a PDF" in empty


def test_a_feed_is_followed_synced_listed_and_unfollowed(web, assistant):
    url = publish(web, STORIES)
    actions = SourcesActions(assistant)
    message, feed = actions.follow(url, remove_gone=True)
    assert feed.url == url and feed.policy == "remove"
    assert plain(message) == "Following “Daily Ledger”; fetching its articles…"
    text = plain(actions.sync(feed))
    assert text == ("Now following “Daily Ledger”: items that leave it are removed from the "
                    "library. Daily Ledger: added 3 articles.")
    listed = plain(feeds_html(*actions.listing(assistant.articles())))
    assert f"Daily Ledger {url} items that leave it are removed synced 20" in listed
    assert "3 articles" in listed
    publish(web, [PORT, WINE])  # the chess story left the feed
    assert plain(actions.sync()) == ("Daily Ledger: removed 1 article that left the feed, "
                                     "2 articles unchanged.")
    assert CHESS.title not in {a.title for a in assistant.articles()}
    assert actions.find(url) is not None and actions.find("http://elsewhere/") is None
    text = plain(actions.unfollow(actions.find(url), keep_articles=False))
    assert text == "Stopped following “Daily Ledger”; 2 articles removed. The library holds " \
                   "3 articles."
    assert assistant.sources.feeds() == [] and len(assistant.articles()) == 3


def test_a_page_added_by_address_and_then_by_a_feed_is_one_article_of_that_feed(web,
                                                                                assistant):
    url = publish(web, [PORT, WINE])
    actions = SourcesActions(assistant)
    actions.add_urls(web.url("/news/port"))
    _, feed = actions.follow(url, remove_gone=False)
    assert "Daily Ledger: added 1 article, 1 article unchanged." in plain(actions.sync(feed))
    feeds, counts = actions.listing(assistant.articles())
    assert counts == {url: 2} and len(assistant.articles()) == 5
    assert "its articles were kept" not in actions.unfollow(feed, keep_articles=False)
    assert PORT.title in {a.title for a in assistant.articles()}  # still added by address
    assert WINE.title not in {a.title for a in assistant.articles()}


def test_an_article_removed_in_the_corpus_tab_does_not_come_back_with_a_sync(web, assistant):
    url = publish(web, [PORT, WINE])
    actions, corpus = SourcesActions(assistant), CorpusActions(assistant)
    _, feed = actions.follow(url, remove_gone=False)
    actions.sync(feed)
    port = next(a for a in assistant.articles() if a.title == PORT.title)
    assert "Removed “" in corpus.remove(port.id)
    assert plain(actions.sync()) == "Daily Ledger: 1 article unchanged."
    assert PORT.title not in {a.title for a in assistant.articles()}
    assert "1 article" in plain(feeds_html(*actions.listing(assistant.articles())))


def test_a_sync_brings_back_pages_the_library_lost(web, assistant):
    publish(web, [PORT])
    actions = SourcesActions(assistant)
    actions.add_urls(f"{web.url('/news/port')}\n{web.url('/news/wine')}")
    web.routes["/news/wine"] = Route(page(WINE))
    actions.add_urls(web.url("/news/wine"))
    assistant.index_files([], rebuild=True)  # `rag index --rebuild` of other files
    web.routes["/news/wine"] = Route(b"gone", status=410)
    text = plain(actions.sync())
    assert text == ("Brought back 1 page added by address that the library had lost; 1 page "
                    "could not be fetched (tried again at the next sync): "
                    f"{web.url('/news/wine')}: HTTP 410 Gone No feeds to sync.")
    assert [a.title for a in assistant.articles()] == [PORT.title]
    text = plain(actions.sync())
    assert text.startswith("1 page added by address that the library had lost could not be "
                           "fetched (tried again at the next sync): ")
    web.routes["/news/wine"] = Route(page(WINE))
    assert plain(actions.sync()) == ("Brought back 1 page added by address that the library "
                                     "had lost. No feeds to sync.")
    assert {a.title for a in assistant.articles()} == {PORT.title, WINE.title}
    assert "No feeds to sync: follow one first." in actions.sync()  # nothing left to do


def test_unfollowing_can_keep_the_feeds_articles(web, assistant):
    url = publish(web, [PORT])
    actions = SourcesActions(assistant)
    _, feed = actions.follow(url, remove_gone=False)
    actions.sync(feed)
    text = plain(actions.unfollow(feed, keep_articles=True))
    assert text == "Stopped following “Daily Ledger”; its articles were kept. The library " \
                   "holds 4 articles."
    assert PORT.title in {a.title for a in assistant.articles()}


def test_what_cannot_be_followed_or_synced_is_said_inline_and_changes_nothing(web, assistant):
    actions = SourcesActions(assistant)
    web.routes["/plain"] = Route(page(PORT))  # a page that announces no feed
    for url, said in ((web.url("/feed.xml"), "HTTP 404 Not Found"),
                      (web.url("/plain"), "announces no RSS or Atom feed"),
                      (CLOSED, "cannot reach host 127.0.0.1"),
                      ("not a url", "only http:// and https:// URLs can be fetched")):
        message, feed = actions.follow(url, remove_gone=False)
        assert feed is None and 'role="alert"' in message
        assert plain(message).startswith("Could not follow the feed: ") and said in message
    assert "address of a feed" in actions.follow("  ", False)[0]
    assert "No feeds to sync: follow one first." in actions.sync()
    assert "Choose a feed first." in actions.unfollow(None, keep_articles=False)
    gone = FeedRecord(web.url("/feed.xml"), "Gone")
    assert "Could not stop following it: no such feed: " in actions.unfollow(gone, False)
    assert len(assistant.articles()) == 3 and assistant.sources.feeds() == []
    url = publish(web, [PORT])
    _, feed = actions.follow(url, remove_gone=True)
    actions.sync(feed)
    web.routes["/feed.xml"] = Route(b"oops", status=500, content_type="text/plain")
    text = plain(actions.sync())
    assert text == ("Daily Ledger: not synced: HTTP 500 Internal Server Error. Nothing was "
                    "changed.")
    assert len(assistant.articles()) == 4
    assert "HTTP 500 Internal Server Error" in feeds_html(*actions.listing(assistant.articles()))


def test_pages_and_feeds_through_the_page_api(web, tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    assistant = make_assistant(tmp_path)
    url, close = serve_page(assistant)
    try:
        client = gradio_client.Client(url, verbose=False)
        publish(web, [PORT])
        message, box = client.predict(f"{web.url('/news/port')}\n{CLOSED}", api_name="/add_urls")
        assert plain(message).startswith("Added 1 article (") and box == CLOSED
        message, _ = client.predict(api_name="/sync_feeds")
        assert "No feeds to sync" in message
        *_, feeds, choices = client.predict(api_name="/articles")
        assert "No feeds followed yet" in feeds
    finally:
        close()
