"""Sources as HTML: the passages behind an answer, with the quoted sentences marked.

While an answer is written, a turn's sources are the retrieved passages with their evidence
sentences marked (``data-ev``); once it is checked, the cited passages come first, headed by
their markers, each quote marked with the marker and span that cite it (``data-marker``,
``data-quote``), so a click on a sentence's [n] highlights that sentence's quote only. The
passages searched but not cited follow, folded. Article text is untrusted: all of it is
escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlparse

from .answer import Answer
from .chunking import Chunk
from .events import Sources
from .retrieve import Hit
from .ui_words import plural


@dataclass(frozen=True)
class Highlight:
    """A span of an article to mark: ``attrs`` are the mark's data attributes."""

    start: int
    end: int
    attrs: tuple[tuple[str, str], ...]
    css: str = "q"


@dataclass(frozen=True)
class Card:
    """One passage as shown: who cites it and what to mark in it."""

    chunk: Chunk
    markers: tuple[int, ...] = ()
    evidence: tuple[int, ...] = ()
    highlights: tuple[Highlight, ...] = ()
    url: str = ""
    page: int = 0


def passage_html(chunk: Chunk, highlights: Sequence[Highlight] = ()) -> str:
    """The passage, escaped, each highlight inside <mark>; a first line that repeats the
    title is left out (the card's heading already says it), unless it is marked."""
    text, offset = chunk.text, chunk.start
    done = title_skip(chunk)
    if any(h.start - offset < done for h in highlights):
        done = 0
    out = []
    for h in sorted(highlights, key=lambda h: (h.start, h.end)):
        start = min(max(h.start - offset, done), len(text))
        end = min(max(h.end - offset, start), len(text))
        if end > start:  # a span overlapping the previous one is marked from its end
            attrs = "".join(f' data-{k}="{html.escape(v)}"' for k, v in h.attrs)
            out += [html.escape(text[done:start]),
                    f'<mark class="{h.css}"{attrs}>{html.escape(text[start:end])}</mark>']
            done = end
    return "".join(out) + html.escape(text[done:])


def title_skip(chunk: Chunk) -> int:
    """Where the passage's text starts once a first line repeating the title is dropped."""
    title = " ".join(chunk.title.split()).casefold()
    stripped = chunk.text.lstrip()
    first, _, rest = stripped.partition("\n")
    if not title or not rest.strip() or " ".join(first.split()).casefold() != title:
        return 0
    return len(chunk.text) - len(rest.lstrip())


def card_html(card: Card, turn: str) -> str:
    chunk = card.chunk
    markers = " ".join(f"[{m}]" for m in card.markers)
    heading = (f'<span class="markers">{markers}</span> ' if markers else "") + \
        f"<strong>{html.escape(chunk.title or 'Untitled')}</strong>"
    meta = [html.escape(x) for x in (chunk.date, chunk.source) if x]
    if card.page:
        meta.append(f"page {card.page}")
    if _is_web(card.url):
        meta.append(f'<a href="{html.escape(card.url)}" target="_blank" '
                    'rel="noopener noreferrer">open the article</a>')
    meta_html = f'<div class="meta">{" · ".join(meta)}</div>' if meta else ""
    label = f"Source {markers}" if markers else "Passage"
    return (f'<article class="src" data-turn="{turn}" data-markers=" {_spaced(card.markers)} " '
            f'data-evs=" {_spaced(card.evidence)} " tabindex="-1" '
            f'aria-label="{html.escape(label)}: {html.escape(chunk.title or "Untitled")}">'
            f"<div>{heading}</div>{meta_html}"
            f'<p class="passage">{passage_html(chunk, card.highlights)}</p></article>')


def _spaced(numbers: Sequence[int]) -> str:
    return " ".join(str(n) for n in numbers)


def _is_web(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https") if url else False


def found_cards(sources: Sources) -> list[Card]:
    """The retrieved passages in rank order, their evidence sentences marked."""
    cards = []
    for hit in sources.passages:
        items = [e for e in sources.evidence if e.chunk.id == hit.chunk.id]
        cards.append(Card(hit.chunk, evidence=tuple(e.number for e in items),
                          highlights=tuple(Highlight(e.start, e.end, (("ev", str(e.number)),),
                                                     "ev") for e in items)))
    return cards


def cited_cards(answer: Answer) -> list[Card]:
    """One card per cited passage, in the order of its first marker, each quote marked
    with the marker and span that cite it."""
    by_chunk: dict[str, Card] = {}
    for c in answer.citations:
        marks = tuple(Highlight(q.start, q.end, (("marker", str(c.marker)),
                                                 ("quote", f"{q.start}-{q.end}")))
                      for q in c.quotes)
        old = by_chunk.get(c.chunk.id)
        if old is None:
            by_chunk[c.chunk.id] = Card(c.chunk, (c.marker,), (), marks, c.url, c.page)
        else:
            by_chunk[c.chunk.id] = Card(c.chunk, old.markers + (c.marker,), (),
                                        old.highlights + marks, old.url, old.page or c.page)
    return list(by_chunk.values())


def uncited_cards(answer: Answer) -> list[Card]:
    cited = {c.chunk.id for c in answer.citations}
    return [Card(h.chunk) for h in answer.passages if h.chunk.id not in cited]


def turn_sources_html(turn: str, *, answer: Answer | None = None,
                      sources: Sources | None = None, searching: bool = False) -> str:
    """The sources of one turn: checked citations, or what retrieval found so far."""
    if answer is not None:
        cited, other = cited_cards(answer), uncited_cards(answer)
        body = "".join(card_html(c, turn) for c in cited)
        if not cited:
            body = f'<p class="rag-note">{_no_citation_note(answer)}</p>'
        if other:
            heading = "Also searched" if cited else "Passages searched"
            body += (f'<details data-key="more-{turn}"><summary>{heading} '
                     f'({len(other)})</summary>{"".join(card_html(c, turn) for c in other)}'
                     "</details>")
        return body
    if sources is not None:
        return f'<p class="rag-note">{_found_note(sources.passages)}</p>' + \
            "".join(card_html(c, turn) for c in found_cards(sources))
    return f'<p class="rag-note">{"Searching…" if searching else "No sources."}</p>'


def _found_note(passages: Sequence[Hit]) -> str:
    if not passages:
        return "No passage matches the question."
    articles = len({h.chunk.article_id for h in passages})
    return (f"Found {plural(len(passages), 'passage')} in {plural(articles, 'article')}; "
            "the sentences the answer may use are marked.")


def _no_citation_note(answer: Answer) -> str:
    if not answer.passages:
        return "No passage matched."
    return "No passage answers the question, so none is cited."
