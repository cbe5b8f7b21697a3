"""Fallback: which evidence a refused draft points to, for the answer to quote instead.

When no sentence of the draft is verified but the evidence clearly answers, the answer is
an evidence item itself (`rag.answering`). The model read every item, and its draft says
which one it drew on: the numbers and names a draft sentence states that its cited item
does not ("…creating four hundred jobs [2]", when item 2 gives no number of jobs), else
the words it answers with (`answer_words`); `EvidenceSet.stating` quotes the item that
holds most of them.
"""

from __future__ import annotations

from typing import Sequence

from .evidence import Evidence, EvidenceSet
from .grounding import not_an_answer
from .statements import markers, statements, strip_markers
from .lexical import analyze, analyze_query, fold_accents
from .names import names
from .numbers import unsupported


def answer_words(draft: str, question: str, lang: str,
                 evidence: EvidenceSet = EvidenceSet()) -> set[str]:
    """The words (analyzed) that ``draft`` answers with: of each of its sentences that is an
    answer at all (`not_an_answer`), the numbers and names it states that the ``evidence`` it
    cites does not — what the model took from another item ("…after two years of talks,
    creating four hundred jobs [2]": "four hundred") — else all its words but the question's."""
    asked = set(analyze_query(question, {lang}))
    found: set[str] = set()
    for sentence in statements(draft, lang):
        said = strip_markers(sentence)
        if not_an_answer(said, question, lang, evidence):
            continue
        own = set(analyze(said, lang)) - asked
        numbers = set(markers(sentence))
        cited = [e for e in evidence.items if e.number in numbers]
        found |= (_not_stated(said, cited, lang) - asked if cited else set()) or own
    return found


def _not_stated(claim: str, cited: Sequence[Evidence], lang: str) -> set[str]:
    """The words (analyzed) of the numbers and names ``claim`` states that ``cited`` does not."""
    text = " ".join(e.text for e in cited)
    folded = fold_accents(text).casefold()
    missing = unsupported(claim, text, lang, cited[0].chunk.lang or lang) + [
        " ".join(run) for run in names(claim) if not all(w in folded for w in run)]
    return {w for said in missing for w in analyze(said, lang)}
