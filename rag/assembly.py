"""Assembly: the `Answer` of one question, built from what the checks left.

`AnswerBuilder` turns a verified draft, one evidence sentence (quoted, or restated in the
question's language and checked), an unchecked draft or an abstention into an `Answer`:
citations numbered in order of appearance, exact quotes read from the articles, and the
timings of each stage (`Clock`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Mapping, Sequence

from . import prompts
from .answer import Answer, AnswerSentence, Citation, Kind, Quote, Timings
from .corpus import Article, detect_language
from .evidence import Evidence, EvidenceSet, with_antecedent
from .grounding import Claim, Verdict
from .statements import markers, strip_markers, with_markers
from .retrieve import Hit
from .sources.pdf import page_of
from .translation import needs_translation

if TYPE_CHECKING:
    from .answering import Answerer

# Why a draft ended mid-sentence; its unfinished last sentence is left out of the answer.
LENGTH_LIMIT = "cut off at the length limit"
REPEATED = "stopped while repeating itself"


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



class AnswerBuilder:
    """Assembles the `Answer` of one question: citations numbered in order of appearance,
    exact quotes from the articles, timings."""

    def __init__(self, answerer: "Answerer", question: str, standalone: str, lang: str,
                 hits: tuple[Hit, ...], clock: Clock):
        self.answerer, self.question, self.standalone = answerer, question, standalone
        self.lang, self.hits, self.clock = lang, hits, clock
        self.cut = ""  # why the draft ended mid-sentence: LENGTH_LIMIT, REPEATED or not cut
        self.unsearched = ""  # the passages' language, when the question was not translated into it
        self._articles: dict[str, Article | None] = {}

    def article(self, item: Evidence) -> Article | None:
        """The article ``item`` is quoted from, read from the store once per answer."""
        article_id = item.chunk.article_id
        if article_id not in self._articles:
            self._articles[article_id] = self.answerer.store.article(article_id)
        return self._articles[article_id]

    def articles(self, evidence: EvidenceSet) -> Mapping[str, Article | None]:
        return {item.chunk.article_id: self.article(item) for item in evidence.items}

    def generated(self, draft: str, claims: Sequence[Claim], evidence: EvidenceSet) -> Answer:
        numbering: dict[int, int] = {}
        sentences = []
        for claim in claims:
            cited = [evidence.get(n) for n in claim.cited] if claim.state == "verified" else []
            marks = tuple(numbering.setdefault(e.number, len(numbering) + 1) for e in cited)
            sentences.append(AnswerSentence(claim.text, marks, tuple(self.quote(e) for e in cited),
                                            claim.state, claim.reason, claim.support))
        text = " ".join(with_markers(s.text, s.citations) for s in sentences if s.verified)
        return self.answer(text, "generated", sentences, numbering, evidence, draft)

    def in_context(self, item: Evidence) -> Evidence:
        """``item`` as it is quoted: with the sentence before, when it points back to it
        (`with_antecedent`)."""
        article = self.article(item)
        return with_antecedent(item, article.text, self.standalone) if article else item

    def extracted(self, item: Evidence, draft: str, claims: Sequence[Claim]) -> Answer:
        """The evidence ``item`` (`in_context`) itself as the answer: quoted, or — in
        another language the model can be asked for — the model's restatement of it alone,
        checked as any claim and read as the same sentence."""
        quote = self.quote(item)
        text, reason = quoted(quote.text), "quoted from the article"
        if needs_translation(item.chunk.lang, self.lang):
            restated = self._restated(replace(item, number=1))
            if restated:
                text, reason = restated, "translated from the article"
        rejected = [AnswerSentence(c.text, (), (), c.state, c.reason, c.support)
                    for c in claims if c.state != "verified"]
        sentence = AnswerSentence(text, (1,), (quote,), "verified", reason, 1.0)
        return self.answer(with_markers(text, (1,)), "extracted", [*rejected, sentence],
                           {item.number: 1}, EvidenceSet((item,)), draft)

    def _restated(self, item: Evidence) -> str:
        """The model's answer from ``item`` alone, if every sentence of it holds, it is in
        the question's language (not the item's own words after a line echoing the prompt:
        "The evidence sentences that answer the question are: I sindacati…") and it reads
        as the same sentence (cosine >= `min_translation`); else ""."""
        answerer, single = self.answerer, EvidenceSet((item,))
        draft = "".join(answerer.draft(self.standalone, single.items, self.lang)).strip()
        verdict = answerer.judge(draft, single, self) if draft else Verdict()
        if not verdict.claims or len(verdict.verified) < len(verdict.claims):
            return ""
        text = " ".join(c.text for c in verdict.claims)
        if detect_language(text, fallback=(self.lang, item.chunk.lang)) != self.lang:
            return ""
        vectors = answerer.embedder.embed([text, item.text], kind="query")
        return text if float(vectors[0] @ vectors[1]) >= answerer.settings.min_translation else ""

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
        article = self.article(item)
        if article is not None and 0 <= item.start <= item.end <= len(article.text):
            return Quote(article.text[item.start:item.end], item.start, item.end)
        return Quote(item.text, item.start, item.end)

    def answer(self, text: str, kind: Kind, sentences, numbering: Mapping[int, int],
               evidence: EvidenceSet, draft: str) -> Answer:
        self.clock.mark("total_ms")
        citations = []
        for number, marker in sorted(numbering.items(), key=lambda kv: kv[1]):
            item = evidence.get(number)
            article = self.article(item)
            quote = self.quote(item)
            citations.append(Citation(marker, item.chunk, (quote,), article.url if article else "",
                                      page_of(article, quote.start) if article else 0))
        answerer = self.answerer
        models = (answerer.embedder.name, getattr(answerer.generator, "name", ""))
        known = {f.name for f in dataclasses.fields(Timings)}
        timings = Timings(**{k: v for k, v in self.clock.laps.items() if k in known})
        return Answer(self.question, text, kind, tuple(citations), tuple(sentences), self.hits,
                      self.standalone, self.lang, draft, self.cut == LENGTH_LIMIT, timings,
                      models)


def quoted(sentence: str) -> str:
    """``sentence`` in quotation marks, on one line; one that opens with a quotation of its
    own ("“…”, ha detto Chanos.") keeps its marks instead of being wrapped in more."""
    text = " ".join(sentence.split())
    return text if text[:1] in "“«\"" else f"“{text}”"

