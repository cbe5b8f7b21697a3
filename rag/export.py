"""Export: a chat, or one answer, as Markdown that keeps its numbered sources and quotes.

    from rag.export import chat_markdown, answer_markdown
    Path("chat.md").write_text(chat_markdown(conversation))

Each answer keeps its ``[n]`` markers; under it, source ``[n]`` is listed with its title,
date, outlet, page and address, and the quotes the answer rests on. Sentences that were
not verified against their sources, or were left out, are listed with the reason, so the
exported text claims no more than the answer did.
"""

from __future__ import annotations

import datetime as dt
from .answer import Answer, Citation
from .conversation import Conversation, Turn

KIND_NOTES = {"extracted": "*Quoted from the articles: no generated sentence could be "
                           "verified.*"}


def chat_markdown(conversation: Conversation, *, exported: dt.datetime | None = None) -> str:
    """The whole conversation: a title, then each question and its answer with sources."""
    title = conversation.title or (conversation.turns[0].question if conversation.turns
                                   else "Conversation")
    when = (exported or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    head = f"# {_one_line(title)}\n\n*Exported {when} · {len(conversation.turns)} " \
           f"question{'' if len(conversation.turns) == 1 else 's'}.*\n"
    return "\n".join([head, *(turn_markdown(t) for t in conversation.turns)]).rstrip() + "\n"


def turn_markdown(turn: Turn) -> str:
    """One question and its answer, with the answer's sources."""
    return f"## {_one_line(turn.question)}\n\n{answer_markdown(turn.answer)}"


def answer_markdown(answer: Answer) -> str:
    """The answer's text with its [n] markers, notes on sentences not verified, and the
    numbered sources with their quotes."""
    parts = [answer.text.strip()]
    if note := KIND_NOTES.get(answer.kind):
        parts.append(note)
    caveats = [f"- {'Left out' if s.state == 'left_out' else 'Not verified'}: "
               f"“{_one_line(s.text)}” — {s.reason or 'no cited passage supports it'}"
               for s in answer.sentences if s.state != "verified"]
    if caveats:
        parts.append("**Checks**\n\n" + "\n".join(caveats))
    if answer.citations:
        parts.append("**Sources**\n\n" + "\n\n".join(source_markdown(c)
                                                     for c in answer.citations))
    return "\n\n".join(parts) + "\n"


def source_markdown(citation: Citation) -> str:
    """``[n] Title — date, outlet, p. 3, URL`` and each supporting quote as a block quote."""
    chunk = citation.chunk
    where = ", ".join(x for x in (chunk.date, chunk.source,
                                  f"p. {citation.page}" if citation.page else "",
                                  f"<{citation.url}>" if citation.url else "") if x)
    line = f"[{citation.marker}] **{_one_line(chunk.title or 'Untitled')}**" + \
        (f" — {where}" if where else "")
    return "\n\n".join([line, *(f"> “{_one_line(q.text)}”" for q in citation.quotes)])


def _one_line(text: str) -> str:
    return " ".join(text.split())
