"""Test helper: a web server on 127.0.0.1 whose answers each test sets, and a guard that
refuses every connection or name lookup beyond this machine.

    web = LocalWeb()                       # started; web.stop() when done
    web.routes["/a"] = Route(b"<html>…", etag='"v1"')
    web.url("/a")                          # http://127.0.0.1:PORT/a
    web.requests                           # every request: path and headers
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from typing import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """One path's answer."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""            # sent, and a matching If-None-Match is answered 304
    delay: float = 0.0        # seconds before answering
    trickle: float = 0.0      # seconds between bytes of the body
    endless: bool = False     # the body never ends (zeros until the client hangs up)
    declare: int | None = None  # Content-Length to announce (default: the body's)
    garbage: bool = False     # answer bytes that are not HTTP, then hang up


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class LocalWeb:
    """A threaded HTTP server on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.sent: dict[str, int] = {}   # body bytes written, by path
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up: the standard server prints the traceback to
    sys.stderr, which a test capturing a command's output would read as the command's."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _handler(web: LocalWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            route = web.routes.get(self.path.split("?")[0])
            with web._lock:
                web.requests.append(Request(self.path, dict(self.headers)))
                web.in_flight += 1
                web.max_in_flight = max(web.max_in_flight, web.in_flight)
            try:  # "in flight": from the request until its answer starts
                time.sleep(route.delay if route else 0.0)
            finally:
                with web._lock:
                    web.in_flight -= 1
            try:
                self._answer(route)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _answer(self, route: Route | None) -> None:
            if route is None:
                route = Route(b"not found", status=404, content_type="text/plain")
            if route.garbage:
                self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
                self.close_connection = True
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            length = route.declare if route.declare is not None else len(route.body)
            if not route.endless or route.declare is not None:
                self.send_header("Content-Length", str(length))
            if route.endless or route.declare is not None:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            self._body(route)

        def _body(self, route: Route) -> None:
            path = self.path.split("?")[0]
            if route.endless:
                block = b"\0" * 65536
                while True:
                    self.wfile.write(block)
                    with web._lock:
                        web.sent[path] = web.sent.get(path, 0) + len(block)
            if route.trickle:
                for i in range(len(route.body)):
                    self.wfile.write(route.body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(route.trickle)
                return
            self.wfile.write(route.body)
            with web._lock:
                web.sent[path] = web.sent.get(path, 0) + len(route.body)

    return Handler


def guard_network(monkeypatch) -> list[str]:
    """Refuse (and record) every connection or name lookup beyond the loopback address;
    also unset proxy variables, so a request to 127.0.0.1 goes straight there."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    attempts: list[str] = []

    def local(host: object) -> bool:
        if host in ("localhost", b"localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def guarded(name, real, target):
        def wrapper(*args, **kwargs):
            where = target(args)
            if where is not None and not local(where):
                attempts.append(f"{name} {where!r}")
                raise OSError(f"network access blocked in tests: {name} {where!r}")
            return real(*args, **kwargs)
        return wrapper

    address = lambda i: lambda args: (args[i][0] if isinstance(args[i], tuple) else None) \
        if len(args) > i else None  # noqa: E731
    host = lambda args: args[0] if args else None  # noqa: E731
    monkeypatch.setattr(socket.socket, "connect",
                        guarded("connect", socket.socket.connect, address(1)))
    monkeypatch.setattr(socket.socket, "connect_ex",
                        guarded("connect_ex", socket.socket.connect_ex, address(1)))
    monkeypatch.setattr(socket, "create_connection",
                        guarded("create_connection", socket.create_connection, address(0)))
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, guarded(name, getattr(socket, name), host))
    return attempts


def local_web(monkeypatch) -> Iterator[LocalWeb]:
    """A pytest fixture's body: a `LocalWeb`, with every connection beyond 127.0.0.1
    refused and the test failed if one was tried."""
    blocked = guard_network(monkeypatch)
    server = LocalWeb()
    yield server
    server.stop()
    assert blocked == [], f"the tests reached beyond 127.0.0.1: {blocked}"
