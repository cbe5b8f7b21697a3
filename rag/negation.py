"""Negation: a claim that denies must cite a sentence that denies.

The checks compare a claim with its evidence by meaning vectors, names, numbers and a few
facts; none of them sees "not". "The grid suffered outages" and "The grid did not suffer
outages" are as close as two sentences get, so a small model that flips a sentence's
polarity would pass. A claim that says "not", "never", "no one", "senza"… must cite a
sentence that denies too: by a negative word in either language, or by a verb or noun
that denies ("failed to", "refused", "ruled out", "ha escluso", "assenza"). The claim is
read strictly, the evidence generously, as quantities are (`rag.numbers`).

    >>> unstated_denial("The grid did not suffer outages.", "The grid suffered outages.")
    '“not”'
    >>> unstated_denial("The grid did not suffer outages.", "La rete ha retto senza blackout.")
    ''
    >>> denies("Did the power grid suffer outages?"), denies("Non c'era il rigore.")
    (False, True)

What a claim affirms against a denying sentence is not checked: a sentence often denies
in a clause the claim does not restate ("Musk, who did not comment, said…").
"""

from __future__ import annotations

import re

# Words that deny, in the languages the checks read (English and Italian first).
# ("No. 1" is a rank)
_DENYING = (r"not|no(?!\.?\s*\d)|never|none|nobody|nothing|neither|nor|without|cannot|"
            r"non|mai|nessun[oa]?|niente|nulla|senza|né|"
            r"jamais|aucun\w*|nicht|kein\w*|niemals|ohne|nunca|ningun[oa]|ningún|não|"
            r"nenhum\w*")
_CLAIM = re.compile(rf"\b(?:{_DENYING})\b|n['’]t\b", re.IGNORECASE)
# What also denies in the evidence: verbs and nouns of refusal, failure, absence.
_EVIDENCE = re.compile(
    rf"\b(?:{_DENYING}|fail\w*|refus\w*|den(?:y|ies|ied|ying)|declin\w*|reject\w*|unable|"
    r"lack\w*|absen\w*|rul(?:e|es|ed|ing)\s+out|rifiut\w*|neg[ao]\w*|"
    r"respint\w*|esclu\w*|mancat\w*|manc[ao]\w*|assen\w*|priv[oaie]|impossibil\w*)\b|"
    r"n['’]t\b", re.IGNORECASE)


def denies(text: str) -> bool:
    """Whether ``text`` says "not" (or another denying word) anywhere."""
    return bool(_CLAIM.search(text))


def unstated_denial(claim: str, evidence: str) -> str:
    """The denying word of ``claim``, quoted, when ``evidence`` denies nothing; or ""."""
    said = _CLAIM.search(claim)
    if said and not _EVIDENCE.search(evidence):
        return f"“{said.group(0)}”"
    return ""
