"""Answering: question in, checked `Answer` out — evidence first, as a stream of events.

1. *understanding* — a follow-up is condensed with the conversation into a standalone
   question (by the model, under the same system prompt, whose KV cache it keeps);
2. *searching* — retrieval finds passages, and `rag.evidence` picks the few sentences
   that answer; they are sent out at once (`Sources`), before the model reads anything;
3. no sentence answers well enough: the assistant abstains, without calling the model;
4. *reading*, *writing* — the model reads the numbered evidence and writes a draft
   citing it (`Draft` pieces);
5. *checking* — `rag.grounding` verifies each draft sentence against what it cites.
   Verified sentences are the answer. When none is, but the evidence clearly answers,
   the answer is the best evidence itself, quoted — or, in another language, a faithful
   translation that is checked against its source sentence like any claim.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

from . import prompts
from .answer import Answer, AnswerSentence, Citation, Kind, Quote, Timings
from .claims import disagreement
from .corpus import Article, detect_language
from .embed import Embedder
from .events import Done, Draft, Event, Sources, Stage
from .evidence import Evidence, EvidenceSet, select_evidence
from .filters import Filters
from .generate import Generator, Message
from .grounding import Claim, judge, markers, strip_markers, with_markers
from .retrieve import Hit, Retriever
from .settings import Settings
from .store import Store

CONDENSE_TOKENS = 60
TRANSLATE_TOKENS = 160


@dataclass(frozen=True)
class Options:
    """Per-question options; None takes the setting."""

    k: int | None = None
    mode: str | None = None
    filters: Filters | None = None
    today: dt.date | None = None
    max_tokens: int | None = None
    verify: bool | None = None


class Clock:
    """Milliseconds spent per stage, and marks from the start."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + (now - self.last) * 1000
        self.last = now

    def mark(self, name: str) -> None:
        self.laps.setdefault(name, (time.perf_counter() - self.start) * 1000)

    def elapsed(self) -> float:
        return (time.perf_counter() - self.start) * 1000


class Answerer:
    """The answering pipeline over one store, embedder and generator."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder,
                 generator: Generator):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.generator = generator
        self.retriever = Retriever(store, embedder, settings)

    def events(self, question: str, history: Sequence[tuple[str, str]] = (),
               options: Options = Options()) -> Iterator[Event]:
        """Stages, the sources, the draft as it is written, then `Done` with the answer."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        clock = Clock()
        lang = detect_language(question, fallback=("en", "it"))
        clock.lap("language_ms")
        standalone = question
        if history:
            yield Stage("understanding", clock.elapsed())
            standalone = self.condense(history, question)
            clock.lap("condense_ms")
        yield Stage("searching", clock.elapsed())
        hits, evidence = self._search(standalone, options, clock)
        yield Sources(tuple(hits), evidence.items)
        clock.mark("first_evidence_ms")
        build = _Builder(self, question, standalone, lang, tuple(hits), clock)
        if evidence.best < self.settings.min_evidence:
            yield Done(build.abstain())
            return
        draft = yield from self._write(standalone, evidence, lang, options, clock)
        yield Stage("checking", clock.elapsed())
        yield Done(self._settle(build, draft, evidence, options))

    def _search(self, standalone: str, options: Options,
                clock: Clock) -> tuple[list[Hit], EvidenceSet]:
        s = self.settings
        query = self.embedder.embed([standalone], kind="query")[0]
        hits = self.retriever.search(standalone, k=options.k, mode=options.mode,
                                     filters=options.filters, today=options.today, vector=query)
        clock.lap("retrieve_ms")
        evidence = select_evidence(standalone, query, hits, self.store, n=s.evidence_sentences,
                                   lexical_weight=s.evidence_lexical_weight,
                                   rank_weight=s.evidence_rank_weight)
        clock.lap("evidence_ms")
        return hits, evidence

    def _write(self, standalone: str, evidence: EvidenceSet, lang: str, options: Options,
               clock: Clock) -> Iterator[Event]:
        """Stream the model's draft; return it (hiding a NOT_FOUND as it is being written)."""
        yield Stage("reading", clock.elapsed())
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.answer_message(standalone, evidence.items, lang))]
        pieces: list[str] = []
        stream = self.generator.generate(
            messages, max_tokens=options.max_tokens or self.settings.max_answer_tokens,
            temperature=self.settings.temperature)
        for piece in hold_back(stream, prompts.NOT_FOUND):
            if not pieces:
                clock.mark("first_token_ms")
                yield Stage("writing", clock.elapsed())
            pieces.append(piece)
            yield Draft(piece)
        clock.lap("generate_ms")
        return "".join(pieces).strip()

    def _settle(self, build: "_Builder", draft: str, evidence: EvidenceSet,
                options: Options) -> Answer:
        """The verified draft; else the best evidence itself; else an abstention."""
        s = self.settings
        verify = s.verify if options.verify is None else options.verify
        if draft and prompts.NOT_FOUND not in draft:
            if not verify:
                return build.unchecked(draft, evidence)
            verdict = judge(draft, evidence, self.embedder, build.articles(evidence),
                            question=build.standalone, lang=build.lang,
                            min_support=s.min_support, max_gap=s.max_relevance_gap)
            build.clock.lap("verify_ms")
            if verdict.verified:
                return build.generated(draft, verdict.claims, evidence)
            claims = verdict.claims
        else:
            claims = ()
        if s.extractive_fallback and evidence.best >= s.min_extract:
            return build.extracted(evidence.top, draft, claims)
        return build.abstain(draft, claims)

    def condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        """A follow-up rewritten as a standalone question, using the last turns."""
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.condense_message(history[-3:], question))]
        text = "".join(self.generator.generate(messages, max_tokens=CONDENSE_TOKENS,
                                               temperature=0.0))
        line = next((x.strip() for x in text.splitlines() if x.strip()), "")
        return line.strip('"“”«»') or question

    def translate(self, text: str, lang: str) -> str:
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.translate_message(text, lang))]
        out = "".join(self.generator.generate(messages, max_tokens=TRANSLATE_TOKENS,
                                              temperature=0.0))
        return " ".join(out.split()).strip('"“”«»')


class _Builder:
    """Assembles the `Answer` of one question: citations numbered in order of appearance,
    exact quotes from the articles, timings."""

    def __init__(self, answerer: Answerer, question: str, standalone: str, lang: str,
                 hits: tuple[Hit, ...], clock: Clock):
        self.answerer, self.question, self.standalone = answerer, question, standalone
        self.lang, self.hits, self.clock = lang, hits, clock
        self._articles: dict[str, Article | None] = {}

    def articles(self, evidence: EvidenceSet) -> Mapping[str, Article | None]:
        for item in evidence.items:
            article_id = item.chunk.article_id
            if article_id not in self._articles:
                self._articles[article_id] = self.answerer.store.article(article_id)
        return self._articles

    def generated(self, draft: str, claims: Sequence[Claim], evidence: EvidenceSet) -> Answer:
        self.articles(evidence)
        numbering: dict[int, int] = {}
        sentences = []
        for claim in claims:
            cited = [evidence.get(n) for n in claim.cited] if claim.state == "verified" else []
            marks = tuple(numbering.setdefault(e.number, len(numbering) + 1) for e in cited)
            sentences.append(AnswerSentence(claim.text, marks, tuple(self.quote(e) for e in cited),
                                            claim.state, claim.reason, claim.support))
        text = " ".join(with_markers(s.text, s.citations) for s in sentences if s.verified)
        return self.answer(text, "generated", sentences, numbering, evidence, draft)

    def extracted(self, item: Evidence, draft: str, claims: Sequence[Claim]) -> Answer:
        """The evidence item itself as the answer: quoted, or translated and checked."""
        article = self.articles(EvidenceSet((item,)))[item.chunk.article_id]
        quote = self.quote(item)
        text, reason = f"“{quote.text}”", "quoted from the article"
        if item.chunk.lang and item.chunk.lang != self.lang:
            translation = self.answerer.translate(quote.text, self.lang)
            if self._faithful(translation, item, article):
                text, reason = translation, "translated from the article"
        rejected = [AnswerSentence(c.text, (), (), "unverified", c.reason, c.support)
                    for c in claims if c.state == "unverified"]
        sentence = AnswerSentence(text, (1,), (quote,), "verified", reason, 1.0)
        return self.answer(with_markers(text, (1,)), "extracted", [*rejected, sentence],
                           {item.number: 1}, EvidenceSet((item,)), draft)

    def _faithful(self, translation: str, item: Evidence, article: Article | None) -> bool:
        """A translation passes as a claim does, and reads as the same sentence."""
        s = self.answerer.settings
        if not translation or disagreement(translation, item, article, lang=self.lang):
            return False
        vectors = self.answerer.embedder.embed([translation, item.text], kind="query")
        return float(vectors[0] @ vectors[1]) >= s.min_translation

    def unchecked(self, draft: str, evidence: EvidenceSet) -> Answer:
        numbering: dict[int, int] = {}
        for n in markers(draft):
            if evidence.get(n):
                numbering.setdefault(n, len(numbering) + 1)
        text = strip_markers(draft)
        return self.answer(text, "generated", [AnswerSentence(text, (), (), "unverified",
                                                              "not checked")],
                           numbering, evidence, draft)

    def abstain(self, draft: str = "", claims: Sequence[Claim] = ()) -> Answer:
        rejected = [AnswerSentence(c.text, (), (), c.state, c.reason, c.support)
                    for c in claims]
        return self.answer(prompts.abstention(self.lang), "abstained", rejected, {},
                           EvidenceSet(), draft)

    def quote(self, item: Evidence) -> Quote:
        article = self._articles.get(item.chunk.article_id)
        if article is not None and 0 <= item.start <= item.end <= len(article.text):
            return Quote(article.text[item.start:item.end], item.start, item.end)
        return Quote(item.text, item.start, item.end)

    def answer(self, text: str, kind: Kind, sentences, numbering: Mapping[int, int],
               evidence: EvidenceSet, draft: str) -> Answer:
        self.clock.mark("total_ms")
        citations = []
        for number, marker in sorted(numbering.items(), key=lambda kv: kv[1]):
            item = evidence.get(number)
            article = self._articles.get(item.chunk.article_id)
            quote = self.quote(item)
            citations.append(Citation(marker, item.chunk, (quote,), article.url if article else "",
                                      page_of(article, quote.start)))
        answerer = self.answerer
        models = (answerer.embedder.name, getattr(answerer.generator, "name", ""))
        known = {f.name for f in dataclasses.fields(Timings)}
        timings = Timings(**{k: v for k, v in self.clock.laps.items() if k in known})
        return Answer(self.question, text, kind, tuple(citations), tuple(sentences), self.hits,
                      self.standalone, self.lang, draft, timings, models)


def page_of(article: Article | None, offset: int) -> int:
    """The 1-based page holding ``offset`` in a paged article (a PDF), else 0."""
    if article is None or not article.pages:
        return 0
    return bisect.bisect_right(article.pages, offset)


def hold_back(pieces: Iterator[str], sentinel: str) -> Iterator[str]:
    """Pass pieces through, but hold back a prefix that could still become ``sentinel``."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        if sentinel.startswith(buffer.strip()) and buffer.strip():
            continue
        yield buffer
        buffer = ""
    if buffer and not sentinel.startswith(buffer.strip()):
        yield buffer
