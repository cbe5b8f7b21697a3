"""The conversation as HTML: each question, and its answer as it is made and once checked.

An answer is never shown and then taken back. While it is made, the page says which stage
runs and for how long, shows the sources as soon as retrieval has them, and streams the
model's text visibly as a *draft being checked*. When the checks are done each sentence
settles in place: verified (its [n] markers select its own quote), or not verified or
left out, greyed, with the reason in plain words. An answer quoted or translated from the
article (`Answer.kind == "extracted"`) says so; an abstention shows no quote.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal, Sequence

from .answer import Answer, AnswerSentence
from .events import Sources
from .filters import Filters
from .ui_chats import answer_links
from .ui_sources import turn_sources_html
from .ui_words import STAGES, STEPS, plural, seconds, short

NoteKind = Literal["stopped", "error", "empty"]
DRAFT_MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")  # as the model writes them
EXTRACTED_LABELS = {"quoted from the article": "Quoted from the article",
                    "translated from the article": "Translated from the article"}
NO_ARTICLES = "No articles yet: add some in the Corpus tab (upload files or paste one)."


@dataclass(frozen=True)
class Progress:
    """An answer in the making: the stages so far, the sources, the draft."""

    stages: tuple[str, ...] = ()  # the stages begun so far, in order
    elapsed_ms: float = 0.0
    sources: Sources | None = None
    draft: str = ""
    loading: bool = False  # the models are still loading (the first question only)
    stopping: bool = False

    @property
    def current(self) -> str:
        return self.stages[-1] if self.stages else "searching"


@dataclass(frozen=True)
class ShownTurn:
    """One question and what the page shows for it: the answer in the making, the checked
    answer, or a note (stopped, failed, no articles)."""

    key: str  # unique in the page: ties the answer's markers to its sources
    question: str
    progress: Progress | None = None
    answer: Answer | None = None
    note: str = ""
    note_kind: NoteKind = "error"
    filters: Filters | None = None
    cut_off: bool = False  # the draft ended at the length limit, mid-sentence


# --------------------------------------------------------------------------- the chat

def chat_html(turns: Sequence[ShownTurn]) -> str:
    if not turns:
        return ('<div class="rag-chat"><p class="rag-empty">Ask a question about your '
                "articles. The sources appear as soon as they are found, and every sentence "
                "of the answer is checked against them.</p></div>")
    return ('<div class="rag-chat" role="log" aria-label="Conversation">'
            + "".join(turn_html(t) for t in turns) + "</div>")


def turn_html(turn: ShownTurn) -> str:
    if turn.answer is not None:
        body = answer_html(turn.answer, turn=turn.key, filters=turn.filters,
                           cut_off=turn.cut_off, actions=answer_links(turn.question, turn.answer))
        state = turn.answer.kind
    elif turn.note:
        body, state = note_html(turn), turn.note_kind
    else:
        body, state = progress_html(turn.progress or Progress(), turn.key), "pending"
    busy = ' aria-busy="true"' if state == "pending" else ""
    return (f'<section class="rag-turn" data-turn="{turn.key}">'
            f'<div class="rag-q">{html.escape(turn.question)}</div>'
            f'<div class="rag-a {state}"{busy}>{body}{inline_sources_html(turn)}</div></section>')


def inline_sources_html(turn: ShownTurn) -> str:
    """The turn's sources under its answer, for narrow screens (CSS hides them elsewhere)."""
    sources = turn.progress.sources if turn.progress else None
    if turn.answer is None and sources is None:
        return ""
    count = len(turn.answer.citations) if turn.answer else len(sources.passages)
    label = plural(count, "source") if turn.answer else plural(count, "passage") + " found"
    body = turn_sources_html(f"{turn.key}", answer=turn.answer, sources=sources)
    return (f'<details class="rag-inline-sources" data-key="inline-{turn.key}">'
            f"<summary>{label}</summary>{body}</details>")


# --------------------------------------------------------------------------- in the making

def progress_html(progress: Progress, key: str) -> str:
    current = progress.current
    status = "Stopping…" if progress.stopping else _status(progress)
    steps = [s for s in STAGES if s in progress.stages or s in STEPS]
    items = "".join(f'<li class="{_step_state(s, progress)}">{STAGES[s][0]}</li>'
                    for s in steps)
    out = (f'<div class="rag-status" role="status"><span class="rag-spinner" aria-hidden="true">'
           f'</span><span class="stage">{status}</span><span class="rag-elapsed" '
           f'data-key="{key}" data-ms="{progress.elapsed_ms:.0f}">'
           f"{progress.elapsed_ms / 1000:.0f} s</span></div>"
           f'<ol class="rag-steps" aria-label="Steps">{items}</ol>')
    if progress.draft.strip():
        label = ("Draft, being checked against the sources" if current != "checking"
                 else "Draft, now being checked against the sources")
        out += (f'<div class="rag-draft"><p class="label">{label}</p>'
                f'<div class="text">{draft_html(progress.draft, key, progress.sources)}</div></div>')
    return out


def _status(progress: Progress) -> str:
    current = progress.current
    text = STAGES[current][1]
    if current == "reading" and progress.sources is not None:
        articles = len({e.chunk.article_id for e in progress.sources.evidence})
        text = (f"Reading the evidence: {plural(len(progress.sources.evidence), 'sentence')} "
                f"from {plural(articles, 'article')}")
    if progress.loading and current in ("understanding", "searching", "reading"):
        text += " (loading the models: the first question takes longer)"
    return text + "…"


def _step_state(stage: str, progress: Progress) -> str:
    if stage == progress.current:
        return "current"
    return "done" if stage in progress.stages else "todo"


def draft_html(draft: str, key: str, sources: Sources | None) -> str:
    """The draft, escaped; its [n] markers renumbered in order of appearance and linked to
    the evidence sentence they name."""
    known = {e.number for e in sources.evidence} if sources else set()
    order: dict[int, int] = {}

    def link(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
        return "".join(_draft_link(order.setdefault(n, len(order) + 1), n, key)
                       if n in known else "" for n in numbers)
    out, at = [], 0
    for m in DRAFT_MARKER.finditer(draft):
        out += [html.escape(draft[at:m.start()]), link(m)]
        at = m.end()
    return "".join(out) + html.escape(draft[at:])


def _draft_link(shown: int, evidence: int, key: str) -> str:
    return (f'<a class="cite" href="#" data-turn="{key}" data-ev="{evidence}" '
            f'title="Show the evidence" aria-label="Evidence {shown}">[{shown}]</a>')


# --------------------------------------------------------------------------- checked

def answer_html(answer: Answer, *, turn: str = "0", filters: Filters | None = None,
                cut_off: bool = False, actions: str = "") -> str:
    """The checked answer: its sentences with their states, then how long it took (and
    ``actions``: links to copy or save it)."""
    if answer.kind == "abstained":
        body = _abstention_html(answer, filters)
    elif answer.kind == "extracted":
        body = _extracted_html(answer, turn)
    else:
        sentences = list(answer.sentences)
        body = " ".join(sentence_html(s, turn, cut=cut_off and i == len(sentences) - 1)
                        for i, s in enumerate(sentences)) or html.escape(answer.text)
    cited = len(answer.citations)
    foot = f"Answered in {seconds(answer.timings.total_ms)}"
    if cited:
        foot += f" · {plural(cited, 'source')} cited"
    actions = f'<span class="rag-actions">{actions}</span>' if actions else ""
    return (f'<div class="rag-answer {answer.kind}" lang="{html.escape(answer.language)}">'
            f'{body}</div><div class="rag-foot"><span>{foot}</span>{actions}</div>')


def sentence_html(s: AnswerSentence, turn: str, *, cut: bool = False) -> str:
    """One sentence: verified with its markers, or greyed with why it is not part of the
    answer."""
    body = s.text.rstrip()
    end = len(body.rstrip(".!?…"))  # markers go before the final punctuation: "x [1]."
    links = "".join(marker_link(m, q.start, q.end, turn) for m, q in zip(s.citations, s.quotes))
    text = html.escape(body[:end]) + (f"\u00a0{links}" if links else "") + html.escape(body[end:])
    if cut:
        return (f'<span class="s cut"><span class="body">{text}…</span><span class="rag-why">'
                "Cut off: the answer reached its length limit</span></span>")
    if s.state == "verified":
        return f'<span class="s verified">{text}</span>'
    label = "Left out" if s.state == "left_out" else "Not verified"
    return (f'<span class="s {s.state}"><span class="body">{text}</span>'
            f'<span class="rag-why">{label}: {html.escape(plain_reason(s.reason))}</span></span>')


def plain_reason(reason: str) -> str:
    """A check's reason for a reader: evidence numbers are not the page's markers."""
    reason = re.sub(r"\bsource \[\d+\]", "the source it cites", reason or "")
    return reason or "no source says this"


def marker_link(marker: int, start: int, end: int, turn: str) -> str:
    return (f'<a class="cite" href="#" data-turn="{turn}" data-marker="{marker}" '
            f'data-quote="{start}-{end}" title="Show source {marker}" '
            f'aria-label="Source {marker}">[{marker}]</a>')


def _extracted_html(answer: Answer, turn: str) -> str:
    chosen = [s for s in answer.sentences if s.state == "verified"]
    rejected = [s for s in answer.sentences if s.state != "verified"]
    label = EXTRACTED_LABELS.get(chosen[-1].reason, "From the article") if chosen else \
        "From the article"
    if rejected:
        label += ": the draft could not be verified"
    quote = sentence_html(chosen[-1], turn) if chosen else html.escape(answer.text)
    return (f'<p class="rag-kind">{label}</p><blockquote>{quote}</blockquote>'
            + _rejected_html(rejected, turn))


def _abstention_html(answer: Answer, filters: Filters | None) -> str:
    if not answer.passages:
        why = (f" No article matches the filters ({html.escape(filters.describe())}); "
               "widen or clear them." if filters else "")
        return (f'<p><span class="lead">Nothing found.</span> {html.escape(answer.text)}'
                f"{why}</p>" + _rejected_html(answer.sentences, ""))
    return (f'<p><span class="lead">No answer in the articles.</span> '
            f"{html.escape(answer.text)}</p>" + _rejected_html(answer.sentences, ""))


def _rejected_html(sentences: Sequence[AnswerSentence], turn: str) -> str:
    if not sentences:
        return ""
    return ('<div class="rejected"><p class="rag-kind">From the draft, not part of the '
            "answer</p>" + " ".join(sentence_html(s, turn) for s in sentences) + "</div>")


# --------------------------------------------------------------------------- notes

def note_html(turn: ShownTurn) -> str:
    if turn.note_kind == "empty":
        return f'<p class="rag-empty">{html.escape(NO_ARTICLES)}</p>'
    if turn.note_kind == "stopped":
        return f"<p><strong>Stopped</strong> {html.escape(turn.note)}</p>" + _unchecked(turn)
    return f'<p class="rag-error">{html.escape(turn.note)}</p>'


def _unchecked(turn: ShownTurn) -> str:
    draft = turn.progress.draft.strip() if turn.progress else ""
    if not draft:
        return ""
    return (f'<details data-key="draft-{turn.key}"><summary>The unchecked draft</summary>'
            f'<p class="rag-draft">{html.escape(draft)}</p></details>')


def sources_panel_html(turns: Sequence[ShownTurn]) -> str:
    """The sources of every turn, newest first and open, the earlier ones folded."""
    if not turns:
        return ('<div class="rag-sources"><p class="rag-note">The sources of each answer '
                "appear here as soon as they are found; click an answer's [n] to see the "
                "sentence it rests on.</p></div>")
    groups = []
    for i, turn in enumerate(reversed(turns)):
        progress = turn.progress
        body = turn_sources_html(turn.key, answer=turn.answer,
                                 sources=progress.sources if progress else None,
                                 searching=progress is not None and turn.answer is None
                                 and not turn.note)
        opened = " open" if i == 0 else ""
        groups.append(f'<details data-key="panel-{turn.key}"{opened}>'
                      f"<summary>{html.escape(short(turn.question))}</summary>{body}</details>")
    return f'<div class="rag-sources">{"".join(groups)}</div>'
