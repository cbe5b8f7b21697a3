"""Web: a fetched page (or PDF) as an `Article` whose citation links back to its URL.

The article text and metadata (title, date, author, site name, language, canonical URL)
are extracted with trafilatura. ``Article.path`` is the URL asked for (so the same
request always addresses the same article); ``Article.url`` is the page's canonical URL
when it names one on the same site, else the URL where the redirects ended, without
tracking parameters (``utm_*``…). The source is the site's name, else its host.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from ..corpus import Article, BadArticle, article_from_text
from .fetch import Fetcher, FetchError, Response

PAGE_KINDS = ("html", "pdf")
# The date from the page's metadata, markup and URL only: htmldate's extensive search
# guesses from any date in the text, and its dateparser fallback costs seconds per page
# without a dated markup.
DATE_SEARCH = {"extensive_search": False, "original_date": True}


def fetch_article(fetcher: Fetcher, url: str) -> Article:
    """The article at ``url`` (an HTML page or a PDF); `FetchError` naming the URL if it
    cannot be fetched or holds no article text."""
    return article_from_response(fetcher.fetch(url, PAGE_KINDS))


def article_from_response(response: Response) -> Article:
    """The article in a fetched page or PDF; `FetchError` naming the URL if there is none."""
    try:
        if response.kind == "pdf":
            from .pdf import read_pdf
            return read_pdf(response.body, path=response.url,
                            url=public_url(response.final_url),
                            source=_host(response.final_url))
        if response.kind == "html":
            return page_article(response)
    except BadArticle as exc:
        raise FetchError(response.url, str(exc)) from None
    raise FetchError(response.url, f"not a page or a PDF ({response.kind or 'no content'})")


def page_article(response: Response) -> Article:
    """The article of an HTML page; `BadArticle` if trafilatura finds no article text."""
    import trafilatura

    html = response.body.decode(response.charset, errors="replace") if _known_charset(
        response.charset) else response.body
    doc = trafilatura.bare_extraction(html, url=response.final_url, with_metadata=True,
                                      include_comments=False,
                                      date_extraction_params=DATE_SEARCH)
    if doc is None or not (doc.text or "").strip():
        raise BadArticle("no article text found in the page")
    return article_from_text(
        doc.text, title=doc.title or "", path=response.url,
        url=canonical_url(doc.url or "", response.final_url), date=doc.date or "",
        author=doc.author or "", source=doc.sitename or _host(response.final_url),
        lang=doc.language or "")


def canonical_url(declared: str, final_url: str) -> str:
    """The page's own canonical URL if it is on the same site, else where we found it."""
    import courlan

    if declared and declared.startswith(("http://", "https://")) and not courlan.is_external(
            declared, final_url, ignore_suffix=True):
        return public_url(declared)
    return public_url(final_url)


def public_url(url: str) -> str:
    """``url`` normalized, without tracking parameters or fragment."""
    import courlan

    return courlan.normalize_url(url, strict=True) or url


def with_feed_details(article: Article, *, feed: str, date: str = "", author: str = "") -> Article:
    """``article`` marked as coming from ``feed``, with the item's date and author where the
    page gave none (its title and text, which make its id, stay the page's own)."""
    return replace(article, feed=feed, date=article.date or date,
                   author=article.author or author)


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host


def _known_charset(name: str) -> bool:
    import codecs

    try:
        return bool(name) and bool(codecs.lookup(name))
    except LookupError:
        return False
