"""Time expressions in questions → the date range they point at (English and Italian).

    >>> date_range_from_question("What happened last June?", date(2022, 9, 1))
    (datetime.date(2022, 6, 1), datetime.date(2022, 6, 30))

Understood, relative to a reference date ``today`` (the day the question is asked):

* days: "today"/"oggi", "yesterday"/"ieri", "l'altro ieri", weekdays ("on Monday",
  "lunedì", "last Friday", "venerdì scorso": the latest such day up to today),
  "N days/weeks/months ago", "N giorni/settimane/mesi fa";
* weeks: "this week"/"questa settimana" (the last 7 days), "last week"/"la settimana
  scorsa"/"scorsa settimana" (the 7 days before), weekends;
* months: "this month"/"questo mese", "last month"/"il mese scorso"/"lo scorso mese";
  month names ("June", "giugno", "Sept"), alone (the latest such month up to today;
  with "last"/"scorso" strictly before the current month), with a year ("June 2022",
  "giugno del 2022") or with a day ("June 12", "12 giugno 2022");
* years: "2022" ("in 2022", "nel 2022"), "this year"/"quest'anno", "last year"/"l'anno
  scorso"/"lo scorso anno";
* "recently"/"recent"/"di recente"/"recentemente"/"ultimamente": the last 30 days.

Several expressions give the smallest range covering them all. The result is a
hint for ranking, not a filter: a question's wording can mislead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

from dateutil.relativedelta import relativedelta

DateRange = tuple[dt.date, dt.date]

RECENT_DAYS = 30

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "jan": 1, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12, "gen": 1, "giu": 6, "lug": 7, "ago": 8, "set": 9,
    "ott": 10, "dic": 12,
}
# Abbreviations count only next to a day or a year; "march" and "may" alone only after
# one of _STRONG_CUES or capitalized inside the sentence ("in May", "since March").
_ABBREVIATIONS = {w for w in MONTHS if len(w) <= 4 and w not in ("may", "june", "july")}
_AMBIGUOUS = {"march", "may"}
_STRONG_CUES = {"in", "since", "during", "until", "early", "late", "mid", "last", "of", "by"}
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunedì": 0, "martedì": 1, "mercoledì": 2, "giovedì": 3, "venerdì": 4,
    "sabato": 5, "domenica": 6, "lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3,
    "venerdi": 4,
}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "un": 1, "uno": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_LAST = r"(?:last|past|previous|scors[oa]|passat[oa])"
_CUE = r"(?:in|on|of|since|during|until|by|early|late|mid|last|this|past|previous|nel|a|ad|di|da|dal|del|entro|fino)"
_YEAR = r"(?:19|20)\d{2}"
_NUM = r"(\d{1,2}|" + "|".join(NUMBERS) + ")"

_PATTERNS: list[tuple[str, re.Pattern]] = [(name, re.compile(p, re.IGNORECASE)) for name, p in [
    # 12 giugno 2022 / 12 June 2022 / 12 giugno
    ("day_month", rf"\b(\d{{1,2}})(?:st|nd|rd|th|°|º)?\s+(?:of\s+)?({_MONTH})\.?(?:\s*,?\s*(?:del\s+)?({_YEAR}))?\b"),
    # June 12, 2022 / June 12
    ("month_day", rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:\s*,?\s*({_YEAR}))?(?!\d)"),
    # June 2022 / giugno del 2022
    ("month_year", rf"\b({_MONTH})\.?\s*,?\s+(?:(?:del|of)\s+)?({_YEAR})\b"),
    # last June / lo scorso giugno / giugno scorso / in June / a giugno
    ("last_month_name", rf"\b{_LAST}\s+({_MONTH})\b|\b({_MONTH})\s+{_LAST}\b"),
    ("month_name", rf"(?:\b({_CUE})\s+)?\b({_MONTH})\b"),
    ("year", rf"(?<![\d.,'’])\b({_YEAR})\b(?![.,]\d)"),
    ("this_year", r"\b(?:this\s+year|quest['’]\s?anno|nell['’]\s?anno\s+in\s+corso)\b"),
    ("last_year", rf"\b(?:last\s+year|(?:l['’]\s?|lo\s+)?{_LAST}\s+anno|(?:l['’]\s?)?anno\s+{_LAST})\b"),
    ("this_month", r"\b(?:this\s+month|questo\s+mese|(?:nel\s+)?mese\s+in\s+corso)\b"),
    ("last_month", rf"\b(?:last\s+month|(?:il\s+|lo\s+)?{_LAST}\s+mese|mese\s+{_LAST})\b"),
    ("this_weekend", r"\b(?:this\s+weekend|questo\s+(?:weekend|fine\s+settimana))\b"),
    ("last_weekend", rf"\b(?:last\s+weekend|{_LAST}\s+(?:weekend|fine\s+settimana)|(?:weekend|fine\s+settimana)\s+{_LAST})\b"),
    ("this_week", r"\b(?:this\s+week|questa\s+settimana|in\s+settimana)\b"),
    ("last_week", rf"\b(?:last\s+week|(?:la\s+)?{_LAST}\s+settimana|settimana\s+{_LAST})\b"),
    ("ago", rf"\b{_NUM}\s+(days?|weeks?|months?|years?)\s+ago\b|\b{_NUM}\s+(giorni|giorno|settimane|settimana|mesi|mese|anni|anno)\s+fa\b"),
    ("day_before_yesterday", r"\b(?:the\s+day\s+before\s+yesterday|l['’]\s?altro\s*ieri|altroieri)\b"),
    ("yesterday", r"\b(?:yesterday|ieri)\b"),
    ("today", r"\b(?:today|tonight|oggi|stamattina|stasera|stanotte)\b"),
    ("weekday", rf"\b({_WEEKDAY})(?!\w)"),
    ("recent", r"\b(?:recent(?:ly)?|lately|di\s+recente|recentemente|ultimamente|nei\s+giorni\s+scorsi|in\s+the\s+past\s+few\s+days)\b"),
]]


def date_range_from_question(question: str, today: dt.date) -> DateRange | None:
    """The (first, last) day the question's time expressions point at, or None."""
    ranges = list(_ranges(question, today))
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _ranges(question: str, today: dt.date) -> Iterator[DateRange]:
    taken: list[tuple[int, int]] = []
    for name, pattern in _PATTERNS:
        for m in pattern.finditer(question):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            found = _interpret(name, m, today)
            if found is not None:
                taken.append(m.span())
                yield found


def _interpret(name: str, m: re.Match, today: dt.date) -> DateRange | None:
    g = m.groups()
    try:
        if name == "day_month":
            return _day(int(g[0]), MONTHS[g[1].lower()], g[2], today)
        if name == "month_day":
            return _day(int(g[1]), MONTHS[g[0].lower()], g[2], today)
        if name == "month_year":
            return _month(int(g[1]), MONTHS[g[0].lower()])
        if name == "last_month_name":
            month = MONTHS[(g[0] or g[1]).lower()]
            year = today.year if month < today.month else today.year - 1
            return _month(year, month)
        if name == "month_name":
            word, cue = g[1], (g[0] or "").lower()
            if word.lower() in _ABBREVIATIONS:
                return None
            if word.lower() in _AMBIGUOUS and not (cue in _STRONG_CUES
                                                   or _capitalized_inside(m, word)):
                return None
            month = MONTHS[word.lower()]
            return _month(today.year if month <= today.month else today.year - 1, month)
    except ValueError:  # 31 June and the like
        return None
    if name == "year":
        return dt.date(int(g[0]), 1, 1), dt.date(int(g[0]), 12, 31)
    if name == "this_year":
        return dt.date(today.year, 1, 1), today
    if name == "last_year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    if name == "this_month":
        return today.replace(day=1), today
    if name == "last_month":
        first = today.replace(day=1) - relativedelta(months=1)
        return first, today.replace(day=1) - dt.timedelta(days=1)
    if name in ("this_weekend", "last_weekend"):
        saturday = today - dt.timedelta(days=(today.weekday() - 5) % 7)
        if name == "last_weekend" and today.weekday() >= 5:
            saturday -= dt.timedelta(days=7)
        return saturday, min(saturday + dt.timedelta(days=1), today)
    if name == "this_week":
        return today - dt.timedelta(days=7), today
    if name == "last_week":
        return today - dt.timedelta(days=14), today - dt.timedelta(days=7)
    if name == "ago":
        number, unit = (g[0], g[1]) if g[0] else (g[2], g[3])
        n = int(number) if number.isdigit() else NUMBERS[number.lower()]
        unit = unit.lower()
        if unit.startswith(("day", "giorn")):
            day = today - dt.timedelta(days=n)
            return day, day
        if unit.startswith(("week", "settiman")):
            day = today - dt.timedelta(weeks=n)
            return day - dt.timedelta(days=3), day + dt.timedelta(days=3)
        if unit.startswith(("month", "mes")):
            first = (today - relativedelta(months=n)).replace(day=1)
            return first, first + relativedelta(months=1) - dt.timedelta(days=1)
        return dt.date(today.year - n, 1, 1), dt.date(today.year - n, 12, 31)
    if name == "day_before_yesterday":
        day = today - dt.timedelta(days=2)
        return day, day
    if name == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if name == "today":
        return today, today
    if name == "weekday":
        day = today - dt.timedelta(days=(today.weekday() - WEEKDAYS[g[0].lower()]) % 7)
        return day, day
    if name == "recent":
        return today - dt.timedelta(days=RECENT_DAYS), today
    return None


def _day(day: int, month: int, year: str | None, today: dt.date) -> DateRange:
    if year:
        date = dt.date(int(year), month, day)
    else:  # the latest such day up to today
        date = dt.date(today.year, month, day)
        if date > today:
            date = dt.date(today.year - 1, month, day)
    return date, date


def _month(year: int, month: int) -> DateRange:
    first = dt.date(year, month, 1)
    return first, first + relativedelta(months=1) - dt.timedelta(days=1)


def _capitalized_inside(m: re.Match, word: str) -> bool:
    """"May" written with a capital, not as the question's first word."""
    start = m.start(2)
    before = m.string[:start].rstrip()
    return word[:1].isupper() and bool(before) and before[-1] not in ".!?¿¡\"“"
