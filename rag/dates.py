"""Time expressions in questions → the date range they point at (English and Italian).

    >>> date_range_from_question("What happened last June?", date(2022, 9, 1))
    DateRange(first=datetime.date(2022, 6, 1), last=datetime.date(2022, 6, 30))

Understood, relative to a reference date ``today`` (the day the question is asked):

* days: "today"/"oggi"/"this morning"/"stamattina", "yesterday"/"ieri", "l'altro ieri",
  weekdays ("on Monday", "lunedì", "last Friday", "venerdì scorso": the latest such day up
  to today), "N days/weeks/months/years ago", "N giorni/settimane/mesi/anni fa" (N in
  digits or words: "tre", "ten"), dates in digits ("2022-06-17", "17/06/2022");
* weeks: "this week"/"questa settimana" (the last 7 days), "last week"/"la settimana
  scorsa"/"scorsa settimana" (the 7 days before), weekends ("over the weekend", "nel
  weekend": the latest one);
* months: "this month"/"questo mese", "last month"/"il mese scorso"/"lo scorso mese";
  month names ("June", "giugno", "Sept"), alone (the latest such month up to today;
  with "last"/"scorso" strictly before the current month), with a year ("June 2022",
  "giugno del 2022") or with a day ("June 12", "12 giugno 2022");
* quarters: "Q2 2022", "the second quarter", "il primo trimestre del 2022";
* years: "2022" ("in 2022", "nel 2022"), "this year"/"quest'anno", "last year"/"l'anno
  scorso"/"lo scorso anno";
* "the last N days/weeks/months"/"negli ultimi N giorni/mesi": up to today;
* "recently"/"recent"/"di recente"/"ultimamente"/"negli ultimi giorni": the last 30 days.

Several expressions give the smallest range covering them all. The result is a hint
for ranking, not a filter: a question's wording can mislead.

Month names come from the CLDR (babel): `MONTHS` holds them in Italian, English, French,
German, Spanish and Portuguese for `rag.numbers`; questions are read in Italian and English.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable, Iterator, NamedTuple

from babel.dates import get_month_names
from dateutil.relativedelta import relativedelta
from text_to_num import text2num


class DateRange(NamedTuple):
    """The first and the last day (both included) a question points at."""

    first: dt.date
    last: dt.date


RECENT_DAYS = 30
MONTH_LANGS = ("it", "en", "fr", "de", "es", "pt")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _month_names(lang: str, width: str) -> dict[str, int]:
    names = {}
    for context in ("format", "stand-alone"):
        for number, name in get_month_names(width, context, lang).items():
            name = name.casefold().rstrip(".")
            names[name] = names[_fold(name)] = number
    return names


FULL_MONTHS: dict[str, dict[str, int]] = {lang: _month_names(lang, "wide") for lang in MONTH_LANGS}
# Abbreviations count only next to a day or a year ("Sept 2021", "12 giu"); only Italian
# and English ones: Portuguese "out" (October) and the like are common words.
ABBREVIATED_MONTHS: dict[str, int] = {
    name: n for lang in ("it", "en") for name, n in _month_names(lang, "abbreviated").items()
    if name not in FULL_MONTHS[lang]} | {"sept": 9}
MONTHS: dict[str, int] = {name: n for names in FULL_MONTHS.values() for name, n in names.items()
                          } | ABBREVIATED_MONTHS
# Words that are month names only when written with a capital inside a sentence, or after
# a cue ("in May", "since March"): "It may rain", "March of the penguins".
_AMBIGUOUS = {"march", "may"}
_STRONG_CUES = {"in", "since", "during", "until", "early", "late", "mid", "last", "of", "by"}


def month_alone(text: str, start: int, word: str, lang: str | None, generous: bool = False) -> int:
    """The month a name standing alone at ``text[start:]`` means, or 0 when it is not
    one: an abbreviation, another language's name (Italian "mai" is "never"), or an
    ambiguous English word ("may", "march") not written as a month ("It may rain", "the
    March for Science"). ``generous`` reads every full name of the language as a month."""
    name = word.casefold()
    codes = (lang,) if lang else ("it", "en")
    month = next((FULL_MONTHS[c][name] for c in codes if name in FULL_MONTHS.get(c, {})), 0)
    if not month or generous or name not in _AMBIGUOUS:
        return month
    before = text[:start].rstrip()
    cue = before.rsplit(None, 1)[-1].casefold() if before else ""
    capital_inside = word[:1].isupper() and bool(before) and before[-1] not in ".!?¿¡\"“"
    return month if cue in _STRONG_CUES or (capital_inside and cue != "the") else 0


WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunedì": 0, "martedì": 1, "mercoledì": 2, "giovedì": 3, "venerdì": 4,
    "sabato": 5, "domenica": 6, "lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3,
    "venerdi": 4,
}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "primo": 1, "secondo": 2,
             "terzo": 3, "quarto": 4}
_QUESTION_MONTHS = {**FULL_MONTHS["it"], **FULL_MONTHS["en"], **ABBREVIATED_MONTHS}
_MONTH = "|".join(sorted(_QUESTION_MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_LAST = r"(?:last|past|previous|scors[oa]|passat[oa])"
_CUE = r"(?:in|on|of|since|during|until|by|early|late|mid|last|this|past|previous|nel|a|ad|di|da|dal|del|entro|fino)"
_YEAR = r"(?:19|20)\d{2}"
_NUM = r"(\d{1,2}|[^\W\d_]+)"
_DAYS = r"(?:days?|giorn[oi])"
_UNIT = r"(days?|weeks?|months?|years?|giorn[oi]|settiman[ae]|mes[ei]|ann[oi])"
_WEEKEND = r"(?:weekend|week-end|fine\s+settimana)"

_PATTERNS: list[tuple[str, re.Pattern]] = [(name, re.compile(p, re.IGNORECASE)) for name, p in [
    # 2022-06-17 / 17/06/2022 / 17.06.2022
    ("iso_date", rf"(?<![\d/.-])({_YEAR})-(\d{{1,2}})-(\d{{1,2}})(?![\d-])"),
    ("numeric_date", rf"(?<![\d/.-])(\d{{1,2}})([/.])(\d{{1,2}})\2({_YEAR})(?![\d/.-]\d)"),
    # 12 giugno 2022 / 12 June 2022 / 12 giugno
    ("day_month", rf"\b(\d{{1,2}})(?:st|nd|rd|th|°|º)?\s+(?:of\s+)?({_MONTH})\.?(?:\s*,?\s*(?:del\s+)?({_YEAR}))?\b"),
    # June 12, 2022 / June 12
    ("month_day", rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:\s*,?\s*({_YEAR}))?(?!\d)"),
    # June 2022 / giugno del 2022
    ("month_year", rf"\b({_MONTH})\.?\s*,?\s+(?:(?:del|of)\s+)?({_YEAR})\b"),
    # Q2 2022 / the second quarter of 2022 / il primo trimestre del 2022
    ("quarter", rf"\b(?:[QT]([1-4])(?!\w)|({'|'.join(_ORDINALS)})[\s-]+(?:quarter|trimestre))"
                rf"(?:\s*,?\s+(?:(?:del|of)\s+)?({_YEAR})\b)?"),
    # last June / lo scorso giugno / giugno scorso / in June / a giugno
    ("last_quarter", rf"\b(?:{_LAST}\s+(?:quarter|trimestre)|trimestre\s+{_LAST})\b"),
    ("last_month_name", rf"\b{_LAST}\s+({_MONTH})\b|\b({_MONTH})\s+{_LAST}\b"),
    ("month_name", rf"(?:\b({_CUE})\s+)?\b({_MONTH})\b"),
    ("year", rf"(?<![\d.,'’])\b({_YEAR})\b(?![.,]\d)"),
    ("this_year", r"\b(?:this\s+year|quest['’]\s?anno|nell['’]\s?anno\s+in\s+corso)\b"),
    ("last_year", rf"\b(?:last\s+year|(?:l['’]\s?|lo\s+)?{_LAST}\s+anno|(?:l['’]\s?)?anno\s+{_LAST})\b"),
    ("this_month", r"\b(?:this\s+month|questo\s+mese|(?:nel\s+)?mese\s+in\s+corso)\b"),
    ("last_month", rf"\b(?:last\s+month|(?:il\s+|lo\s+)?{_LAST}\s+mese|mese\s+{_LAST})\b"),
    ("last_weekend", rf"\b(?:last\s+weekend|{_LAST}\s+{_WEEKEND}|{_WEEKEND}\s+{_LAST})\b"),
    ("weekend", rf"\b(?:(?:this|the|questo|nel|nello|lo|il)\s+){_WEEKEND}\b"),
    ("this_week", r"\b(?:this\s+week|questa\s+settimana|in\s+settimana)\b"),
    ("last_week", rf"\b(?:last\s+week|(?:la\s+)?{_LAST}\s+settimana|settimana\s+{_LAST})\b"),
    ("recent", rf"\b(?:recent(?:ly)?|lately|di\s+recente|recentemente|ultimamente|nei\s+{_DAYS}\s+scorsi"
               rf"|(?:in\s+)?the\s+(?:past|last)\s+few\s+{_DAYS}|(?:negli\s+)?ultimi\s+{_DAYS})\b"),
    ("last_n", rf"\b(?:(?:the\s+)?(?:last|past)|(?:negli\s+|nelle\s+)?ultim[ie])\s+{_NUM}\s+{_UNIT}\b"),
    ("ago", rf"\b{_NUM}\s+{_UNIT}\s+(?:ago|fa)\b"),
    ("day_before_yesterday", r"\b(?:the\s+day\s+before\s+yesterday|l['’]\s?altro\s*ieri|altroieri)\b"),
    ("yesterday", r"\b(?:yesterday|ieri)\b"),
    ("today", r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening)|oggi|stamattina|stamane"
              r"|stasera|stanotte|oggi\s+pomeriggio)\b"),
    ("weekday", rf"\b({_WEEKDAY})(?!\w)"),
]]


# Expressions whose day depends on when they are said ("this week", "di recente", "soon"):
# a question's frame of time, not a fact an article states in the same words.
_RELATIVE = {"this_year", "last_year", "this_month", "last_month", "last_weekend", "weekend",
             "this_week", "last_week", "recent", "last_n", "ago", "day_before_yesterday",
             "yesterday", "today"}
_SOON = re.compile(r"\b(?:soon|shortly|a\s+breve|prossimamente|tra\s+poco)\b", re.IGNORECASE)


def without_relative_times(text: str) -> str:
    """``text`` without its expressions of time relative to the day it is said."""
    for name, pattern in _PATTERNS:
        if name in _RELATIVE:
            text = pattern.sub(" ", text)
    return _SOON.sub(" ", text)


_YEAR_WRITTEN = dict(_PATTERNS)["year"]
_YEAR_SINCE = re.compile(rf"\b(?:since|from|dal|dall['’]|da|a\s+partire\s+dal)\s+(?:(?:the|their|its|il|la)\s+)?"
                         rf"(?:(?:end|start|beginning|peak|record|fine|inizio|picco)\s+(?:of\s+|del\s+)?)?"
                         rf"({_YEAR})\b(?![.,]\d)", re.IGNORECASE)
_YEAR_SAID = [(name, pattern) for name, pattern in _PATTERNS if name in ("this_year", "last_year")]


def years_stated(text: str, said_on: dt.date | None = None) -> frozenset[int]:
    """The years ``text`` names: written out ("nel 2021"), or, when the day it was said is
    known (its article's date), as "this year" / "last year" ("Last year more than
    11,000 hectares were burnt", said in 2026, is about 2025). A day or month without a
    year names none: its year is only a guess."""
    years = {int(y) for y in _YEAR_WRITTEN.findall(text)}
    if said_on is not None:
        years |= {_READERS[name](m, said_on).first.year
                  for name, pattern in _YEAR_SAID for m in pattern.finditer(text)}
    return frozenset(years)


def years_since(text: str) -> frozenset[int]:
    """The years ``text`` says something has held since ("Wheat prices have fallen since
    their 2022 peak", "dal 2019"): it speaks of every year after them too."""
    return frozenset(int(y) for y in _YEAR_SINCE.findall(text))


def date_range_from_question(question: str, today: dt.date) -> DateRange | None:
    """The first and last day the question's time expressions point at, or None."""
    ranges = list(_ranges(question, today))
    if not ranges:
        return None
    return DateRange(min(r.first for r in ranges), max(r.last for r in ranges))


def _ranges(question: str, today: dt.date) -> Iterator[DateRange]:
    taken: list[tuple[int, int]] = []
    for name, pattern in _PATTERNS:
        for m in pattern.finditer(question):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            try:
                found = _READERS[name](m, today)
            except ValueError:  # 31 June, "many days ago", and the like
                found = None
            if found is not None:
                taken.append(m.span())
                yield found


# -- readers: one per pattern, each (match, today) -> DateRange | None -----------------------

def _day_month(m: re.Match, today: dt.date) -> DateRange | None:
    day, name, year = m.groups()
    return _day(int(day), _QUESTION_MONTHS[name.lower()], year, today)


def _month_day(m: re.Match, today: dt.date) -> DateRange | None:
    name, day, year = m.groups()
    return _day(int(day), _QUESTION_MONTHS[name.lower()], year, today)


def _last_month_name(m: re.Match, today: dt.date) -> DateRange:
    month = _QUESTION_MONTHS[(m.group(1) or m.group(2)).lower()]
    return _month(today.year if month < today.month else today.year - 1, month)


def _month_name(m: re.Match, today: dt.date) -> DateRange | None:
    word = m.group(2)
    if word.lower() in ABBREVIATED_MONTHS or _italian_name(m, word):
        return None
    if word.lower() in _AMBIGUOUS and not month_alone(m.string, m.start(2), word, "en"):
        return None
    month = _QUESTION_MONTHS[word.lower()]
    return _month(today.year if month <= today.month else today.year - 1, month)


def _italian_name(m: re.Match, word: str) -> bool:
    """Italian writes months in lower case: "Chi è Maggio?" asks about a person."""
    before = m.string[:m.start(2)].rstrip()
    return (word[:1].isupper() and word.lower() not in FULL_MONTHS["en"] and not m.group(1)
            and bool(before) and before[-1] not in ".!?¿¡\"“")


def _numeric_date(m: re.Match, today: dt.date) -> DateRange:
    """17/06/2022, read month first when it cannot be day first (06/17/2022)."""
    first, second, year = int(m.group(1)), int(m.group(3)), m.group(4)
    if second > 12 >= first:
        return _day(second, first, year, today)
    return _day(first, second, year, today)


def _quarter(m: re.Match, today: dt.date) -> DateRange:
    number = int(m.group(1)) if m.group(1) else _ORDINALS[m.group(2).lower()]
    year = int(m.group(3)) if m.group(3) else today.year
    first = dt.date(year, 3 * number - 2, 1)
    if not m.group(3) and first > today:
        first = first.replace(year=year - 1)
    return DateRange(first, first + relativedelta(months=3) - dt.timedelta(days=1))


def _last_quarter(m: re.Match, today: dt.date) -> DateRange:
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - relativedelta(months=3)
    return DateRange(first, first + relativedelta(months=3) - dt.timedelta(days=1))


def _weekend(m: re.Match, today: dt.date) -> DateRange:
    saturday = today - dt.timedelta(days=(today.weekday() - 5) % 7)
    return DateRange(saturday, min(saturday + dt.timedelta(days=1), today))


def _last_weekend(m: re.Match, today: dt.date) -> DateRange:
    first, last = _weekend(m, today)
    if today.weekday() >= 5:
        first -= dt.timedelta(days=7)
    return DateRange(first, first + dt.timedelta(days=1))


def _last_month(m: re.Match, today: dt.date) -> DateRange:
    first = today.replace(day=1) - relativedelta(months=1)
    return DateRange(first, today.replace(day=1) - dt.timedelta(days=1))


def _last_n(m: re.Match, today: dt.date) -> DateRange:
    n, unit = _count(m.group(1)), m.group(2).lower()
    return DateRange(today - _span(n, unit), today)


def _ago(m: re.Match, today: dt.date) -> DateRange:
    n, unit = _count(m.group(1)), m.group(2).lower()
    if unit.startswith(("day", "giorn")):
        day = today - dt.timedelta(days=n)
        return DateRange(day, day)
    if unit.startswith(("week", "settiman")):
        day = today - dt.timedelta(weeks=n)
        return DateRange(day - dt.timedelta(days=3), day + dt.timedelta(days=3))
    if unit.startswith(("month", "mes")):
        return _month((today - relativedelta(months=n)).year, (today - relativedelta(months=n)).month)
    return _year(today.year - n)


def _weekday(m: re.Match, today: dt.date) -> DateRange:
    day = today - dt.timedelta(days=(today.weekday() - WEEKDAYS[m.group(1).lower()]) % 7)
    return DateRange(day, day)


def _days_back(n: int) -> Callable[[re.Match, dt.date], DateRange]:
    return lambda m, today: DateRange(today - dt.timedelta(days=n), today - dt.timedelta(days=n))


_READERS: dict[str, Callable[[re.Match, dt.date], DateRange | None]] = {
    "iso_date": lambda m, today: _day(int(m.group(3)), int(m.group(2)), m.group(1), today),
    "numeric_date": _numeric_date,
    "day_month": _day_month,
    "month_day": _month_day,
    "month_year": lambda m, today: _month(int(m.group(2)), _QUESTION_MONTHS[m.group(1).lower()]),
    "quarter": _quarter,
    "last_quarter": _last_quarter,
    "last_month_name": _last_month_name,
    "month_name": _month_name,
    "year": lambda m, today: _year(int(m.group(1))),
    "this_year": lambda m, today: DateRange(dt.date(today.year, 1, 1), today),
    "last_year": lambda m, today: _year(today.year - 1),
    "this_month": lambda m, today: DateRange(today.replace(day=1), today),
    "last_month": _last_month,
    "last_weekend": _last_weekend,
    "weekend": _weekend,
    "this_week": lambda m, today: DateRange(today - dt.timedelta(days=7), today),
    "last_week": lambda m, today: DateRange(today - dt.timedelta(days=14), today - dt.timedelta(days=7)),
    "recent": lambda m, today: DateRange(today - dt.timedelta(days=RECENT_DAYS), today),
    "last_n": _last_n,
    "ago": _ago,
    "day_before_yesterday": _days_back(2),
    "yesterday": _days_back(1),
    "today": _days_back(0),
    "weekday": _weekday,
}


# -- helpers -------------------------------------------------------------------------------

def _count(word: str) -> int:
    """'3', 'three', 'tre', 'a' → the number; ValueError when it is none."""
    if word.isdigit():
        return int(word)
    if word.lower() in ("a", "an", "un", "uno", "una"):
        return 1
    for lang in ("en", "it"):
        try:
            return text2num(word.lower(), lang)
        except ValueError:
            continue
    raise ValueError(f"not a number: {word!r}")


def _span(n: int, unit: str) -> relativedelta:
    if unit.startswith(("day", "giorn")):
        return relativedelta(days=n)
    if unit.startswith(("week", "settiman")):
        return relativedelta(weeks=n)
    if unit.startswith(("month", "mes")):
        return relativedelta(months=n)
    return relativedelta(years=n)


def _day(day: int, month: int, year: str | None, today: dt.date) -> DateRange:
    if year:
        date = dt.date(int(year), month, day)
    else:  # the latest such day up to today
        date = dt.date(today.year, month, day)
        if date > today:
            date = dt.date(today.year - 1, month, day)
    return DateRange(date, date)


def _month(year: int, month: int) -> DateRange:
    first = dt.date(year, month, 1)
    return DateRange(first, first + relativedelta(months=1) - dt.timedelta(days=1))


def _year(year: int) -> DateRange:
    return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31))
