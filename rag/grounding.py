"""Grounding: check every sentence of a draft answer against the evidence it cites.

The model answers from numbered `Evidence` (a few sentences of the articles) and cites
them as ``[n]``. `judge` reads each sentence of its draft as a claim and verifies it
against each evidence item:

* support — the cosine between the claim, embedded as a query, and the evidence
  sentence's document vector (`rag.support`: cached, so a check embeds only the draft's
  sentences; read after the question too);
* agreement (`rag.claims`) — every quantity the claim states (numbers with their scale,
  dates, percentages) and every name it uses must be stated by the evidence or its
  article's title; a name may complete one the evidence uses when its article spells
  it out ("Elon Musk" for "Musk"), and in another language it may be one that means the
  same (the embedder's cosine between the name and a phrase of the evidence:
  `NAME_TRANSLATION`); a claim that says who said something must cite a sentence in
  which that same person or outlet speaks (`rag.speech`), and what it says they said must
  not be stated far better by another item that does not name them
  (`rag.support.misattributed`); and a word the claim
  takes from the question must be one the evidence uses (in the evidence's language), or
  the claim is the question's premise dressed as an answer.

A claim is verified by the cited items that support and agree with it; one citing several
items, none of which states all of it, by those items read together ("…a data center
role [1] in Austin [2]": one supports it, together they state its names and numbers),
unless it reports someone's words; one whose citations fail is re-attached to an item that
passes; one nothing supports stays unverified, with the
reason in words, and so does one that another item states far better while naming someone
else (the claim moved that item's fact to another name). A sentence saying the evidence
does not tell ("the article does not mention…") is the model not answering, not a claim:
it is left out, and so is one that only repeats the question's own words, or a headline
(the evidence is embedded under it), or puts the kind of thing asked for where its name
should be ("The outlet spotted…" for "Which outlet…?"). A sentence that says words twice
running ("stata stata") the evidence does not repeat is the model degenerating: it stays
unverified. Words a claim puts in quotation
marks must be the source's own, or a translation reading as the same sentence
(`rag.support.misquoted`).
A verified claim resting only on evidence that answers the question far worse than the
best item, or only on evidence scoring below what could answer it at all (`min_evidence`),
is padding and is left out, and so is a repeated sentence; when the question asks for
someone's words ("what did Jassy say?"), so is one resting on no
sentence in which they speak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal, Mapping, Sequence

from .asked import states, unnamed
from .claims import Translates, continues, disagreement, missing_name, unsaid_words
from .corpus import Article
from .demand import Demand
from .embed import Embedder
from .evidence import Evidence, EvidenceSet, said_before
from .grave import states_facts
from .roles import states_role
from .lexical import analyze, analyze_query
from .negation import denies
from .statements import markers, statements, strip_markers, stutter
from .speech import asked_speaker, speakers, speaks_in_context
from .support import misattributed, misquoted, support_matrix, translates_by

# A claim cites the item it cites, unless another supports it this much better.
BETTER_SUPPORT = 0.10
# A claim is moved to an item it did not cite only when it has fewer words than this that
# neither the item nor the question uses (same language): "Tesla domina il settore
# dell'energia solare…" cited the sentence on solar energy, which does not say "domina", and
# must not move to the one saying Tesla dominates electric vehicles.
MOVED_UNSAID = 3
# A sentence saying the evidence does not tell is no claim: the model's way of not answering.
NON_ANSWER = re.compile(
    r"\b(?:(?:does|do|did)\s+not|doesn['’]t|don['’]t)\s+(?:\w+\s+){0,2}(?:provide|mention|say|"
    r"specify|state|contain|include|give|indicate|tell|answer)\b|\bno\s+(?:information|"
    r"mention|details?)\b|\bnot\s+(?:mentioned|specified|provided|stated|given|indicated|"
    r"available)\b|\bnon\s+(?:\w+\s+){0,2}(?:fornisc\w+|menziona(?:no)?|specifica(?:no)?|"
    r"indica(?:no)?|dic(?:e|ono)|contiene|contengono|riporta(?:no)?|precisa(?:no)?|"
    r"(?:è|sono)\s+(?:menzionat|specificat|indicat|riportat)\w*)\b|"
    r"\bnessuna\s+(?:informazione|menzione|indicazione)\b", re.IGNORECASE)
State = Literal["verified", "unverified", "left_out"]


@dataclass(frozen=True)
class Claim:
    """One sentence of the draft, judged: the evidence it rests on, its state and why."""

    text: str  # without markers
    cited: tuple[int, ...]  # evidence numbers that support it (verified) or it cited
    state: State
    reason: str = ""
    support: float = 0.0


@dataclass(frozen=True)
class Verdict:
    claims: tuple[Claim, ...] = ()

    @property
    def verified(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.state == "verified")

    def cut_off(self, why: str) -> "Verdict":
        """The verdict of a draft cut mid-sentence (``why``: at the length limit, or while
        repeating itself): its last, unfinished claim is left out."""
        if not self.claims:
            return self
        last = self.claims[-1]
        cut = Claim(last.text, (), "left_out", why, last.support)
        return Verdict(self.claims[:-1] + (cut,))


@dataclass(frozen=True)
class Check:
    """How one claim fares against one evidence item."""

    number: int
    support: float
    problem: str  # "" when the item states everything the claim does
    unsaid: int = 0  # words of the claim that neither the item nor the question uses

    def passes(self, min_support: float) -> bool:
        return self.support >= min_support and not self.problem


def judge(draft: str, evidence: EvidenceSet, embedder: Embedder,
          articles: Mapping[str, Article], *, question: str, lang: str,
          min_support: float, max_gap: float, min_evidence: float = 0.0,
          question_words: bool = True, asked_kind: bool = True,
          speakers: bool = True, min_translation: float = 0.80) -> Verdict:
    """Verify each sentence of ``draft`` against the ``evidence`` it cites. ``asked_kind``:
    when the question asks for an amount or a time, verified sentences none of which
    states one are no answer. ``speakers``: a claim that someone said something must cite a
    sentence in which they speak, and when the question asks for someone's words, verified
    sentences resting on none of theirs are no answer."""
    sentences = statements(draft, lang)
    if not sentences or not len(evidence):
        return Verdict(tuple(Claim(strip_markers(s), tuple(markers(s)), "unverified",
                                   "no evidence to check it against") for s in sentences))
    support = support_matrix([strip_markers(s) for s in sentences], evidence, embedder,
                             question)
    translates = translates_by(embedder)
    source = " ".join(e.text for e in evidence.items)  # what a repetition may copy
    claims = []
    for sentence, row in zip(sentences, support):
        text = strip_markers(sentence)
        if reason := not_an_answer(text, question, lang, evidence):
            claims.append(Claim(text, (), "left_out", reason))
            continue
        if twice := stutter(text, source):
            claims.append(Claim(text, tuple(markers(sentence)), "unverified",
                                f"it says “{twice}”: words repeated"))
            continue
        checks = [Check(e.number, float(value),
                        disagreement(text, e, articles.get(e.chunk.article_id), question, lang,
                                     question_words, speakers, translates),
                        len(unsaid_words(text, e, question, lang)))
                  for e, value in zip(evidence.items, row)]
        claim = _decide(sentence, checks, min_support)
        if claim.state == "unverified":
            claim = _jointly(sentence, checks, evidence, articles, question, lang,
                             question_words, translates, min_support) or claim
        if claim.state == "verified" and (wrong := misquoted(
                text, [evidence.get(n) for n in claim.cited], lang, embedder, min_translation)):
            claim = Claim(text, claim.cited, "unverified",
                          f"the source does not say {wrong} in these words", claim.support)
        claim = _unswapped(claim, checks, evidence, articles, question, lang, translates,
                           min_support)
        if claim.state == "verified" and speakers and (who := misattributed(
                text, claim.cited, evidence, embedder, BETTER_SUPPORT, question)):
            claim = Claim(text, claim.cited, "unverified",
                          f"the source that says this does not name “{who}”", claim.support)
        claims.append(claim)
    claims = _focus(claims, evidence, max_gap, min_evidence)
    if speakers:
        claims = _in_their_words(claims, evidence, asked_speaker(question))
    return Verdict(tuple(_answering(claims, Demand.of(question, speakers=False), lang, evidence,
                                    translates) if asked_kind else claims))


def not_an_answer(claim: str, question: str, lang: str,
                  evidence: EvidenceSet = EvidenceSet()) -> str:
    """Why ``claim`` (markers stripped) is no answer at all, or "": it says the articles do
    not tell, asks a question, only repeats the question's words, puts the kind of thing
    asked for where its name should be ("The outlet spotted…" for "Which outlet…?"), or
    only restates a headline of the ``evidence`` (`restates_headline`)."""
    if NON_ANSWER.search(claim):
        return "it says the articles do not tell"
    if claim.rstrip().endswith("?"):
        return "it asks a question instead of answering"
    if question and repeats(claim, question, lang):
        return "it only repeats the question"
    if question and (kind := unnamed(question, claim)):
        return f"it does not say which {kind}"
    return restates_headline(claim, evidence, question, lang)


def restates_headline(claim: str, evidence: EvidenceSet, question: str, lang: str) -> str:
    """Why ``claim`` is no answer when it only restates a headline of the evidence's
    articles ("Jackson, Mississippi, water crisis: Repairs have begun at the water" for
    "Who is the mayor of Jackson?"), or "": every word it holds is the headline's or the
    question's, and no evidence sentence holds half of those not the question's. The
    evidence is embedded under its headline, so a copied headline reads as supported."""
    asked = set(analyze_query(question, {lang})) if question else set()
    said = set(analyze(claim, lang)) - asked
    if not said:
        return ""
    # each sentence's words stemmed in its language and the claim's: "Tesla" is "tesl" in
    # Italian, "tesla" in English
    stated = max((len(said & set(analyze_query(e.text, {e.chunk.lang or lang, lang})))
                  for e in evidence.items), default=0)
    titles = {e.chunk.title for e in evidence.items if e.chunk.title}
    if stated * 2 < len(said) and any(said <= set(analyze(t, lang)) for t in titles):
        return "it restates the headline"
    return ""


def repeats(claim: str, question: str, lang: str) -> bool:
    """Whether ``claim`` says nothing the question does not: every word it holds (stemmed,
    stopwords aside) is one of the question's ("Gengis Khan ha spinto i Mamelucchi fuori
    dalla Palestina" for "Quale discendente di Gengis Khan ha spinto…?"), and it denies
    only what the question denies ("The grid did not suffer outages" answers "Did the
    grid suffer outages?")."""
    said = set(analyze(claim, lang))
    return (bool(said) and said <= set(analyze_query(question, {lang, "en", "it"}))
            and denies(claim) == denies(question))


def _jointly(sentence: str, checks: Sequence[Check], evidence: EvidenceSet,
             articles: Mapping[str, Article], question: str, lang: str, question_words: bool,
             translates: Translates, min_support: float) -> Claim | None:
    """The claim verified by the items it cites read together, when no one of them states
    all of it: "Tesla is advertising a data center role [1] in Austin [2]" joins the job
    listing's sentence and the one placing it. One cited item must support it, and their
    joined text state all its names and numbers. Never for words said or reported: they
    are checked against the one sentence in which their speaker speaks."""
    cited = [evidence.get(n) for n in dict.fromkeys(markers(sentence))]
    items = sorted((e for e in cited if e is not None), key=lambda e: e.number)
    text = strip_markers(sentence)
    support = max((c.support for c in checks if c.number in {e.number for e in items}),
                  default=0.0)
    if len(items) < 2 or support < min_support or speakers(text):
        return None
    first = items[0]
    joined = replace(first, text=" ".join(e.text for e in items))
    if disagreement(text, joined, articles.get(first.chunk.article_id), question, lang,
                    question_words, True, translates):
        return None
    return Claim(text, tuple(e.number for e in items), "verified", support=support)


def _decide(sentence: str, checks: Sequence[Check], min_support: float) -> Claim:
    """Keep the citations that pass (unless another item supports the claim far better);
    else re-attach to the best item that passes and uses nearly all of its words (see
    `MOVED_UNSAID`); else say why the claim is not verified."""
    text = strip_markers(sentence)
    cited = list(dict.fromkeys(markers(sentence)))
    passing = {c.number: c for c in checks if c.passes(min_support)}
    best = max(passing.values(), key=lambda c: c.support, default=None)
    kept = [n for n in cited if n in passing
            and passing[n].support >= best.support - BETTER_SUPPORT]
    if kept:
        return Claim(text, tuple(kept), "verified", support=max(passing[n].support for n in kept))
    movable = [c for c in passing.values() if c.number in cited or c.unsaid < MOVED_UNSAID]
    if moved := max(movable, key=lambda c: c.support, default=None):
        return Claim(text, (moved.number,), "verified", support=moved.support)
    return Claim(text, tuple(cited), "unverified", _reason(cited, checks, min_support),
                 max((c.support for c in checks), default=0.0))


def _unswapped(claim: Claim, checks: Sequence[Check], evidence: EvidenceSet,
               articles: Mapping[str, Article], question: str, lang: str,
               translates: Translates, min_support: float) -> Claim:
    """``claim``, unless an item states it far better (`BETTER_SUPPORT`) than the one it
    rests on, and names someone else: then the claim moved that item's fact to another name
    ("The Information reported on the job listing", resting on a sentence about The
    Information, when the sentence about the job listing names Electrek)."""
    if claim.state != "verified":
        return claim
    top = max(checks, key=lambda c: c.support)
    if not top.problem or top.support < max(claim.support + BETTER_SUPPORT, min_support):
        return claim
    item = next(e for e in evidence.items if e.number == top.number)
    name = missing_name(claim.text, item, articles.get(item.chunk.article_id), question, lang,
                        translates)
    if not name:
        return claim
    return Claim(claim.text, (top.number,), "unverified",
                 f"the source that says this does not name {name}", claim.support)


def _reason(cited: Sequence[int], checks: Sequence[Check], min_support: float) -> str:
    """Why nothing verifies the claim, as a reader would put it."""
    by_number = {c.number: c for c in checks}
    for n in cited:
        check = by_number.get(n)
        if check is not None and check.support >= min_support and check.problem:
            return f"the source it cites does not say {check.problem}"
    problems = [c.problem for c in checks if c.support >= min_support and c.problem]
    if problems:
        return f"no source says {problems[0]}"
    return "no source says this"


def _focus(claims: Sequence[Claim], evidence: EvidenceSet, max_gap: float,
           min_score: float = 0.0) -> list[Claim]:
    """Leave out padding: a verified claim whose evidence answers the question more than
    ``max_gap`` worse than the best item of all, or scores below ``min_score`` (what could
    not answer it alone: `min_evidence`), is true, but not an answer. An item opening with a
    pronoun right after an answering item of its article goes on with it ("Tom Whitcombe
    said… He promised to build 2,000 homes"), and answers too."""
    answering = {e.number for e in evidence.within(max_gap) if e.score >= min_score}
    answering |= {f.number for f in evidence.items for e in evidence.items
                  if e.number in answering and continues(f, e)}
    return [_left_out(c, "true, but it does not answer the question")
            if c.state == "verified" and answering.isdisjoint(c.cited) else c for c in claims]


def _in_their_words(claims: list[Claim], evidence: EvidenceSet, speaker: str) -> list[Claim]:
    """``claims``, but when the question asks for the ``speaker``'s words, a verified claim
    resting on no item in which the speaker speaks is left out (true, but not their words)."""
    if not speaker:
        return claims
    theirs = {e.number for e in evidence.items
              if speaks_in_context(speaker, e.text, partial(said_before, e))}
    return [_left_out(c, f"it does not give what “{speaker}” said")
            if c.state == "verified" and theirs.isdisjoint(c.cited) else c for c in claims]


def _answering(claims: list[Claim], demand: Demand, lang: str, evidence: EvidenceSet,
               translates: Translates | None = None) -> list[Claim]:
    """``claims`` as answers to the question that makes ``demand``. When it asks for an
    amount, a time or a reason (``demand.kind``) and no verified claim states one, the
    verified claims are left out (true, but no answer to it). A question about a death,
    an injury, an arrest, a verdict or a resignation (`rag.grave`) is answered only by the verified
    claims stating it: "How many people died?" is not answered by the heatwave's
    temperatures. A question asking who holds an office (`rag.roles`) is answered only by
    claims citing an item that gives that office of the same body: "Who is the CEO of Van
    Dalen Foods?" is not answered by who owns what. A question naming a year is not answered
    by claims citing only items about other years (`rag.demand`)."""
    if demand.role:
        giving = {e.number for e in evidence.items
                  if states_role(demand.role, e.text, e.chunk.title, translates)}
        claims = [_left_out(c, "it does not say who holds the office asked about")
                  if c.state == "verified" and giving.isdisjoint(c.cited) else c for c in claims]
    if demand.years:
        about = {e.number for e in evidence.items if demand.in_years(e.text, e.chunk.day)}
        claims = [_left_out(c, "it is about another year than the one asked")
                  if c.state == "verified" and about.isdisjoint(c.cited) else c for c in claims]
    asked, verified = demand.kind, [c for c in claims if c.state == "verified"]
    if asked and verified and not any(states(asked, c.text, lang) for c in verified):
        reason = {"quantity": "it does not say how many or how much",
                  "times": "it does not say how many times",
                  "time": "it does not say when", "reason": "it does not say why"}[asked]
        return [_left_out(c, reason) if c.state == "verified" else c for c in claims]
    return [_left_out(c, "it does not say what the question asks")
            if c.state == "verified" and not states_facts(demand.facts, c.text) else c
            for c in claims]


def _left_out(claim: Claim, reason: str) -> Claim:
    return Claim(claim.text, claim.cited, "left_out", reason, claim.support)


def quote_of(item: Evidence, article: Article | None) -> tuple[str, int, int]:
    """The exact article text of an evidence item, with its offsets."""
    if article is not None and 0 <= item.start <= item.end <= len(article.text):
        return article.text[item.start:item.end], item.start, item.end
    return item.text, item.start, item.end
