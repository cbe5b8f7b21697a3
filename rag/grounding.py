"""Grounding: parse citation markers and check every answer sentence against its evidence.

A small model cites the wrong passage, turns "22,1 miliardi" into "22.1 million",
or answers from world knowledge. So each sentence of an answer is checked:

* support — the best cosine similarity between the sentence (alone, or after the
  question it answers) and a window of one or two consecutive sentences of a passage
  (the embedder that is already loaded);
* agreement — every quantity the sentence states (numbers with their scale:
  miliardi = billion, mila = thousand, comma decimals) and every name it uses
  must occur in that passage or its article's title (the model sees both).

A sentence whose cited passage does not support it is re-attached to a retrieved
passage that does; a sentence that nothing supports is kept but marked unverified; a
verified sentence whose quote answers the question far worse than the best one's is
padding and is left out (`focus`); a repeated sentence counts once.
Each citation carries the quote: the exact span of the article that supports it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Mapping, Sequence

import numpy as np

from .chunking import Chunk, split_sentences
from .embed import Embedder
from .lexical import fold_accents

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_SCALES = {
    "thousand": 1e3, "mila": 1e3, "mille": 1e3, "k": 1e3,
    "million": 1e6, "millions": 1e6, "milioni": 1e6, "milione": 1e6, "mln": 1e6, "m": 1e6,
    "billion": 1e9, "billions": 1e9, "miliardi": 1e9, "miliardo": 1e9, "mld": 1e9, "bn": 1e9,
    "trillion": 1e12, "trilioni": 1e12, "bilioni": 1e12,
}
_QUANTITY = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])\s*"
    r"(" + "|".join(sorted(_SCALES, key=len, reverse=True)) + r")?\b", re.IGNORECASE)
# Numbers written as words, read like digits ("otto seggi" = "8 seggi"). Left out: one/uno/una
# (also articles and pronouns) and Italian "sei" (also "you are").
_NUMBER_WORDS = {
    **dict(zip("two three four five seven eight nine ten eleven twelve thirteen fourteen fifteen "
               "sixteen seventeen eighteen nineteen twenty".split(), [2, 3, 4, 5, *range(7, 21)])),
    **dict(zip("thirty forty fifty sixty seventy eighty ninety".split(), range(30, 100, 10))),
    "six": 6,
    **dict(zip("due tre quattro cinque sette otto nove dieci undici dodici tredici quattordici "
               "quindici sedici diciassette diciotto diciannove venti".split(),
               [2, 3, 4, 5, *range(7, 21)])),
    **dict(zip("trenta quaranta cinquanta sessanta settanta ottanta novanta".split(),
               range(30, 100, 10))),
}
_NUMBER_WORD = re.compile(r"(?<![\w'’-])(" + "|".join(_NUMBER_WORDS) + r")(?![\w'’-])",
                          re.IGNORECASE)  # "twenty-two" is left unread
# A name of at least this many letters may match a spelling this close (difflib ratio).
NAME_VARIANT_MIN, NAME_VARIANT_RATIO = 5, 0.8
_NAME_RUN = re.compile(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{2,}(?:[ \t]+[A-ZÀ-Ý][\w’'\-]{2,})*")


@dataclass(frozen=True)
class Evidence:
    """A window of one or two sentences of a passage, in article offsets."""

    passage: int  # 1-based marker of the passage
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Citation:
    """A passage cited as [marker], with the quotes that support the sentences citing it.

    ``quote`` (``quote_start``..``quote_end``, offsets in the article) is the first of
    ``quotes``: when two sentences cite the same passage for different statements, each
    has its own quote (`Sentence.quotes` says which).
    """

    marker: int
    chunk: Chunk
    quote: str = ""
    quote_start: int = 0
    quote_end: int = 0
    quotes: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer: the markers it cites (with, for each, the quote that
    supports it), its support, and whether it is verified."""

    text: str
    citations: tuple[int, ...]
    support: float = 0.0
    verified: bool = False
    quotes: tuple[Evidence, ...] = ()


def markers(text: str) -> list[int]:
    """Every number inside [n] / [n, m] markers, in order."""
    return [int(n) for group in MARKER.findall(text) for n in re.split(r"[,;]", group)]


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def with_markers(sentence: str, cited: Sequence[int]) -> str:
    """``sentence`` with its markers placed before its final punctuation: 'x [1][2].'"""
    if not cited:
        return sentence
    tags = "".join(f"[{n}]" for n in cited)
    body = sentence.rstrip()
    end = len(body.rstrip(".!?…"))
    return f"{body[:end]} {tags}{body[end:]}"


def parse_citations(answer: str, passages: Sequence[Chunk]) -> tuple[Citation, ...]:
    """Citations for the markers in ``answer`` that point at a passage; others are dropped."""
    seen: dict[int, Citation] = {}
    for n in markers(answer):
        if 1 <= n <= len(passages) and n not in seen:
            seen[n] = Citation(n, passages[n - 1])
    return tuple(seen.values())


def quantities(text: str) -> set[float]:
    """Every reading of every number in ``text``, scaled: '22,1 miliardi' -> {22.1e9};
    numbers written as words count too: 'otto' -> {8.0}."""
    found: set[float] = set()
    for number, scale in _QUANTITY.findall(text):
        factor = _SCALES.get(scale.lower(), 1.0) if scale else 1.0
        for value in _readings(number):
            found.add(round(value * factor, 6))
    return found | {float(_NUMBER_WORDS[w.lower()]) for w in _NUMBER_WORD.findall(text)}


def _readings(number: str) -> set[float]:
    readings = set()
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):  # 250.000 or 250,000: grouping
        readings.add(float(re.sub(r"[.,]", "", number)))
    if number.count(",") + number.count(".") <= 1:  # 22,1 or 22.1: a decimal
        readings.add(float(number.replace(",", ".")))
    return readings or {float(re.sub(r"[.,]", "", number))}


def names(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Runs of capitalized words ("Jeff Bezos"), accent-folded, possessives stripped.

    The sentence's first word is capitalized anyway, so it counts only when it is one
    of the ``known`` names (those of the question: "Milano ha 427.652 abitanti")."""
    body = text.lstrip()
    first = re.match(r"\S+", body)
    skip = first.end() if first else 0
    runs = []
    for m in _NAME_RUN.finditer(body):
        run = tuple(_fold_name(w) for w in m.group(0).split())
        if m.start() < skip and run[0] not in known:
            run = run[1:]
        if run:
            runs.append(run)
    return runs


def _fold_name(word: str) -> str:
    return re.sub(r"['’]s$", "", fold_accents(word).casefold()).strip("’'-")


def agrees(sentence: str, evidence: str, context: str = "", question: str = "") -> bool:
    """The sentence states no quantity or name that the evidence lacks.

    A full name may complete a surname the evidence has ("Elon Musk" for "Musk")
    when ``context`` (all the passages the model saw) spells it out in full. A name
    of the ``question`` counts even as the sentence's first word, and agrees with a
    close spelling of it in the evidence ("Cristian Bay" / "Christian Bay").
    """
    evidence_quantities = quantities(evidence)
    for value_set in (quantities(p) for p in _number_phrases(sentence)):
        if value_set and not value_set & evidence_quantities:
            return False
    folded, around = fold_accents(evidence).casefold(), fold_accents(context).casefold()
    known = frozenset(word for run in names(question) for word in run)
    for run in names(sentence, known):
        missing = [word for word in run if word not in folded
                   and not (word in known and _variant_of(word, folded))]
        if missing and not (len(missing) < len(run) and " ".join(run) in around):
            return False
    return True


def _variant_of(word: str, evidence: str) -> bool:
    """``word`` is another spelling of a word of the evidence: a translation or
    transliteration of one name ("Cristian" / "Christian", "Plasmodio" / "Plasmodium"),
    never a short name ("Musk" / "Mask"). Used only for the question's own names: the
    question may spell a name as its reader does, the answer may not invent one."""
    return len(word) >= NAME_VARIANT_MIN and any(
        SequenceMatcher(None, word, other).ratio() >= NAME_VARIANT_RATIO
        for other in re.findall(r"\w{%d,}" % NAME_VARIANT_MIN, evidence) if other[0] == word[0])


def _number_phrases(sentence: str) -> list[str]:
    return [m.group(0) for m in _QUANTITY.finditer(sentence)] + _NUMBER_WORD.findall(sentence)


def evidence_windows(passages: Sequence[Chunk], pairs: bool = True) -> list[Evidence]:
    """Sentences of each passage, alone and (with ``pairs``) in adjacent pairs, in article
    offsets."""
    windows: list[Evidence] = []
    for marker, chunk in enumerate(passages, start=1):
        spans = [(chunk.start + s, chunk.start + e)
                 for s, e in split_sentences(chunk.text, chunk.lang)]
        for i, (s, e) in enumerate(spans):
            windows.append(Evidence(marker, s, e, chunk.text[s - chunk.start:e - chunk.start]))
            if pairs and i + 1 < len(spans):
                e2 = spans[i + 1][1]
                windows.append(Evidence(marker, s, e2, chunk.text[s - chunk.start:e2 - chunk.start]))
    return windows


def key_sentences(question: str, passages: Sequence[Chunk], embedder: Embedder,
                  n: int = 2) -> list[Evidence]:
    """The ``n`` passage sentences that best answer the question, best first.

    Listed after the passages, they point a small model at the sentence that answers,
    not at a neighbour that merely shares the topic.
    """
    return [w for w, _ in rank_sentences(question, passages, embedder)[:n]] if n > 0 else []


def rank_sentences(question: str, passages: Sequence[Chunk],
                   embedder: Embedder) -> list[tuple[Evidence, float]]:
    """Every passage sentence with its similarity to the question, best first.

    Ranked as retrieval ranks passages (question as query, sentence as document);
    questions (a headline asking one) and repeats from overlapping passages are left out.
    """
    spans: dict[tuple[str, int, int], Evidence] = {}
    for w in evidence_windows(passages, pairs=False):
        key = (passages[w.passage - 1].article_id, w.start, w.end)
        if len(w.text) > 20 and not w.text.rstrip().endswith("?") and key not in spans:
            spans[key] = w
    windows = list(spans.values())
    if not windows:
        return []
    similarity = _answering(question, [w.text for w in windows], embedder)
    return [(windows[j], float(similarity[j])) for j in np.argsort(-similarity, kind="stable")]


def _answering(question: str, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
    """Cosine of each text to the question, as retrieval scores a passage: question as
    query, text as document."""
    query = embedder.embed([question], kind="query")[0]
    return embedder.embed(list(texts), kind="document") @ query


@dataclass(frozen=True)
class Checked:
    sentences: tuple[Sentence, ...]
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Scored:
    """One answer sentence and, per passage, its best evidence window and whether it agrees."""

    text: str
    best: tuple[tuple[int, float, Evidence, bool], ...]  # (marker, score, window, agrees)


def score(answer: str, passages: Sequence[Chunk], embedder: Embedder,
          lang: str = "", question: str = "") -> list[Scored]:
    """Embed each sentence of ``answer`` and each evidence window; keep each passage's best.

    A sentence's support is its best similarity to a window, read alone or after the
    ``question``: a short answer ("Fondato nel 1946.") states its fact only together
    with the question it answers. The names and numbers are still checked on the
    sentence alone, so the question's words cannot vouch for a wrong figure or name.
    """
    texts = _statements(answer, lang)
    windows = evidence_windows(passages)
    if not texts or not windows:
        return [Scored(t, ()) for t in texts]
    plain = [strip_markers(t) for t in texts]
    asked = [f"{question.strip()} {t}" for t in plain] if question.strip() else []
    vectors = embedder.embed(plain + asked + [w.text for w in windows], kind="query")
    n = len(texts)
    similarity = vectors[:n] @ vectors[n + len(asked):].T
    if asked:
        similarity = np.maximum(similarity, vectors[n:2 * n] @ vectors[2 * n:].T)
    context = "\n".join(p.text for p in passages)
    scored = []
    for text, scores in zip(texts, similarity):
        best: dict[int, tuple[int, float, Evidence, bool]] = {}
        for j in np.argsort(-scores):
            n = windows[j].passage
            if n not in best:
                best[n] = (n, float(scores[j]), windows[j],
                           agrees(strip_markers(text), _as_shown(passages[n - 1]), context,
                                  question))
        scored.append(Scored(text, tuple(best.values())))
    return scored


def _as_shown(chunk: Chunk) -> str:
    """A passage as the model reads it: its article's title line, then its text. A name or
    figure of the headline ("Super Bowl 50") holds for every passage of the article."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def _statements(answer: str, lang: str) -> list[str]:
    """The answer's sentences, each once: a small model may repeat one sentence over and
    over, or leave a stray "[1], [1]" that states nothing."""
    seen: set[str] = set()
    kept = []
    for s, e in split_sentences(answer, lang):
        key = " ".join(re.findall(r"\w+", strip_markers(answer[s:e]).casefold()))
        if key and key not in seen:
            seen.add(key)
            kept.append(answer[s:e])
    return kept


def decide(scored: Sequence[Scored], passages: Sequence[Chunk], min_support: float) -> Checked:
    """Keep each sentence's citations to passages that support it; re-attach or flag the rest.

    Each kept citation of a sentence gets the window that supports that sentence, so two
    sentences citing one passage for different statements quote different spans."""
    sentences = []
    for item in scored:
        sentence = _verify(item, min_support)
        windows = {n: window for n, _, window, _ in item.best}
        sentence = dataclasses.replace(
            sentence, quotes=tuple(windows[n] for n in sentence.citations))
        sentences.append(sentence)
    return _collect(sentences, dict(enumerate(passages, start=1)))


def _collect(sentences: Sequence[Sentence], chunks: Mapping[int, Chunk]) -> Checked:
    """The sentences and the citations they make (``chunks``: passage of each marker), each
    with the quotes it is cited for."""
    quotes: dict[int, dict[tuple[int, int], Evidence]] = {}
    for sentence in sentences:
        for quote in sentence.quotes:
            quotes.setdefault(quote.passage, {}).setdefault((quote.start, quote.end), quote)
    citations = tuple(_citation(n, chunks[n], tuple(spans.values()))
                      for n, spans in quotes.items())
    return Checked(tuple(sentences), citations)


def quote_relevance(question: str, sentences: Sequence[Sentence], embedder: Embedder) -> list[float]:
    """For each sentence, how well its best quote answers the question (question as query,
    quote as document, as retrieval ranks passages); 0 for a sentence without quotes.

    A sentence can be true to its passage and still not answer the question ("Chi ha
    scritto I promessi sposi?" answered from a sentence about a TV writer): its quote
    then scores low against the question."""
    texts = list(dict.fromkeys(q.text for s in sentences for q in s.quotes if q.text.strip()))
    if not texts:
        return [0.0] * len(sentences)
    score_of = dict(zip(texts, _answering(question, texts, embedder).tolist()))
    return [max((score_of.get(q.text, 0.0) for q in s.quotes), default=0.0) for s in sentences]


def focus(checked: Checked, relevances: Sequence[float], max_gap: float) -> Checked:
    """Leave out padding: a verified sentence whose quotes answer the question more than
    ``max_gap`` worse than the best sentence's does (a small model pads an answer with
    true sentences about something else). Unverified sentences stay, flagged; 0 keeps all."""
    if max_gap <= 0 or not relevances:
        return checked
    floor = max(relevances) - max_gap
    kept = [s for s, r in zip(checked.sentences, relevances) if not s.verified or r >= floor]
    return _collect(kept, {c.marker: c.chunk for c in checked.citations})


def settle(checked: Checked, relevances: Sequence[float], *, min_evidence: float,
           max_gap: float) -> Checked | None:
    """What the checks let through: the answer without its padding, or None when it must
    abstain (no verified sentence, or no quote answers the question ``min_evidence`` well)."""
    if max(relevances, default=0.0) < min_evidence or not any(s.verified for s in checked.sentences):
        return None
    return focus(checked, relevances, max_gap)


def check(answer: str, passages: Sequence[Chunk], embedder: Embedder, *,
          min_support: float, lang: str = "", question: str = "") -> Checked:
    """Verify each sentence of ``answer`` against ``passages`` (numbered from 1)."""
    return decide(score(answer, passages, embedder, lang, question), passages, min_support)


def _verify(item: Scored, min_support: float) -> Sentence:
    """The sentence, cited only by passages that support it (or flagged if none does)."""
    support = {n: value for n, value, _, agreeing in item.best
               if value >= min_support and agreeing}
    cited = [n for n in dict.fromkeys(markers(item.text)) if n in support]
    if cited:
        return Sentence(item.text, tuple(cited), max(support[n] for n in cited), True)
    if support:  # re-attach to the passage that does support it
        n = max(support, key=support.get)
        return Sentence(item.text, (n,), support[n], True)
    top = max((value for _, value, _, _ in item.best), default=0.0)
    return Sentence(item.text, (), top, False)


def _citation(n: int, chunk: Chunk, quotes: tuple[Evidence, ...]) -> Citation:
    first = quotes[0]
    return Citation(n, chunk, first.text, first.start, first.end, quotes)
