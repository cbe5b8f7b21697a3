"""Answer: what a question gets back — the checked text, its citations and how it was made.

Every citation points at exact spans of an article (``quote_start``/``quote_end`` are
offsets in the article's text), so a reader can check each claim. Markers ``[n]`` in
`Answer.text` are numbered in order of first appearance and match `Citation.marker`.
Each `AnswerSentence` says whether it was verified against the evidence it cites and,
when not, why — in words a reader understands.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .chunking import Chunk
from .retrieve import Hit

Kind = Literal["generated", "extracted", "abstained"]
State = Literal["verified", "unverified", "left_out"]


@dataclass(frozen=True)
class Quote:
    """A span of an article that supports a claim (offsets in the article's text)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """A passage cited as [marker], with the quotes the answer's sentences rest on."""

    marker: int
    chunk: Chunk
    quotes: tuple[Quote, ...]
    url: str = ""
    page: int = 0  # 1-based page of the first quote in a paged document (PDF), else 0

    @property
    def quote(self) -> Quote:
        return self.quotes[0]


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer: the markers it cites, with for each the quote that
    supports it; its state and, unless verified, the reason."""

    text: str
    citations: tuple[int, ...] = ()
    quotes: tuple[Quote, ...] = ()
    state: State = "verified"
    reason: str = ""
    support: float = 0.0

    @property
    def verified(self) -> bool:
        return self.state == "verified"


@dataclass(frozen=True)
class Timings:
    """Milliseconds per stage, and from the question to the first evidence and token."""

    language_ms: float = 0.0
    condense_ms: float = 0.0
    translate_ms: float = 0.0
    retrieve_ms: float = 0.0
    evidence_ms: float = 0.0
    first_evidence_ms: float = 0.0
    first_token_ms: float = 0.0
    generate_ms: float = 0.0
    verify_ms: float = 0.0
    confirm_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    kind: Kind
    citations: tuple[Citation, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    passages: tuple[Hit, ...] = ()
    standalone_question: str = ""
    language: str = "en"
    draft: str = ""  # what the model wrote, before the checks
    truncated: bool = False  # the draft hit the token limit mid-sentence (that one is left out)
    timings: Timings = field(default_factory=Timings)
    models: tuple[str, str] = ("", "")

    @property
    def abstained(self) -> bool:
        return self.kind == "abstained"

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "language": self.language,
            "answer": self.text,
            "kind": self.kind,
            "abstained": self.abstained,
            "citations": [citation_json(c) for c in self.citations],
            "sentences": [sentence_json(s) for s in self.sentences],
            "passages": [hit_json(h) for h in self.passages],
            "draft": self.draft,
            "truncated": self.truncated,
            "timings": {k: round(v, 1) for k, v in asdict(self.timings).items()},
            "models": {"embedder": self.models[0], "llm": self.models[1]},
        }


def citation_json(c: Citation) -> dict[str, Any]:
    first = c.quote
    return {"marker": c.marker, "chunk_id": c.chunk.id, "article_id": c.chunk.article_id,
            "title": c.chunk.title, "url": c.url, "page": c.page or None,
            "text": c.chunk.text, "start": c.chunk.start, "end": c.chunk.end,
            "quote": first.text, "quote_start": first.start, "quote_end": first.end,
            "quotes": [quote_json(q) for q in c.quotes]}


def sentence_json(s: AnswerSentence) -> dict[str, Any]:
    return {"text": s.text, "citations": list(s.citations), "state": s.state,
            "verified": s.verified, "reason": s.reason, "support": round(s.support, 4),
            "quotes": [{"citation": n, **quote_json(q)} for n, q in zip(s.citations, s.quotes)]}


def quote_json(q: Quote) -> dict[str, Any]:
    return {"quote": q.text, "quote_start": q.start, "quote_end": q.end}


def hit_json(h: Hit) -> dict[str, Any]:
    return {"rank": h.rank, "chunk_id": h.chunk.id, "article_id": h.chunk.article_id,
            "title": h.chunk.title, "score": round(h.score, 6),
            "similarity": round(h.similarity, 4), "date": h.chunk.date,
            "source": h.chunk.source, "text": h.chunk.text}
