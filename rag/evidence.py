"""Evidence: the few sentences of the retrieved passages that answer the question.

Answering starts here, before the model: every sentence of the retrieved passages is
scored against the question — its own vector (the sentence embedded alone under its
article's title, as a document: computed the first time its passage is retrieved, then
kept in the embedder's vector cache), plus how many of the question's rarer words it
holds, minus a small share for its passage's rank — and the best become numbered `Evidence`. The
model reads only these, and every claim it makes is checked against the ones it cites.

Each item is one sentence, so a citation points at exactly the sentence a claim rests on —
with the sentence before it when it counts back to what that one names ("Neither airline
has first class seats" says which airlines only after the sentence naming them; it is
scored alone); items are numbered best first: a small model answers from the first items
it reads.
Sentences the library flagged as addressing the assistant never become evidence, nor do
headline questions, nor sentences of an article that names nothing the question names
("Quanti abitanti ha Torino?" is not answered from an article on Newcastle, however alike
its sentences are: `rag.names.speaks_of`). When the question asks what someone said
("what did Jassy say?", "cosa ha detto Chanos?"), sentences in which that person speaks
come first, and a sentence of a quotation that names them elsewhere comes with the sentence
that does: news quotes run over several sentences and name their speaker once.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import Collection, Mapping, Sequence, TypeVar

import numpy as np

from .asked import refers_to_asked, states_exactly
from .chunking import Chunk, split_sentences
from .corpus import Article
from .demand import Demand
from .embed import Embedder
from .injection import overlaps
from .lexical import analyze, analyze_query
from .names import speaks_of
from .retrieve import Hit
from .speech import asked_speaker, quoted_by, speaks
from .store import Store

MIN_SENTENCE_CHARS = 20
# How far back a sentence pointing back looks for the one it points to.
ANTECEDENT_CHARS = 600
# How long a quoted sentence may grow when it takes in the sentence naming its speaker.
QUOTE_CHARS = 800
E = TypeVar("E", "Evidence", "Candidate")  # a sentence with its place in the article


@dataclass(frozen=True)
class Evidence:
    """A numbered evidence sentence of a passage (``start``/``end``: article offsets)."""

    number: int
    chunk: Chunk
    start: int
    end: int
    text: str
    score: float  # how well it answers the question

    @property
    def is_headline(self) -> bool:
        """Whether this sentence is its article's headline."""
        return bool(self.chunk.title) and self.text.strip() == self.chunk.title.strip()


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    start: int
    end: int
    text: str
    rank: int  # of its passage, from 1
    score: float = 0.0


@dataclass(frozen=True)
class EvidenceSet:
    items: tuple[Evidence, ...] = ()

    @property
    def top(self) -> "Evidence | None":
        """The item that answers best (None when there is none)."""
        return max(self.items, key=lambda e: e.score, default=None)

    @property
    def best(self) -> float:
        top = self.top
        return top.score if top else 0.0

    def stating(self, demand: Demand, min_score: float = 0.0, hint: Collection[str] = (),
                tried: Collection[int] = ()) -> Evidence | None:
        """The item to quote as the answer: among those scoring at least ``min_score``,
        meeting the question's ``demand`` (an amount, a time, a reason — never in a
        headline: "Veltrix to build a plant in Arizona" gives none; the grave facts asked
        about, the office asked who holds, the words of the speaker asked for:
        `rag.demand`), the one holding most of the ``hint`` words (analyzed, as
        `rag.lexical.analyze` gives them; each weighted by how rare it is among the items),
        then the one that answers best; an item giving the amount asked for as a figure
        comes before one giving it vaguely. Items numbered in ``tried`` are passed over."""
        asked = demand.kind
        eligible = [e for e in self.items if e.score >= min_score and e.number not in tried
                    and demand.met_by(e.text, e.chunk.lang or None, e.chunk.day,
                                      functools.partial(said_before, e), e.chunk.title)
                    and not (asked == "reason" and e.is_headline)]
        bags = {e.number: set(analyze(e.text, e.chunk.lang or "")) for e in self.items}
        weight = {w: math.log((len(bags) + 1) / (1 + sum(w in b for b in bags.values())))
                  for w in hint}
        return max(eligible, key=lambda e: (states_exactly(asked, e.text, e.chunk.lang or None),
                                           sum(weight[w] for w in bags[e.number] & weight.keys()),
                                           e.score), default=None)

    def headlines(self) -> tuple[int, ...]:
        """The numbers of the items that are their article's headline."""
        return tuple(e.number for e in self.items if e.is_headline)

    def within(self, gap: float) -> tuple[Evidence, ...]:
        """The items scoring at most ``gap`` below the best (all of them when ``gap`` is 0),
        in number order."""
        return tuple(e for e in self.items if gap <= 0 or e.score >= self.best - gap)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, number: int) -> Evidence | None:
        return next((e for e in self.items if e.number == number), None)


# "Neither airline…", "Both companies…", "I due rivali…": the sentence before says which.
_WHICH_OF_THEM = (r"neither|both|either|the\s+two|entramb[ie]|ambedue|nessun[oa]\s+dei\s+due|"
                  r"nessuna\s+delle\s+due|i\s+due|le\s+due")
_COUNTS_BACK = re.compile(rf"^\W*(?:{_WHICH_OF_THEM})\b(?!\s+(?-i:[A-ZÀ-Ý]))", re.IGNORECASE)
# A sentence opening with a word that points back ("L'azienda è stata leader…", "It
# grew…", "Neither airline has…", "Lo ha comunicato l'Autorità…") names what it speaks of
# in the sentence before.
_POINTS_BACK = re.compile(
    r"^\W*(?:(?:lo|li)(?=\s+(?:ha|hanno|aveva|avevano|avrebbe|avrebbero)\b)|"
    r"l['’]\s*(?=(?:ha|hanno|aveva|avevano)\b)|"
    r"l['’]\s*azienda|la\s+società|il\s+gruppo|la\s+compagnia|quest['’]\s*ultim[oa]|"
    r"questo|questa|questi|queste|ciò|esso|essa|egli|lui|lei|loro|the\s+company|the\s+firm|"
    rf"the\s+group|the\s+latter|it|this|these|he|she|they|{_WHICH_OF_THEM})"
    r"\b(?!\s+(?-i:[A-ZÀ-Ý]))"
    r"(?!\s+(?:week|weekend|year|month|morning|evening|quarter|season|time|settimana|anno|"
    r"mese|mattina|sera|trimestre|stagione|volta)\b)",
    re.IGNORECASE)  # not "La società E. W. Scripps…" (it names it), nor "This week…"


def with_antecedent(item: E, article_text: str, question: str = "") -> E:
    """``item``, joined to the sentence before it in ``article_text`` when it opens with a
    word pointing back to it, or speaks of what ``question`` asks to name as "the company"
    (`refers_to_asked`): quoted alone, "L'azienda è stata leader di mercato nel cloud
    storage" does not say which company; with the sentence before, it says Amazon. A
    heading before it ("Perché è importante") is no antecedent."""
    points_back = _POINTS_BACK.match(item.text) or refers_to_asked(question, item.text)
    start = sentence_before(item, article_text) if points_back else None
    return item if start is None else replace(item, start=start, text=article_text[start:item.end])


def sentence_before(item: Evidence, article_text: str) -> int | None:
    """Where the whole sentence before ``item`` in ``article_text`` starts; None when there
    is none (or only a heading: "Perché è importante")."""
    if item.start > len(article_text):
        return None
    window = max(0, item.start - ANTECEDENT_CHARS)
    before = split_sentences(article_text[window:item.start], item.chunk.lang)
    if not before:
        return None
    start, end = window + before[-1][0], window + before[-1][1]
    return start if re.search(r"[.!?…\"”»)]\s*$", article_text[start:end]) else None


def said_before(item: Evidence) -> str:
    """The sentence before ``item`` in its passage, or "" (it opens the passage)."""
    shifted = replace(item, start=item.start - item.chunk.start, end=item.end - item.chunk.start)
    start = sentence_before(shifted, item.chunk.text) if shifted.start >= 0 else None
    return "" if start is None else item.chunk.text[start:shifted.start].strip()


def select_evidence(question: str, query: np.ndarray, hits: Sequence[Hit], store: Store,
                    embedder: Embedder, *, n: int, lexical_weight: float,
                    rank_weight: float, subject: Collection[str] = (),
                    lang: str = "") -> EvidenceSet:
    """The ``n`` best sentences of the ``hits`` for ``question`` (``query``: its vector; in
    ``lang``), taken only from articles that name one of the ``subject`` names, if any are
    given."""
    speaker = asked_speaker(question)
    articles: dict[str, Article | None] = {}  # read once, by `candidates`
    found = candidates(hits, store, subject, speaker, articles, lang)
    if not found:
        return EvidenceSet()
    vectors = embedder.embed([c.text for c in found], kind="document",
                             titles=[c.chunk.title for c in found])
    dense = vectors @ np.asarray(query, np.float32)
    lexical = _overlaps(question, [c.text for c in found], [c.chunk.lang for c in found])
    scored = []
    for c, d, w in zip(found, dense, lexical):
        score = float(d) + lexical_weight * w - rank_weight * math.log(c.rank)
        if speaker and speaks(speaker, c.text):
            score += lexical_weight
        scored.append(Candidate(c.chunk, c.start, c.end, c.text, c.rank, score))
    ranked = sorted(scored, key=lambda c: (-c.score, c.rank, c.start))
    chosen = _distinct(_in_context(ranked, articles), n)
    return EvidenceSet(tuple(Evidence(number, c.chunk, c.start, c.end, c.text, c.score)
                             for number, c in enumerate(chosen, start=1)))


def _distinct(ranked: Sequence[Candidate], n: int) -> list[Candidate]:
    """The first ``n`` of ``ranked`` that do not overlap one before them: a quotation's
    sentences each come with the one naming its speaker (`with_speaker`). Of two that
    overlap, the one holding the other takes its place, with its score."""
    chosen: list[Candidate] = []
    for c in ranked:
        same = next((i for i, o in enumerate(chosen) if o.chunk.article_id == c.chunk.article_id
                     and o.start < c.end and c.start < o.end), None)
        if same is None and len(chosen) < n:
            chosen.append(c)
        elif same is not None and c.start <= chosen[same].start and chosen[same].end <= c.end:
            chosen[same] = replace(c, score=chosen[same].score)
    return chosen


def candidates(hits: Sequence[Hit], store: Store, subject: Collection[str] = (),
               speaker: str = "", articles: dict[str, Article | None] | None = None,
               lang: str = "") -> list[Candidate]:
    """Each distinct, usable sentence of the hits (not flagged, not a headline question)
    whose article names one of the ``subject`` names (`rag.names.speaks_of`; by a close
    spelling only when the article is not in the question's ``lang``). A sentence
    of a quotation whose ``speaker`` is named in another of its sentences comes with that
    one (`with_speaker`). Each article is read from the store once, into ``articles``
    when given (for the caller to reuse)."""
    found: dict[tuple[str, int, int], Candidate] = {}
    flagged: dict[str, tuple | None] = {}
    articles = {} if articles is None else articles
    for hit in hits:
        chunk = hit.chunk
        if chunk.article_id not in flagged:
            articles[chunk.article_id] = store.article(chunk.article_id)
            flagged[chunk.article_id] = _flagged(articles[chunk.article_id], subject, lang)
        if flagged[chunk.article_id] is None:
            continue
        for start, end in split_sentences(chunk.text, chunk.lang):
            text = chunk.text[start:end]
            key = (chunk.article_id, chunk.start + start, chunk.start + end)
            if (key in found or len(text) < MIN_SENTENCE_CHARS or text.rstrip().endswith("?")
                    or overlaps(key[1:], flagged[chunk.article_id])):
                continue
            found[key] = Candidate(chunk, key[1], key[2], text, hit.rank)
    if speaker:
        return [with_speaker(c, articles[c.chunk.article_id], speaker) for c in found.values()]
    return list(found.values())


def _in_context(ranked: Sequence[Candidate],
                articles: Mapping[str, Article | None]) -> list[Candidate]:
    """The ``ranked`` candidates, each with the sentence before it when it opens by counting
    back to what that one names (`_COUNTS_BACK`, `with_antecedent`): "Neither airline has
    first class seats" says which airlines only after "A Frontier-Spirit deal… would have
    brought together two airlines…". Scored as the sentence alone; ``articles``: those
    `candidates` read. ("It…", "L'azienda…", "Questo…" are joined only when quoted
    as the answer: joined in the prompt too, they led the model to misread the bundled
    article's "mossa strettamente interna" as "internal competition".)"""
    joined = []
    for c in ranked:
        article = articles.get(c.chunk.article_id)
        if article is not None and _COUNTS_BACK.match(c.text):
            c = with_antecedent(c, article.text)
        joined.append(c)
    return joined


def with_speaker(candidate: Candidate, article: Article | None, speaker: str) -> Candidate:
    """``candidate``; or, when it is a sentence of a quotation that names its ``speaker`` in
    another sentence ("“When Delta announced the fare in 2012…" after "“…,” said Scott
    Keyes"), the span of the ``article`` from it to that one, so that it says whose words
    it gives (unless that is longer than `QUOTE_CHARS`)."""
    if article is None or speaks(speaker, candidate.text):
        return candidate
    spans, owners = _quotations(article.text, candidate.chunk.lang)
    here = next((i for i, (a, b) in enumerate(spans) if a <= candidate.start < b), None)
    owner = owners[here] if here is not None else None
    if owner is None or not speaks(speaker, article.text[slice(*spans[owner])]):
        return candidate
    start = min(candidate.start, spans[owner][0])
    end = max(candidate.end, spans[owner][1])
    if end - start > QUOTE_CHARS:
        return candidate
    return Candidate(candidate.chunk, start, end, article.text[start:end], candidate.rank)


@functools.lru_cache(maxsize=16)  # every candidate of an article reads the same quotations
def _quotations(text: str, lang: str) -> tuple[list[tuple[int, int]], list[int | None]]:
    """The sentence spans of an article's ``text``, and for each the sentence naming the
    speaker of the quotation it is part of (`rag.speech.quoted_by`)."""
    spans = split_sentences(text, lang)
    return spans, quoted_by([text[a:b] for a, b in spans])


def _flagged(article: Article | None, subject: Collection[str], lang: str = "") -> tuple | None:
    """The spans of ``article`` that address the assistant; None when the article (its
    title, source, author, text) names none of the ``subject`` names (by a close spelling
    only when it is not in the question's ``lang``)."""
    if article is None:
        return ()
    about = "\n".join((article.title, article.source, article.author, article.text))
    loosely = not lang or not article.lang or article.lang != lang
    return article.instructions if speaks_of(subject, about, loosely) else None


def _overlaps(question: str, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
    """For each text, the share of the question's words it holds, each word weighted by how
    rare it is among the texts (an idf over the candidates)."""
    asked = set(analyze_query(question, set(langs)))
    if not asked:
        return np.zeros(len(texts))
    bags = [set(analyze(t, lang)) for t, lang in zip(texts, langs)]
    n = len(bags)
    weight = {w: math.log((n + 1) / (1 + sum(w in b for b in bags))) + 1e-3 for w in asked}
    total = sum(weight.values())
    return np.array([sum(weight[w] for w in asked & bag) / total for bag in bags])
