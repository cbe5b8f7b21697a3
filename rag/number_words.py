"""Numbers written as words, found by text2num ("otto", "twenty-two", "due milioni").

text2num reads Italian, English, French, German, Spanish, Portuguese, Dutch and Danish.
Around it, the product's own rules on what counts as a number:

* a scale word alone is no count: "milioni di persone", "hundreds of people" (but "a
  million" is one);
* for a claim (not ``generous``): words worth one ("one", "uno", "una": articles) and the
  ordinals "primo"/"secondo"/"first"/"second" (also "prime", "according to") are not read,
  nor Italian "sei" where it means "you are" ("sei qui", "non sei").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from text_to_num import find_numbers

TEXT2NUM_LANGS = {"it", "en", "fr", "de", "es", "pt", "nl", "da"}
UNKNOWN_LANGS = ("it", "en")  # read when a text's language is not given
# Scale words and abbreviations (folded) → factor; the last word of "due milioni", and the
# scale after digits ("22,1 miliardi", "22.1bn") for `rag.numbers`.
SCALES = {
    **dict.fromkeys("thousand thousands mila mille tausend k".split(), 1e3),
    **dict.fromkeys("million millions milione milioni millon millones milhao milhoes millionen "
                    "mio mln mn".split(), 1e6),
    **dict.fromkeys("billion billions miliardo miliardi milliard milliards milliarde milliarden "
                    "mrd mld bn bilhao bilhoes".split(), 1e9),
    **dict.fromkeys("trillion trillions trilione trilioni bilione bilioni billon billones "
                    "biliao bilioes billionen".split(), 1e12),
    "mil millones": 1e9, "mil milhoes": 1e9,
}
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
_NOT_A_COUNT = {"a", "an"}
# "milioni", "hundreds" alone are no count ("millions of people"); "mille" is a thousand.
_BARE_SCALES = set(SCALES) - {"mille"} | {"hundred", "hundreds"}
# Italian "sei" is "you are" next to these words ("sei qui", "non sei", "sei stato").
_SEI_VERB_BEFORE = {"tu", "non", "ci", "chi", "dove", "come", "se", "che", "cosa", "ne", "mi"}
_SEI_VERB_AFTER = {"stato", "stata", "un", "una", "uno", "il", "lo", "la", "l", "qui", "qua",
                   "lì", "là", "in", "a", "di", "da", "tu", "sicuro", "sicura", "già", "ancora",
                   "davvero", "sempre", "mai", "proprio", "pronto", "pronta", "molto", "così"}


@dataclass(frozen=True)
class _Word:
    """A token for text2num: its text, its span, and whether something stands before it
    that text2num must not read through (a number written with digits, a date)."""

    word: str
    start: int
    end: int
    after_gap: bool

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: _Word) -> bool:
        return self.after_gap

    def not_a_number_part(self) -> bool:
        return False


@dataclass(frozen=True)
class WordNumber:
    """A number written as words: its span, its value, whether it is an ordinal
    ("terza"), and the factor of the scale word it ends with ("dodici miliardi"), if any."""

    start: int
    end: int
    value: float
    ordinal: bool = False
    scale: float = 0.0


def word_numbers(text: str, lang: str | None, taken: list[tuple[int, int]],
                 generous: bool = False) -> list[WordNumber]:
    """The numbers ``text`` writes as words outside the ``taken`` spans, in order.
    ``generous`` reads what a claim is not held to ("una", "sei", "primo")."""
    words = _words(text, taken)
    found_spans: list[tuple[int, int]] = []
    numbers = []
    for code in (c for c in ((lang,) if lang else UNKNOWN_LANGS) if c in TEXT2NUM_LANGS):
        for found in find_numbers(words, code, 0.0 if generous else 2.0):
            first, last = words[found.start], words[found.end - 1]
            if _overlaps(first.start, last.end, found_spans) or not _counts(words, found, code, generous):
                continue
            found_spans.append((first.start, last.end))
            numbers.append(_word_number(found, first, last))
    return sorted(numbers, key=lambda n: n.start)


def _word_number(found, first: _Word, last: _Word) -> WordNumber:
    if found.is_ordinal:
        return WordNumber(first.start, last.end, found.value, ordinal=True)
    scale = SCALES.get(fold(last.word), 0.0) if found.end - found.start > 1 else 0.0
    if scale and found.value < scale:  # text2num reads "quattro virgola cinque miliardi" as 4.5
        return WordNumber(first.start, last.end, found.value * scale, scale=scale)
    return WordNumber(first.start, last.end, found.value, scale=scale)


def _words(text: str, taken: list[tuple[int, int]]) -> list[_Word]:
    words, gap = [], False
    for m in _TOKEN.finditer(text):
        if m.group().isdigit() or _overlaps(m.start(), m.end(), taken):
            gap = True
            continue
        words.append(_Word(m.group(), m.start(), m.end(), gap))
        gap = False
    return words


def _counts(words: list[_Word], found, lang: str, generous: bool) -> bool:
    """Whether a number text2num found is one: not a scale word alone ("milioni di
    persone"), and for a claim, not "primo"/"secondo" nor Italian "sei" meaning "you are"."""
    first = words[found.start]
    before = words[found.start - 1].word.casefold() if found.start else ""
    after = words[found.end].word.casefold() if found.end < len(words) else ""
    alone = found.end - found.start == 1
    if alone and fold(first.word) in _BARE_SCALES and before not in _NOT_A_COUNT:
        return False
    if generous:
        return True
    if found.value < (3 if found.is_ordinal else 2):  # "first", "secondo"; "un" after "sei"
        return False
    return not (lang == "it" and alone and first.word.casefold() == "sei"
                and (before in _SEI_VERB_BEFORE or after in _SEI_VERB_AFTER))


def fold(word: str) -> str:
    """Lower case without accents: "Milhões" → "milhoes"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)
