"""Claims: does an evidence item state what a sentence of the answer claims?

Meaning, not spelling. A claim passes against an evidence item when:

* every quantity it states (a number with its scale — "22,1 miliardi" is "22.1 billion" —
  a number in words, a percentage) is one the item or its article's title states;
* every name it uses is in the item or the title, or completes one the item uses with
  the full name its article spells out ("Elon Musk" for "Musk"), or is the question's own
  spelling of a name the item spells a little differently ("Cristian"/"Christian");
* when it says who said, reported or thinks something ("Jassy said…", "secondo
  Electrek…"), that speaker is named in the item itself, not merely elsewhere in the
  article: words are never moved from one mouth to another.

`disagreement` returns what the item does not state, quoted for a reader ("“Electrek”"),
or "" when the claim holds.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from .corpus import Article
from .evidence import Evidence
from .lexical import fold_accents

# A name of at least this many letters may match a spelling this close (difflib ratio).
NAME_VARIANT_MIN, NAME_VARIANT_RATIO = 5, 0.8
_NAME_RUN = re.compile(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{2,}(?:[ \t]+[A-ZÀ-Ý][\w’'\-]{2,})*")
_CALENDAR = set("""january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday gennaio febbraio
marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre lunedi martedi
mercoledi giovedi venerdi sabato domenica""".split())
_SAY = (r"said|says|say|stated|states|told|tells|reported|reports|wrote|writes|added|adds|"
        r"argued|argues|claimed|claims|explained|explains|noted|notes|announced|warned|"
        r"believes|thinks|according\s+to|ha\s+detto|hanno\s+detto|ha\s+dichiarato|"
        r"ha\s+affermato|ha\s+riportato|hanno\s+riportato|ha\s+scritto|ha\s+spiegato|"
        r"ha\s+aggiunto|ha\s+annunciato|dice|afferma|riporta|scrive|spiega|secondo")
_NAME = r"[A-ZÀ-Ý][\w’'\-]+(?:\s+[A-ZÀ-Ý][\w’'\-]+)*"
_SPEAKER = re.compile(
    rf"(?:according\s+to|secondo)\s+(?:the\s+|il\s+|la\s+|lo\s+|l['’])?(?P<after>{_NAME})"
    rf"|(?P<before>{_NAME})(?:['’]s?)?(?:,[^,]{{1,60}},)?\s+(?:has\s+|had\s+)?(?:{_SAY})\b"
    rf"|\b(?:{_SAY}),?\s+(?:the\s+|il\s+)?(?:[a-z][\w\s]{{0,40}},\s+)?(?P<inverted>{_NAME})")


def disagreement(claim: str, item: Evidence, article: Article | None, question: str = "") -> str:
    """What ``item`` does not state of what ``claim`` states (quoted), or "" if nothing."""
    title = item.chunk.title
    return (_missing_quantity(claim, f"{title}\n{item.text}")
            or _missing_speaker(claim, item.text)
            or _missing_name(claim, f"{title}\n{item.text}",
                             article.text if article else "", question))


# --------------------------------------------------------------------------- quantities

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
                          re.IGNORECASE)


def quantities(text: str) -> set[float]:
    """Every reading of every number in ``text``, scaled: '22,1 miliardi' -> {22.1e9};
    numbers written as words count too: 'otto' -> {8.0}."""
    found: set[float] = set()
    for number, scale in _QUANTITY.findall(text):
        factor = _SCALES.get(scale.lower(), 1.0) if scale else 1.0
        found |= {round(value * factor, 6) for value in _readings(number)}
    return found | {float(_NUMBER_WORDS[w.lower()]) for w in _NUMBER_WORD.findall(text)}


def _readings(number: str) -> set[float]:
    readings = set()
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):  # 250.000 or 250,000: grouping
        readings.add(float(re.sub(r"[.,]", "", number)))
    if number.count(",") + number.count(".") <= 1:  # 22,1 or 22.1: a decimal
        readings.add(float(number.replace(",", ".")))
    return readings or {float(re.sub(r"[.,]", "", number))}


def _missing_quantity(claim: str, evidence: str) -> str:
    stated = quantities(evidence)
    phrases = [m.group(0).strip() for m in _QUANTITY.finditer(claim)] + \
        _NUMBER_WORD.findall(claim)
    for phrase in phrases:
        values = quantities(phrase)
        if values and not values & stated:
            return f"“{phrase}”"
    return ""


# --------------------------------------------------------------------------- names

def names(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Runs of capitalized words ("Jeff Bezos"), accent-folded, possessives stripped; month
    and weekday names are dates, not names.

    The sentence's first word is capitalized anyway, so it counts only when it is one
    of the ``known`` names (those of the question: "Milano ha 427.652 abitanti")."""
    body = text.lstrip()
    first = re.match(r"\S+", body)
    skip = first.end() if first else 0
    runs = []
    for m in _NAME_RUN.finditer(body):
        run = tuple(w for w in (_fold_name(w) for w in m.group(0).split()) if w not in _CALENDAR)
        if run and m.start() < skip and run[0] not in known:
            run = run[1:]
        if run:
            runs.append(run)
    return runs


def _fold_name(word: str) -> str:
    return re.sub(r"['’]s$", "", fold_accents(word).casefold()).strip("’'-")


def _missing_name(claim: str, evidence: str, article: str, question: str) -> str:
    folded, whole = fold_accents(evidence).casefold(), fold_accents(article).casefold()
    known = frozenset(word for run in names(question) for word in run)
    for run in names(claim, known):
        missing = [w for w in run if w not in folded and not (w in known and _variant_of(w, folded))]
        if missing and not (len(missing) < len(run) and " ".join(run) in whole):
            return f"“{' '.join(run).title()}”"
    return ""


def _variant_of(word: str, evidence: str) -> bool:
    """``word`` is another spelling of a word of the evidence ("Cristian" / "Christian"),
    never a short name ("Musk" / "Mask")."""
    return len(word) >= NAME_VARIANT_MIN and any(
        SequenceMatcher(None, word, other).ratio() >= NAME_VARIANT_RATIO
        for other in re.findall(r"\w{%d,}" % NAME_VARIANT_MIN, evidence) if other[0] == word[0])


# --------------------------------------------------------------------------- speakers

def speakers(claim: str) -> list[str]:
    """Who the claim says said, reported or thinks something ("Andy Jassy", "Electrek")."""
    found = []
    for m in _SPEAKER.finditer(claim):
        who = m.group("after") or m.group("before") or m.group("inverted") or ""
        who = re.sub(r"^(?:The|Il|La|Lo|Secondo|According)\s+", "", who).strip()
        if who and _fold_name(who) not in _CALENDAR:
            found.append(who)
    return found


def _missing_speaker(claim: str, evidence: str) -> str:
    """A speaker of the claim whose last name the item itself does not name."""
    folded = fold_accents(evidence).casefold()
    for who in speakers(claim):
        last = _fold_name(who.split()[-1])
        if last and not re.search(rf"\b{re.escape(last)}\b", folded):
            return f"that “{who}” said so"
    return ""
