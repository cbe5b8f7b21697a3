"""Server: the chat page and the HTTP API on one host and port, local only by default.

    from rag.server import serve
    serve(Settings.load())   # http://127.0.0.1:7860/: the page; /v1/…: the API

On a loopback address (the default) no login is needed unless one is set. On any other
address serving is refused without a login: a user name and password (``rag serve --auth
USER:PASSWORD``; ``APP_AUTH`` for app.py) or a token (``RAG_API_TOKEN``). The page and
the API ask for the same login (`rag.login`).
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from .assistant import Assistant
from .errors import RagError
from .login import Login
from .settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds to wait for the server to listen


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if auth is None:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like USER:PASSWORD (both non-empty)")
    return user, password


def check_binding(settings: Settings, auth: str | None) -> Login:
    """The login to ask for; refuse a non-loopback address without one."""
    login = Login(parse_auth(auth), settings.api_token)
    if not is_loopback(settings.host) and not login:
        raise ValueError(f"refusing to serve on {settings.host} without a login: anyone on the "
                         "network could read your articles. Pass auth USER:PASSWORD "
                         "(rag serve --auth USER:PASSWORD) or set RAG_API_TOKEN, or bind "
                         "127.0.0.1.")
    return login


def page_options(settings: Settings, login: Login) -> dict[str, Any]:
    """The options of the chat page (`gradio.mount_gradio_app`)."""
    from . import ui
    message = None
    if login.token:
        message = ("Log in with your user name and password, or any user name and the API "
                   "token." if login.credentials else
                   "Log in with any user name and the API token.")
    return dict(server_name=settings.host, server_port=settings.port,
                auth=login.page_accepts if login else None, auth_message=message,
                max_file_size=f"{settings.max_upload_mb}mb", ssr_mode=False, css=ui.CSS,
                head=ui.HEAD, theme=ui.THEME, run_history=False,
                footer_links=["api", "settings"], show_error=True)


def build_server(assistant: Assistant, login: Login) -> "FastAPI":
    """One app: the HTTP API, and the chat page mounted at /."""
    from . import ui  # first: it keeps gradio from phoning home
    import gradio as gr

    from .http_api import build_api, private_app
    app = private_app(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/v1", build_api(assistant, login))
    return gr.mount_gradio_app(app, ui.build_app(assistant), path="/",
                               **page_options(assistant.settings, login))


class RunningServer:
    """A server listening in a background thread, until `close`."""

    def __init__(self, server: Any, thread: threading.Thread, url: str,
                 stop: list[Any]):
        self.server, self.thread, self.url, self._stop = server, thread, url, stop

    def close(self) -> None:
        for stop in self._stop:
            stop()
        self.server.should_exit = True
        self.thread.join(timeout=30)


class QuietCtrlC(logging.Filter):
    """Drops the traceback Starlette reports when Ctrl-C cancels the app's lifespan while
    uvicorn shuts down ("…in lifespan… CancelledError"): the reader pressed Ctrl-C, nothing
    failed. Every other error is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("CancelledError" in text and "lifespan" in text)


def serve(settings: Settings, *, auth: str | None = None, assistant: Assistant | None = None,
          block: bool = True) -> RunningServer | None:
    """Serve the page and the API on ``settings.host:port``. Blocks until stopped, or with
    ``block=False`` returns once listening, as a `RunningServer`."""
    import uvicorn
    login = check_binding(settings, auth)
    assistant = assistant or Assistant(settings)
    app = build_server(assistant, login)
    assistant.warm_up_in_background()  # the models load while the page opens
    stops = []
    if settings.sync_minutes:  # off by default
        from .sources.schedule import PeriodicSync
        stops.append(PeriodicSync(assistant.sources.sync, settings.sync_minutes).start().stop)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                           log_level="warning", timeout_graceful_shutdown=5))
    url = f"http://{settings.host}:{settings.port}/"
    if block:
        print(f"Serving the chat page at {url} and the API at {url}v1 (Ctrl-C stops).",
              file=sys.stderr, flush=True)
        logging.getLogger("uvicorn.error").addFilter(QuietCtrlC())
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn has shut down, then mostly raises Ctrl-C again
            pass
        finally:
            for stop in stops:
                stop()
        print("Stopped.", file=sys.stderr, flush=True)
        return None
    thread = threading.Thread(target=server.run, daemon=True, name="server")
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RagError(f"could not serve on {settings.host}:{settings.port} (is the port "
                           "in use?)")
        time.sleep(0.05)
    return RunningServer(server, thread, url, stops)
