"""Support: how closely a claim means what an evidence item says, read by the embedder.

`support_matrix` gives each claim's cosine (as a query) to each item's document vector —
the vector evidence selection computed, which the embedder's cache returns, so a check
embeds only the draft's sentences. A claim read after the question it answers counts too
("Nel 1946." states its fact only with its question).

`translates_by` says whether a name means a phrase of a text in another language
("Ottoman Empire" / "Impero ottomano"). `misquoted` says whether the words a claim puts in
quotation marks are not the source's: verbatim in the item's language, or in another a
translation reading as the same sentence. `misattributed` says whether a claim credits
someone with words another item states far better, without naming them.
"""

from __future__ import annotations

import re
from typing import Callable, Collection, Sequence

import numpy as np

from .chunking import split_sentences
from .embed import Embedder
from .evidence import Evidence, EvidenceSet
from .lexical import fold_accents
from .names import fold_name, name_phrases
from .speech import credited

# A name means the same as a phrase in another language at this cosine: "Ottoman Empire" /
# "Impero ottomano" 0.88, "London" / "Londra" 0.89, "Mongols" / "Mongoli" 0.85, "Naples" /
# "Napoli" 0.96; never another of its kind: "Milan" / "Firenze" 0.66, "Germany" / "Francia"
# 0.64, "Ottoman Empire" / "Impero romano" 0.54, "Tom Aken" / "Bill Aken" 0.81.
NAME_TRANSLATION = 0.84
# A clause of a sentence is compared with a quotation when it has this many words.
CLAUSE_WORDS = 3
# Words in quotation marks, this many or more, claim to be the source's own.
QUOTED_WORDS = 4
_QUOTED = re.compile(r"“([^”]+)”|«([^»]+)»|\"([^\"]+)\"")


def support_matrix(claims: list[str], evidence: EvidenceSet, embedder: Embedder,
                   question: str) -> np.ndarray:
    """(claims × items) cosines, each claim read alone or after the question, against the
    items' document vectors (as `rag.evidence` embedded them: cached, not recomputed)."""
    asked = [f"{question.strip()} {c}" for c in claims] if question.strip() else []
    vectors = embedder.embed(claims + asked, kind="query")
    items = embedder.embed([e.text for e in evidence.items], kind="document",
                           titles=[e.chunk.title for e in evidence.items])
    n = len(claims)
    support = vectors[:n] @ items.T
    if asked:
        support = np.maximum(support, vectors[n:] @ items.T)
    return support


def clause_windows(sentence: str) -> list[str]:
    """The spans of ``sentence`` of one or two consecutive clauses (cut at commas,
    semicolons, colons, dashes and parentheses) with at least `CLAUSE_WORDS` words; none
    when it has a single clause. A quotation may be a clause of its sentence."""
    pieces = [p.strip() for p in re.split(r"[,;:]\s|\s[–—]\s|[()]", sentence) if p.strip()]
    if len(pieces) < 2:
        return []
    spans = pieces + [f"{a}, {b}" for a, b in zip(pieces, pieces[1:])]
    return [x for x in dict.fromkeys(spans) if len(x.split()) >= CLAUSE_WORDS]


def translates_by(embedder: Embedder) -> Callable[[str, str], bool]:
    """Whether a name means what a phrase of a text means, in another language: their
    vectors (as queries) meet `NAME_TRANSLATION`. A phrase of the name's own words is no
    translation of it: "Amazon Jeff Bezos" does not mean "Bezos"."""
    def translates(name: str, text: str) -> bool:
        own = {fold_name(w) for w in name.split()}
        phrases = [p for p in name_phrases(text) if not {fold_name(w) for w in p.split()} <= own]
        if not phrases:
            return False
        vectors = embedder.embed([name, *phrases], kind="query")
        return float((vectors[1:] @ vectors[0]).max()) >= NAME_TRANSLATION
    return translates


def misquoted(claim: str, items: Sequence[Evidence], lang: str, embedder: Embedder,
              min_translation: float) -> str:
    """The first quotation of ``claim`` (in ``lang``) of at least `QUOTED_WORDS` words that
    is not the words of the cited ``items``, quoted for a reader; or "". In an item's own
    language the words must be its words, as written (case, accents and punctuation
    aside); in another, they must read as the same sentence as one of its sentences or
    clauses: cosine at least ``min_translation`` ("…con la malattia di cuore" for "…with
    breast cancer" 0.79; a faithful translation 0.92)."""
    for groups in _QUOTED.findall(claim):
        quoted = _quoted(groups)
        if len(quoted.split()) < QUOTED_WORDS or any(_verbatim(quoted, e.text) for e in items):
            continue
        other = [e for e in items if e.chunk.lang and e.chunk.lang != lang]
        if other and _translation(quoted, other, embedder) >= min_translation:
            continue
        return f"“{quoted.strip()}”"
    return ""


def _quoted(groups: tuple[str, ...]) -> str:
    """The words inside the quotation marks of one `_QUOTED` match (whichever marks)."""
    return next(g for g in groups if g)


def _verbatim(quoted: str, text: str) -> bool:
    def norm(x: str) -> str:
        return " ".join(re.findall(r"\w+", fold_accents(x).casefold()))
    return norm(quoted) in norm(text)


def _translation(quoted: str, items: Sequence[Evidence], embedder: Embedder) -> float:
    """The best cosine (as queries) of ``quoted`` to a quotation, sentence or clause of the
    ``items``."""
    pieces = [e.text[a:b] for e in items for a, b in split_sentences(e.text, e.chunk.lang)]
    pieces += [w for p in list(pieces) for w in clause_windows(p)]
    pieces += [_quoted(groups) for e in items for groups in _QUOTED.findall(e.text)]
    if not pieces:
        return 0.0
    vectors = embedder.embed([quoted, *pieces], kind="query")
    return float((vectors[1:] @ vectors[0]).max())


def misattributed(claim: str, cited: Collection[int], evidence: EvidenceSet,
                  embedder: Embedder, margin: float, question: str = "") -> str:
    """Who ``claim`` says said, reported or did something (`rag.speech.credited`; the doer
    only when the ``question`` asks who), when what they said or did is stated at least
    ``margin`` better by an item it does not cite, and which does not name them, than by
    any item it cites; else "". The claim as a whole reads best against a sentence naming
    whom it credits, so only what they said or did is compared. "The Information reported
    that Tesla spotted the job listing", citing The Information's sentence on a lease:
    "Tesla spotted the job listing" reads 0.47 against it and 0.61 against the listing's
    sentence, which credits Electrek. "The Information spotted the Tesla job listing" reads
    0.51 against The Information's sentence, but "spotted the Tesla job listing" 0.45
    against it and 0.62 against the listing's."""
    if not cited or not len(evidence):
        return ""
    credit = credited(claim, question, [e.text for e in evidence.items])
    if not credit.who:
        return ""
    row = support_matrix([credit.what], evidence, embedder, "")[0]
    support = dict(zip((e.number for e in evidence.items), row.tolist()))
    own = max((support[n] for n in cited if n in support), default=None)
    best = max(evidence.items, key=lambda e: support[e.number])
    last = fold_name(credit.who.split()[-1])
    if (own is None or best.number in cited or support[best.number] < own + margin
            or re.search(rf"\b{re.escape(last)}\b", fold_accents(best.text).casefold())):
        return ""
    return credit.who
