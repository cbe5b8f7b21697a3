"""Quantities a text states, read for their meaning so that they compare across languages.

    >>> quantities("ricavi di 22,1 miliardi di dollari", "it") == quantities("$22.1B revenue", "en")
    True
    >>> unsupported("AWS earned $22.1 million in June.", "AWS ha incassato 22,1 miliardi a giugno.",
    ...             "en", "it")
    ['$22.1 million']

Read, in Italian, English, French, German, Spanish and Portuguese:

* numbers with digits, their scale and the SI prefix of their unit: "22,1 miliardi" = "$22.1
  billion" = "22.1bn" = "$22.1B"; "250.000" = "250,000" = "250 mila" = "250 thousand";
  "3 km" = "3.000 metri"; "1–3 µm" is not "1 e 3 metri". Whether "2.900" is 2900 or 2.9 is
  decided by the language's decimal mark ("." in English, "," elsewhere); ambiguous when
  the language is not given;
* percentages ("12%", "12 per cento", "12 percent"), ordinals ("3rd", "3°", "terzo", "Q3");
* numbers written as words, by text2num ("otto", "twenty-two", "due milioni");
* dates (`rag.dates.MONTHS`): "17 giugno 2022" = "June 17, 2022" = "2022-06-17" =
  "17/06/2022"; "giugno 2022"; a month alone; a bare year ("nel 2022").

A range gives its scale, unit or percent sign to both ends: "10-12%" states 10% and 12%.

What a claim states is read strictly: "one", "uno", "una" (articles), Italian "sei" as
"you are", "primo"/"secondo"/"first"/"second" (also "prime", "according to") are not
read. Evidence is read generously, so that it vouches for all it may state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator, Literal

from .dates import MONTHS, month_alone
from .number_words import SCALES, WordNumber, fold, word_numbers

Kind = Literal["number", "percent", "ordinal", "date"]


@dataclass(frozen=True)
class Quantity:
    """One value a text can be read as stating.

    ``value`` is a number with its scale and the SI prefix of its unit applied
    ("22,1 miliardi" and "$22.1B" → 22.1e9; "3 km" → 3000); a percent or an ordinal
    keeps its number ("12 per cento" → 12). A date keeps the parts the text writes and
    0 for those it leaves out ("17 giugno 2022" → 2022, 6, 17; "June 2022" → day 0).
    """

    kind: Kind
    value: float = 0.0
    year: int = 0
    month: int = 0
    day: int = 0

    def implied(self) -> frozenset[Quantity]:
        """This quantity and what stating it also states: a date states its year, its
        month, its day of the month ("on the 17th") and its month and day without the year."""
        if self.kind != "date":
            return frozenset({self})
        parts = {(self.year, self.month, self.day), (self.year, 0, 0), (self.year, self.month, 0),
                 (0, self.month, self.day), (0, self.month, 0)}
        dates = {Quantity("date", 0.0, y, m, d) for y, m, d in parts if (y or m) and (m or not d)}
        days = {Quantity("ordinal", float(self.day)), Quantity("number", float(self.day))}
        return frozenset(dates | (days if self.day else set()))


@dataclass(frozen=True)
class Mention:
    """A phrase of a text that states a quantity: where it is and every way it reads.

    ``literal`` is the number as written with digits ("250.000"), empty for words and dates.
    """

    text: str
    start: int
    end: int
    readings: frozenset[Quantity]
    literal: str = ""


@dataclass(frozen=True)
class _Suffix:
    """What follows a number and changes its meaning: a scale, a unit, a percent sign."""

    kind: Kind
    factors: tuple[float, ...]
    end: int


def quantities(text: str, lang: str | None = None) -> frozenset[Quantity]:
    """Every value ``text`` (written in ``lang``; None: any) can be read as stating."""
    return frozenset(q for m in mentions(text, lang) for q in m.readings)


def mentions(text: str, lang: str | None = None, generous: bool = False) -> tuple[Mention, ...]:
    """The phrases of ``text`` that state a quantity, in order. ``generous`` also reads
    the ambiguous words a claim is not held to ("una", "sei", "primo", "secondo")."""
    dated = list(_dates(text, lang, generous))
    digits = list(_digit_numbers(text, lang, [(m.start, m.end) for m in dated]))
    taken = [(m.start, m.end) for m in dated + [m for m, _ in digits]]
    worded: list[tuple[Mention, _Suffix | None]] = []
    for number in word_numbers(text, lang, taken, generous):
        if not worded or number.start >= worded[-1][0].end:  # not the "cento" of "per cento"
            worded.append(_word_mention(text, number, lang))
    numbers = _spread_over_ranges(text, sorted(digits + worded, key=lambda pair: pair[0].start))
    return tuple(sorted(dated + numbers, key=lambda m: m.start))


def unsupported(claim: str, evidence: str, lang_claim: str | None = None,
                lang_evidence: str | None = None) -> list[str]:
    """The quantities ``claim`` states that ``evidence`` does not, as the claim writes them.

    A number the claim copies digit for digit from the evidence ("250.000" in an English
    sentence about an Italian article) is also read as the evidence's language writes it.
    """
    stated = mentions(evidence, lang_evidence, generous=True)
    known = frozenset(q for m in stated for r in m.readings for q in r.implied())
    literals = {m.literal for m in stated if m.literal}
    as_evidence = {(m.start, m.end): m.readings for m in mentions(claim, lang_evidence)}
    missing: list[str] = []
    for m in mentions(claim, lang_claim):
        readings = m.readings
        if m.literal in literals:
            readings = readings | as_evidence.get((m.start, m.end), frozenset())
        if not readings & known and m.text not in missing:
            missing.append(m.text)
    return missing


# -- numbers written with digits -------------------------------------------------------------

_UNITS = {
    **dict.fromkeys("metro metri metre metres meter meters metros".split(), 1.0),
    **dict.fromkeys("km chilometro chilometri kilometre kilometres kilometer kilometers "
                    "kilometros quilometros".split(), 1e3),
    **dict.fromkeys("cm centimetro centimetri centimetre centimetres centimeter centimeters "
                    "centimetros".split(), 1e-2),
    **dict.fromkeys("mm millimetro millimetri millimetre millimetres millimeter millimeters "
                    "milimetros".split(), 1e-3),
    **dict.fromkeys("µm μm um micron micrometro micrometri micrometre micrometres micrometer "
                    "micrometers".split(), 1e-6),
    **dict.fromkeys("nm nanometro nanometri nanometre nanometres nanometer nanometers".split(),
                    1e-9),
    **dict.fromkeys("grammo grammi gram grams gramme grammes gramos".split(), 1.0),
    **dict.fromkeys("kg chilo chili chilogrammo chilogrammi kilo kilos kilogram kilograms "
                    "kilogramme kilogrammes".split(), 1e3),
    **dict.fromkeys("mg milligrammo milligrammi milligram milligrams".split(), 1e-3),
    **dict.fromkeys("tonnellata tonnellate tonne tonnes ton tons toneladas".split(), 1e6),
    "watt": 1.0, **dict.fromkeys("kw kilowatt chilowatt".split(), 1e3),
    **dict.fromkeys("mw megawatt".split(), 1e6), **dict.fromkeys("gw gigawatt".split(), 1e9),
    "kwh": 1e3, "mwh": 1e6, "gwh": 1e9, "twh": 1e12,
    "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
    **dict.fromkeys("°c °f ºc ºf".split(), 1.0),  # "46°C"; "46C" is in _CASED
    # units of another system are their value in the metric one: "9 milioni di litri" is
    # not "9 million gallons"
    **dict.fromkeys("miglio miglia mile miles".split(), 1609.344),
    **dict.fromkeys("piede piedi foot feet".split(), 0.3048),
    **dict.fromkeys("pollice pollici inch inches".split(), 0.0254),
    **dict.fromkeys("litro litri litre litres liter liters".split(), 1e-3),
    **dict.fromkeys("gallone galloni gallon gallons".split(), 3.785411784e-3),
}
_PERCENT = {"%", "per cento", "percento", "percent", "per cent", "pour cent", "prozent",
            "por ciento", "por cento"}
# Letters whose case decides: "$5m" is 5 million, "5 m" may be metres; "5 g" grams, "5G" a
# name; "46C" degrees.
_CASED = {"M": (1e6,), "B": (1e9,), "m": (1.0, 1e6), "g": (1.0,), "W": (1.0,), "C": (1.0,),
          "F": (1.0,)}
_LONG_SCALE = {"fr": 1e12, "de": 1e12}  # "billion" in French and German
_SUFFIX_WORDS = sorted(set(SCALES) | set(_UNITS) | _PERCENT | set(_CASED), key=len, reverse=True)
_SUFFIX = re.compile(r"\s*(" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _SUFFIX_WORDS)
                     + r")(?!\w)", re.IGNORECASE)
_SCALED_UNIT = re.compile(r"\s+(?:di\s+|d['’]\s*|of\s+)?(" + "|".join(
    re.escape(w) for w in sorted(_UNITS, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)
_CURRENCY = r"(?:US\$|[$€£¥])"
_DIGITS = re.compile(rf"(?<![\w.,])(?P<currency>{_CURRENCY}\s?)?[+\-−]?"
                     r"(?P<number>\d{1,3}(?:[ \u00a0\u202f]\d{3}(?!\d))+|\d+(?:[.,\u00a0\u202f]\d+)*)"
                     r"(?P<ordinal>st|nd|rd|th|°(?![CF])|º|ª)?(?!\d)"
                     r"|(?<!\w)[QTH](?P<quarter>[1-4])(?!\w)")
_DECIMAL_POINT_LANGS = {"en"}


def _digit_numbers(text: str, lang: str | None,
                   taken: list[tuple[int, int]]) -> Iterator[tuple[Mention, _Suffix | None]]:
    """Numbers written with digits, outside ``taken`` spans, each with what follows it.
    A number glued to letters that are no suffix ("5G", "3D") is a name, not a number."""
    for m in _DIGITS.finditer(text):
        if _overlaps(m.start(), m.end(), taken):
            continue
        if m.group("quarter"):
            yield _mention(text, m.start(), m.end(), "ordinal", {float(m.group("quarter"))}), None
            continue
        if m.group("ordinal"):  # "3rd"; "135°" may also be degrees
            kinds = ("ordinal", "number") if m.group("ordinal") == "°" else ("ordinal",)
            values = _readings(m.group("number"), lang)
            yield _mention(text, m.start(), m.end(), kinds, values), None
            continue
        suffix = _suffix(text, m.end(), lang, bool(m.group("currency")))
        if suffix is None and text[m.end():m.end() + 1].isalpha():
            continue
        yield _number(text, m, lang, suffix), suffix


def _number(text: str, m: re.Match, lang: str | None, suffix: _Suffix | None) -> Mention:
    literal = m.group("number")
    values = _readings(literal, lang)
    if suffix is None:
        mention = _mention(text, m.start(), m.end(), "number", values, literal)
        if re.fullmatch(r"1\d{3}|20\d{2}", literal):  # "nel 2022": a year, or a count
            mention = replace(mention, readings=mention.readings | {Quantity("date", year=int(literal))})
        return mention
    values = {v * f for v in values for f in suffix.factors}
    return _mention(text, m.start(), suffix.end, suffix.kind, values, literal)


def _readings(literal: str, lang: str | None) -> set[float]:
    """'22,1' → 22.1; '250.000' → 250000 in Italian, 250.0 in English, both when unsure."""
    literal = re.sub(r"[ \u00a0\u202f]", "", literal)
    marks = re.findall(r"[.,]", literal)
    if not marks:
        return {float(literal)}
    if len(set(marks)) == 2:  # 1.234,5 or 1,234.5: the last mark is the decimal one
        decimal, grouping_mark = marks[-1], "." if marks[-1] == "," else ","
        whole = literal.rpartition(decimal)[0]
        grouped = re.fullmatch(r"\d{1,3}(?:" + re.escape(grouping_mark) + r"\d{3})*", whole)
        if marks.count(decimal) == 1 and grouped:
            return {float(literal.replace(grouping_mark, "").replace(",", "."))}
        return _list_readings(literal, lang)
    groups = re.split(r"[.,]", literal)
    grouping = len(groups[0]) <= 3 and groups[0] != "0" and all(len(g) == 3 for g in groups[1:])
    if len(marks) > 1 or not grouping:
        return {float("".join(groups))} if grouping else {float(".".join(groups[:2]))}
    as_decimal, as_grouping = float(".".join(groups)), float("".join(groups))
    if lang is None:
        return {as_decimal, as_grouping}
    decimal_point = lang in _DECIMAL_POINT_LANGS
    return {as_decimal if (marks[0] == ".") == decimal_point else as_grouping}


def _list_readings(literal: str, lang: str | None) -> set[float]:
    """A list written without spaces ("500,1.000,5.000"): each item's readings, or none."""
    for separator in ",.":
        items = literal.split(separator)
        if all(item and len(set(re.findall(r"[.,]", item))) < 2 for item in items):
            return set().union(*(_readings(item, lang) for item in items))
    return set()


def _suffix(text: str, at: int, lang: str | None, currency: bool = False) -> _Suffix | None:
    m = _SUFFIX.match(text, at)
    if not m:
        return None
    word = m.group(1)
    folded = fold(re.sub(r"\s+", " ", word))
    if word in _CASED:
        factors = (1e6,) if word == "m" and currency else _CASED[word]
        return _Suffix("number", factors, m.end())
    if folded in _PERCENT:
        return _Suffix("percent", (1.0,), m.end())
    if folded in ("billion", "billions") and lang in _LONG_SCALE:
        return _Suffix("number", (_LONG_SCALE[lang],), m.end())
    if folded in SCALES:  # "9 milioni di litri", "9 million gallons": the unit counts too
        unit = _SCALED_UNIT.match(text, m.end())
        factor = _UNITS.get(fold(unit.group(1))) if unit else None
        if factor:
            return _Suffix("number", (SCALES[folded] * factor,), unit.end())
        return _Suffix("number", (SCALES[folded],), m.end())
    factor = _UNITS.get(folded)
    return _Suffix("number", (factor,), m.end()) if factor else None


def _word_mention(text: str, number: WordNumber, lang: str | None) -> tuple[Mention, _Suffix | None]:
    """A number written as words, with the percent sign or unit after it. The scale word
    it ends with ("dodici miliardi") counts as its suffix, so that a range can share it."""
    if number.ordinal:
        return _mention(text, number.start, number.end, "ordinal", {number.value}), None
    if number.scale:
        suffix = _Suffix("number", (number.scale,), number.end)
        return _mention(text, number.start, number.end, "number", {number.value}), suffix
    suffix = _suffix(text, number.end, lang)
    if suffix is None:
        return _mention(text, number.start, number.end, "number", {number.value}), None
    values = {number.value * f for f in suffix.factors}
    return _mention(text, number.start, suffix.end, suffix.kind, values), suffix


# -- dates -----------------------------------------------------------------------------------

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?:1\d{3}|20\d{2})"
_DATE_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    rf"(?<![\d/.-])(?P<year>{_YEAR})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?![\d-])",
    r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?![\d/.-]\d)",
    rf"(?<![\w.,])(?P<day>\d{{1,2}})(?:st|nd|rd|th|°|º|er|\.)?\s+(?:(?:of|de|di)\s+)?"
    rf"(?P<name>{_MONTH})\.?(?:,?\s+(?:(?:of|del|de|di)\s+)?(?P<year>{_YEAR})(?!\d))?(?!\w)",
    rf"(?<!\w)(?P<name>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
    rf"(?:,?\s+(?P<year>{_YEAR})(?!\d))?",
    rf"(?<!\w)(?P<name>{_MONTH})\.?,?\s+(?:(?:of|del|de|di)\s+)?(?P<year>{_YEAR})(?!\d)",
    rf"(?<!\w)(?P<alone>{_MONTH})(?!\w)",
)]


def _dates(text: str, lang: str | None, generous: bool) -> Iterator[Mention]:
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if _overlaps(m.start(), m.end(), taken):
                continue
            readings = _date_readings(m, lang, generous)
            if readings:
                taken.append(m.span())
                yield Mention(m.group(), m.start(), m.end(), readings)


def _date_readings(m: re.Match, lang: str | None, generous: bool) -> frozenset[Quantity]:
    parts = m.groupdict()
    year = _full_year(parts.get("year"))
    if parts.get("alone"):
        month = month_alone(m.string, m.start("alone"), m.group("alone"), lang, generous)
        return frozenset({Quantity("date", month=month)} if month else ())
    if parts.get("a"):  # 17/06/2022; 06/17/2022 read month first in English
        a, b = int(parts["a"]), int(parts["b"])
        days = {(a, b), (b, a)} if lang is None or lang == "en" else {(a, b)}  # (day, month)
        if lang == "en" and a <= 12 < b:
            days = {(b, a)}
    else:
        month = int(parts["month"]) if parts.get("month") else MONTHS[fold(parts["name"]).rstrip(".")]
        days = {(int(parts.get("day") or 0), month)}
    return frozenset(Quantity("date", 0.0, year, month, day) for day, month in days
                     if 1 <= month <= 12 and 0 <= day <= 31)


def _full_year(year: str | None) -> int:
    if not year:
        return 0
    return int(year) if len(year) == 4 else 2000 + int(year) if int(year) < 70 else 1900 + int(year)


# -- shared ----------------------------------------------------------------------------------

_CONNECTOR = re.compile(r"(?:\s*[-–—]\s*|\s+(?:and|to|e|ed|a|al|y|et|und|bis|ou|or|o)\s+)"
                        r"(?:(?:the|il|lo|la|i|gli|le|el|los|las|les|der|die|das)\s+|l['’])?",
                        re.IGNORECASE)


def _spread_over_ranges(text: str, numbers: list[tuple[Mention, _Suffix | None]]) -> list[Mention]:
    """'10-12%', '1 e 3 metri', 'between 10 and 12 million': the first end takes the second's
    percent sign, scale or unit."""
    spread = []
    for i, (mention, suffix) in enumerate(numbers):
        following = numbers[i + 1] if i + 1 < len(numbers) else None
        if (suffix is None and following and following[1] is not None
                and all(q.kind == "number" for q in mention.readings)
                and _CONNECTOR.fullmatch(text, mention.end, following[0].start)):
            kind, factors = following[1].kind, following[1].factors
            mention = replace(mention, readings=frozenset(
                Quantity(kind, _rounded(q.value * f)) for q in mention.readings for f in factors))
        spread.append(mention)
    return spread


def _mention(text: str, start: int, end: int, kind: Kind | tuple[Kind, ...], values: set[float],
             literal: str = "") -> Mention:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    readings = frozenset(Quantity(k, _rounded(abs(v))) for v in values for k in kinds)
    return Mention(text[start:end], start, end, readings, literal)


def _rounded(value: float) -> float:
    return float(f"{value:.10g}")


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)
