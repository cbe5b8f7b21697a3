"""HTTP API: the assistant over HTTP, OpenAI-compatible and as thin as the CLI.

Served under /v1 (`rag.server` mounts it beside the chat page):

    POST   /v1/chat/completions    an answer with its citations, streamed or not (rag.http_chat)
    GET    /v1/models              the one model, "rag"
    POST   /v1/search              the passages for a query (no answer)
    GET    /v1/articles            the indexed articles; /v1/articles/{id}: one, with its text
    POST   /v1/articles            add articles: files (multipart ``files``) or text (JSON)
    DELETE /v1/articles/{id}       remove one
    GET    /v1/conversations       saved chats; GET, PATCH (title), DELETE /v1/conversations/{id}
    GET    /v1/conversations/{id}/markdown   a chat (or ``?turn=n``) as Markdown with sources
    GET    /v1/openapi.json        the OpenAPI description of all this

Each route makes one public call on `Assistant`. With a login set, every route asks for it
(`rag.login`); bodies are limited to ``max_upload_mb``; errors, unknown routes included,
come in the OpenAI shape (`rag.http_errors`).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from . import http_schema as schema
from .assistant import Assistant
from .corpus import Article
from .export import chat_markdown, turn_markdown
from .http_chat import Completion, check_model, events_of, final_answer, models_json
from .http_errors import (ERROR_RESPONSES, ApiError, ApiRoute, BodyLimit, ErrorBody,
                          install_error_handlers)
from .login import Login

MIB = 1024 * 1024
ARTICLE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/NewArticle"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}
STREAM = {200: {"description": "The completion; with ``stream``, server-sent events, each "
                               "``data: <ChatCompletionChunk>``, then ``data: [DONE]``",
                "content": {"text/event-stream": {"schema": {
                    "$ref": "#/components/schemas/ChatCompletionChunk"}}}}}
EMPTY = {409: {"model": ErrorBody, "description": "The index holds no articles yet"}}

router = APIRouter(route_class=ApiRoute)


def assistant_of(request: Request) -> Assistant:
    return request.app.state.assistant


def require_login(request: Request) -> None:
    login: Login = request.app.state.login
    header = request.headers.get("authorization", "")
    if not login.allows(header):
        problem = "wrong login" if header else "this server asks for a login"
        raise ApiError(401, f"{problem}: send Authorization: Bearer <RAG_API_TOKEN>, or the "
                            "user name and password of the page as basic auth",
                       headers={"WWW-Authenticate": 'Basic realm="rag", charset="UTF-8"'})


# FastAPI 0.165+ records every request into OpenTelemetry (exported when the environment
# sets FASTAPI_OTEL_AUTO_CONFIGURE and an OTLP endpoint): this project records and sends
# nothing.
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                "auto_configure": False}


def private_app(**options: Any) -> FastAPI:
    """A FastAPI app with FastAPI's own telemetry off (where the installed FastAPI has it)."""
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        options["telemetry"] = NO_TELEMETRY
    return FastAPI(**options)


def build_api(assistant: Assistant, login: Login) -> FastAPI:
    """The API over ``assistant``, behind ``login``, to be mounted at /v1."""
    app = private_app(title="rag", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  servers=[{"url": "/v1"}],
                  summary="A private assistant over your news articles; every answer cites "
                          "its sources.")
    app.state.assistant, app.state.login = assistant, login
    app.state.started = int(time.time())
    install_error_handlers(app)
    app.include_router(router, dependencies=[Depends(require_login)],
                       responses=ERROR_RESPONSES)
    app.add_middleware(BodyLimit, max_bytes=assistant.settings.max_upload_mb * MIB)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_login)])
    def openapi() -> dict[str, Any]:
        return described(app)
    return app


def described(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the two ways to log in."""
    document = app.openapi()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (schema.ChatCompletionChunk, schema.NewArticle):  # named in openapi_extra
        one = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(one.pop("$defs", {}))
        schemas[model.__name__] = one
    for operation in (op for path in document["paths"].values() for op in path.values()):
        operation["responses"].pop("422", None)  # validation errors are 400s here
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    document["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "The token in RAG_API_TOKEN (an OpenAI client's api_key)"},
        "basic": {"type": "http", "scheme": "basic",
                  "description": "The user name and password of the page (rag serve --auth)"}}
    document["security"] = [{"bearer": []}, {"basic": []}, {}]  # {}: none on loopback
    return document


# ---------------------------------------------------------------------- answering

@router.post("/chat/completions", response_model=schema.ChatCompletion, responses={
    **STREAM, 404: {"model": ErrorBody, "description": "Unknown model or conversation"},
    **EMPTY, 503: {"model": ErrorBody, "description": "A model is missing or failed"}})
async def chat_completions(body: schema.ChatRequest, request: Request) -> Any:
    """Answer the last user message, as a follow-up of the earlier ones; the answer keeps
    its [n] markers and comes with its citations, sentences and passages."""
    check_model(body.model)
    assistant = assistant_of(request)
    conversation = None
    if body.conversation_id:
        chat_id = None if body.conversation_id == "new" else body.conversation_id
        conversation = await run_in_threadpool(assistant.conversation, chat_id, save=True)
        response = conversation.ask(body.question(), **body.options())
    else:
        response = assistant.ask(body.question(), history=body.history(), **body.options())
    completion = Completion(body, conversation.id if conversation else None)
    events = events_of(response, request)
    if not body.stream:
        return completion.whole(await final_answer(events))
    first = await anext(events)  # a failure before any event keeps its status (409…)

    async def replay():
        yield first
        async for event in events:
            yield event
    return StreamingResponse(completion.stream(replay()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/models", response_model=schema.ModelList)
def list_models(request: Request) -> dict[str, Any]:
    """The one model, "rag": the local LLM answering from your articles."""
    settings = assistant_of(request).settings
    return {"object": "list",
            "data": models_json(request.app.state.started, settings.llm, settings.embedder)}


@router.get("/models/{model_id}", response_model=schema.ModelCard)
def get_model(model_id: str, request: Request) -> dict[str, Any]:
    """The model ``model_id`` (only "rag" exists)."""
    check_model(model_id)
    return list_models(request)["data"][0]


@router.post("/search", response_model=schema.SearchResult, responses=EMPTY)
def search(body: schema.SearchRequest, request: Request) -> dict[str, Any]:
    """The passages most relevant to ``query`` (no answer), as ``rag search --json``."""
    from .answer import hit_json
    hits = assistant_of(request).search(body.query, **body.retrieval())
    return {"object": "list", "query": body.query, "passages": [hit_json(h) for h in hits]}


# ---------------------------------------------------------------------- articles

@router.get("/articles", response_model=schema.ArticleList)
def list_articles(request: Request) -> dict[str, Any]:
    """Every indexed article (without its text), newest first."""
    return {"object": "list",
            "data": [article_json(a) for a in assistant_of(request).articles()]}


@router.get("/articles/{article_id}", response_model=schema.ArticleOut,
            responses={404: {"model": ErrorBody, "description": "No such article"}})
def get_article(article_id: str, request: Request) -> dict[str, Any]:
    """One indexed article, with its text (citation offsets point into it)."""
    for article in assistant_of(request).articles():
        if article.id == article_id:
            return article_json(article, text=True)
    raise ApiError(404, f"no such article in the index: {article_id}", param="article_id",
                   code="article_not_found")


@router.post("/articles", response_model=schema.IndexReportOut, openapi_extra=ARTICLE_BODY)
async def add_articles(request: Request) -> dict[str, Any]:
    """Add articles: files as multipart/form-data (field ``files``; .txt, .md, .html, .json,
    .jsonl, .pdf), or one article as JSON (`NewArticle`). Files that cannot be read are
    listed in ``skipped``, with the reason."""
    assistant = assistant_of(request)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            if not files:
                raise ApiError(400, "files: send one or more files in the field 'files'",
                               param="files")
            with tempfile.TemporaryDirectory(prefix="rag-upload-") as folder:
                paths = [await _saved(f, Path(folder), n) for n, f in enumerate(files)]
                report = await run_in_threadpool(assistant.import_files, paths)
    else:
        article = _new_article(await request.body())
        report = await run_in_threadpool(lambda: assistant.add_text(
            article.text, title=article.title, **article.meta()))
    return dataclasses.asdict(report)


@router.delete("/articles/{article_id}", response_model=schema.IndexReportOut,
               responses={404: {"model": ErrorBody, "description": "No such article"}})
def remove_article(article_id: str, request: Request) -> dict[str, Any]:
    """Remove an article from the index (an uploaded file is deleted too)."""
    try:
        report = assistant_of(request).remove([article_id])
    except KeyError:
        raise ApiError(404, f"no such article in the index: {article_id}",
                       param="article_id", code="article_not_found") from None
    return dataclasses.asdict(report)


def article_json(article: Article, *, text: bool = False) -> dict[str, Any]:
    data = dataclasses.asdict(article)
    if not text:
        data.pop("text")
    return data


def _new_article(body: bytes) -> schema.NewArticle:
    try:
        return schema.NewArticle.model_validate_json(body or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise ApiError(400, f"the request body is not valid JSON: {first['msg']}",
                           code="invalid_json") from None
        field = ".".join(map(str, first["loc"])) or None
        raise ApiError(400, f"{field}: {first['msg']}" if field else first["msg"],
                       param=field, code=first["type"]) from None


async def _saved(upload: UploadFile, folder: Path, n: int) -> Path:
    """The upload in its own folder under its own base name (the library makes it safe)."""
    name = Path(upload.filename or "").name
    path = folder / str(n) / (name if name not in ("", ".", "..") else "upload")
    path.parent.mkdir()
    path.write_bytes(await upload.read())
    return path


# ---------------------------------------------------------------------- conversations

@router.get("/conversations", response_model=schema.ConversationList)
def list_conversations(request: Request) -> dict[str, Any]:
    """The saved chats, the most recently answered first."""
    return {"object": "list", "data": [{**dataclasses.asdict(c), "object": "conversation"}
                                       for c in assistant_of(request).chats.list()]}


@router.get("/conversations/{conversation_id}", response_model=schema.ConversationOut,
            responses={404: {"model": ErrorBody, "description": "No such conversation"}})
def get_conversation(conversation_id: str, request: Request) -> dict[str, Any]:
    """A saved chat with every answer, as ``rag ask --json`` prints it."""
    chat = assistant_of(request).conversation(conversation_id)
    return {"id": chat.id, "object": "conversation", "title": chat.title,
            "turns": [{"question": t.question, "answer": t.answer.to_json()}
                      for t in chat.turns]}


@router.patch("/conversations/{conversation_id}", response_model=schema.ConversationSummary,
              responses={404: {"model": ErrorBody, "description": "No such conversation"}})
def rename_conversation(conversation_id: str, body: schema.Rename,
                        request: Request) -> dict[str, Any]:
    """Give a saved chat another title."""
    summary = assistant_of(request).chats.rename(conversation_id, body.title)
    return {**dataclasses.asdict(summary), "object": "conversation"}


@router.delete("/conversations/{conversation_id}", response_model=schema.Deleted,
               responses={404: {"model": ErrorBody, "description": "No such conversation"}})
def delete_conversation(conversation_id: str, request: Request) -> dict[str, Any]:
    """Forget a saved chat and its answers."""
    assistant_of(request).chats.delete(conversation_id)
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


@router.get("/conversations/{conversation_id}/markdown", response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}}},
                       404: {"model": ErrorBody, "description": "No such conversation"}})
def export_conversation(conversation_id: str, request: Request,
                        turn: int | None = Query(None, ge=1, description=(
                            "Only this answer (1 = the first)."))) -> PlainTextResponse:
    """The chat (or one of its answers) as Markdown, with numbered sources and quotes."""
    chat = assistant_of(request).conversation(conversation_id)
    if turn is not None and turn > len(chat.turns):
        raise ApiError(404, f"turn: the conversation has {len(chat.turns)} turns",
                       param="turn", code="turn_not_found")
    text = chat_markdown(chat) if turn is None else turn_markdown(chat.turns[turn - 1])
    name = re.sub(r"[^A-Za-z0-9_-]", "", f"chat-{chat.id}" + (f"-{turn}" if turn else ""))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.md"'})
