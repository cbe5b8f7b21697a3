"""HTTP schema: the bodies the HTTP API takes and gives, as pydantic models.

Requests are validated with them (a bad field is a 400 naming it); responses are
described with them in the OpenAPI document (``GET /v1/openapi.json``). The JSON of an
answer is `Answer.to_json` — the same as ``rag ask --json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .conversation import Exchange
from .filters import Filters

MAX_TOKENS = 4096  # a larger max_tokens (clients send their model's limit) is clamped

# -------------------------------------------------------------------------- requests


class FilterFields(BaseModel):
    """Restrict retrieval: dates YYYY-MM-DD (inclusive), sources, authors."""

    model_config = ConfigDict(extra="forbid")
    date_from: str = ""
    date_to: str = ""
    sources: list[str] = []
    authors: list[str] = []
    undated: bool = Field(True, description="A date filter keeps articles without a date.")

    @model_validator(mode="after")
    def _valid(self) -> "FilterFields":
        self.filters()  # a bad date is refused here, naming the field
        return self

    def filters(self) -> Filters:
        return Filters(self.date_from, self.date_to, tuple(self.sources), tuple(self.authors),
                       undated=self.undated)


class RetrievalFields(BaseModel):
    """The options of a search, also accepted by a chat completion."""

    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve.")
    mode: Literal["hybrid", "dense", "keyword"] | None = None
    filters: FilterFields | None = None
    today: dt.date | None = Field(None, description="The date 'last week' is relative to.")

    def retrieval(self) -> dict[str, Any]:
        return {"k": self.k, "mode": self.mode, "today": self.today,
                "filters": self.filters.filters() if self.filters else None}


class SearchRequest(RetrievalFields):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if not isinstance(self.content, list):
            return self.content or ""
        if any(part.type != "text" for part in self.content):
            raise ValueError("only text content is supported")
        return "\n".join(part.text for part in self.content)


class ChatRequest(RetrievalFields):
    """An OpenAI chat completion request, and rag's own options. Fields it does not use
    (temperature, top_p…) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int = Field(1, ge=1, le=1, description="Only one answer per question.")
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    verify: bool | None = Field(None, description="Check each sentence (default: the setting).")
    draft: bool = Field(True, description="Stream the model's draft as reasoning_content.")
    conversation_id: str | None = Field(
        None, description='Answer in this saved conversation ("new" starts one): its '
                          "history is used instead of the earlier messages, and the turn "
                          "is saved.")

    @field_validator("messages")
    @classmethod
    def _has_question(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not messages:
            raise ValueError("must not be empty: the last message is the question")
        for n, message in enumerate(messages):
            try:
                message.text()
            except ValueError as exc:
                raise ValueError(f"[{n}].content: {exc}") from None
        if messages[-1].role != "user" or not messages[-1].text().strip():
            raise ValueError("the last message must be the user's question")
        return messages

    def question(self) -> str:
        return self.messages[-1].text().strip()

    def history(self) -> list[Exchange]:
        """The exchanges before the question; other roles are left out."""
        pairs, asked = [], None
        for message in self.messages[:-1]:
            if message.role == "user":
                asked = message.text().strip()
            elif message.role == "assistant" and asked is not None:
                pairs.append(Exchange(asked, message.text().strip()))
                asked = None
        return pairs

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `Assistant.ask` other than the history."""
        longest = self.max_completion_tokens or self.max_tokens
        return {**self.retrieval(), "verify": self.verify,
                "max_tokens": min(longest, MAX_TOKENS) if longest else None}


class NewArticle(BaseModel):
    """An article as text (to upload files, send multipart/form-data with ``files``)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    title: str = ""
    date: str = Field("", description="YYYY-MM-DD")
    source: str = ""
    url: str = ""
    author: str = ""
    lang: str = Field("", description="ISO 639-1 code; detected when empty")

    def meta(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude={"text", "title"}).items() if v}


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)

# ------------------------------------------------------------------------- responses


class Quote(BaseModel):
    quote: str
    quote_start: int
    quote_end: int


class CitationOut(Quote):
    marker: int
    chunk_id: str
    article_id: str
    title: str
    url: str
    page: int | None
    text: str
    start: int
    end: int
    quotes: list[Quote]


class SentenceQuote(Quote):
    citation: int


class SentenceOut(BaseModel):
    text: str
    citations: list[int]
    state: Literal["verified", "unverified", "left_out"]
    verified: bool
    reason: str
    support: float
    quotes: list[SentenceQuote]


class Passage(BaseModel):
    rank: int
    chunk_id: str
    article_id: str
    title: str
    score: float
    similarity: float
    date: str
    source: str
    text: str


class EvidenceOut(BaseModel):
    number: int = Field(description="The [n] the model's draft cites it by.")
    chunk_id: str
    article_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


class AnswerFields(BaseModel):
    """The fields of ``rag ask --json`` other than ``answer``."""

    question: str
    standalone_question: str
    language: str
    kind: Literal["generated", "extracted", "abstained"]
    abstained: bool
    truncated: bool
    citations: list[CitationOut]
    sentences: list[SentenceOut]
    passages: list[Passage]
    draft: str
    timings: dict[str, float]
    models: dict[str, str]


class AnswerOut(AnswerFields):
    """An answer as ``rag ask --json`` prints it."""

    answer: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class CompletionHead(BaseModel):
    """The standard fields of a chat completion."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: None = None
    choices: list[Choice]
    usage: Usage
    conversation_id: str | None = None


class ChatCompletion(AnswerFields, CompletionHead):
    """A chat completion with the answer's citations, sentences and passages."""


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = Field(None, description="The model's draft, unchecked.")


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: Literal["stop"] | None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion. The chunk with ``finish_reason``
    carries every field of `AnswerFields`; earlier ones may carry a ``stage``, or the
    ``passages`` and ``evidence`` retrieval found."""

    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    conversation_id: str | None = None
    stage: str | None = None
    passages: list[Passage] | None = None
    evidence: list[EvidenceOut] | None = None
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    llm: str
    embedder: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class SearchResult(BaseModel):
    object: Literal["list"]
    query: str
    passages: list[Passage]


class ArticleInfo(BaseModel):
    id: str
    title: str
    path: str
    lang: str
    date: str
    source: str
    url: str
    author: str
    pages: list[int]
    feed: str
    instructions: list[list[int]] = Field(description="Spans that address the assistant: "
                                                      "never used as evidence.")


class ArticleOut(ArticleInfo):
    """One article, with its text."""

    text: str


class ArticleList(BaseModel):
    object: Literal["list"]
    data: list[ArticleInfo]


class SkippedOut(BaseModel):
    path: str
    reason: str


class IndexReportOut(BaseModel):
    added: int
    updated: int
    removed: int
    unchanged: int
    chunks_embedded: int
    skipped: list[SkippedOut]
    flagged: list[str]
    total_articles: int
    total_chunks: int
    total_sentences: int
    seconds: float


class ConversationSummary(BaseModel):
    id: str
    object: Literal["conversation"]
    title: str
    turns: int
    created: float = Field(description="Seconds since the epoch.")
    updated: float


class ConversationList(BaseModel):
    object: Literal["list"]
    data: list[ConversationSummary]


class TurnOut(BaseModel):
    question: str
    answer: AnswerOut


class ConversationOut(BaseModel):
    id: str
    object: Literal["conversation"]
    title: str
    turns: list[TurnOut]


class Deleted(BaseModel):
    id: str
    object: str
    deleted: bool
