"""Speech: who says what in a sentence, and whose words a question asks for.

News attributes: "“…”, ha detto il CEO di Amazon, Andy Jassy", "Secondo Electrek, …",
"The Information ha riportato che…". Two kinds of verbs make an attribution:

* verbs of saying (said, stated, thinks, according to; ha detto, ha dichiarato, secondo…)
  give someone's words or view: a claim using one must rest on a sentence in which that
  same person or outlet speaks (`speaks`), not one that merely names them ("Bezos said…"
  is no reading of "…la rivalità di Musk con Jeff Bezos");
* verbs of reporting (reported, announced; ha riportato, ha annunciato…) also name an act
  ("Amazon reported revenue of…" for "Amazon ha registrato un fatturato di…"): a claim
  using one must rest on a sentence that names its subject.

`speakers` reads who a sentence says speaks; `asked_speaker` whose words a question asks
for ("What did Jassy say?", "Cosa ha detto Chanos?"): such a question is answered only from
sentences in which they speak (`rag.evidence`, `rag.grounding`, `rag.answering`).
`reported` splits a claim into who it credits and what it says they said, and `credited`
also into who it says did something and what, so that what was said or done can be checked
on its own (`rag.support.misattributed`).

    >>> speakers("“La crescita si è stabilizzata”, ha detto il CEO di Amazon, Andy Jassy.")
    ['Andy Jassy']
    >>> speaks("Bezos", "Aggiungerebbe un livello alla rivalità di Musk con Jeff Bezos.")
    False
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .names import CALENDAR, acronyms, fold_name, letters, names


@dataclass(frozen=True)
class Attribution:
    """Who a sentence credits (``who``: "" when no one) with what words or act (``what``)."""

    who: str = ""
    what: str = ""


NO_ONE = Attribution()

_IT_PAST = (r"detto|dichiarato|affermato|spiegato|aggiunto|scritto|osservato|sottolineato|"
            r"commentato|precisato|confermato|ammesso|ribadito|risposto|avvertito|"
            r"raccontato|twittato|stimato|previsto|definito")
SAYING = (r"said|says|say|stated|states|told|tells|wrote|writes|added|adds|argued|argues|"
          r"claimed|claims|explained|explains|noted|notes|warned|warns|commented|confirmed|"
          r"insisted|admitted|replied|tweeted|believes|thinks|estimated|estimates|predicted|"
          r"predicts|called|calls|described|describes|according\s+to|"
          rf"(?:ha|hanno)\s+(?:{_IT_PAST})|dice|dicono|afferma|dichiara|scrive|spiega|"
          r"osserva|sottolinea|stima|stimano|secondo")
REPORTING = (r"reported|reports|announced|announces|ha\s+riportato|hanno\s+riportato|"
             r"ha\s+annunciato|hanno\s+annunciato|riporta|annuncia")
_NAME = r"[A-ZÀ-Ý][\w’'\-]+(?:\s+[A-ZÀ-Ý][\w’'\-]+)*"
# A title's abbreviation before a name: its dot ends no clause.
_TITLE_DOT = re.compile(r"\b(Dr|Mr|Mrs|Ms|Prof|Gov|Sen|Rep|Gen|Lt|Col|Capt|Sgt|St|Dott|Sig|"
                        r"Avv|Ing|On)\.(?=\s+[A-ZÀ-Ý])")
_CLAUSE_END = re.compile(r"[.;:!?]|\b(?:that|che|adding|aggiungendo|and|e|but|ma)\b",
                         re.IGNORECASE)
# A verb of saying followed by its speaker opens its clause or follows a quotation:
# "“…”, ha detto Chanos", "…, said the CEO, Andy Jassy".
_INVERSION = re.compile(r"(?:^|[,;:“”\"«»—–])\s*$")
_THE_TEXT = re.compile(r"^(?:(?:The|Il|La|Lo|Gli|Le|Secondo|According)\s+|L['’])")
_ASKS_SPEAKER = re.compile(
    r"\b(?:what|how)\s+(?:did|does|do|has|have)\s+(?P<en>.+?)\s+(?:say|said|state|think|"
    r"tell|claim|argue|add|write|explain)\b|\b(?:cosa|che\s+cosa|che)\s+(?:ha|hanno)\s+"
    r"(?:detto|dichiarato|affermato|spiegato|scritto|aggiunto|risposto)\s+(?P<it>.+?)"
    r"(?:\s+(?:su|sul|sui|sulla|sugli|sulle|sull['’]|di|del|dei|della|delle|degli|a|in|"
    r"riguardo)\b|[?.,]|$)|\b(?:according\s+to|"
    r"secondo)\s+(?P<by>[^?.,]+)", re.IGNORECASE)


def speakers(text: str, verbs: str = f"{SAYING}|{REPORTING}") -> list[str]:
    """Who ``text`` says said, reported or thinks something with one of ``verbs`` (a
    regex alternation; by default every verb of saying or reporting): the name just before
    the verb, else, when the verb opens its clause or follows a quotation, the last name
    of the clause after it ("…”, ha detto il CEO di Amazon, Andy Jassy"); and the first
    name after "according to"/"secondo". The text itself ("L'articolo
    afferma…", "according to the text") is no speaker."""
    text = _TITLE_DOT.sub(r"\1", text)  # "said Dr. Ana Morales": the clause goes on
    say, before = _patterns(verbs)
    named = list(before.finditer(text))
    found = [m.group("who") for m in named]
    for m in say.finditer(text):
        according = re.match(r"accord|second", m.group(0), re.I)
        if not according and (any(b.end() == m.end() for b in named)
                              or not _INVERSION.search(text[:m.start()])
                              or re.match(r"call", m.group(0), re.I)):
            continue  # "Jassy said AWS grew", "the minister said Fiji…": what was said;
            # ", called Veltrix,": a name given, not a speaker
        clause = re.split(r"[,;:.!?]" if according else _CLAUSE_END, text[m.end():], 1)[0]
        runs = [r.group(0) for r in re.finditer(_NAME, clause)
                if fold_name(r.group(0).split()[-1]) not in CALENDAR]
        if runs:
            found.append(runs[0] if according else runs[-1])
    cleaned = [_THE_TEXT.sub("", who).strip() for who in found]
    return list(dict.fromkeys(who for who in cleaned if who[:1].isupper()))


def reported(text: str) -> Attribution:
    """Who ``text`` says said or reported something, and what: ("The Information", "Tesla
    spotted the job listing") for "The Information reported that Tesla spotted the job
    listing"; ("Electrek", "il settore vale 250 miliardi") for "Secondo Electrek, il
    settore vale 250 miliardi"; ("Chanos", "…") for "“…”, ha detto Chanos". `NO_ONE`
    when it names no speaker, or what they said is under three words."""
    found = speakers(text)
    if not found:
        return NO_ONE
    say, before = _patterns(f"{SAYING}|{REPORTING}")
    named = before.search(text)
    if named:
        content = text[named.end():]
    else:
        verb = say.search(text)
        if verb is None:
            return NO_ONE
        after = text[verb.end():]
        if re.match(r"accord|second", verb.group(0), re.I) and verb.start() < len(text) / 2:
            content = after.split(",", 1)[1] if "," in after else ""
        else:  # "“…”, ha detto Chanos", "…, according to Electrek"
            content = text[:verb.start()]
    content = re.sub(r"^\W*(?:that|che)\b", "", content.strip(), flags=re.I)
    content = content.strip(" ,;:–—\"“”«»'.")
    return Attribution(found[0], content) if len(content.split()) >= 3 else NO_ONE


# A claim opening with a name, then a verb: "The Information spotted the job listing".
_SUBJECT = re.compile(rf"^\W*(?:(?:The|Il|La|Lo|Gli|Le|I)\s+|L['’])?(?P<who>{_NAME})\s+"
                      rf"(?P<what>[a-zà-ý].*)$", re.DOTALL)


def credited(text: str, question: str, sources: Sequence[str]) -> Attribution:
    """Who ``text`` credits with words or an act, and with what: who said or reported what
    (`reported`); else, when it opens with a name one of the ``sources`` (the evidence's
    sentences) uses and the ``question`` does not — it answers "who…?" or "which
    outlet…?" — that name and what follows it ("Information", "spotted the Tesla job
    listing"). `NO_ONE` when neither, or what follows is under three words."""
    said = reported(text)
    if said.who:
        return said
    m = _SUBJECT.match(text)
    if not m:
        return NO_ONE
    words = [fold_name(w) for w in m.group("who").split()]
    asked = {fold_name(w) for w in re.findall(r"[\w’'\-]+", question)}
    what = m.group("what").strip(" .;:")
    if asked & set(words) or len(what.split()) < 3 or not any(
            words[-1] in run for source in sources for run in names(source)):
        return NO_ONE
    return Attribution(m.group("who"), what)


# A name after "in", "at", "from" is where, not who: "hospital doctors in Lombardy announced".
_NOT_A_PLACE = r"(?<!\bin )(?<!\bat )(?<!\bfrom )(?<!\bnel )(?<!\bnella )(?<!\ba )"


@functools.lru_cache(maxsize=8)
def _patterns(verbs: str) -> tuple[re.Pattern, re.Pattern]:
    """The verbs, and a name just before them, compiled once per alternation."""
    return (re.compile(rf"\b(?:{verbs})\b", re.IGNORECASE),
            re.compile(rf"(?P<apposed>,\s)?{_NOT_A_PLACE}(?P<who>{_NAME})(?:['’]s?)?"
                       rf"(?:,[^,]{{1,60}},|(?(apposed),))?"
                       rf"\s+(?:has\s+|had\s+)?"
                       rf"(?:{verbs})\b"))


def speaks(who: str, sentence: str) -> bool:
    """Whether ``sentence`` gives the words or view of ``who`` ("Andy Jassy", "Chanos", "the
    CEO of Amazon", "Olivia Newton-John's husband"): its last name (the last capitalized
    word; after a possessive, the last word: "husband") is a word of one of the sentence's
    speakers, or of the phrase naming one ("il CEO di Amazon, Andy Jassy", "her husband,
    John Easterling, wrote")."""
    described = re.search(r"['’]s\s+([a-zà-ý][\w\s]*)$", who)  # "Newton-John's husband"
    capitalized = [w for w in re.findall(r"\w{2,}", who) if w[0].isupper()]
    last = fold_name(described.group(1).split()[-1] if described else
                     (capitalized or re.findall(r"\w+", who) or [""])[-1])
    whose = fold_name(capitalized[-1]) if described and capitalized else ""
    return bool(last) and any(_speaks_as(last, whose, who, phrase)
                              for phrase in _phrases(sentence))


# A speaker named by a pronoun or a description ("il ministro", "the company", "dell'
# associazione"): whom the sentence before names.
PRONOUN = re.compile(r"\W*(?:he|she|they|lui|lei|egli|ella|essi|esse)\b", re.IGNORECASE)
_BACK_DESCRIPTION = re.compile(r"\b(?:the|il|lo|la|l['’]|dell['’]|della|dello|del)\s*"
                               r"([a-zà-ý]{4,})\b(?!,?\s+[A-ZÀ-Ý])")


def speaks_in_context(who: str, sentence: str, before: Callable[[], str]) -> bool:
    """Whether ``sentence`` gives the words of ``who``: in it (`speaks`), or through a
    pronoun or a description naming whom the sentence before names (`speaks_after`);
    ``before`` gives that sentence, and is asked for only then (finding it splits text)."""
    return speaks(who, sentence) or (speaks_back(sentence)
                                     and speaks_after(who, sentence, before()))


def speaks_after(who: str, sentence: str, before: str) -> bool:
    """Whether ``sentence`` gives the words of ``who`` through a pronoun or a description
    that ``before`` (the sentence before it) names them with: "«…», ha detto il ministro"
    after "Il ministro delle Imprese, Paolo Bertani, ha escluso…"; "Secondo i calcoli
    dell'associazione…" after "…Lorenzo Ferri, presidente dell'associazione Consumatori
    Italiani Uniti"; "She said…" after a sentence naming her. A description followed by a
    name ("il ministro Rossi") names someone itself."""
    capitalized = [w for w in re.findall(r"\w{2,}", who) if w[0].isupper()]
    last = fold_name(capitalized[-1]) if capitalized else ""
    return bool(last) and last in _speaking_words(before) and speaks_back(sentence, before)


def speaks_back(sentence: str, before: str | None = None) -> bool:
    """Whether a speaker of ``sentence`` is a pronoun, or a description that ``before``
    uses too ("il ministro" after "Il ministro delle Imprese, Paolo Bertani, …"); with no
    ``before``, whether one may be (a cheap test before finding the sentence before)."""
    for phrase in _phrases(sentence):
        if PRONOUN.match(phrase):
            return True
        described = _BACK_DESCRIPTION.search(phrase)
        if described and not re.search(r"\b[A-ZÀ-Ý]", phrase[:described.start()]) and (
                before is None or any(w.startswith(fold_name(described.group(1))[:ROLE_STEM])
                                      for w in _speaking_words(before))):
            return True
    return False


def _speaks_as(last: str, whose: str, who: str, phrase: str) -> bool:
    """Whether the speaker ``phrase`` names ``last`` (a last name, or the role of ``whose``
    possessive: "Coldiretti's president" is "il presidente di Coldiretti")."""
    words = _speaking_words(phrase)
    if last in words or (last.upper() in who and letters(last) in acronyms(phrase)):
        return True  # "BCE" for "ECB"
    return bool(whose) and whose in words and len(last) >= ROLE_STEM and any(
        w[:ROLE_STEM] == last[:ROLE_STEM] for w in words)


def asked_speaker(question: str) -> str:
    """Whose words or view ``question`` asks for ("What did Andy Jassy say?" -> "Andy
    Jassy"; "Secondo Electrek, quanto vale…?" -> "Electrek"), or "" (also when it names no
    one: "according to a recent survey")."""
    m = _ASKS_SPEAKER.search(question)
    if not m:
        return ""
    who = next(g for g in (m.group("en"), m.group("it"), m.group("by")) if g)
    whose = re.match(r"\s+(?:di|del|dello|della|dei|degli|delle|dell['’])\s*[A-ZÀ-Ý][^?.,]*",
                     question[m.end("it"):]) if m.group("it") else None
    if whose and not re.search(r"\b[A-ZÀ-Ý]", who):
        who += whose.group(0)  # "Cosa ha detto la presidente della BCE?": the BCE's
    if not re.search(r"\b[A-ZÀ-Ý]", who):
        return ""  # "according to a new poll", "what did the report say": no one in particular
    return re.sub(r"^(?:the|il|lo|la|i|gli|le|l['’])\s*", "", who.strip(), flags=re.I)


@functools.lru_cache(maxsize=256)  # each evidence sentence is read for every claim
def _phrases(sentence: str) -> tuple[str, ...]:
    """The speakers of ``sentence``, each with the description beside it: the words just
    before a verb ("Fiji’s defense minister said") or, when it opens its clause, just after
    it ("…”, ha detto il CEO di Amazon, Andy Jassy")."""
    verbs = f"{SAYING}|{REPORTING}"
    sentence = _TITLE_DOT.sub(r"\1", sentence)
    found = speakers(sentence, verbs)
    found += [m.group("who") for m in re.finditer(
        rf"(?P<who>(?:[^\W\d][\w’'\-]*,?\s+){{1,6}})(?:has\s+|had\s+)?(?:{verbs})\b", sentence,
        re.IGNORECASE)]
    described = re.finditer(rf"\b(?:{verbs})\s+(?P<who>[a-zà-ý][^,.;:!?“”«»\"]{{0,60}}"
                            rf"(?:,\s*{_NAME})?)", sentence, re.IGNORECASE)
    return tuple(found + [_CLAUSE_END.split(m.group("who"), 1)[0] for m in described
                          if _INVERSION.search(sentence[:m.start()])])


def _speaking_words(phrase: str) -> set[str]:
    return {fold_name(w) for w in re.findall(r"\w{2,}", phrase)}



# A role of someone's named in another language shares this many first letters with it:
# "president" / "presidente", "minister" / "ministro", "governor" / "governatore".
ROLE_STEM = 6

_OPENING, _CLOSING, _STRAIGHT = "“«", "”»", '"'


def quoted_by(sentences: Sequence[str]) -> list[int | None]:
    """For each of ``sentences`` (in order), the index of the sentence naming who speaks the
    quotation it is part of, or None. News quotes run over several sentences and name their
    speaker once: "“Spirit and Frontier play a big role…,” said Scott Keyes… “When Delta
    announced the basic economy fare in 2012… I’m not a fan of either merger…”". A quoted
    sentence without a speaker of its own goes with the nearest one before it in the same
    unbroken run of quoted sentences (else the nearest after it); who speaks is read
    outside the quotation marks only ("When Delta announced…" inside is what was said)."""
    owner: list[int | None] = [None] * len(sentences)
    run: dict[int, bool] = {}  # index: whether it names a speaker
    depth, pronoun = 0, False
    for i, sentence in enumerate(sentences):
        after = _depth_after(sentence, depth)
        if depth > 0 or sentence.lstrip()[:1] in _OPENING + _STRAIGHT or after > 0:
            outside = _outside(sentence, depth)
            run[i] = bool(speakers(outside))
            pronoun = pronoun or bool(_PRONOUN_SAYS.search(outside))
        else:
            _own(run, owner, sentences if pronoun else ())
            run, pronoun = {}, False
        depth = after
    _own(run, owner, sentences if pronoun else ())
    return owner


# "“…,” she said", "«…», ha aggiunto.": the speaker is named in the sentence before.
_PRONOUN_SAYS = re.compile(
    rf"\b(?:he|she|they|lui|lei)\s+(?:{SAYING})\b|\b(?:{SAYING})\s+(?:he|she|they)\b|"
    rf"[,”»\"]\s*(?:ha|hanno)\s+(?:{_IT_PAST})\s*[.!]?\s*$", re.IGNORECASE)


def _own(run: dict[int, bool], owner: list[int | None], sentences: Sequence[str] = ()) -> None:
    """Give each quoted sentence of ``run`` its speaker's sentence; a run that names no one
    but says "she said" (its ``sentences`` given) is spoken by whoever the sentence just
    before it names as speaking."""
    speaking = [i for i, named in run.items() if named]
    first = min(run, default=0)
    if not speaking and sentences and first > 0 and speakers(sentences[first - 1]):
        speaking = [first - 1]
    for i in run:
        before = [j for j in speaking if j <= i]
        owner[i] = before[-1] if before else next(iter(speaking), None)


def _depth_after(sentence: str, depth: int) -> int:
    for char in sentence:
        if char in _OPENING or (char == _STRAIGHT and depth == 0):
            depth += 1
        elif char in _CLOSING or char == _STRAIGHT:
            depth = max(0, depth - 1)
    return depth


def _outside(sentence: str, depth: int) -> str:
    """``sentence`` with what is inside quotation marks (open at ``depth``) as "…"."""
    kept = []
    for char in sentence:
        inside = depth > 0
        depth = _depth_after(char, depth)
        if char in _OPENING + _CLOSING + _STRAIGHT or not inside and depth == 0:
            kept.append(char)
        elif not kept or kept[-1] != "…":
            kept.append("…")
    return "".join(kept)
