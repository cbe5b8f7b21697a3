"""Roles: who holds which office, and whether a sentence says so.

A small model asked "Who is the president of the Milan court?" over "Il tribunale di Milano
ha condannato … l'ex presidente della Cooperativa Lombarda Costruzioni, Franco Villa" wrote
"The president of the Milan court is Franco Villa [1]": every name and word of it is the
sentence's, and the sentence says nothing of the kind. An office is held *of* something:
a claim that says who holds one ("X is the CEO of Y", "Il presidente di Y è X") must cite
a sentence that gives the same office of the same body (in either language, "presidente"
for "president", "Milano" for "Milan"), and a question asking who holds one is answered
only by a sentence that gives it.

    >>> asked_role("Who is the president of the Milan court?")
    Role(office='president', of=('milan',), kind='court')
    >>> states_role(asked_role("Who is the president of the Milan court?"),
    ...             "Il tribunale di Milano ha condannato l'ex presidente della Cooperativa, Franco Villa.")
    False
    >>> states_role(Role("ceo", ("amazon",)), "“…”, ha detto il CEO di Amazon, Andy Jassy.")
    True
    >>> unstated_role("The president of the Milan court is Franco Villa.",
    ...               "…l'ex presidente della Cooperativa Lombarda Costruzioni, Franco Villa.")
    '“president of the Milan court”'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from .lexical import fold_accents
from .names import fold_name, speaks_of

# Each office with its words in English and Italian (not the abbreviations "ad" and "pm",
# also a preposition and a time of day).
OFFICES = {
    "president": r"presidents?|chairm[ae]n|chairwom[ae]n|chairs?|president[ei]|president(?:essa|esse)",
    "ceo": r"ceos?|chief\s+executives?|amministrat(?:ore|ori|rice|rici)\s+delegat[oaie]",
    "mayor": r"mayors?|sindac[oaie]|sindaca",
    "minister": r"ministers?|ministr[oaie]",
    "governor": r"governors?|governat(?:ore|ori|rice|rici)",
    "director": r"directors?|dirett(?:ore|ori|rice|rici)",
    "secretary": r"secretar(?:y|ies)|segretari[oa]?|segretarie",
    "coach": r"coach(?:es)?|head\s+coach|allenat(?:ore|ori|rice|rici)|tecnico",
    "prosecutor": r"prosecutors?|pubblic[oi]\s+minister[oi]|procurat(?:ore|ori|rice|rici)",
    "judge": r"judges?|giudic[ei]",
    "spokesperson": r"spokes(?:person|man|woman|people|men|women)|portavoce",
    "founder": r"founders?|fondat(?:ore|ori|rice|rici)",
    "lawyer": r"lawyers?|attorneys?|avvocat[oaie]",
    "captain": r"captains?|capitan[oi]",
    "owner": r"owners?|proprietari[oa]?|proprietarie",
}
# The kinds of body an office is held of, in both languages: the president of a court is
# not the president of a medical association in the same city.
BODIES = {
    "court": r"courts?|tribunal[ei]?|tribunals|cort[ei]",
    "bank": r"banks?|banc[ah]e?",
    "council": r"councils?|consigli?o?|comun[ei]|municipalit(?:y|ies)",
    "region": r"regions?|region[ei]",
    "order": r"orders?|ordin[ei]|associations?|associazion[ei]|federations?|federazion[ei]",
    "government": r"governments?|govern[oi]|ministr(?:y|ies)|minister[oi]",
    "party": r"part(?:y|ies)|partit[oi]",
    "union": r"unions?|sindacat[oi]",
    "university": r"universit(?:y|ies)|universit[àa]",
    "club": r"clubs?|teams?|squadr[ae]|societ[àa]\s+sportiv[ae]",
    "company": r"compan(?:y|ies)|firms?|groups?|societ[àa]|aziend[ae]|grupp[oi]",
    "authority": r"authorit(?:y|ies)|autorit[àa]|agenc(?:y|ies)|agenzi[ae]",
    "port": r"ports?|port[oi]",
    "city": r"cit(?:y|ies)|citt[àa]",
}
_BODY = {kind: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for kind, words in BODIES.items()}
_OFFICE = {office: re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
           for office, words in OFFICES.items()}
_OF = (r"(?:of|at|for|di|del|dello|della|dei|degli|delle|dell['’]|d['’])")
_STOP = re.compile(r"[,.;:!?()“”\"«»]|\b(?:is|was|are|were|has|had|who|which|that|said|è|era|"
                   r"sono|erano|fu|ha|aveva|che|cui|ha\s+detto)\b", re.IGNORECASE)
_FUNCTION = frozenset("the a an il lo la i gli le l un una".split())
# A claim that says who holds an office: "X is (the) office…", "The office of Y is X",
# "X è il/la office…", "Il/La office di Y è X".
_COPULA = r"(?:is|was|has\s+been|serves\s+as|è|era|è\s+stat[oa]|fu)"
_HOLDS = re.compile(
    rf"\b{_COPULA}\s+(?:(?:the|a|an|il|lo|la|l['’]|un|una)\s*)?(?:(?:former|current|new|ex|"
    rf"nuov[oa]|attuale)\s+)?(?P<after>\w[\w\s]*)|^\W*(?:(?:the|il|lo|la|l['’])\s*)?"
    rf"(?:(?:former|current|new|ex|nuov[oa]|attuale)\s+)?(?P<before>\w[^,.;]*?)\s+{_COPULA}\s+"
    r"(?-i:[A-ZÀ-Ý])", re.IGNORECASE)
# What may stand before an office word in a question or a claim: names of the body ("the
# ECB president", "the Bank of England governor") and words of time ("the former CEO").
_NAMING = re.compile(r"(?:(?:[A-ZÀ-Ý][\w’'-]*|of|former|current|new|ex|nuov[oa]|attuale)\s+)*")
# "Who is the president of…?", "Chi è il sindaco di…?", "Who heads…" not: an office noun.
_ASKS_HOLDER = re.compile(
    r"\b(?:who|chi)\s+(?:is|was|are|were|è|era|sono|erano|fu)\s+(?:(?:the|il|lo|la|l['’])\s*)?"
    r"(?:(?:current|new|nuov[oa]|attuale)\s+)?(?P<rest>.+)", re.IGNORECASE)


@dataclass(frozen=True)
class Role:
    """An office (a key of `OFFICES`) held of a body named by ``of``: its name words,
    folded, an acronym in capitals ("ECB"); none for "the mayor"; and of the ``kind`` of
    body its words say ("the Milan court": "court")."""

    office: str
    of: tuple[str, ...] = ()
    kind: str = ""  # the kind of body (a key of `BODIES`), when named: "court"


def roles(text: str) -> list[Role]:
    """The offices ``text`` names, each with the names of the body it is held of: after
    "of / di / del…" ("presidente della Cooperativa Lombarda") or just before it ("Amazon
    CEO", "Amazon's CEO")."""
    return [role for _, role in _placed(text)]


def _placed(text: str) -> list[tuple[int, Role]]:
    """`roles`, each with where its office word starts, in text order."""
    return sorted(((m.start(), Role(office, _body(text[:m.start()], text[m.end():]),
                                    _kind(_near(text, m))))
                   for office, m in _offices(text)), key=lambda pair: pair[0])


def _offices(text: str, offices: tuple[str, ...] = tuple(OFFICES)
             ) -> Iterator[tuple[str, re.Match]]:
    """(office, match) for each office word of ``text`` among ``offices``."""
    for office in offices:
        for m in _OFFICE[office].finditer(text):
            yield office, m


def _body(before: str, after: str) -> tuple[str, ...]:
    """The names of the body an office is held of: the capitalized words of the phrase
    after "of" (up to a comma, a verb or a relative word), else of the three words before."""
    of = _of_phrase(after)
    return tuple(w if w.isupper() else fold_name(w)
                 for w in re.findall(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]+", of or _before(before))
                 if fold_accents(w).casefold() not in _FUNCTION)


def _of_phrase(after: str) -> str:
    """What follows an office word's "of / di…", up to a comma, a verb or a relative word."""
    of = re.match(rf"\s*{_OF}\s*((?:\S+\s*){{1,5}})", after, re.IGNORECASE)
    return _STOP.split(of.group(1), 1)[0] if of else ""


def _near(text: str, office: re.Match) -> str:
    """The words naming the body of the office word ``office`` matched in ``text``."""
    return f"{_before(text[:office.start()])} {_of_phrase(text[office.end():])}"


def _kind(phrase: str) -> str:
    """The kind of body ``phrase`` names (its first, in `BODIES` order), or ""."""
    return next((kind for kind, pattern in _BODY.items() if pattern.search(phrase)), "")


def _before(before: str) -> str:
    """The three words before an office word, within its clause ("Amazon CEO")."""
    return " ".join(re.split(r"[,.;:!?()“”\"«»]", before)[-1].split()[-3:])


def asked_role(question: str) -> Role | None:
    """The office ``question`` asks who holds ("Who is the CEO of Van Dalen Foods?", "Who
    is the ECB president?", "Chi è il sindaco di Bologna?"): an office within the first
    words of what follows "who is"; or None."""
    m = _ASKS_HOLDER.search(question)
    if not m:
        return None
    rest = m.group("rest")
    opening = _NAMING.match(rest).end()
    held = [role for at, role in _placed(rest) if at <= opening]
    return held[0] if held else None


def states_role(role: Role | None, text: str, setting: str = "",
                translates: Callable[[str, str], bool] | None = None) -> bool:
    """Whether ``text`` gives the office of ``role`` held of the same body: each of its
    names (in either language, as `rag.names.speaks_of` reads them) after the office's
    "of" or among the three words before it ("Regione Emilia-Romagna" is not "Regione
    Lombardia"), and no other kind of body ("Ordine dei medici di Milano" is not "the
    Milan court"). An office named bare ("ha detto il sindaco Andrea Zanon") is held of
    what the ``setting`` names (the article's headline: "Venezia, il ticket…"), unless
    ``role`` names a kind of body (a court's president is never read in). ``translates``
    reads a name in another language ("Venice" for "Venezia": `rag.support.translates_by`).
    True when ``role`` is None."""
    if role is None:
        return True
    for _, m in _offices(text, (role.office,)):
        near = _near(text, m)
        if _named(role.of, near, translates) and (not role.kind or _kind(near) in ("", role.kind)):
            return True
        if (setting and role.of and not role.kind and _bare(text, m, near)
                and _named(role.of, setting, translates)):
            return True
    return False


def _named(names: tuple[str, ...], text: str,
           translates: Callable[[str, str], bool] | None) -> bool:
    """Whether ``text`` names each of ``names`` (folded, or acronyms), in its words or
    by ``translates``."""
    return all(speaks_of((name,), text) or (translates is not None and translates(
        name if name.isupper() else name.title(), text)) for name in names)


def _bare(text: str, office: re.Match, near: str) -> bool:
    """Whether the office word ``office`` matched in ``text`` (with the words ``near`` it,
    `_near`) names no body, no kind of body and no former holder ("il sindaco Andrea
    Zanon"; not "l'ex sindaco")."""
    return (not _body(text[:office.start()], text[office.end():])
            and not _kind(near)
            and not re.search(r"\b(?:ex|former|previous|past)\W*$", text[:office.start()],
                              re.IGNORECASE))


def held_roles(claim: str) -> list[Role]:
    """The offices ``claim`` says someone holds, as its predicate ("Franco Villa is the
    president of…", "Christine Lagarde is the ECB president", "The president of the Milan
    court is Franco Villa", "Il sindaco di Bologna è…"): one within the first words of
    what the copula joins. An office named in passing ("Jassy, Amazon's CEO, said…") is
    not one."""
    held = []
    for m in _HOLDS.finditer(claim):
        start = m.start(m.lastgroup)
        opening = _NAMING.match(claim[start:]).end() + start
        held += [role for at, role in _placed(claim) if start <= at <= opening][:1]
    return held


def unstated_role(claim: str, evidence: str, setting: str = "",
                  translates: Callable[[str, str], bool] | None = None) -> str:
    """The office ``claim`` says someone holds that ``evidence`` (set in ``setting``, its
    names read with ``translates``, as `states_role` reads them) does not give of the same
    body, quoted ("“president of the Milan court”"); or ""."""
    for role in held_roles(claim):
        if not states_role(role, evidence, setting, translates):
            office = _OFFICE[role.office].search(claim)
            end = re.match(rf"\s*{_OF}\s*[^,.;]*?(?=\s+{_COPULA}\b|[,.;]|$)",
                            claim[office.end():], re.IGNORECASE)
            return f"“{office.group(0)}{end.group(0) if end else ''}”"
    return ""
