"""Dates and quantities read for their meaning: well-kept libraries against hand-written code.

Three measures, each on the same cases for every approach (`meaning_cases.py`, plus the
cases of tests/test_dates.py):

* questions → date ranges: the hand-written `rag.dates` as it was at ``--baseline``, a
  reader built on dateparser (``search_dates`` finds the expressions, ``DateDataParser``
  gives each one's period: day, week, month, year), and `rag.dates` as it is now;
* numbers written as words: the hand-written word table of ``rag/claims.py`` at
  ``--baseline`` against text2num (through `rag.numbers`);
* claim/evidence pairs: the hand-written quantity check of ``rag/claims.py`` at
  ``--baseline`` (no dates, no languages) against `rag.numbers.unsupported`.

    .venv/bin/python benchmarks/meaning.py            # the table
    .venv/bin/python benchmarks/meaning.py --wrong    # and every wrong case

dateparser is installed with the product's dependencies (trafilatura → htmldate needs it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

import meaning_cases as cases  # noqa: E402
from rag.dates import date_range_from_question  # noqa: E402
from rag.numbers import mentions, unsupported  # noqa: E402

BASELINE = "38d721e"  # the last commit with the hand-written date reader and word table


def _source(commit: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{path}"],
                          capture_output=True, text=True, check=True).stdout


def _module(name: str, code: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(code, name, "exec"), module.__dict__)
    return module


# -- questions → date ranges -------------------------------------------------------------------

def dateparser_range(question: str, today: dt.date):
    """The smallest range covering every expression dateparser finds, each as long as its
    period (a month for "June", a week for "last week"; "this …" ends today)."""
    from dateparser.date import DateDataParser
    from dateparser.search import search_dates
    from dateutil.relativedelta import relativedelta
    settings = {"RELATIVE_BASE": dt.datetime.combine(today, dt.time()),
                "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}
    parser = DateDataParser(languages=["en", "it"], settings=settings)
    spans = []
    for text, when in search_dates(question, languages=["en", "it"], settings=settings) or []:
        data = parser.get_date_data(text)
        period, day = (data.period if data.date_obj else "day"), when.date()
        current = any(w in text.lower() for w in ("this", "quest"))
        if period == "week":
            spans.append((day - dt.timedelta(days=7), day))
        elif period == "month":
            first = day.replace(day=1)
            spans.append((first, today if current else first + relativedelta(months=1, days=-1)))
        elif period == "year":
            spans.append((dt.date(day.year, 1, 1), today if current else dt.date(day.year, 12, 31)))
        else:
            spans.append((day, day))
    return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None


def _test_date_cases() -> list[tuple[str, dt.date, object]]:
    import tests.test_dates as t
    found = [(q, t.TODAY, e) for q, e in t.test_time_expressions.pytestmark[0].args[1]]
    found += [(q, t.TODAY, None) for q in t.test_no_time_expression.pytestmark[0].args[1]]
    d = dt.date
    return found + [("last June", d(2022, 6, 20), (d(2021, 6, 1), d(2021, 6, 30))),
                    ("in June", d(2022, 6, 20), (d(2022, 6, 1), d(2022, 6, 30))),
                    ("yesterday", d(2023, 1, 1), (d(2022, 12, 31), d(2022, 12, 31))),
                    ("il 31 giugno", t.TODAY, (d(2022, 6, 1), d(2022, 6, 30)))]


def date_rows(baseline: str, show_wrong: bool) -> list[list[str]]:
    old = _module("dates_baseline", _source(baseline, "rag/dates.py")).date_range_from_question
    sets = {"tests/test_dates.py": _test_date_cases(),
            "questions": [(q, cases.TODAY, e) for q, e in cases.DATE_CASES],
            "held out": [(q, cases.TODAY, e) for q, e in cases.DATE_HELD_OUT]}
    approaches = {f"hand-written ({baseline})": old, "dateparser": dateparser_range,
                  "rag.dates (now)": date_range_from_question}
    rows = []
    for name, read in approaches.items():
        started, cells = time.perf_counter(), []
        for label, items in sets.items():
            wrong = [(q, read(q, today), e) for q, today, e in items
                     if _as_tuple(read(q, today)) != e]
            cells.append(f"{len(items) - len(wrong)}/{len(items)}")
            _show(show_wrong, name, label, wrong)
        per_question = (time.perf_counter() - started) * 1e3 / sum(len(v) for v in sets.values())
        rows.append([name, *cells, f"{per_question:.2f}"])
    return rows


def _as_tuple(found):
    return tuple(found) if found is not None else None


# -- numbers written as words ------------------------------------------------------------------

def _baseline_claims(baseline: str) -> types.ModuleType:
    code = _source(baseline, "rag/claims.py")
    return _module("claims_baseline", "import re\n" + code[code.index("_SCALES = {"):code.index("def names(")])


def word_rows(baseline: str, show_wrong: bool) -> list[list[str]]:
    claims = _baseline_claims(baseline)

    def table(text: str, lang: str) -> set[float]:
        return {float(claims._NUMBER_WORDS[w.lower()]) for w in claims._NUMBER_WORD.findall(text)}

    def text2num(text: str, lang: str) -> set[float]:
        return {q.value for m in mentions(text, lang) if not m.literal for q in m.readings}

    rows = []
    for name, read in ((f"hand-written word table ({baseline})", table), ("text2num", text2num)):
        cells = []
        for label, items in (("cases", cases.WORD_CASES), ("held out", cases.WORD_HELD_OUT)):
            wrong = [(t, sorted(read(t, lang)), sorted(e)) for t, lang, e in items
                     if read(t, lang) != {float(v) for v in e}]
            cells.append(f"{len(items) - len(wrong)}/{len(items)}")
            _show(show_wrong, name, label, wrong)
        rows.append([name, *cells])
    return rows


# -- claim/evidence pairs ----------------------------------------------------------------------

def pair_rows(baseline: str, show_wrong: bool) -> list[list[str]]:
    claims = _baseline_claims(baseline)
    approaches: dict[str, Callable[[str, str, str, str], bool]] = {
        f"hand-written check ({baseline})": lambda c, e, lc, le: claims._missing_quantity(c, e) == "",
        "rag.numbers.unsupported": lambda c, e, lc, le: not unsupported(c, e, lc, le)}
    rows = []
    for name, passes in approaches.items():
        cells = []
        for label, items in (("cases", cases.PAIR_CASES), ("held out", cases.PAIR_HELD_OUT)):
            wrong = [(c, e) for c, e, lc, le, ok in items if passes(c, e, lc, le) != ok]
            refused = sum(1 for c, e, lc, le, ok in items if ok and not passes(c, e, lc, le))
            passed = sum(1 for c, e, lc, le, ok in items if not ok and passes(c, e, lc, le))
            cells.append(f"{len(items) - len(wrong)}/{len(items)} ({refused} refused, {passed} let through)")
            _show(show_wrong, name, label, wrong)
        rows.append([name, *cells])
    return rows


# -- report ------------------------------------------------------------------------------------

def _show(show: bool, name: str, label: str, wrong: list) -> None:
    for item in wrong if show else ():
        print(f"  wrong [{name} / {label}]: {item}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="commit of the hand-written code")
    parser.add_argument("--wrong", action="store_true", help="print every wrong case")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    dates = date_rows(args.baseline, args.wrong)
    words = word_rows(args.baseline, args.wrong)
    pairs = pair_rows(args.baseline, args.wrong)
    print("\n### Questions → date ranges (cases right)\n")
    print(_table(["approach", "tests/test_dates.py", "questions", "held out", "ms/question"], dates))
    print("\n### Numbers written as words (cases right)\n")
    print(_table(["approach", "cases", "held out"], words))
    print("\n### Claim quantities against evidence (pairs right; faithful refused, wrong let through)\n")
    print(_table(["approach", "cases", "held out"], pairs))


if __name__ == "__main__":
    main()
