"""End-to-end with the real default models: a feed of three news items on a local server is
synced, a question is answered with a citation linking to the item's page, and once the
item leaves the feed (remove policy) the next sync takes it out of the answers."""

from __future__ import annotations


import pytest

from rag import Assistant
from tests.helpers.real_models import require_default_models
from tests.helpers.news_site import STORIES, page, rss
from tests.helpers.web_server import LocalWeb, Route, local_web

pytestmark = pytest.mark.e2e
PORT, WINE, CHESS = STORIES
QUESTION = "How many jobs will the new container terminal create?"


@pytest.fixture
def assistant(tmp_path):
    settings = require_default_models()
    return Assistant(settings.replace(index_dir=tmp_path / "index",
                                      corpus_dir=tmp_path / "corpus"))


@pytest.fixture
def web(monkeypatch):
    yield from local_web(monkeypatch)


def publish(web: LocalWeb, stories) -> None:
    for story in STORIES:
        web.routes[f"/news/{story.slug}"] = Route(page(story))
    web.routes["/feed.xml"] = Route(rss([(s, web.url(f"/news/{s.slug}")) for s in stories]),
                                    content_type="application/rss+xml")


def test_feed_item_is_cited_then_gone_after_it_leaves_the_feed(web, assistant):
    publish(web, [PORT, WINE, CHESS])
    feed = assistant.sources.add_feed(web.url("/feed.xml"), policy="remove")
    [report] = assistant.sources.sync().feeds
    assert (report.added, report.error) == (3, "")

    answer = assistant.ask(QUESTION).answer()
    assert not answer.abstained, answer.text
    assert "400" in answer.text or "four hundred" in answer.text
    assert web.url("/news/port") in {c.url for c in answer.citations}
    assert all(c.chunk.title == PORT.title for c in answer.citations
               if c.url == web.url("/news/port"))

    publish(web, [WINE, CHESS])  # the story leaves the feed upstream
    [report] = assistant.sources.sync([feed.url]).feeds
    assert report.removed == 1
    assert PORT.title not in {a.title for a in assistant.articles()}
    again = assistant.ask(QUESTION).answer()
    assert web.url("/news/port") not in {c.url for c in again.citations}
    assert PORT.title not in {h.chunk.title for h in again.passages}
