"""Fetch: polite HTTP GETs of the pages, feeds and PDFs a user asked for.

A `Fetcher` (httpx underneath) asks one host one thing at a time, waits as long as the
host's robots.txt asks between requests, and obeys its rules (`rag.sources.robots`). It
names the project in its User-Agent, gives up after a timeout that also bounds a response
trickling in slowly, refuses a body over a size limit without reading it all (by its
Content-Length when declared, else by counting while streaming), follows at most a few
redirects (a loop is reported as one), sends ETag / Last-Modified validators so an
unchanged page or feed is answered 304, and refuses content it was not asked for before
reading it (a video where a page was expected).

Every failure is a `FetchError` naming the URL and the problem.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Collection, Iterator, Literal, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ..errors import RagError
from .robots import ROBOTS_AGENT, RobotsRules

Kind = Literal["html", "pdf", "feed"]
T = TypeVar("T")
USER_AGENT = (f"{ROBOTS_AGENT}/0.1 (a private, local news assistant; fetches only the "
              "pages and feeds its user asks for)")
MIB = 1024 * 1024

_TYPES: dict[str, Kind] = {
    "text/html": "html", "application/xhtml+xml": "html",
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "application/rss+xml": "feed", "application/atom+xml": "feed",
    "application/rdf+xml": "feed", "application/x-rss+xml": "feed",
    "application/xml": "feed", "text/xml": "feed",
}
_UNLABELLED = {"", "application/octet-stream", "binary/octet-stream", "text/plain"}
_ACCEPT = {"html": "text/html,application/xhtml+xml;q=0.9", "pdf": "application/pdf;q=0.8",
           "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.8"}
_REDIRECTS = {301, 302, 303, 307, 308}
_NAMES = {"html": "an HTML page", "pdf": "a PDF", "feed": "an RSS or Atom feed"}


class FetchError(RagError, ValueError):
    """A URL that could not be fetched or read; the message names the URL and the problem."""

    def __init__(self, url: str, problem: str):
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


@dataclass(frozen=True)
class Validators:
    """What a server said identifies its version of a resource, for conditional requests."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class Response:
    """A fetched resource. ``not_modified``: the server answered 304 (``body`` is empty)."""

    url: str          # the URL asked for
    final_url: str    # where the redirects ended
    kind: Kind | None
    body: bytes = b""
    charset: str = ""  # from the Content-Type header, "" if it named none
    validators: Validators = Validators()
    not_modified: bool = False


@dataclass(frozen=True)
class Limits:
    """How far a fetch may go: seconds for the whole response, bytes, redirects."""

    timeout: float = 20.0
    max_bytes: int = 20 * MIB
    max_redirects: int = 5
    robots_bytes: int = 512 * 1024


@dataclass(frozen=True)
class _Redirect:
    location: str


class Fetcher:
    """Polite GETs; one instance may serve many threads (it holds one connection pool)."""

    def __init__(self, limits: Limits = Limits(), *, user_agent: str = USER_AGENT):
        self.limits = limits
        self._client = httpx.Client(
            follow_redirects=False, timeout=httpx.Timeout(limits.timeout),
            headers={"User-Agent": user_agent})
        self._robots = RobotsRules(self._robots_txt)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, accept: Collection[Kind], *,
              validators: Validators = Validators()) -> Response:
        """GET ``url``, following redirects, if robots.txt allows it; `FetchError` if the
        resource is not one of the ``accept``ed kinds, too large, too slow or unreachable."""
        asked = checked_url(url)
        headers = {"Accept": ",".join(_ACCEPT[k] for k in accept), **validators.headers()}
        hops = [asked]
        for _ in range(self.limits.max_redirects + 1):
            delay = self._robots.check(hops[-1])
            result = self._get(hops[-1], headers, delay,
                               lambda u, r: self._resource(u, r, accept, validators))
            if isinstance(result, Response):
                return Response(asked, result.final_url, result.kind, result.body,
                                result.charset, result.validators, result.not_modified)
            target = checked_url(urljoin(hops[-1], result.location), asked)
            if target in hops:
                raise FetchError(asked, "redirect loop: " + " -> ".join(hops + [target]))
            hops.append(target)
        raise FetchError(asked, f"too many redirects (more than {self.limits.max_redirects})")

    def _robots_txt(self, url: str) -> tuple[int, bytes]:
        """Status and body of a robots.txt, redirects followed (status 0: they loop)."""
        hops = [url]
        for _ in range(self.limits.max_redirects + 1):
            result = self._get(hops[-1], {}, 0.0, self._robots_answer)
            if not isinstance(result, _Redirect):
                return result
            target = urljoin(hops[-1], result.location)
            if target in hops or urlsplit(target).scheme not in ("http", "https"):
                return 0, b""
            hops.append(target)
        return 0, b""

    def _get(self, url: str, headers: dict[str, str], delay: float,
             answer: Callable[[str, httpx.Response], T]) -> T | _Redirect:
        """One GET, in the host's turn; a redirect is returned, anything else ``answer``ed."""
        with _HOSTS.turn(urlsplit(url).netloc, delay), _errors(url, self.limits.timeout):
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code not in _REDIRECTS:
                    return answer(url, response)
                if "location" not in response.headers:
                    raise FetchError(url, f"HTTP {response.status_code} redirect without a "
                                          "Location header")
                return _Redirect(response.headers["location"])

    def _resource(self, url: str, response: httpx.Response, accept: Collection[Kind],
                  validators: Validators) -> Response:
        if response.status_code == 304:
            return Response(url, url, None, validators=validators, not_modified=True)
        if not 200 <= response.status_code < 300:
            raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
        max_bytes = self.limits.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(url, f"too large: {int(declared):,} bytes (limit {max_bytes:,})")
        chunks = _limited(url, response.iter_bytes(), max_bytes, self.limits.timeout)
        first = next(chunks, b"")
        mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
        kind = _kind(url, mime, first, accept)
        body = first + b"".join(chunks)
        return Response(url, url, kind, body, response.charset_encoding or "",
                        Validators(response.headers.get("etag", ""),
                                   response.headers.get("last-modified", "")))

    def _robots_answer(self, url: str, response: httpx.Response) -> tuple[int, bytes]:
        """A robots.txt answer: status and body (cut at the robots limit, on time).
        A 5xx answer is the server saying "not now": `FetchError`."""
        if response.status_code >= 500:
            raise FetchError(url, f"HTTP {response.status_code}: the site's robots.txt is "
                                  "unavailable, so nothing there is fetched now; try later")
        if not 200 <= response.status_code < 300:
            return response.status_code, b""
        body, deadline = bytearray(), time.monotonic() + self.limits.timeout
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= self.limits.robots_bytes or time.monotonic() > deadline:
                break
        return response.status_code, bytes(body[:self.limits.robots_bytes])


class _HostGate:
    """One request at a time per host (process-wide), spaced by the host's crawl delay."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}

    @contextmanager
    def turn(self, host: str, delay: float) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next[host] = time.monotonic() + delay


_HOSTS = _HostGate()


def checked_url(url: str, asked: str = "") -> str:
    """``url`` without its #fragment; `FetchError` unless it is an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        where = f"redirected to {url!r}, but " if asked else ""
        raise FetchError(asked or url, f"{where}only http:// and https:// URLs can be fetched")
    if not parts.hostname:
        raise FetchError(asked or url, "the URL names no host")
    return urlunsplit(parts._replace(fragment=""))


@contextmanager
def _errors(url: str, timeout: float) -> Iterator[None]:
    """httpx's exceptions as `FetchError`s that say what went wrong in words."""
    host = urlsplit(url).hostname
    try:
        yield
    except httpx.TimeoutException:
        raise FetchError(url, f"timed out after {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchError(url, f"cannot reach host {host}: {_reason(exc)}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise FetchError(url, f"broken response: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(url, f"{type(exc).__name__}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _limited(url: str, chunks: Iterator[bytes], max_bytes: int,
             timeout: float) -> Iterator[bytes]:
    """The body's chunks, stopping with `FetchError` past ``max_bytes`` or ``timeout``."""
    size, deadline = 0, time.monotonic() + timeout
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"too large: over the limit of {max_bytes:,} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, f"timed out after {timeout:g} s (the response came too slowly)")
        yield chunk


def _kind(url: str, mime: str, head: bytes, accept: Collection[Kind]) -> Kind:
    """What the body is, from its Content-Type (or its first bytes when unlabelled)."""
    kind = _TYPES.get(mime) or (_sniff(head) if mime in _UNLABELLED else None)
    if kind is None and mime.endswith(("+xml", "/xml")):
        kind = "feed"
    if kind == "html" and "feed" in accept and _sniff(head) == "feed":
        kind = "feed"  # a feed served as text/html
    if kind not in accept:
        wanted = " or ".join(_NAMES[k] for k in accept)
        found = _NAMES[kind] if kind else f"content of type {mime or '(none given)'!r}"
        raise FetchError(url, f"not {wanted}: the server sent {found}")
    return kind


def _sniff(head: bytes) -> Kind | None:
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"%pdf-"):
        return "pdf"
    if any(tag in start for tag in (b"<rss", b"<feed", b"<rdf:rdf")):
        return "feed"
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start:
        return "html"
    return None
