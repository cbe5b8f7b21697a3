"""Web pages and feeds in the Corpus tab, in a real browser (Debian's Chromium driven by
Playwright, launched as tests/test_browser.py launches it), over the fake models and a local
web server on 127.0.0.1: nothing leaves the machine. A page added by address is listed,
linked and answered from; a feed is followed, synced, listed and unfollowed after a
confirmation; what cannot be fetched is said inline. Screenshots go to $SCREENSHOTS_DIR
(`SCREENSHOTS_DIR=docs/screenshots` refreshes docs/screenshots/corpus-feeds.png).
"""

from __future__ import annotations

import re

import pytest

from tests.test_browser import (PHONE, ask, browser, expect, open_page,  # noqa: F401
                                shot)
from tests.helpers.news_site import STORIES, Story, page as news_page, rss
from tests.helpers.ui_app import ScriptedGenerator, make_assistant, serve_page
from tests.helpers.web_server import LocalWeb, Route, guard_network

pytestmark = [pytest.mark.browser]

PORT, WINE, CHESS = STORIES  # in the feed
MUSEUM = Story("museum", "City museum reopens after its restoration", (  # added by address
    "The city museum reopened on Saturday after a restoration that lasted three years and "
    "cost twelve million euros.",
    "Visitors queued for hours to see the restored frescoes of the main hall, the director "
    "said, and the museum will stay open late on Fridays this summer."))
CLOSED = "http://127.0.0.1:9/nothing-listens-here"  # the discard port: connection refused
FETCH_MS = 30_000  # fetching, extracting and embedding a few pages on a loaded machine


@pytest.fixture(scope="module")
def web():
    """The local news site; every connection beyond 127.0.0.1 is refused meanwhile."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        blocked = guard_network(monkeypatch)
        server = LocalWeb()
        yield server
        server.stop()
    assert blocked == [], f"the tests reached beyond 127.0.0.1: {blocked}"


@pytest.fixture(scope="module")
def app(tmp_path_factory, web):
    assistant = make_assistant(tmp_path_factory.mktemp("feeds"), ScriptedGenerator())
    url, close = serve_page(assistant)
    yield url, assistant
    close()


@pytest.fixture
def tab(browser, app):  # noqa: F811 - the browser fixture imported above
    context, page, outside = open_page(browser, app[0])
    page.get_by_role("tab", name="Corpus").click()
    yield page
    context.close()
    assert not outside, f"the page requested outside resources: {outside[:5]}"


def publish(web: LocalWeb, stories, *, delay: float = 0.0) -> str:
    """Each story's page at /news/<slug>, an RSS feed of them at /feed.xml; its URL."""
    for story in stories:
        web.routes[f"/news/{story.slug}"] = Route(news_page(story), delay=delay)
    web.routes["/feed.xml"] = Route(rss([(s, web.url(f"/news/{s.slug}")) for s in stories]),
                                    content_type="application/rss+xml")
    return web.url("/feed.xml")


def test_a_page_added_by_address_is_listed_linked_and_answered_from(tab, web):
    address = web.url("/news/museum")
    web.routes["/news/museum"] = Route(news_page(MUSEUM), delay=2.0)  # to see the progress
    tab.locator("#urls").get_by_role("textbox").fill(address)
    tab.locator("#add-urls").click()
    expect(tab.locator("#urls").get_by_text(re.compile("fetching", re.I))).to_be_visible()
    message = tab.locator("#web-message")
    expect(message).to_contain_text("Added 1 article", timeout=FETCH_MS)
    expect(tab.locator("#urls").get_by_role("textbox")).to_have_value("")
    row = tab.locator("#articles tr", has_text=MUSEUM.title)
    expect(row).to_contain_text("Daily Ledger")
    expect(row.locator(f'a[href="{address}"]')).to_have_count(1)

    tab.get_by_role("tab", name="Chat").click()
    answer = ask(tab, "How much did the restoration of the city museum cost?")
    expect(answer).to_contain_text("twelve million euros")
    card = tab.locator("#sources .src", has_text=MUSEUM.title).first
    expect(card.locator(f'a[href="{address}"]')).to_have_count(1)


def test_an_unreachable_address_is_said_inline_and_the_page_stays(tab, web):
    missing = web.url("/news/missing")
    tab.locator("#urls").get_by_role("textbox").fill(f"{CLOSED}\n{missing}")
    tab.locator("#add-urls").click()
    message = tab.locator("#web-message")
    expect(message).to_contain_text("Nothing added; 2 URLs skipped:", timeout=FETCH_MS)
    expect(message).to_contain_text(f"{CLOSED}: cannot reach host 127.0.0.1")
    expect(message).to_contain_text(f"{missing}: HTTP 404 Not Found")
    expect(tab.locator("#urls").get_by_role("textbox")).to_have_value(f"{CLOSED}\n{missing}")
    expect(tab.locator("#articles table")).to_be_visible()  # nothing blanked
    tab.locator("#feed-url").get_by_role("textbox").fill(CLOSED)
    tab.locator("#follow").click()
    alert = message.get_by_role("alert")
    expect(alert).to_contain_text(f"Could not follow the feed: {CLOSED}: cannot reach host",
                                  timeout=FETCH_MS)
    expect(tab.locator("#feed-url").get_by_role("textbox")).to_have_value(CLOSED)
    expect(tab.locator("#feeds")).to_contain_text("No feeds followed yet")


def test_a_feed_is_followed_synced_listed_and_unfollowed_after_a_confirmation(tab, web, app):
    assistant = app[1]
    url = publish(web, STORIES)
    tab.locator("#feed-url").get_by_role("textbox").fill(url)
    tab.locator("#remove-gone input").check()
    tab.locator("#follow").click()
    message, feeds, table = tab.locator("#web-message"), tab.locator("#feeds"), \
        tab.locator("#articles table")
    expect(message).to_contain_text("Daily Ledger: added 3 articles.", timeout=FETCH_MS)
    expect(message).to_contain_text("Now following “Daily Ledger”: items that leave it are "
                                    "removed from the library.")
    row = feeds.locator("tr", has_text="Daily Ledger")
    expect(row).to_contain_text(url)
    expect(row).to_contain_text("items that leave it are removed")
    expect(row).to_contain_text(re.compile(r"synced \d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(row).to_contain_text("3 articles")
    for story in STORIES:
        expect(table).to_contain_text(story.title)
    shot(tab, "corpus-feeds.png", full_page=True)

    publish(web, [PORT, WINE])  # the chess story left the feed
    tab.locator("#sync").click()
    expect(message).to_contain_text("Daily Ledger: removed 1 article that left the feed",
                                    timeout=FETCH_MS)
    expect(table).not_to_contain_text(CHESS.title)
    expect(row).to_contain_text("2 articles")
    web.routes["/feed.xml"] = Route(b"down", status=503, content_type="text/plain")
    tab.locator("#sync").click()
    expect(message).to_contain_text("Daily Ledger: not synced: HTTP 503 Service Unavailable. "
                                    "Nothing was changed.", timeout=FETCH_MS)
    expect(row).to_contain_text("HTTP 503 Service Unavailable")
    expect(table).to_contain_text(WINE.title)

    tab.set_viewport_size(PHONE)  # the list of feeds becomes cards that fit the screen
    expect(row.locator("td.title")).to_be_visible()
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
    tab.set_viewport_size({"width": 1280, "height": 900})

    tab.locator("#feed-choice input").click()
    tab.get_by_role("option", name=re.compile("Daily Ledger")).click()
    tab.locator("#unfollow").click()
    expect(tab.locator("#confirm-unfollow-text")).to_contain_text(
        "Stop following “Daily Ledger”?")
    tab.locator("#confirm-unfollow-no").click()
    expect(tab.locator("#confirm-unfollow")).to_be_hidden()
    assert len(assistant.sources.feeds()) == 1
    tab.locator("#unfollow").click()
    tab.locator("#confirm-unfollow-yes").click()
    expect(message).to_contain_text("Stopped following “Daily Ledger”; 2 articles removed.",
                                    timeout=FETCH_MS)
    expect(feeds).to_contain_text("No feeds followed yet")
    expect(table).not_to_contain_text(PORT.title)
    assert assistant.sources.feeds() == []
