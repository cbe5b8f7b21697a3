"""Web pages and feeds in the Corpus tab: the feeds followed, as a list, and what adding
pages, following, syncing and unfollowing did, said plainly ("Added 2 articles; 1 URL
skipped: https://…: HTTP 404 Not Found").

Each action makes one public call on `Assistant.sources` (`add_urls`, `add_feed`, `sync`,
`remove_feed`) and returns HTML; a failure is said in the page, never raised. Titles,
addresses and error messages come from the web: all of them are escaped.
"""

from __future__ import annotations

import html
import logging
import re
import time
from typing import Mapping, Sequence

from .assistant import Assistant
from .corpus import Article
from .sources.registry import FeedRecord
from .sources.sync import FeedSync, PagesSync
from .ui_corpus import error_html, report_html, skipped_line
from .ui_words import one_line, plural, short

log = logging.getLogger(__name__)

POLICY_WORDS = {"keep": "kept", "remove": "removed"}  # what happens to items that leave


def parse_urls(text: str | None) -> list[str]:
    """The addresses in ``text`` (one per line, or separated by spaces or commas), each
    once, in the order given."""
    return list(dict.fromkeys(u for u in re.split(r"[\s,]+", text or "") if u))


def feed_name(feed: FeedRecord | FeedSync) -> str:
    return feed.title or feed.url if isinstance(feed, FeedRecord) else feed.title or feed.feed


def synced_when(timestamp: float) -> str:
    """'2026-05-04 10:22' (local time), or 'never' for 0."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "never"


def feeds_html(feeds: Sequence[FeedRecord], counts: Mapping[str, int]) -> str:
    """The feeds followed as a table (cards at phone width): title and address, what
    happens to items that leave it, last sync, its articles in the library (``counts``, by
    feed URL), last error."""
    if not feeds:
        return ('<p class="rag-note">No feeds followed yet: add an RSS or Atom feed above, '
                "or a news site's page that announces one.</p>")
    rows = []
    for f in feeds:
        error = (f'<span class="problem">{html.escape(f.last_error)}</span>'
                 if f.last_error else "")
        rows.append(
            f'<tr><td class="title">{html.escape(f.title or "Untitled feed")}'
            f'<span class="url">{html.escape(f.url)}</span></td>'
            f"<td>items that leave it are {POLICY_WORDS.get(f.policy, f.policy)}</td>"
            f"<td>synced {synced_when(f.last_sync)}</td>"
            f"<td>{plural(counts.get(f.url, 0), 'article')}</td><td>{error}</td></tr>")
    return ('<table class="rag-articles rag-feeds"><thead><tr><th scope="col">Feed</th>'
            '<th scope="col">Policy</th><th scope="col">Last sync</th>'
            '<th scope="col">In the library</th><th scope="col">Last error</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def feed_choices(feeds: Sequence[FeedRecord]) -> list[tuple[str, str]]:
    """(label, url) for the list of feeds to act on."""
    return [(f"{short(f.title, 50)} ({f.url})" if f.title else f.url, f.url) for f in feeds]


def followed_html(feed: FeedRecord) -> str:
    """Said while the feed just followed is synced for the first time."""
    return (f'<div class="rag-message ok"><p>Following “{html.escape(feed_name(feed))}”; '
            "fetching its articles…</p></div>")


def sync_html(reports: Sequence[FeedSync], followed: FeedRecord | None = None,
              pages: PagesSync | None = None) -> str:
    """One line per feed: what its sync added, updated and removed, or why it was not
    synced; the items that could not be read are listed with the reason. First, the pages
    added by address that were brought back, if any."""
    pages = pages or PagesSync()
    if not reports and not pages.restored and not pages.skipped:
        return error_html("No feeds to sync: follow one first.")
    parts = [_pages_html(pages)] if pages.restored or pages.skipped else []
    if followed is not None:
        parts.append(f"<p>Now following “{html.escape(feed_name(followed))}”: items that "
                     f"leave it are {POLICY_WORDS[followed.policy]} from the library.</p>")
    elif len(reports) > 1:
        parts.append(f"<p>Synced {plural(len(reports), 'feed')}.</p>")
    parts += [_feed_sync_html(r) for r in reports]
    if not reports:
        parts.append("<p>No feeds to sync.</p>")
    failed = all(r.error for r in reports) and not pages.restored
    return f'<div class="rag-message {"error" if failed else "ok"}">{"".join(parts)}</div>'


def _feed_sync_html(report: FeedSync) -> str:
    name = html.escape(feed_name(report))
    if report.error:
        return (f'<p class="problem">{name}: not synced: {html.escape(report.error)}. '
                "Nothing was changed.</p>")
    if report.not_modified:
        return f"<p>{name}: no change since the last sync.</p>"
    done = [x for x in (
        report.added and f"added {plural(report.added, 'article')}",
        report.updated and f"updated {plural(report.updated, 'article')}",
        report.removed and f"removed {plural(report.removed, 'article')} that left the feed",
        report.kept and f"kept {plural(report.kept, 'article')} that left the feed",
        report.unchanged and f"{plural(report.unchanged, 'article')} unchanged") if x]
    out = f"<p>{name}: {', '.join(done) or 'nothing new'}"
    out += f"; {plural(len(report.skipped), 'item')} skipped:</p>" if report.skipped else ".</p>"
    if report.skipped:
        out += "<ul>" + "".join(f"<li>{html.escape(skipped_line(s.path, s.reason))}</li>"
                                for s in report.skipped) + "</ul>"
    if report.warning:
        out += (f'<p class="problem">The feed is malformed ({html.escape(report.warning)}); '
                "no article was removed.</p>")
    return out


def _pages_html(pages: PagesSync) -> str:
    lost = "added by address that the library had lost"
    out = f"<p>Brought back {plural(pages.restored, 'page')} {lost}"
    if not pages.skipped:
        return out + ".</p>"
    failed = plural(len(pages.skipped), "page")
    out = (f"{out}; {failed} could not be fetched" if pages.restored
           else f"<p>{failed} {lost} could not be fetched")
    return (out + " (tried again at the next sync):</p><ul>"
            + "".join(f"<li>{html.escape(skipped_line(s.path, s.reason))}</li>"
                      for s in pages.skipped) + "</ul>")


class SourcesActions:
    """What the web pages and feeds part of the Corpus tab does, each action through one
    public call of `Assistant.sources`."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def add_urls(self, text: str | None) -> tuple[str, str]:
        """Add the pages at the addresses in ``text``: what to say, and the addresses left
        to correct (those skipped; all of them when adding failed)."""
        urls = parse_urls(text)
        if not urls:
            return error_html("Type or paste the address of a web page or a PDF first "
                              "(one per line)."), ""
        try:
            report = self.assistant.sources.add_urls(urls, progress=True)
        except Exception as error:  # noqa: BLE001 - said in the page, logged in full
            log.exception("adding pages failed")
            return error_html(f"Could not add the pages: {one_line(error)}"), text or ""
        return report_html(report, "Added", "URL"), "\n".join(s.path for s in report.skipped)

    def follow(self, url: str | None, remove_gone: bool) -> tuple[str, FeedRecord | None]:
        """Follow the feed at ``url``: what to say, and the feed (to sync next) or None."""
        url = (url or "").strip()
        if not url:
            return error_html("Type or paste the address of a feed first."), None
        try:
            feed = self.assistant.sources.add_feed(
                url, policy="remove" if remove_gone else "keep")
        except Exception as error:  # noqa: BLE001
            log.warning("could not follow %s: %s", url, error)
            return error_html(f"Could not follow the feed: {one_line(error)}"), None
        return followed_html(feed), feed

    def sync(self, followed: FeedRecord | None = None) -> str:
        """Sync the feed just ``followed``, or everything (pages the library lost, then
        every feed)."""
        try:
            report = self.assistant.sources.sync([followed.url] if followed else (),
                                                 progress=True)
        except Exception as error:  # noqa: BLE001
            log.exception("sync failed")
            return error_html(f"Could not sync: {one_line(error)}")
        return sync_html(report.feeds, followed, report.pages)

    def listing(self, articles: Sequence[Article]) -> tuple[list[FeedRecord], dict[str, int]]:
        """The feeds followed, and how many of ``articles`` (the library's, as shown) each
        brought in (an article reached by two feeds, or by a feed and by its address,
        counts for each), by feed URL."""
        feeds = self.assistant.sources.feeds(articles)
        return feeds, {f.url: f.articles for f in feeds}

    def find(self, url: str | None) -> FeedRecord | None:
        """The feed followed at ``url``, if any."""
        return next((f for f in self.assistant.sources.feeds() if f.url == url), None)

    def unfollow(self, feed: FeedRecord | None, keep_articles: bool) -> str:
        if feed is None:
            return error_html("Choose a feed first.")
        try:
            report = self.assistant.sources.remove_feed(feed.url, keep_articles=keep_articles)
        except Exception as error:  # noqa: BLE001
            said = str(error.args[0]) if isinstance(error, KeyError) and error.args \
                else one_line(error)
            return error_html(f"Could not stop following it: {said}")
        gone = ("its articles were kept" if keep_articles
                else f"{plural(report.removed, 'article')} removed")
        return (f'<div class="rag-message ok"><p>Stopped following “'
                f"{html.escape(feed_name(feed))}”; {gone}. The library holds "
                f"{plural(report.total_articles, 'article')}.</p></div>")


def unfollow_question(feed: FeedRecord) -> str:
    return (f"<p>Stop following “{html.escape(feed_name(feed))}”? No more of its items will "
            "be fetched.</p>")
