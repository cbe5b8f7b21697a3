"""Grave facts: a death, an injury, an arrest, a verdict, a resignation, a dismissal is never
read in.

A small model answering "How many people died in the floods?" from "4.200 persone sono
state evacuate" wrote "…which resulted in 4,200 deaths", and the number, being the
evidence's, passed every other check; "Laura Pedio è stata condannata a otto anni" was
written from "Il pubblico ministero Laura Pedio aveva chiesto otto anni per Villa". Such a
fact is the one a reader must not be told wrongly, and the words that state it are few: a
claim that states one of these facts must cite a sentence that states the same kind of
fact, in either language.

    >>> stated_facts("The floods resulted in 4,200 deaths and 12 injured.")
    ['death', 'injury']
    >>> unstated_fact("4,200 people died", "Secondo la Protezione civile, 4.200 persone sono state evacuate.")
    '“died”'
    >>> unstated_fact("4,200 people died", "L'alluvione ha causato 4.200 morti.")
    ''
    >>> asked_facts("How many people died in the floods?"), asked_facts("Where did the arrests occur?")
    (['death'], [])
"""

from __future__ import annotations

import re
from typing import Sequence

FACTS = {
    # "victims" in both languages, as "vittime" mostly speaks of the dead: "Le vittime della
    # truffa sono 300" then answers "How many victims…?"; a bill, a deal is not killed
    "death": (r"die[ds]?|dying|dead|deaths?|killed(?!\s+(?:the|a|an|its|their|his|her)\s+"
              r"(?:bill|deal|plan|proposal|project|merger|idea|talks|law|motion|measure|"
              r"reform)s?\b)|kills?|killing|fatalit(?:y|ies)|fatal|victims?|"
              r"lost\s+(?:their|his|her)\s+lives?|mort[oaie]|morte|decedut[oaie]|decess[oi]|"
              r"vittim[ae]|uccis[oaie]|uccid\w*|per(?:ì|irono|ito|iti)|perso\s+la\s+vita"),
    # a person hurt, not sales or profits ("Sales were hurt by weak demand")
    "injury": (r"injur(?:ed|y|ies)|wounded|ferit[oaie]|feriment[oi]|lesioni|"
               r"(?:seriously|badly|slightly|critically|severely|lightly)\s+hurt|"
               r"(?:were|was|been|got)\s+hurt(?!\s+by)|"
               r"(?:people|persons|workers|passengers|children|others|\d)\s+(?:\w+\s+)?hurt"),
    "arrest": r"arrest(?:ed|s)?|detained|arrestat[oaie]|arrest[oi]|in\s+manette",
    "resignation": r"resign(?:ed|s|ation)?|stepped\s+down|dimess[oaie]|dimission[ie]|dimett\w*",
    # a court's verdict on a person: "chiesto otto anni" (a prosecutor's request) is neither;
    # "condannare" is also to condemn ("Il governo ha condannato l'attacco"), so the Italian
    # verdict is read in the passive or with its sentence ("condannato Villa a sei anni")
    "conviction": (r"convicted|convictions?|sentenced|found\s+guilty|"
                   r"(?:stat[oaie]|viene|vengono|venne|vennero|fu|furono|sarà|saranno|sia|"
                   r"siano|essere|era|erano)\s+(?:\w+\s+)?condannat[oaie]|"
                   r"condann\w*\s+(?:a|ad|al|alla|alle|ai|agli|all['’]\w+|in\s+primo\s+grado|"
                   r"in\s+appello|in\s+via\s+definitiva|in\s+cassazione)|condannat[oaie]\s+per|"
                   r"condann\w*(?:\s+[^\s.;,]+){1,4}?\s+(?:a|ad)\s+(?:\S+\s+){0,3}?"
                   r"(?:anni|mesi|giorni|ergastolo)|(?:anni|mesi)\s+di\s+condanna"),
    "acquittal": r"acquitted|acquittals?|cleared\s+of|assolt[oaie]|assoluzion[ei]",
    # someone fired, not shots ("Police fired tear gas"), nor a lawsuit dismissed
    "dismissal": (r"(?:was|were|been|being|be|got|get|gets)\s+(?:fired|dismissed|sacked)|"
                  r"sacked|laid\s+off|lay-?offs?|job\s+cuts|licenzia\w*|esuber\w*"),
}
_PATTERNS = {kind: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for kind, words in FACTS.items()}


def stated_facts(text: str) -> list[str]:
    """The kinds of grave fact ``text`` states, in `FACTS` order."""
    return [kind for kind, pattern in _PATTERNS.items() if pattern.search(text)]


# A question about a fact itself: how many, who, or whether ("How many people died?", "Chi
# è stato arrestato?", "Did anyone die?", "A quanti anni è stata condannata?", "In quanti
# sono morti?"); "Where did the arrests occur?" is about a place.
_ABOUT_THE_FACT = re.compile(
    r"\W*(?:(?:a|in|da|per|di|con)\s+)?"
    r"(?:how\s+many|how\s+much|quant[aeio]|who|whom|chi|did|does|do|was|were|is|are|"
    r"has|have|had|c['’]è|ci\s+sono|ci\s+sono\s+stati|è|sono|ha|hanno)\b", re.IGNORECASE)
# What follows a relative word is the premise: "…the earthquake that killed 1,000 people?"
_PREMISE = re.compile(r"[,;]|\b(?:that|which|who|whose|where|when|after|che|cui|dove|quando|"
                      r"dopo)\b", re.IGNORECASE)


def asked_facts(question: str) -> list[str]:
    """The grave facts ``question`` asks about: those its last sentence states in its main
    clause, when it asks how many, who or whether. A fact in its premise is not asked
    about ("This week an earthquake killed 1,000 people. What was its magnitude?")."""
    last = re.split(r"(?<=[.!?])\s+", question.strip())[-1]
    first = re.match(r"\W*\w+", last)
    if not first or not _ABOUT_THE_FACT.match(last):
        return []
    main = last[:first.end()] + _PREMISE.split(last[first.end():], 1)[0]
    return stated_facts(main)


def states_facts(kinds: Sequence[str], text: str) -> bool:
    """Whether ``text`` states every kind of grave fact of ``kinds`` (`asked_facts`: "How
    many people died?" is answered only by a sentence stating deaths)."""
    return all(_PATTERNS[kind].search(text) for kind in kinds)


def unstated_fact(claim: str, evidence: str) -> str:
    """The word of ``claim`` stating a grave fact that ``evidence`` does not state, quoted;
    or ""."""
    for kind in stated_facts(claim):
        if not _PATTERNS[kind].search(evidence):
            return f"“{_PATTERNS[kind].search(claim).group(0)}”"
    return ""
