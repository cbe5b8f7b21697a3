"""Chat completions in the OpenAI shape, with the citations kept.

The last user message is the question; the user/assistant pairs before it are the
history a follow-up is condensed with. The answer is the checked `Answer`: its text keeps
its ``[n]`` markers, and the response carries every field of ``rag ask --json`` beside
the standard ones (``citations``, ``sentences``, ``passages``, ``kind``, ``timings``…),
so a plain OpenAI client works and a citation-aware one gets everything.

Streamed (server-sent events), in order: a chunk with the role; chunks with a ``stage``
("searching", "writing"…); one with the ``passages`` and ``evidence`` as soon as
retrieval has them; the model's draft as ``delta.reasoning_content`` (a draft: the checks
may change it; leave it out with ``"draft": false``); then the checked answer as
``delta.content``; and a last chunk with ``finish_reason`` "stop" that carries the
citations, sentences and the other fields of ``rag ask --json``; then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any, AsyncIterator

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .answer import Answer, hit_json
from .events import Done, Draft, Event, Sources, Stage
from .evidence import Evidence
from .http_errors import ApiError, as_api_error, error_json
from .http_schema import ChatRequest
from .response import Response

MODEL_ID = "rag"


class Completion:
    """One chat completion's identity and the JSON of its parts."""

    def __init__(self, request: ChatRequest, conversation_id: str | None = None):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.request = request
        self.conversation_id = conversation_id

    def whole(self, answer: Answer) -> dict[str, Any]:
        """The non-streamed response."""
        message = {"role": "assistant", "content": answer.text}
        return {**self._head("chat.completion"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop",
                             "logprobs": None}],
                "usage": self.usage(answer), **answer_fields(answer)}

    def chunk(self, delta: dict[str, Any], finish: str | None = None,
              **extra: Any) -> dict[str, Any]:
        return {**self._head("chat.completion.chunk"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                             "logprobs": None}], **extra}

    def usage(self, answer: Answer) -> dict[str, int]:
        """Token counts, estimated (about 4 characters a token)."""
        prompt = sum(estimate_tokens(m.text()) for m in self.request.messages)
        completion = estimate_tokens(answer.text)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def _head(self, kind: str) -> dict[str, Any]:
        head = {"id": self.id, "object": kind, "created": self.created, "model": MODEL_ID,
                "system_fingerprint": None}
        if self.conversation_id:
            head["conversation_id"] = self.conversation_id
        return head

    async def stream(self, events: AsyncIterator[Event]) -> AsyncIterator[str]:
        """The server-sent events of a streamed response (errors become an error event)."""
        yield sse(self.chunk({"role": "assistant", "content": ""}))
        try:
            async for event in events:
                for data in self._chunks(event):
                    yield sse(data)
        except Exception as exc:  # noqa: BLE001 - the status is sent: report in the stream
            yield sse(error_json(as_api_error(exc)))
        yield "data: [DONE]\n\n"

    def _chunks(self, event: Event) -> list[dict[str, Any]]:
        if isinstance(event, Stage):
            return [self.chunk({}, stage=event.name)]
        if isinstance(event, Sources):
            return [self.chunk({}, passages=[hit_json(h) for h in event.passages],
                               evidence=[evidence_json(e) for e in event.evidence])]
        if isinstance(event, Draft):
            return [self.chunk({"reasoning_content": event.text})] if self.request.draft else []
        if isinstance(event, Done):
            answer = event.answer
            chunks = [self.chunk({"content": answer.text}),
                      self.chunk({}, "stop", usage=self.usage(answer), **answer_fields(answer))]
            if (self.request.stream_options or {}).get("include_usage"):
                chunks.append({**self._head("chat.completion.chunk"), "choices": [],
                               "usage": self.usage(answer)})
            return chunks
        return []


def answer_fields(answer: Answer) -> dict[str, Any]:
    """Every field of ``rag ask --json`` but the text (that is the message's content)."""
    fields = answer.to_json()
    fields.pop("answer")
    return fields


def evidence_json(e: Evidence) -> dict[str, Any]:
    """An evidence sentence as the model read it: its number is the [n] of the draft."""
    return {"number": e.number, "chunk_id": e.chunk.id, "article_id": e.chunk.article_id,
            "title": e.chunk.title, "text": e.text, "start": e.start, "end": e.end,
            "score": round(e.score, 4)}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def check_model(model: str) -> None:
    if model != MODEL_ID:
        raise ApiError(404, f"model: {model!r} does not exist; use {MODEL_ID!r} "
                            "(see GET /v1/models)", param="model", code="model_not_found")


def models_json(created: int, llm: str, embedder: str) -> list[dict[str, Any]]:
    return [{"id": MODEL_ID, "object": "model", "created": created, "owned_by": "local",
             "llm": llm, "embedder": embedder}]



async def events_of(response: Response, request: Request) -> AsyncIterator[Event]:
    """The response's events, each computed in a worker thread; a client that goes away
    cancels the answer (generation included) at the next event."""
    events = response.events()
    try:
        while not await request.is_disconnected():
            event = await run_in_threadpool(next, events, None)
            if event is None:
                return
            yield event
    finally:
        response.cancel()
        with anyio.CancelScope(shield=True):  # let the answer stop and free the model
            await run_in_threadpool(next, events, None)


async def final_answer(events: AsyncIterator[Event]) -> Answer:
    async for event in events:
        if isinstance(event, Done):
            return event.answer
    raise ApiError(499, "the client closed the request before the answer was ready",
                   code="cancelled")
