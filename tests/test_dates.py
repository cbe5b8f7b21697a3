"""Time expressions in English and Italian questions → date ranges."""
from __future__ import annotations

import datetime as dt

import pytest

from rag.dates import MONTHS, date_range_from_question, month_alone, without_relative_times

TODAY = dt.date(2022, 9, 1)  # a Thursday
D = dt.date


@pytest.mark.parametrize("question, expected", [
    # months, alone or with last/scorso
    ("What happened last June?", (D(2022, 6, 1), D(2022, 6, 30))),
    ("Cosa è successo a giugno?", (D(2022, 6, 1), D(2022, 6, 30))),
    ("Cosa ha detto lo scorso giugno?", (D(2022, 6, 1), D(2022, 6, 30))),
    ("Le vendite di giugno scorso", (D(2022, 6, 1), D(2022, 6, 30))),
    ("Who won in December?", (D(2021, 12, 1), D(2021, 12, 31))),  # the latest December
    ("What happened in May?", (D(2022, 5, 1), D(2022, 5, 31))),
    ("Chi ha vinto la scorsa estate e a settembre", (D(2022, 9, 1), D(2022, 9, 30))),
    # months with a year or a day
    ("Inflation in June 2021", (D(2021, 6, 1), D(2021, 6, 30))),
    ("L'inflazione a giugno del 2021", (D(2021, 6, 1), D(2021, 6, 30))),
    ("What did Biden say on May 3?", (D(2022, 5, 3), D(2022, 5, 3))),
    ("Cosa è accaduto il 12 giugno 2020?", (D(2020, 6, 12), D(2020, 6, 12))),
    ("Sept 2021 results", (D(2021, 9, 1), D(2021, 9, 30))),
    ("between June and August 2022", (D(2022, 6, 1), D(2022, 8, 31))),
    # years
    ("Chi ha vinto nel 2022?", (D(2022, 1, 1), D(2022, 12, 31))),
    ("Who won in 2021?", (D(2021, 1, 1), D(2021, 12, 31))),
    ("Cosa è cambiato quest'anno?", (D(2022, 1, 1), TODAY)),
    ("Revenue last year", (D(2021, 1, 1), D(2021, 12, 31))),
    ("I conti dell'anno scorso", (D(2021, 1, 1), D(2021, 12, 31))),
    # months relative
    ("Cosa è successo lo scorso mese?", (D(2022, 8, 1), D(2022, 8, 31))),
    ("What happened last month?", (D(2022, 8, 1), D(2022, 8, 31))),
    ("Il mese scorso", (D(2022, 8, 1), D(2022, 8, 31))),
    ("this month", (D(2022, 9, 1), TODAY)),
    # weeks and days
    ("Which automaker recalled 2.9 million vehicles this week?", (D(2022, 8, 25), TODAY)),
    ("Cosa è successo questa settimana?", (D(2022, 8, 25), TODAY)),
    ("la settimana scorsa", (D(2022, 8, 18), D(2022, 8, 25))),
    ("What did he say yesterday?", (D(2022, 8, 31), D(2022, 8, 31))),
    ("Cosa ha detto ieri?", (D(2022, 8, 31), D(2022, 8, 31))),
    ("Cosa ha detto l'altro ieri?", (D(2022, 8, 30), D(2022, 8, 30))),
    ("today", (TODAY, TODAY)),
    ("On Tuesday, the senate voted", (D(2022, 8, 30), D(2022, 8, 30))),
    ("venerdì scorso", (D(2022, 8, 26), D(2022, 8, 26))),
    ("3 days ago", (D(2022, 8, 29), D(2022, 8, 29))),
    ("due mesi fa", (D(2022, 7, 1), D(2022, 7, 31))),
    ("Which show was recently green lit?", (D(2022, 8, 2), TODAY)),
    ("Di recente la BCE ha alzato i tassi", (D(2022, 8, 2), TODAY)),
])
def test_time_expressions(question, expected):
    assert date_range_from_question(question, TODAY) == expected


@pytest.mark.parametrize("question", [
    "Chi è il CEO di Tesla?",
    "It may rain in the afternoon",        # modal "may"
    "March of the penguins",               # first word, no cue
    "a set of rules",                      # Italian "set" abbreviation needs a day/year
    "How many of the 2,000 people came?",  # a number, not a year
    "Quanto vale il 22,1% del mercato?",
    "Which country won long ago?",
])
def test_no_time_expression(question):
    assert date_range_from_question(question, TODAY) is None


def test_reference_date_matters():
    assert date_range_from_question("last June", D(2022, 6, 20)) == (D(2021, 6, 1), D(2021, 6, 30))
    assert date_range_from_question("in June", D(2022, 6, 20)) == (D(2022, 6, 1), D(2022, 6, 30))
    assert date_range_from_question("yesterday", D(2023, 1, 1)) == (D(2022, 12, 31), D(2022, 12, 31))


def test_impossible_day_falls_back_to_the_month():
    assert date_range_from_question("il 31 giugno", TODAY) == (D(2022, 6, 1), D(2022, 6, 30))


@pytest.mark.parametrize("question, expected", [
    # dates in digits
    ("What did Meta say on 2022-06-17?", (D(2022, 6, 17), D(2022, 6, 17))),
    ("Cosa è successo il 17/06/2022?", (D(2022, 6, 17), D(2022, 6, 17))),
    ("What happened on 06/17/2022?", (D(2022, 6, 17), D(2022, 6, 17))),
    # quarters
    ("What did Amazon report in Q2 2022?", (D(2022, 4, 1), D(2022, 6, 30))),
    ("Cosa è successo nel primo trimestre del 2022?", (D(2022, 1, 1), D(2022, 3, 31))),
    ("What is Amazon's second-quarter guidance?", (D(2022, 4, 1), D(2022, 6, 30))),
    ("What did Nvidia report last quarter?", (D(2022, 4, 1), D(2022, 6, 30))),
    # weekends, parts of today, numbers in words, the last N units
    ("What happened over the weekend?", (D(2022, 8, 27), D(2022, 8, 28))),
    ("Cosa è successo nel weekend?", (D(2022, 8, 27), D(2022, 8, 28))),
    ("What did Bezos say this morning?", (TODAY, TODAY)),
    ("Cosa è successo dieci anni fa?", (D(2012, 1, 1), D(2012, 12, 31))),
    ("How did markets react two weeks ago?", (D(2022, 8, 15), D(2022, 8, 21))),
    ("Le notizie degli ultimi tre mesi", (D(2022, 6, 1), TODAY)),
    ("News from the past two weeks", (D(2022, 8, 18), TODAY)),
    ("Com'è andata la borsa negli ultimi giorni?", (D(2022, 8, 2), TODAY)),
])
def test_more_time_expressions(question, expected):
    assert date_range_from_question(question, TODAY) == expected


@pytest.mark.parametrize("question", [
    "What happened at the March for Science?",  # a name, after "the"
    "Which firm will march ahead?",
    "May I ask who runs Amazon?",
    "Chi è Maggio?",                            # Italian months are written in lower case
    "Cosa dice Luglio Rossi?",
    "Is Tesla a good buy now?",
    "Sei sicuro che Amazon abbia venduto di più?",
    "Which CEO may leave?",
])
def test_more_questions_without_a_time_expression(question):
    assert date_range_from_question(question, TODAY) is None


def test_a_range_names_its_ends():
    found = date_range_from_question("What happened last June?", TODAY)
    assert (found.first, found.last) == (D(2022, 6, 1), D(2022, 6, 30))


def test_month_names_come_in_six_languages():
    assert MONTHS["giugno"] == MONTHS["june"] == MONTHS["juin"] == MONTHS["junio"] == 6
    assert MONTHS["märz"] == MONTHS["marz"] == MONTHS["março"] == 3
    assert month_alone("non è mai successo", 5, "mai", "it") == 0  # "never", not May
    assert month_alone("en mai", 3, "mai", "fr") == 5
    assert month_alone("What happened in May?", 17, "May", "en") == 5
    assert month_alone("It may rain", 3, "may", "en") == 0


@pytest.mark.parametrize("text, expected", [
    ("Who resigned this week?", "Who resigned ?"),
    ("Cosa ha detto di recente, la settimana scorsa?", "Cosa ha detto , la ?"),
    ("Which law will soon apply?", "Which law will apply?"),
    ("What happened three days ago or yesterday?", "What happened or ?"),
    ("What happened in June 2022?", "What happened in June 2022?"),  # a date, not a frame
])
def test_without_relative_times(text, expected):
    assert without_relative_times(text).split() == expected.split()
