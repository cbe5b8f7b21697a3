"""HTTP errors: every failure of the HTTP API answers in the OpenAI error shape.

    {"error": {"message": "...", "type": "invalid_request_error", "param": "k", "code": null}}

with the status an OpenAI client expects: 400 for a bad request (bad JSON, a field out of
range, a bad filter, no question), 401 for a missing or wrong login, 404 for an unknown
model, article or conversation, 409 when the index holds no articles yet, 413 for a body
over the limit, 500/503 when the server or a model fails. Messages are one line, meant
for the user, and name the field or the problem.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Coroutine

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import RagError

log = logging.getLogger(__name__)

CODES = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "request_too_large", 503: "model_unavailable"}
TYPES = {401: "authentication_error", 500: "server_error", 503: "server_error"}


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """The OpenAI error shape."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description} for status, description in (
        (400, "Bad request: bad JSON, a field out of range, a bad filter"),
        (401, "Missing or wrong login (bearer token or basic auth)"),
        (413, "Request body over the limit"),
        (500, "The server failed"))}


class ApiError(Exception):
    """An error to answer with: status, message, and the OpenAI ``param`` and ``code``."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param
        self.code = code or CODES.get(status)
        self.headers = headers


def error_json(error: ApiError) -> dict[str, Any]:
    kind = TYPES.get(error.status, "server_error" if error.status >= 500
                     else "invalid_request_error")
    return {"error": {"message": error.message, "type": kind, "param": error.param,
                      "code": error.code}}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error_json(error), status_code=error.status, headers=error.headers)


def as_api_error(exc: BaseException) -> ApiError:
    """The `ApiError` for any exception raised while serving a request."""
    from .chats import ChatNotFound
    from .store import EmptyIndexError
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ChatNotFound):
        return ApiError(404, one_line(exc), param="conversation_id",
                        code="conversation_not_found")
    if isinstance(exc, EmptyIndexError):
        return ApiError(409, one_line(exc), code="empty_index")
    if isinstance(exc, ValueError):  # bad input the library refused (a filter, a title…)
        return ApiError(400, one_line(exc))
    if isinstance(exc, RagError):  # a model or the store failed: the message says what to do
        return ApiError(503, one_line(exc))
    log.exception("request failed")
    return ApiError(500, f"internal error: {one_line(exc)}", code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error raised by the app's routes in the OpenAI error shape."""
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(ApiError(exc.status_code, str(exc.detail),
                                       headers=getattr(exc, "headers", None)))

    async def on_other(request: Request, exc: Exception) -> JSONResponse:
        return error_response(as_api_error(exc))

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(ApiError, on_other)
    app.add_exception_handler(Exception, on_other)  # outside a route: a 500, logged


class ApiRoute(APIRoute):
    """A route whose every failure becomes an `ApiError`: answered in the OpenAI shape,
    with the connection kept open for the client's next request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, RequestValidationError):
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is answered
                raise as_api_error(exc) from exc
        return route


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with a 413 in the OpenAI shape: at once
    when its Content-Length says so, else when the bytes read pass it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await error_response(self._too_large())(scope, receive, send)
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > self.max_bytes:  # an HTTPException: the app answers it (on_http)
                raise HTTPException(413, self._too_large().message)
            return message
        await self.app(scope, counted, send)

    def _too_large(self) -> ApiError:
        return ApiError(413, f"the request body is over the {self.max_bytes / 2**20:g} MB "
                             "limit (setting max_upload_mb)")


def validation_error(exc: RequestValidationError) -> ApiError:
    """The first problem pydantic found, naming the field (``filters.date_from``)."""
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        reason = first.get("ctx", {}).get("error", "")
        return ApiError(400, f"the request body is not valid JSON: {reason}",
                        code="invalid_json")
    where = list(first.get("loc", ()))
    if where and where[0] in ("body", "query", "path", "header"):
        where = where[1:]  # where the field was sent, not its name
    param = ".".join(map(str, where)) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        message = "this field is required" if param else "the request needs a JSON body"
    return ApiError(400, f"{param}: {message}" if param else message, param=param,
                    code=first.get("type"))


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).strip("'\"")
    return text or type(exc).__name__
