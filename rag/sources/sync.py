"""Sync: bring a library up to date with the pages and feeds it follows.

`Sources` adds pages by URL and keeps feeds in sync. Each feed sync fetches the feed
(conditionally: an unchanged feed answers 304 and costs nothing), fetches the page of each
new or changed item (its article replaces the item's previous one), falls back to the
item's own text when the page cannot be fetched or holds no article, and, for items gone
from the feed, keeps or removes their articles by the feed's policy. All of it reaches the
library as one `sync` call per feed (atomic), and only then is the registry updated, so an
interrupted sync is redone, never half-remembered. A full sync first brings back the pages
added by URL whose articles the library lost (an index rebuilt from files); feed items
whose articles it lost come back with their feed's sync.

An article the user removes stays removed (`dismiss`): its page is forgotten (adding the
URL again brings it back) and its feed items are dismissed, not fetched again while they
stay in their feed (unless the article comes back some other way).

Nothing is removed on a failure: a feed that cannot be fetched or parsed, a malformed feed
(whose missing items may be a truncation), a feed that suddenly lists no items, and an
item whose page fails now but was read before all leave the indexed articles as they are.
An article stays while any page or feed still refers to it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Protocol, Sequence
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from ..corpus import Article, BadArticle, Skipped, article_from_text
from .feeds import Feed, FeedError, FeedItem, discover_feeds, parse_feed
from ..settings import Settings
from .fetch import MIB, Fetcher, FetchError, Limits, Validators, checked_url
from .registry import (POLICIES, FeedRecord, ItemRecord, PageRecord, Policy, Registry,
                       registry_path)
from .web import PAGE_KINDS, article_from_response, with_feed_details

log = logging.getLogger(__name__)


class ArticleLibrary(Protocol):
    """What sources need of a library (`rag.library.Library` is one)."""

    def articles(self) -> list[Article]: ...

    def sync(self, found: Sequence[Article], in_scope: Callable[[Article], bool],
             skipped: Sequence[Skipped] = (), progress: bool = False) -> Any:
        """Make the stored articles ``in_scope`` be exactly ``found``; returns a report with
        ``added``, ``updated``, ``removed`` and ``unchanged`` counts."""


@dataclass(frozen=True)
class FeedSync:
    """What one feed's sync did."""

    feed: str
    title: str = ""
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    kept: int = 0                 # items gone from the feed whose articles were kept
    not_modified: bool = False    # the feed answered 304: nothing to do
    error: str = ""               # the feed could not be fetched or read: nothing changed
    warning: str = ""             # the feed was malformed: items read, none taken as gone
    skipped: tuple[Skipped, ...] = ()  # items that could not be read (url, reason)
    seconds: float = 0.0


@dataclass(frozen=True)
class PagesSync:
    """What bringing back the pages added by URL whose articles the library lost did."""

    restored: int = 0
    skipped: tuple[Skipped, ...] = ()  # pages that could not be fetched again (url, reason)


@dataclass(frozen=True)
class SyncReport:
    """What one `Sources.sync` did: to the pages added by URL, then to each feed."""

    pages: PagesSync = PagesSync()
    feeds: tuple[FeedSync, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether a feed or a page could not be synced (it was left as it was)."""
        return bool(self.pages.skipped) or any(f.error for f in self.feeds)


@dataclass
class _Plan:
    """A feed sync's work, gathered before anything is written."""

    found: list[Article] = field(default_factory=list)
    records: list[ItemRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    forgotten: list[str] = field(default_factory=list)
    kept: int = 0


class Sources:
    """Pages by URL and feeds, for one library, remembered in one registry."""

    def __init__(self, library: ArticleLibrary, registry: Registry, fetcher: Fetcher):
        self.library = library
        self.registry = registry
        self.fetcher = fetcher

    @classmethod
    def for_settings(cls, library: ArticleLibrary, settings: Settings) -> "Sources":
        """Sources for ``library`` with the settings' limits; the registry lives beside a
        local index (``sources.sqlite``), or in the home folder for a database store."""
        limits = Limits(timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_mb * MIB)
        return cls(library, Registry(registry_path(settings)), Fetcher(limits))

    # -- pages ------------------------------------------------------------------------
    def add_urls(self, urls: Iterable[str], *, progress: bool = False) -> Any:
        """Fetch and index the pages (or PDFs) at ``urls``; a page fetched before and
        unchanged (304, or the same text) is not embedded again, a changed one replaces
        its earlier article. URLs that fail are reported as skipped (url, reason)."""
        stored = {a.id: a for a in self.library.articles()}
        found, pages, skipped, replaced = [], [], [], set()
        for url in tqdm(list(urls), desc="fetching", unit="page", disable=not progress):
            try:
                article, page, old = self._page(url, stored)
            except FetchError as exc:
                log.warning("skipped %s", exc)
                skipped.append(Skipped(exc.url, exc.problem))
                continue
            found.append(article)
            pages.append(page)
            replaced |= {old} - {""}
        replaced -= self.registry.referenced(except_pages=[p.url for p in pages])
        replaced -= {a.id for a in found}
        report = self.library.sync(found, lambda a: a.id in replaced, skipped, progress)
        for page in pages:
            self.registry.save_page(page)
        return report

    def dismiss(self, article_ids: Iterable[str]) -> None:
        """The user removed these articles: no sync brings them back. Their pages are
        forgotten (adding the URL again brings one back) and their feed items dismissed
        (not fetched again while they stay in their feed)."""
        self.registry.dismiss(list(article_ids))

    def restore_pages(self, *, progress: bool = False) -> PagesSync:
        """Fetch again the pages added by URL whose articles are missing from the library
        (the index was rebuilt from files); a page that fails now is tried at the next."""
        stored = {a.id for a in self.library.articles()}
        missing = [p.url for p in self.registry.pages() if p.article_id not in stored]
        if not missing:
            return PagesSync()
        report = self.add_urls(missing, progress=progress)
        return PagesSync(report.added + report.updated, tuple(report.skipped))

    def _page(self, url: str, stored: dict[str, Article]) -> tuple[Article, PageRecord, str]:
        """The article at ``url``, its page record, and the id of the article it replaces."""
        url = checked_url(url)
        known = self.registry.page(url)
        have = known is not None and known.article_id in stored
        response = self.fetcher.fetch(url, PAGE_KINDS, validators=Validators(
            known.etag, known.last_modified) if have else Validators())
        if response.not_modified and have:
            return stored[known.article_id], replace(known, fetched=time.time()), ""
        article = article_from_response(response)
        page = PageRecord(url, article.id, response.validators.etag,
                          response.validators.last_modified, time.time())
        return article, page, known.article_id if known else ""

    # -- feeds ------------------------------------------------------------------------
    def feeds(self, articles: Iterable[Article] | None = None) -> list[FeedRecord]:
        """The feeds followed, each with ``articles``: how many articles its items brought
        into the library are there now (an article counts once, also when it was added by
        URL as well). ``articles``: the library's, as the caller has just read them (so
        the counts agree with what it shows); by default they are read now."""
        stored = {a.id for a in (self.library.articles() if articles is None else articles)}
        ids = self.registry.item_articles()
        return [replace(f, articles=len(ids.get(f.url, frozenset()) & stored))
                for f in self.registry.feeds()]

    def add_feed(self, url: str, *, policy: Policy = "keep") -> FeedRecord:
        """Follow the feed at ``url`` (or the first one a web page at ``url`` announces);
        `FetchError` if there is none. Adding a followed feed again changes its policy."""
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r}: must be one of {', '.join(POLICIES)}")
        response = self.fetcher.fetch(url, ("feed", "html"))
        if response.kind == "html":
            announced = discover_feeds(response.body, response.final_url)
            if not announced:
                raise FetchError(response.url, "a web page that announces no RSS or Atom feed")
            response = self.fetcher.fetch(announced[0], ("feed",))
        feed = _parsed(response.url, response.body)
        known = self.registry.feed(response.url)
        record = replace(known, policy=policy) if known else FeedRecord(
            response.url, feed.title, policy, added=time.time())
        self.registry.save_feed(record)
        return record

    def remove_feed(self, url: str, *, keep_articles: bool = False) -> Any:
        """Stop following a feed and remove its articles (unless ``keep_articles``, or
        something else refers to them); returns the library's report."""
        url = checked_url(url)
        if self.registry.feed(url) is None:
            raise KeyError(f"no such feed: {url} (see `rag feeds list`)")
        ids = {item.article_id for item in self.registry.items(url).values()}
        ids = set() if keep_articles else ids - self.registry.referenced(except_feed=url)
        report = self.library.sync([], lambda a: a.id in ids)
        self.registry.remove_feed(url)
        return report

    def sync(self, urls: Sequence[str] = (), *, progress: bool = False) -> SyncReport:
        """Sync the feeds at ``urls``, one after another; without ``urls``, first bring back
        the pages whose articles the library lost, then sync every feed followed."""
        wanted = {checked_url(u) for u in urls}
        feeds = [f for f in self.registry.feeds() if not wanted or f.url in wanted]
        missing = wanted - {f.url for f in feeds}
        if missing:
            raise KeyError(f"no such feed: {', '.join(sorted(missing))} (see `rag feeds list`)")
        pages = PagesSync() if wanted else self.restore_pages(progress=progress)
        return SyncReport(pages, tuple(self.sync_feed(feed, progress=progress)
                                       for feed in feeds))

    def sync_feed(self, feed: FeedRecord, *, progress: bool = False) -> FeedSync:
        started = time.perf_counter()
        stored = {a.id: a for a in self.library.articles()}
        known = self.registry.items(feed.url)
        complete = all(item.article_id in stored for item in known.values()
                       if not item.dismissed)
        try:
            response = self.fetcher.fetch(feed.url, ("feed",), validators=Validators(
                feed.etag, feed.last_modified) if complete else Validators())
            parsed = None if response.not_modified else _parsed(feed.url, response.body)
        except FetchError as exc:
            log.warning("feed not synced: %s", exc)
            self.registry.record_sync(replace(feed, last_sync=time.time(),
                                              last_error=exc.problem), [], [])
            return FeedSync(feed.url, feed.title, error=exc.problem,
                            seconds=time.perf_counter() - started)
        if parsed is None:
            self.registry.record_sync(replace(feed, last_sync=time.time(), last_error=""), [], [])
            return FeedSync(feed.url, feed.title, not_modified=True,
                            unchanged=sum(not i.dismissed for i in known.values()),
                            seconds=time.perf_counter() - started)
        plan = self._plan(feed, parsed, known, stored, progress)
        report = self.library.sync(plan.found, lambda a: a.id in plan.removed, plan.skipped,
                                   progress)
        self.registry.record_sync(replace(
            feed, title=parsed.title or feed.title, etag=response.validators.etag,
            last_modified=response.validators.last_modified, last_sync=time.time(),
            last_error=parsed.problem), plan.records, plan.forgotten)
        return FeedSync(feed.url, parsed.title or feed.title, report.added, report.updated,
                        report.removed, report.unchanged, plan.kept, warning=parsed.problem,
                        skipped=tuple(plan.skipped), seconds=time.perf_counter() - started)

    def _plan(self, feed: FeedRecord, parsed: Feed, known: dict[str, ItemRecord],
              stored: dict[str, Article], progress: bool) -> _Plan:
        plan = _Plan()
        for item in tqdm(parsed.items, desc=f"syncing {_host(feed.url)}", unit="item",
                         disable=not progress):
            self._plan_item(plan, feed, parsed.title, item, known.get(item.key), stored)
        listed = {item.key for item in parsed.items}
        gone = [record for key, record in known.items() if key not in listed]
        whole = parsed.complete and bool(parsed.items)
        if feed.policy == "remove" and whole:
            plan.removed |= {record.article_id for record in gone}
            plan.forgotten = [record.key for record in gone]
        else:  # kept; those whose article is gone too (removed, or lost) are forgotten
            plan.kept = sum(record.article_id in stored for record in gone)
            plan.forgotten = [r.key for r in gone if whole and r.article_id not in stored]
        plan.removed -= self.registry.referenced(except_feed=feed.url)
        plan.removed -= {r.article_id for r in plan.records if not r.dismissed}
        plan.removed -= {a.id for a in plan.found}
        return plan

    def _plan_item(self, plan: _Plan, feed: FeedRecord, feed_title: str, item: FeedItem,
                   old: ItemRecord | None, stored: dict[str, Article]) -> None:
        """Decide one item: dismissed, unchanged, (re)read, or kept as it was when it
        cannot be read."""
        had = old is not None and old.article_id in stored
        if old is not None and old.dismissed:
            if not had:  # the user removed its article
                plan.records.append(old)
                return
            old = replace(old, dismissed=False)  # its article came back some other way
        if had and old.fingerprint == item.fingerprint and not old.from_summary:
            plan.found.append(stored[old.article_id])
            plan.records.append(old)
            return
        try:
            article, from_summary = self._item_article(item, feed.url, feed_title)
        except FetchError as exc:
            log.warning("feed item skipped: %s", exc)
            plan.skipped.append(Skipped(exc.url, exc.problem))
            article, from_summary = None, True
        if had and (article is None or (from_summary and not old.from_summary)):
            plan.found.append(stored[old.article_id])  # a failed read loses nothing
            plan.records.append(old)
            return
        if article is None:
            return
        plan.found.append(article)
        plan.records.append(ItemRecord(feed.url, item.key, item.link, article.id,
                                       item.fingerprint, from_summary))
        if old is not None and old.article_id != article.id:
            plan.removed.add(old.article_id)

    def _item_article(self, item: FeedItem, feed_url: str, feed_title: str
                      ) -> tuple[Article, bool]:
        """The item's page as an article, else its own text (then True); `FetchError`."""
        problem = "the item has no link"
        if item.link:
            try:
                article = article_from_response(self.fetcher.fetch(item.link, PAGE_KINDS))
                return with_feed_details(article, feed=feed_url, date=item.date,
                                         author=item.author), False
            except FetchError as exc:
                problem = exc.problem
        where = item.link or f"{feed_url}#{item.key}"
        if not item.text:
            raise FetchError(where, f"{problem}, and the feed gives no text for it")
        try:
            article = article_from_text(item.text, title=item.title, path=where, url=item.link,
                                        date=item.date, author=item.author,
                                        source=feed_title or _host(feed_url))
        except BadArticle as exc:
            raise FetchError(where, f"{problem}, and the feed's text for it: {exc}") from None
        log.warning("%s: %s; indexed the feed's text for it instead", where, problem)
        return replace(article, feed=feed_url), True


def _parsed(url: str, body: bytes) -> Feed:
    try:
        return parse_feed(body, url)
    except FeedError as exc:
        raise FetchError(url, str(exc)) from None


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host[4:] if host.startswith("www.") else host
