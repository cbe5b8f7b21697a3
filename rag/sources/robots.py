"""Robots: whether a site's robots.txt lets us fetch a URL, and how long to wait between
requests to it.

Rules follow RFC 9309 as Python's `urllib.robotparser` reads them: a robots.txt that is
missing or answered 4xx allows everything; one answered 5xx means "not now" and the
fetch fails (the caller raises); rules are read for our product token ``rag-news`` (else
``*``). Each host's rules are kept for an hour.
"""

from __future__ import annotations

import threading
import time
from typing import Callable
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

ROBOTS_AGENT = "rag-news"
KEEP_SECONDS = 3600.0
MAX_CRAWL_DELAY = 30.0  # a larger Crawl-delay is read as this (one feed must finish)


class RobotsRules:
    """The robots.txt of each host, fetched once with ``get(url) -> (status, body)``."""

    def __init__(self, get: Callable[[str], tuple[int, bytes]]):
        self._get = get
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[float, RobotFileParser]] = {}

    def check(self, url: str) -> float:
        """The crawl delay (seconds) the host asks for; `FetchError` if it disallows ``url``."""
        from .fetch import FetchError

        try:
            rules = self._rules_for(url)
        except FetchError as exc:  # name the page asked for, not its robots.txt
            raise FetchError(url, f"{exc.problem} (while reading robots.txt)") from None
        if not rules.can_fetch(ROBOTS_AGENT, url):
            raise FetchError(url, "the site's robots.txt does not allow fetching this page")
        delay = rules.crawl_delay(ROBOTS_AGENT)
        return min(float(delay or 0.0), MAX_CRAWL_DELAY)

    def _rules_for(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        with self._lock:
            kept = self._rules.get(robots_url)
        if kept and time.monotonic() - kept[0] < KEEP_SECONDS:
            return kept[1]
        status, body = self._get(robots_url)
        rules = RobotFileParser(robots_url)
        if 200 <= status < 300:
            rules.parse(body.decode("utf-8", errors="replace").splitlines())
        else:  # missing or forbidden robots.txt: everything is allowed (RFC 9309 2.3.1.3)
            rules.parse([])
        with self._lock:
            self._rules[robots_url] = (time.monotonic(), rules)
        return rules
