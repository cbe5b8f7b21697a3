"""Claims: does an evidence item state what a sentence of the answer claims?

Meaning, not spelling. A claim passes against an evidence item when:

* every quantity it states (`rag.numbers`: a number with its scale — "22,1 miliardi" is
  "22.1 billion" — a number in words, a percentage, a date) is one the item or its
  article's title states;
* every name it uses is in the item or the title, or completes one the item uses with
  the full name its article spells out ("Elon Musk" for "Musk"), or is the question's own
  spelling of a name the item or article spells a little differently ("Cristian"/"Christian",
  "Bill Aiken" for the article's "Bill Aken", named "Aken" in the item);
* when it says who said, reported or thinks something ("Jassy said…", "secondo
  Electrek…"), that speaker is named in the item itself, not merely elsewhere in the
  article: words are never moved from one mouth to another;
* in the item's own language, every word it takes from the question is one the item (or
  its title) uses too: a small model fills the question's premise into an evidence
  sentence about something else ("I cloroplasti con guaina…" for a sentence about
  mesophyll chloroplasts; "la commedia…" for a sentence about a drama).

`disagreement` returns what the item does not state, quoted for a reader ("“Electrek”"),
or "" when the claim holds.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from .corpus import Article
from .dates import MONTHS
from .evidence import Evidence
from .lexical import analyze, fold_accents, words
from .numbers import unsupported

# A name may match a spelling this close (difflib ratio) when the longer of the two has at
# least this many letters ("Aiken" / "Aken", never "Musk" / "Mask").
NAME_VARIANT_MIN, NAME_VARIANT_RATIO = 5, 0.8
_ELIDED = re.compile(r"\b(?:[ldcsmtvn]|un|dell|dall|nell|sull|all|coll|quest|quell|sant)['’](?=\w)",
                     re.IGNORECASE)  # "L'azienda Amazon", "dell’Europa": articles, not names
_NAME_RUN = re.compile(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{2,}(?:[ \t]+[A-ZÀ-Ý][\w’'\-]{2,})*")
_WEEKDAYS = set("""monday tuesday wednesday thursday friday saturday sunday lunedi martedi
mercoledi giovedi venerdi sabato domenica""".split())
_CALENDAR = {fold_accents(m).casefold() for m in MONTHS} | _WEEKDAYS  # dates, not names
# Words that open a sentence before a name ("In Tesla's plan", "Secondo Electrek").
_OPENERS = set("""the a an in on at for by with as from to after before when while since
according both and but if il lo la i gli le un una uno nel nella nei negli nelle per secondo
con da dal dalla dopo prima quando mentre anche ma se""".split())
_SAY = (r"said|says|say|stated|states|told|tells|reported|reports|wrote|writes|added|adds|"
        r"argued|argues|claimed|claims|explained|explains|noted|notes|announced|warned|"
        r"believes|thinks|according\s+to|ha\s+detto|hanno\s+detto|ha\s+dichiarato|"
        r"ha\s+affermato|ha\s+riportato|hanno\s+riportato|ha\s+scritto|ha\s+spiegato|"
        r"ha\s+aggiunto|ha\s+annunciato|dice|afferma|riporta|scrive|spiega|secondo")
_NAME = r"[A-ZÀ-Ý][\w’'\-]+(?:\s+[A-ZÀ-Ý][\w’'\-]+)*"
_SAYS = re.compile(rf"\b(?:{_SAY})\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;:!?]|\b(?:that|che|adding|aggiungendo|and|e|but|ma)\b",
                         re.IGNORECASE)
_BEFORE_SAYING = re.compile(
    rf"(?P<who>{_NAME})(?:['’]s?)?(?:,[^,]{{1,60}},)?\s+(?:has\s+|had\s+)?(?:{_SAY})\b")


def disagreement(claim: str, item: Evidence, article: Article | None, question: str = "",
                 lang: str | None = None, question_words: bool = True) -> str:
    """What ``item`` does not state of what ``claim`` (in ``lang``) states, quoted; or "".
    ``question_words``: apply the rule on words taken from the question."""
    title = item.chunk.title
    return (_missing_quantity(claim, f"{title}\n{item.text}", lang, item.chunk.lang or None)
            or _missing_speaker(claim, item.text)
            or _missing_name(claim, f"{title}\n{item.text}",
                             article.text if article else "", question)
            or (_borrowed_word(claim, f"{title}\n{item.text}", question, lang,
                               item.chunk.lang or None) if question_words else ""))


# --------------------------------------------------------------------------- quantities

# "the two companies", "i due rivali", "both": a count of what the sentence already names
# refers back to them; it states no quantity of its own.
_ANAPHORIC_COUNT = re.compile(
    r"\b(?:the|these|those|both|all|i|gli|le|questi|queste|entrambi|entrambe|tutti|tutte)"
    r"\s+(?:two|three|due|tre)\b", re.IGNORECASE)


def _missing_quantity(claim: str, evidence: str, claim_lang: str | None,
                      evidence_lang: str | None) -> str:
    claim = _ANAPHORIC_COUNT.sub(lambda m: m.group(0).split()[0], claim)
    missing = unsupported(claim, evidence, claim_lang, evidence_lang)
    return f"“{missing[0]}”" if missing else ""


# --------------------------------------------------------------------------- names

def names(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Runs of capitalized words ("Jeff Bezos"), accent-folded, possessives stripped; month
    and weekday names are dates, not names.

    A sentence's first word is capitalized anyway: alone, or as a function word ("In",
    "The", "Secondo") before a name, it counts only when it is one of the ``known`` names
    (those of the question: "Milano ha 427.652 abitanti"); opening a longer run it does
    ("Kimbal Musk")."""
    body = _ELIDED.sub("", text.lstrip())
    first = re.match(r"\S+", body)
    skip = first.end() if first else 0
    runs = []
    for m in _NAME_RUN.finditer(body):
        run = tuple(w for w in (_fold_name(w) for w in m.group(0).split()) if w not in _CALENDAR)
        if run and m.start() < skip and run[0] not in known and (
                len(run) == 1 or run[0] in _OPENERS):
            run = run[1:]
        if run:
            runs.append(run)
    return runs


def _question_names(question: str) -> frozenset[str]:
    """The words of the question's names: the ``known`` names of `names`."""
    return frozenset(word for run in names(question) for word in run)


def _fold_name(word: str) -> str:
    return re.sub(r"['’]s$", "", fold_accents(word).casefold()).strip("’'-")


def _missing_name(claim: str, evidence: str, article: str, question: str) -> str:
    folded, whole = fold_accents(evidence).casefold(), fold_accents(article).casefold()
    known = _question_names(question)
    for run in names(claim, known):
        spelled = [w if w in folded or w not in known else _variant_of(w, evidence) or w
                   for w in run]  # the question's spelling read as the item's
        missing = [w for w in spelled if w not in folded]
        if missing and not (len(missing) < len(run) and " ".join(spelled) in whole):
            return f"“{' '.join(run).title()}”"
    return ""


def _variant_of(word: str, evidence: str) -> str:
    """The capitalized word of the evidence that ``word`` is another spelling of
    ("Cristian" / "Christian", "Aiken" / "Aken"), folded, or ""; never a short name ("Musk" /
    "Mask") nor a common word ("Milano" / "mila")."""
    capitalized = re.findall(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{%d,}" % (NAME_VARIANT_MIN - 2), evidence)
    return next((other for other in map(_fold_name, capitalized)
                 if other[0] == word[0] and max(len(word), len(other)) >= NAME_VARIANT_MIN
                 and SequenceMatcher(None, word, other).ratio() >= NAME_VARIANT_RATIO), "")


# --------------------------------------------------------------------------- speakers

def speakers(claim: str) -> list[str]:
    """Who the claim says said, reported or thinks something ("Andy Jassy", "Electrek"):
    the name just before a verb of saying, or the last name of the clause after it ("ha
    detto il CEO di Amazon, Andy Jassy"; "according to Electrek")."""
    found = [m.group("who") for m in _BEFORE_SAYING.finditer(claim)]
    for m in _SAYS.finditer(claim):
        according = re.match(r"accord|second", m.group(0), re.I)
        clause = re.split(r"[,;:.!?]" if according else _CLAUSE_END, claim[m.end():], 1)[0]
        runs = [r.group(0) for r in re.finditer(_NAME, clause)
                if _fold_name(r.group(0).split()[-1]) not in _CALENDAR]
        if runs:  # "according to X, …": the first; "said the CEO of Y, X": the last
            found.append(runs[0] if according else runs[-1])
    cleaned = [re.sub(r"^(?:(?:The|Il|La|Lo|Gli|Le|Secondo|According)\s+|L['’])", "", who).strip()
               for who in found]  # "L'articolo afferma…": the text itself, not a speaker
    return list(dict.fromkeys(who for who in cleaned if who[:1].isupper()))


def _missing_speaker(claim: str, evidence: str) -> str:
    """A speaker of the claim whose last name the item itself does not name."""
    folded = fold_accents(evidence).casefold()
    for who in speakers(claim):
        last = _fold_name(who.split()[-1])
        if last and not re.search(rf"\b{re.escape(last)}\b", folded):
            return f"that “{who}” said so"
    return ""


# --------------------------------------------------------------------------- the question's words

# Stems sharing this many first letters are one word's forms ("divent-ato" / "divenn-e").
SHARED_STEM = 5


def _borrowed_word(claim: str, evidence: str, question: str, lang: str | None,
                   evidence_lang: str | None) -> str:
    """A word of ``claim`` that comes from ``question`` and that ``evidence`` (in the same
    language) does not use, quoted; or "". Names have their own rule; across languages
    words differ anyway, and meaning is left to the support score."""
    if not question or not lang or evidence_lang != lang:
        return ""
    asked = set(analyze(question, lang))
    used = set(analyze(evidence, lang))
    named = {w for run in names(claim, _question_names(question)) for w in run}
    for word in words(claim):
        stem = next(iter(analyze(word, lang)), "")
        if (stem.isalpha() and stem in asked and _fold_name(word) not in named
                and not _used(stem, used)):
            return f"“{word}”"
    return ""


def _used(stem: str, used: set[str]) -> bool:
    return stem in used or (len(stem) >= SHARED_STEM
                            and any(u.startswith(stem[:SHARED_STEM]) for u in used))
