"""Web pages and PDFs fetched from a local server become articles that cite their URL."""

from __future__ import annotations

import pytest

from rag.sources.fetch import Fetcher, FetchError, Limits
from rag.sources.web import fetch_article
from tests.helpers.news_site import STORIES, page
from tests.helpers.web_server import Route, local_web
from tests.test_sources_pdf import SENTENCES, make_pdf


@pytest.fixture
def web(monkeypatch):
    yield from local_web(monkeypatch)


@pytest.fixture
def fetcher():
    with Fetcher(Limits(timeout=2.0)) as f:
        yield f


def test_page_becomes_an_article_with_its_metadata(web, fetcher):
    story = STORIES[0]
    web.routes["/port"] = Route(page(story, canonical=web.url("/news/port")))
    article = fetch_article(fetcher, web.url("/port"))
    assert article.title == story.title
    assert all(p in article.text for p in story.paragraphs)
    assert "All rights reserved" not in article.text and "Sport" not in article.text
    assert (article.date, article.author, article.source, article.lang) == (
        "2026-05-04", "Giulia Neri", "Daily Ledger", "en")
    assert article.url == web.url("/news/port")   # the citation links to the canonical URL
    assert article.path == web.url("/port")       # the URL asked for


def test_canonical_url_on_another_site_is_not_trusted(web, fetcher):
    web.routes["/port"] = Route(page(STORIES[0], canonical="https://elsewhere.example/x"))
    assert fetch_article(fetcher, web.url("/port")).url == web.url("/port")


def test_tracking_parameters_leave_the_cited_url(web, fetcher):
    web.routes["/port"] = Route(page(STORIES[0]))
    article = fetch_article(fetcher, web.url("/port?utm_source=feed&utm_medium=rss"))
    assert article.url == web.url("/port")


def test_redirected_page_cites_where_it_ended(web, fetcher):
    web.routes["/short"] = Route(status=301, headers={"Location": "/port"})
    web.routes["/port"] = Route(page(STORIES[0]))
    article = fetch_article(fetcher, web.url("/short"))
    assert (article.path, article.url) == (web.url("/short"), web.url("/port"))


def test_page_without_article_text(web, fetcher):
    web.routes["/empty"] = Route(b"<html><head><title>Menu</title></head><body><script>var a = 1;</script></body></html>")
    with pytest.raises(FetchError, match=r"/empty: no article text found"):
        fetch_article(fetcher, web.url("/empty"))


def test_page_in_another_charset(web, fetcher):
    html = page(STORIES[1]).decode().replace("Winemakers", "Viticoltori perché").replace(
        '<meta charset="utf-8">', "")
    web.routes["/latin"] = Route(html.encode("latin-1"),
                                 content_type="text/html; charset=ISO-8859-1")
    assert "Viticoltori perché" in fetch_article(fetcher, web.url("/latin")).text


def test_pdf_by_url_names_its_pages(web, fetcher):
    web.routes["/report.pdf"] = Route(make_pdf([[s] for s in SENTENCES], title="Budget"),
                                      content_type="application/pdf")
    article = fetch_article(fetcher, web.url("/report.pdf"))
    assert (article.title, article.url, len(article.pages)) == (
        "Budget", web.url("/report.pdf"), 4)
    assert article.source == "127.0.0.1"


def test_scanned_pdf_by_url_is_refused_naming_the_url(web, fetcher):
    web.routes["/scan.pdf"] = Route(make_pdf([[]]), content_type="application/pdf")
    with pytest.raises(FetchError) as err:
        fetch_article(fetcher, web.url("/scan.pdf"))
    assert str(err.value).startswith(web.url("/scan.pdf") + ": no text layer")
