"""Answering: question in, checked `Answer` out — evidence first, as a stream of events.

1. *understanding* — a follow-up is condensed with the conversation into a standalone
   question (by the model, under the same system prompt, whose KV cache it keeps);
2. *searching* — retrieval finds passages, and `rag.evidence` picks the few sentences
   that answer (for a question on what the articles say, "What is the article about?",
   "What does it say about Jassy?", `rag.overview` picks them); they are sent out at once
   (`Sources`), before the model reads anything;
   When none answers well enough and some of the first passages are in another language
   than the question, the model translates the question into theirs and the search runs
   again with it (across languages no word matches, and every score is lower);
3. no sentence answers well enough: the assistant abstains, without calling the model;
4. *reading*, *writing* — the model reads the numbered evidence and writes a draft
   citing it (`Draft` pieces);
5. *checking* — `rag.grounding` verifies each draft sentence against what it cites.
   Verified sentences are the answer. When none is, but the evidence clearly answers,
   the answer is the evidence itself — the item the draft drew on (the model read them
   all; the numbers and names a draft sentence states that its cited item does not, else
   its answer words, point there), else the best — quoted — or, in another language, the
   model's restatement of that one sentence, checked like any claim and read as the same sentence.
   Before a sentence is quoted, the model is given it alone and asked the question
   (`rag.confirmation`, in the sentence's language); when it replies that the sentence does
   not answer, neither does the quote, and the assistant abstains.
   Across languages every score is lower: when no item scores high enough to be quoted and
   the passages are in another language, the question is put in theirs and the evidence
   found so is quoted.
   A question asking how many, how much or when (`rag.asked`) is answered only by what
   states an amount or a time: a draft stating none falls back to the best evidence that
   does, and with none the assistant abstains ("When was Bezos born?" is not answered by
   a sentence about Bezos that gives no date).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from . import prompts
from .answer import Answer
from .assembly import LENGTH_LIMIT, REPEATED, AnswerBuilder, Clock
from .confirmation import confirms
from .conversation import HISTORY_TURNS, Exchange
from .corpus import answer_language
from .demand import Demand
from .embed import Embedder
from .events import Done, Draft, Event, Sources, Stage
from .evidence import Evidence, EvidenceSet, select_evidence
from .filters import Filters
from .generate import Generator, Message
from .fallback import answer_words
from .grounding import Claim, Verdict, judge
from .statements import ABBREVIATION_END
from .names import subject_names
from .overview import overview_evidence
from .retrieve import Hit, Retriever
from .settings import Settings
from .store import Store
from .translation import (needs_translation, other_language, passage_language,
                          translate_question)

# What every answer's prompt starts with; the generator keeps it evaluated (`prime`).
PROMPT_HEAD = (Message("system", prompts.SYSTEM), Message("user", prompts.EVIDENCE_HEAD))

CONDENSE_TOKENS = 60
# Why an evidence sentence the fallback would quote is not the answer (`rag.confirmation`).
UNCONFIRMED = "the model, reading this sentence alone, finds no answer to the question in it"
# Evidence items the fallback may offer the confirmation before it abstains: the best, and
# the next when the model finds no answer in the best ("A company spokesperson added…"
# for "Which company owns the plant?", before "Northgate, which is owned by…"); the next is
# never a headline, which lacks the time and place its article's sentences give ("Sardinia
# wildfire burns 4,300 hectares" for "Quanti ettari sono bruciati nel 2021?").
QUOTES_TRIED = 2
# The questions' translations kept (`Answerer._translation`).
TRANSLATIONS_KEPT = 64
# A draft that writes this many characters it has written before is in a loop: it stops.
REPEAT_CHARS = 60
# "22.1", "587.000", "Sr.X" are not ends, nor is "Sr. X" (`ABBREVIATION_END`).
SENTENCE_END = re.compile(r"[.!?…](?=\s)")


@dataclass(frozen=True)
class Options:
    """Per-question options; None takes the setting."""

    k: int | None = None
    mode: str | None = None
    filters: Filters | None = None
    today: dt.date | None = None
    max_tokens: int | None = None
    verify: bool | None = None


class Answerer:
    """The answering pipeline over one store, embedder and generator."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder,
                 generator: Generator):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.generator = generator
        self.retriever = Retriever(store, embedder, settings)
        # ``question`` in ``lang`` by the model, kept for the next need of it (the search,
        # the fallback and the confirmation of a quote may each want it)
        self._translation = functools.lru_cache(maxsize=TRANSLATIONS_KEPT)(
            functools.partial(translate_question, generator))

    def events(self, question: str, history: Sequence[Exchange] = (),
               options: Options = Options()) -> Iterator[Event]:
        """Stages, the sources, the draft as it is written, then `Done` with the answer."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        clock = Clock()
        lang = answer_language(question)
        clock.lap("language_ms")
        standalone = question
        if history:
            yield Stage("understanding", clock.elapsed())
            standalone = self.condense(history, question)
            clock.lap("condense_ms")
        yield Stage("searching", clock.elapsed())
        hits, evidence, unsearched = self._search(standalone, lang, options, clock)
        yield Sources(tuple(hits), evidence.items)
        clock.mark("first_evidence_ms")
        build = AnswerBuilder(self, question, standalone, lang, tuple(hits), clock)
        build.unsearched = unsearched
        if not evidence.items or evidence.best < self.settings.min_evidence:
            yield Done(build.abstain())
            return
        draft, build.cut = yield from self._write(standalone, evidence, lang, options, clock)
        yield Stage("checking", clock.elapsed())
        yield Done(self._settle(build, draft, evidence, options))

    def _search(self, standalone: str, lang: str, options: Options,
                clock: Clock) -> tuple[list[Hit], EvidenceSet, str]:
        """The passages and the evidence for the question, and the passages' language when
        it is another than the question's and the question was not translated into it
        (else ""). When no evidence answers well enough and the best sentence, or most
        passages, or else some of the first passages, are in another language
        (`passage_language`, `other_language`), the question is translated into theirs
        (`rag.translation`) and searched again: the articles may name what it names in their
        own language ("BCE" is "ECB" there), and in a corpus of two languages the first
        passages of a question may be mostly in its own language while the one that answers
        is not. The better of the two searches is kept."""
        hits, evidence = self._find(standalone, standalone, lang, options, clock)
        top = evidence.top
        target = ((passage_language(hits, lang, top.chunk.lang if top else "")
                   or other_language(hits, lang))
                  if self.settings.translate_questions else "")
        if not target or evidence.best >= self.settings.min_evidence:
            return hits, evidence, target
        translated = self._translated(standalone, target, clock)
        if translated:
            again = self._find(standalone, translated, lang, options, clock)
            if again[1].best > evidence.best:
                hits, evidence = again
        return hits, evidence, ""

    def _translated(self, standalone: str, target: str, clock: Clock) -> str:
        """``standalone`` in the ``target`` language, or "" when the model gives it back."""
        translated = self._translation(standalone, target)
        clock.lap("translate_ms")
        return translated if translated != standalone else ""

    def _stated_in_their_language(self, build: AnswerBuilder, demand: Demand, hint: set[str],
                                  options: Options) -> Evidence | None:
        """The evidence to quote, found by the question put in the passages' language, when
        they are in another than the question's and it was not yet translated. Across
        languages every score is lower ("What job did Tesla post?" scores 0.53 against the
        job listing's sentence, under `min_extract`; "Quale lavoro ha offerto Tesla?" 0.74),
        so the evidence a refused draft falls back to is scored in the passages' language."""
        translated = (self._translated(build.standalone, build.unsearched, build.clock)
                      if build.unsearched else "")
        if not translated:
            return None
        _, evidence = self._find(build.standalone, translated, build.lang, options, build.clock)
        return evidence.stating(demand, self.settings.min_extract, hint)

    def _find(self, standalone: str, asked: str, lang: str, options: Options,
              clock: Clock) -> tuple[list[Hit], EvidenceSet]:
        """The passages found for ``asked`` (``standalone`` in ``lang``, or its
        translation), and the evidence chosen from them."""
        s = self.settings
        query = self.embedder.embed([asked], kind="query")[0]
        hits = self.retriever.search(asked, k=options.k, mode=options.mode,
                                     filters=options.filters, today=options.today, vector=query)
        clock.lap("retrieve_ms")
        subject = subject_names(standalone) if s.check_subject else frozenset()
        if subject and asked != standalone:  # its translation may name it as the articles do
            subject |= subject_names(asked)
        evidence = overview_evidence(standalone, hits, self.store, self.embedder,
                                     n=s.evidence_sentences, subject=subject, lang=lang)
        if not evidence.items:
            evidence = select_evidence(asked, query, hits, self.store, self.embedder,
                                       n=s.evidence_sentences,
                                       lexical_weight=s.evidence_lexical_weight,
                                       rank_weight=s.evidence_rank_weight, subject=subject,
                                       lang=lang)
        clock.lap("evidence_ms")
        return hits, evidence

    def _write(self, standalone: str, evidence: EvidenceSet, lang: str, options: Options,
               clock: Clock) -> Iterator[Event]:
        """Stream the model's draft (at most `max_answer_sentences` sentences); return it,
        and whether it was cut mid-sentence: by the token limit, or stopped writing again
        what it wrote before (its last, unfinished sentence is then left out)."""
        yield Stage("reading", clock.elapsed())
        pieces: list[str] = []
        limit = options.max_tokens or self.settings.max_answer_tokens
        items = evidence.within(self.settings.evidence_gap)
        for piece in self.draft(standalone, items, lang, limit):
            if not pieces:
                clock.mark("first_token_ms")
                yield Stage("writing", clock.elapsed())
            pieces.append(piece)
            yield Draft(piece)
        clock.lap("generate_ms")
        draft = "".join(pieces).strip()
        if SENTENCE_END.search(draft[-1:] + " "):
            return draft, ""
        if len(pieces) >= limit:
            return draft, LENGTH_LIMIT
        return draft, REPEATED if repeating(draft) else ""

    def draft(self, question: str, items: Sequence[Evidence], lang: str,
              max_tokens: int | None = None) -> Iterator[str]:
        """The model's answer from ``items``, piece by piece, stopped after a few sentences."""
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.answer_message(question, items, lang))]
        self.generator.prime(PROMPT_HEAD)  # at once when held; else loaded from disk or read
        stream = self.generator.generate(
            messages, max_tokens=max_tokens or self.settings.max_answer_tokens,
            temperature=self.settings.temperature)
        text, wanted = "", self.settings.max_answer_sentences
        try:
            for piece in stream:
                ends = [m for m in SENTENCE_END.finditer(text + piece)
                        if not ABBREVIATION_END.search((text + piece)[:m.end()])]
                if len(ends) >= wanted:  # the piece finishes the last sentence wanted
                    last = ends[wanted - 1].end() - len(text)
                    if last > 0:
                        yield piece[:last]
                    return
                text += piece
                yield piece
                if repeating(text):
                    return
        finally:
            stream.close()

    def _settle(self, build: AnswerBuilder, draft: str, evidence: EvidenceSet,
                options: Options) -> Answer:
        """The verified draft; else the best evidence itself; else an abstention."""
        s = self.settings
        verify = s.verify if options.verify is None else options.verify
        claims: Sequence[Claim] = ()
        if draft:
            if not verify:
                return build.unchecked(draft, evidence)
            verdict = self.judge(draft, evidence, build)
            if build.cut:
                verdict = verdict.cut_off(build.cut)
            build.clock.lap("verify_ms")
            if verdict.verified:
                return build.generated(draft, verdict.claims, evidence)
            claims = verdict.claims
        if not s.extractive_fallback:
            return build.abstain(draft, claims)
        return self._quote(build, draft, claims, evidence, options)

    def _quote(self, build: AnswerBuilder, draft: str, claims: Sequence[Claim],
               evidence: EvidenceSet, options: Options) -> Answer:
        """The evidence that meets the question's demand, quoted; when the model, reading
        it alone, finds no answer in it (`confirm_quotes`), the next such item, up to
        `QUOTES_TRIED`; else an abstention."""
        s = self.settings
        demand = Demand.of(build.standalone, kinds=s.check_asked_kind,
                           speakers=s.check_speakers)
        hint = (answer_words(draft, build.standalone, build.lang, evidence)
                if s.extract_by_draft else ())
        tried: set[int] = set()
        for _ in range(QUOTES_TRIED):
            item = evidence.stating(demand, s.min_extract, hint, tried)
            if not item and not tried and evidence.items:
                item = self._stated_in_their_language(build, demand, hint, options)
            if not item:
                break
            tried |= {item.number, *evidence.headlines()}  # a headline only as the best
            item = build.in_context(item)
            if not s.confirm_quotes or self._confirmed(build, item):
                return build.extracted(item, draft, claims)
            claims = (*claims, Claim(item.text, (item.number,), "left_out", UNCONFIRMED))
        return build.abstain(draft, claims)

    def _confirmed(self, build: AnswerBuilder, item: Evidence) -> bool:
        """Whether the model answers the question from ``item`` alone (`rag.confirmation`),
        asked in the item's language: across languages it says NONE to sentences that
        answer ("Quanta acqua consumerà la fabbrica al giorno?" of "…the plant would need up to 9
        million gallons of water a day")."""
        question, lang = build.standalone, item.chunk.lang
        if needs_translation(lang, build.lang):
            question = self._translation(question, lang)
        confirmed = confirms(self.generator, question, item.text)
        build.clock.lap("confirm_ms")
        return confirmed

    def judge(self, draft: str, evidence: EvidenceSet, build: AnswerBuilder) -> Verdict:
        s = self.settings
        return judge(draft, evidence, self.embedder, build.articles(evidence),
                     question=build.standalone, lang=build.lang, min_support=s.min_support,
                     max_gap=s.max_relevance_gap, min_evidence=s.min_evidence,
                     question_words=s.check_question_words,
                     asked_kind=s.check_asked_kind, speakers=s.check_speakers,
                     min_translation=s.min_translation)

    def condense(self, history: Sequence[Exchange], question: str) -> str:
        """A follow-up rewritten as a standalone question, using the last `HISTORY_TURNS`
        turns of ``history``."""
        messages = [Message("system", prompts.SYSTEM),
                    Message("user", prompts.condense_message(history[-HISTORY_TURNS:], question))]
        text = "".join(self.generator.generate(messages, max_tokens=CONDENSE_TOKENS,
                                               temperature=0.0))
        return prompts.question_reply(text, question)


def repeating(text: str) -> bool:
    """Whether ``text`` ends by writing again, word for word, `REPEAT_CHARS` it has written
    before: a small model caught in a loop ("…Oracle, IBM, Microsoft, Google, Oracle, IBM,
    Microsoft, Google…") would write it until the token limit."""
    tail = text[-REPEAT_CHARS:]
    return len(text) > 2 * REPEAT_CHARS and tail in text[:-REPEAT_CHARS]
