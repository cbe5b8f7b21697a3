"""Demand: what a question asks of the sentence that answers it."""

import datetime as dt
import doctest

import pytest

import rag.demand
from rag.chunking import Chunk
from rag.dates import years_stated
from rag.demand import Demand
from rag.evidence import Evidence, EvidenceSet, said_before


@pytest.mark.parametrize("question, kinds, speakers, demand", [
    ("How many people died in the floods?", True, True, Demand("quantity", ("death",))),
    ("How many people died in the floods?", False, True, Demand()),
    ("Cosa ha detto Chanos?", True, True, Demand(speaker="Chanos")),
    ("Cosa ha detto Chanos?", True, False, Demand()),
    ("Quanti ettari sono bruciati nel 2021?", True, True, Demand("quantity", years=frozenset({2021}))),
])
def test_a_question_demands_what_the_checks_it_is_read_for_read(question, kinds, speakers, demand):
    assert Demand.of(question, kinds=kinds, speakers=speakers) == demand


def test_a_sentence_meets_a_demand_only_stating_all_of_it():
    demand = Demand("quantity", ("death",))
    assert demand.met_by("Twelve people died in the floods.", "en")
    assert not demand.met_by("Twelve people were evacuated.", "en")  # no death
    assert not demand.met_by("People died in the floods.", "en")  # no amount
    assert Demand().met_by("Anything at all.", "en")


def test_the_demand_modules_examples_hold():
    assert doctest.testmod(rag.demand).failed == 0



@pytest.mark.parametrize("text, said_on, years", [
    ("Quanti ettari sono bruciati in Sardegna nel 2021?", None, {2021}),
    ("Last year more than 11,000 hectares were burnt.", dt.date(2026, 7, 22), {2025}),
    ("Last year more than 11,000 hectares were burnt.", None, set()),  # said when?
    ("L'anno scorso il fatturato è salito.", dt.date(2024, 3, 1), {2023}),
    ("Quest'anno gli incassi sono saliti.", dt.date(2024, 3, 1), {2024}),
    ("Il 17 ottobre le vendite sono salite.", dt.date(2024, 3, 1), set()),  # year a guess
    ("Revenue rose to 2,021 units, up 4.2 per cent.", None, set()),
])
def test_the_years_a_sentence_names(text, said_on, years):
    assert years_stated(text, said_on) == years


def _item(number, text, date="2026-07-22"):
    chunk = Chunk(f"a:{number}", "a", 0, text, 0, len(text), title="Wildfire", lang="en",
                  date=date)
    return Evidence(number, chunk, 0, len(text), text, 0.8)


def test_a_question_naming_a_year_is_not_answered_by_a_sentence_about_another():
    demand = Demand.of("How many hectares burnt in Sardinia in 2021?")
    last_year = _item(1, "Last year more than 11,000 hectares were burnt in Sardinia.")
    assert EvidenceSet((last_year,)).stating(demand, 0.5) is None  # 2025
    assert EvidenceSet((last_year,)).stating(Demand("quantity"), 0.5) is last_year
    old = _item(1, "Last year more than 11,000 hectares were burnt in Sardinia.", "2022-08-01")
    assert EvidenceSet((old,)).stating(demand, 0.5) is old  # said in 2022: about 2021
    undated = _item(2, "About 4,300 hectares have burnt.")
    assert EvidenceSet((last_year, undated)).stating(demand, 0.5) is undated  # no year: may be


@pytest.mark.parametrize("text", [
    "Wheat prices have fallen since their 2022 peak, the Federation of Bakers said.",
    "I prezzi sono scesi dal 2019.",
    "Prices have been rising since the end of 2023.",
])
def test_a_sentence_speaking_of_what_holds_since_a_year_may_be_about_a_later_one(text):
    assert Demand.of("Did wheat prices rise in 2025?").in_years(text)
    assert not Demand.of("Did wheat prices rise in 2010?").in_years(text)


def test_the_words_asked_for_may_be_given_by_a_description_of_the_speaker():
    before = "Il ministro delle Imprese, Paolo Bertani, ha escluso nuovi sconti sulle accise. "
    said = "«La fiammata dei prezzi dovrebbe essere temporanea», ha detto il ministro."
    text = before + said
    chunk = Chunk("a:0", "a", 0, text, 100, 100 + len(text), "Inflazione", "it")
    item = Evidence(1, chunk, 100 + len(before), 100 + len(text), said, 0.8)
    assert said_before(item) == before.strip()
    assert EvidenceSet((item,)).stating(Demand.of("What did Paolo Bertani say?"), 0.5) is item
    assert EvidenceSet((item,)).stating(Demand.of("What did Mario Draghi say?"), 0.5) is None
    first = Evidence(1, chunk, 100, 100 + len(before) - 1, before.strip(), 0.8)
    assert said_before(first) == ""  # it opens the passage
