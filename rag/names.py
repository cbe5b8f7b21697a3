"""Names: the capitalized words of a text, and whether a text names what a question names.

    >>> names("Secondo Electrek, Elon Musk sfida Jeff Bezos")
    [('electrek',), ('elon', 'musk'), ('jeff', 'bezos')]
    >>> torino = "Torino conta 850.000 abitanti."
    >>> speaks_of(question_names("Quanti abitanti ha Torino?"), torino)
    True
    >>> speaks_of(question_names("How many people live in Turin?"), torino)
    True
    >>> speaks_of(question_names("Quanti abitanti ha Torino?"), "Newcastle ha 282.442 abitanti.")
    False
    >>> speaks_of(subject_names("Di quanto ha tagliato i tassi la BCE?"), "The ECB cut rates.")
    True

Names are compared as spelled, accents folded and case ignored, a little loosely: a word
sharing a name's first letters names it ("francesi" for "Francia"), and so does a
capitalized word spelled close to it with the same first letter — the same place in another
language ("Turin" / "Torino", "Florence" / "Firenze") or another spelling ("Aiken" / "Aken").
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Collection

from .dates import MONTHS, WEEKDAYS
from .lexical import fold_accents

# A name may match a spelling this close (difflib ratio) when the longer of the two has at
# least this many letters ("Aiken" / "Aken", never "Musk" / "Mask").
NAME_VARIANT_MIN, NAME_VARIANT_RATIO = 5, 0.8
# A question's name is named by an article with a capitalized word this close to it (same
# first letter): the name in another language ("Turin" / "Torino" 0.73, "London" / "Londra"
# 0.67), never a different place ("Torino" / "Tine" 0.6, "Milano" / "Medio" 0.55).
OTHER_LANGUAGE_RATIO = 0.65
# … and of nearly its length: "Austin" is not "Australia" (0.67).
OTHER_LANGUAGE_LENGTH = 2
# A word sharing this many first letters with a longer name is a form of it ("Francia" /
# "francesi", "Europa" / "europei").
SHARED_PREFIX = 5

_ELIDED = re.compile(r"\b(?:[ldcsmtvn]|un|dell|dall|nell|sull|all|coll|quest|quell|sant)['’](?=\w)",
                     re.IGNORECASE)  # "L'azienda Amazon", "dell’Europa": articles, not names
_NAME_RUN = re.compile(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{2,}(?:[ \t]+[A-ZÀ-Ý][\w’'\-]{2,})*")
# The words of a run: "Musk-Bezos" is two names, as "Musk–Bezos" is.
_WORDS_OF_RUN = re.compile(r"\s+|-(?=[A-ZÀ-Ý])")
_ACRONYM = re.compile(r"(?<![\w])[A-Z]{2,5}(?![\w])")  # "UE", "BCE", "NATO"
_CAPITALIZED = re.compile(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{2,}")
CALENDAR = {fold_accents(m).casefold() for m in [*MONTHS, *WEEKDAYS]}  # dates, not names
# A company's legal form after its name ("Tesla, Inc.", "Microsoft Corp") names no one else.
COMPANY_FORMS = frozenset("inc corp corporation ltd llc plc spa srl gmbh".split())
# A title before or after a name ("JetBlue CEO Robin Hayes", "Jackson Mayor Chokwe
# Lumumba", "President Joe Biden") is no part of it: it ends one name and starts the next.
TITLES = frozenset("""ceo cfo coo cto cio chairman chairwoman president mayor governor gov
senator sen rep administrator minister secretary""".split())
# Words that open a sentence before a name ("In Tesla's plan", "Secondo Electrek").
_OPENERS = set("""the a an in on at for by with as from to after before when while since
according both and but if il lo la i gli le un una uno nel nella nei negli nelle per secondo
con da dal dalla dopo prima quando mentre anche ma se""".split())


def names(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Runs of capitalized words ("Jeff Bezos"; "Musk-Bezos" is two), accent-folded,
    possessives stripped; month and weekday names are dates, not names, a company's legal
    form ("Inc") is no name, and a title ("CEO", "Mayor") separates two.

    A sentence's first word is capitalized anyway: alone, or as a function word ("In",
    "The", "Secondo") before a name, it counts only when it is one of the ``known`` names
    (those of the question: "Milano ha 427.652 abitanti"); opening a longer run it does
    ("Kimbal Musk")."""
    body = _ELIDED.sub("", text.lstrip())
    first = re.match(r"\S+", body)
    skip = first.end() if first else 0
    runs = []
    for m in _NAME_RUN.finditer(body):
        parts = _between_titles(m.group(0))
        first = parts[0]
        if first and m.start() < skip and first[0] not in known and (
                len(parts) == 1 and len(first) == 1 or first[0] in _OPENERS):
            parts[0] = first[1:]
        runs += [run for run in parts if run]
    return runs


def _between_titles(run: str) -> list[tuple[str, ...]]:
    """The names of a run of capitalized words, folded, split at its titles ("Amazon CEO
    Andy Jassy": "amazon", "andy jassy"), without dates and legal forms."""
    found: list[tuple[str, ...]] = [()]
    for word in map(fold_name, _WORDS_OF_RUN.split(run)):
        if word in TITLES:
            found.append(())
        elif word not in CALENDAR and word not in COMPANY_FORMS:
            found[-1] += (word,)
    return found


def question_names(question: str) -> frozenset[str]:
    """The words of the question's names: the ``known`` names of `names`. Each sentence's
    first word is read as a sentence's ("… this week. What was the magnitude?")."""
    return frozenset(word for run in _question_runs(question) for word in run)


def _question_runs(question: str) -> list[tuple[str, ...]]:
    """The question's names, read sentence by sentence."""
    return [run for sentence in re.split(r"(?<=[.!?])\s+", question) for run in names(sentence)]


def subject_names(question: str) -> frozenset[str]:
    """What an article must name to answer ``question`` (`speaks_of`): its `question_names`,
    those in capitals as acronyms, and the initials of its names of two to five words
    ("BCE"; "UK" for "United Kingdom"), which an article in another language may write
    with their letters in another order ("ECB"). A question naming nothing names nothing
    here either ("WW I", "la UE": too short for a name)."""
    runs = _question_runs(question)
    words = {w for run in runs for w in run}
    initials = {"".join(w[0] for w in run) for run in runs if 2 <= len(run) <= 5}
    capitals = {a.upper() for a in _ACRONYM.findall(question) if a.casefold() in words}
    return frozenset({w for w in words if w.upper() not in capitals}
                     | capitals | {i.upper() for i in initials if i.isalpha()})


def name_phrases(text: str, longest: int = 3) -> list[str]:
    """The phrases of ``text`` a name may be, in any language: each capitalized word with
    up to ``longest`` - 1 words after it ("Impero", "Impero ottomano", "Progetto Mercury")."""
    tokens = list(re.finditer(r"\w[\w\-]*", text))  # "l'Impero": "l", "Impero"
    return list(dict.fromkeys(
        text[first.start():tokens[i + n - 1].end()]
        for i, first in enumerate(tokens) if _CAPITALIZED.fullmatch(first.group(0))
        for n in range(1, longest + 1) if i + n <= len(tokens)))


def fold_name(word: str) -> str:
    return re.sub(r"['’]s$", "", fold_accents(word).casefold()).strip("’'-")


def variant_of(word: str, text: str) -> str:
    """The capitalized word of ``text`` that ``word`` is another spelling of ("Cristian" /
    "Christian", "Aiken" / "Aken"), folded, or ""; never a short name ("Musk" / "Mask") nor
    a common word ("Milano" / "mila")."""
    capitalized = re.findall(r"(?<![\w])[A-ZÀ-Ý][\w’'\-]{%d,}" % (NAME_VARIANT_MIN - 2), text)
    return next((other for other in map(fold_name, capitalized)
                 if other[0] == word[0] and max(len(word), len(other)) >= NAME_VARIANT_MIN
                 and SequenceMatcher(None, word, other).ratio() >= NAME_VARIANT_RATIO), "")


def speaks_of(named: Collection[str], text: str, loosely: bool = True) -> bool:
    """Whether ``text`` names any of the ``named`` words (`subject_names`; function words
    such as "the" of "The Information" aside; one in capitals is an acronym, named as
    written, "Bce", or by one of the same letters in any order); True when there are none.
    An article that names nothing the question names is about something else: "Quanti
    abitanti ha Torino?" is not answered by Newcastle's population. A capitalized word
    spelled close to a name ("Torino" for "Turin") names it ``loosely`` (across languages);
    otherwise only one as close as a misspelling ("Tethys" for "Teethys", as `variant_of`
    reads one): "Regione" is not "Regno"."""
    named = [word for word in named if word not in _OPENERS]
    if not named:
        return True
    folded = fold_accents(text).casefold()
    capitalized = {fold_name(w) for w in _CAPITALIZED.findall(text)}
    written = acronyms(text) if any(word.isupper() for word in named) else set()
    ratio = OTHER_LANGUAGE_RATIO if loosely else NAME_VARIANT_RATIO
    return any(letters(word) in written
               or re.search(rf"\b{re.escape(word.casefold())}\b", folded) if word.isupper()
               else _named(word, folded, capitalized, ratio) for word in named)


def letters(acronym: str) -> str:
    """An acronym's letters in order, folded: one key for "BCE" and "ECB"."""
    return "".join(sorted(fold_name(acronym)))


def acronyms(text: str) -> set[str]:
    """The acronyms ``text`` writes (`letters` of its capitals, two to five letters) and
    those of its names of three to five words ("European Central Bank": "ECB")."""
    runs = [run for run in names(text) if 3 <= len(run) <= 5]
    return ({letters(a) for a in _ACRONYM.findall(fold_accents(text))}
            | {letters("".join(w[0] for w in run)) for run in runs})


def is_acronym(word: str, text: str) -> bool:
    """Whether ``text`` writes the (folded) ``word`` in capitals, as an acronym."""
    return bool(re.search(rf"(?<![\w]){re.escape(word.upper())}(?![\w])", fold_accents(text)))


def in_other_words(word: str, text: str) -> bool:
    """Whether ``text`` names the (folded) name ``word`` loosely, as `speaks_of` reads it: as
    spelled, by a form sharing its first letters ("mongoli" for "mongols"), or by a
    capitalized word spelled close to it ("Londra" for "london")."""
    return _named(word, fold_accents(text).casefold(),
                  {fold_name(w) for w in _CAPITALIZED.findall(text)})


def _named(word: str, folded: str, capitalized: set[str],
           ratio: float = OTHER_LANGUAGE_RATIO) -> bool:
    if word in folded:
        return True
    if len(word) > SHARED_PREFIX and re.search(rf"\b{re.escape(word[:SHARED_PREFIX])}", folded):
        return True
    return any(other[:1] == word[:1] and abs(len(other) - len(word)) <= OTHER_LANGUAGE_LENGTH
               and SequenceMatcher(None, word, other).ratio() >= ratio for other in capitalized)
