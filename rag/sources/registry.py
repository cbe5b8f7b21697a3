"""Registry: the feeds and pages a library follows, remembered between runs in SQLite.

For each feed: its URL, title, policy for items gone from it ("keep" or "remove"), the
validators of its last answer (ETag, Last-Modified), when it was last synced and the last
error. For each feed item: the article it became, a fingerprint of the item, so an
unchanged item is not fetched again, and whether the user removed its article (dismissed:
not fetched again while it stays in the feed). For each page added by URL: its article and
validators. An article stays while anything here refers to it, so the same article
reached by URL and by a feed, or by two feeds, is removed only when the last goes.

A registry written before items could be dismissed gains the column when first opened.

Each call opens its own connection, so one registry may serve many threads; SQLite's
locking serializes writers across processes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterator, Literal, Sequence

from ..settings import Settings
from ..store import store_file

Policy = Literal["keep", "remove"]
POLICIES: tuple[Policy, ...] = ("keep", "remove")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, title TEXT NOT NULL, policy TEXT NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, added REAL NOT NULL, last_sync REAL NOT NULL,
    last_error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    feed TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE, key TEXT NOT NULL,
    url TEXT NOT NULL, article_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    from_summary INTEGER NOT NULL, dismissed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (feed, key));
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, article_id TEXT NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, fetched REAL NOT NULL);
"""


@dataclass(frozen=True)
class FeedRecord:
    url: str
    title: str = ""
    policy: Policy = "keep"   # what happens to an article whose item left the feed
    etag: str = ""
    last_modified: str = ""
    added: float = 0.0        # Unix times; 0 = never
    last_sync: float = 0.0
    last_error: str = ""
    # its items' articles in the library, each once: counted by `Sources.feeds`, not stored
    articles: int = field(default=0, metadata={"stored": False})


@dataclass(frozen=True)
class ItemRecord:
    feed: str
    key: str
    url: str
    article_id: str
    fingerprint: str
    from_summary: bool = False  # the page could not be read: the feed's own text was used
    dismissed: bool = False     # the user removed its article: not fetched again


@dataclass(frozen=True)
class PageRecord:
    url: str
    article_id: str
    etag: str = ""
    last_modified: str = ""
    fetched: float = 0.0


class Registry:
    """The SQLite file at ``path`` (created on first write)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._ready = False

    # -- feeds ------------------------------------------------------------------------
    def feeds(self) -> list[FeedRecord]:
        with self._db() as db:
            return [FeedRecord(*row) for row in db.execute(
                f"SELECT {_columns(FeedRecord)} FROM feeds ORDER BY url")]

    def feed(self, url: str) -> FeedRecord | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_columns(FeedRecord)} FROM feeds WHERE url = ?",
                             (url,)).fetchone()
        return FeedRecord(*row) if row else None

    def save_feed(self, feed: FeedRecord) -> None:
        """Add ``feed`` or replace what is known of it (its items are kept)."""
        with self._db() as db:
            db.execute(f"INSERT INTO feeds ({_columns(FeedRecord)}) VALUES ({_marks(FeedRecord)}) "
                       "ON CONFLICT(url) DO UPDATE SET " + ", ".join(
                           f"{name} = excluded.{name}" for name in _stored(FeedRecord)[1:]),
                       _values(feed))

    def remove_feed(self, url: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM feeds WHERE url = ?", (url,))

    # -- feed items -------------------------------------------------------------------
    def items(self, feed: str) -> dict[str, ItemRecord]:
        """The items last seen in ``feed``, by key."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_columns(ItemRecord)} FROM items WHERE feed = ?",
                              (feed,)).fetchall()
        return {row[1]: ItemRecord(*row[:5], bool(row[5]), bool(row[6])) for row in rows}

    def item_articles(self) -> dict[str, frozenset[str]]:
        """By feed URL, the ids of the articles its items became."""
        with self._db() as db:
            rows = db.execute("SELECT feed, article_id FROM items").fetchall()
        ids: dict[str, set[str]] = {}
        for feed, article in rows:
            ids.setdefault(feed, set()).add(article)
        return {feed: frozenset(articles) for feed, articles in ids.items()}

    def record_sync(self, feed: FeedRecord, items: Sequence[ItemRecord],
                    forgotten: Sequence[str]) -> None:
        """After a sync: the feed's new state, its current items, and the keys to forget."""
        with self._db() as db:
            db.execute(f"UPDATE feeds SET ({_columns(FeedRecord)}) = ({_marks(FeedRecord)}) "
                       "WHERE url = ?", (*_values(feed), feed.url))
            db.executemany(f"INSERT OR REPLACE INTO items ({_columns(ItemRecord)}) "
                           f"VALUES ({_marks(ItemRecord)})", [_values(i) for i in items])
            db.executemany("DELETE FROM items WHERE feed = ? AND key = ?",
                           [(feed.url, key) for key in forgotten])

    # -- pages ------------------------------------------------------------------------
    def page(self, url: str) -> PageRecord | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_columns(PageRecord)} FROM pages WHERE url = ?",
                             (url,)).fetchone()
        return PageRecord(*row) if row else None

    def pages(self) -> list[PageRecord]:
        with self._db() as db:
            return [PageRecord(*row) for row in db.execute(
                f"SELECT {_columns(PageRecord)} FROM pages ORDER BY url")]

    def save_page(self, page: PageRecord) -> None:
        with self._db() as db:
            db.execute(f"INSERT OR REPLACE INTO pages ({_columns(PageRecord)}) "
                       f"VALUES ({_marks(PageRecord)})", _values(page))

    def dismiss(self, article_ids: Sequence[str]) -> None:
        """The user removed these articles: forget the pages that became them, and mark
        the feed items that became them as dismissed. Nothing to do (and no file made)
        for a registry never written."""
        if not self.path.exists():
            return
        with self._db() as db:
            db.executemany("UPDATE items SET dismissed = 1 WHERE article_id = ?",
                           [(i,) for i in article_ids])
            db.executemany("DELETE FROM pages WHERE article_id = ?",
                           [(i,) for i in article_ids])

    # -- references -------------------------------------------------------------------
    def referenced(self, *, except_feed: str = "", except_pages: Sequence[str] = ()) -> set[str]:
        """Ids of the articles that pages (but ``except_pages``) or feeds (but
        ``except_feed``) refer to."""
        with self._db() as db:
            items = db.execute("SELECT article_id FROM items WHERE feed != ?", (except_feed,))
            pages = db.execute("SELECT url, article_id FROM pages").fetchall()
            return ({row[0] for row in items}
                    | {article for url, article in pages if url not in set(except_pages)})

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                db.executescript(_SCHEMA)
                _add_dismissed(db)
                self._ready = True
            with db:  # one transaction: committed on success, rolled back on error
                yield db


def registry_path(settings: Settings) -> Path:
    """Where the registry of ``settings``' store lives (`rag.store.store_file`)."""
    return store_file(settings, "sources")


def _add_dismissed(db: sqlite3.Connection) -> None:
    """Give a registry written before items could be dismissed its ``dismissed`` column."""
    if "dismissed" in {row[1] for row in db.execute("PRAGMA table_info(items)")}:
        return
    try:
        db.execute("ALTER TABLE items ADD COLUMN dismissed INTEGER NOT NULL DEFAULT 0")
    except sqlite3.OperationalError as exc:  # another process added it meanwhile
        if "duplicate column" not in str(exc):
            raise


def _stored(record: type) -> list[str]:
    """The names of ``record``'s fields that are table columns, in order."""
    return [f.name for f in fields(record) if f.metadata.get("stored", True)]


def _values(record: object) -> tuple:
    return tuple(getattr(record, name) for name in _stored(type(record)))


def _columns(record: type) -> str:
    return ", ".join(_stored(record))


def _marks(record: type) -> str:
    return ", ".join("?" for _ in _stored(record))
