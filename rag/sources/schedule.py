"""Schedule: sync the feeds (and bring back lost pages) in a background thread every few
minutes (while `rag serve` runs, when `Settings.sync_minutes` is above 0). The first sync
runs at once; a sync that fails is logged and tried again at the next turn."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .sync import FeedSync, SyncReport

log = logging.getLogger(__name__)


class PeriodicSync:
    """Calls ``sync()`` now and then every ``minutes``, in a daemon thread, until `stop`."""

    def __init__(self, sync: Callable[[], SyncReport], minutes: float):
        if minutes <= 0:
            raise ValueError(f"sync interval {minutes!r} minutes: must be above 0")
        self._sync = sync
        self.seconds = minutes * 60.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="feed-sync")

    def start(self) -> "PeriodicSync":
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end after the sync under way (if any), and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                _log(self._sync())
            except Exception as exc:  # noqa: BLE001 - the next turn tries again
                log.warning("feed sync failed: %s", exc)
            self._stop.wait(self.seconds)


def _log(report: SyncReport) -> None:
    if report.pages.restored:
        log.info("pages added by URL brought back: %d", report.pages.restored)
    for skipped in report.pages.skipped:
        log.warning("page not brought back: %s: %s", skipped.path, skipped.reason)
    for feed in report.feeds:
        _log_feed(feed)


def _log_feed(report: FeedSync) -> None:
    if report.error:
        log.warning("feed %s not synced: %s", report.feed, report.error)
    else:
        log.info("feed %s: %d added, %d updated, %d removed, %d unchanged", report.feed,
                 report.added, report.updated, report.removed, report.unchanged)
