"""Grave facts: a death, an injury, an arrest, a verdict or a resignation a claim states must be
stated by the sentence it cites, and a question about one is answered only by a sentence stating
it."""

import doctest

import pytest

import rag.grave
from rag.chunking import Chunk
from rag.demand import Demand
from rag.evidence import Evidence, EvidenceSet
from rag.grave import asked_facts, stated_facts, states_facts, unstated_fact

EVACUATED = "Secondo la Protezione civile, 4.200 persone sono state evacuate e 37 strade chiuse."


def test_the_module_examples_hold():
    assert doctest.testmod(rag.grave).failed == 0


@pytest.mark.parametrize("claim, kind", [
    ("The floods resulted in 4,200 deaths.", "death"), ("Due persone sono morte.", "death"),
    ("Tre operai sono rimasti feriti.", "injury"), ("Police arrested two men.", "arrest"),
    ("Il sindaco si è dimesso.", "resignation"), ("The CEO stepped down in May.", "resignation"),
    ("Atac ha licenziato 40 autisti.", "dismissal"), ("The plant laid off 200 workers.", "dismissal"),
    ("The coach was fired on Monday.", "dismissal"),
    ("Laura Pedio è stata condannata a otto anni.", "conviction"),
    ("He was sentenced to six years.", "conviction"),
    ("Bassi è stato assolto.", "acquittal"), ("The jury acquitted her.", "acquittal"),
])
def test_a_grave_fact_is_read_in_both_languages(claim, kind):
    assert stated_facts(claim) == [kind]
    assert unstated_fact(claim, EVACUATED)


@pytest.mark.parametrize("claim, evidence", [
    ("Two people died in the floods.", "Due persone sono morte nell'alluvione."),
    ("Le alluvioni hanno fatto 3 vittime.", "Three people were killed by the floods."),
    ("4,200 people were evacuated.", EVACUATED),  # no grave fact at all
    ("The deadline is Friday.", "La scadenza è venerdì."),  # "deadline" is no death
    ("Police fired tear gas at the crowd.", "La polizia ha usato i lacrimogeni."),  # no dismissal
    ("The judge dismissed the lawsuit.", "Il giudice ha respinto la causa."),
    ("Villa was sentenced to six years.", "Il tribunale ha condannato Franco Villa a sei anni."),
    ("Bassi was acquitted.", "Marco Bassi è stato assolto «perché il fatto non sussiste»."),
])
def test_a_claim_passes_when_its_evidence_states_the_same_kind_of_fact(claim, evidence):
    assert unstated_fact(claim, evidence) == ""


@pytest.mark.parametrize("text", [
    "Il governo ha condannato l'attacco.", "L'Onu ha condannato l'attacco ai civili.",
    "Il Papa condanna fermamente la guerra.", "Chi ha condannato l'attacco?",
])
def test_to_condemn_is_no_conviction(text):
    # "condannare" is both to convict and to condemn; only the verdict is a grave fact
    assert stated_facts(text) == [] and asked_facts(text) == []
    assert unstated_fact(text, "The government condemned the attack.") == ""


@pytest.mark.parametrize("text", [
    "Sales were hurt by weak demand.", "The slowdown hurt profits.",
    "Congress killed the bill in March.", "The regulator killed the merger.",
])
def test_a_figure_of_speech_is_no_grave_fact(text):
    assert stated_facts(text) == []


def test_victims_are_read_alike_in_both_languages():
    assert asked_facts("How many victims did the scam have?") == ["death"]
    assert unstated_fact("The scam had 300 victims.", "Le vittime della truffa sono 300.") == ""
    assert states_facts(["death"], "Le vittime della truffa sono 300.")
    assert stated_facts("Two people were hurt in the crash.") == ["injury"]


@pytest.mark.parametrize("text", [
    "Il tribunale ha condannato Franco Villa a sei anni.", "Villa è stato condannato.",
    "Villa, condannato per bancarotta, ha fatto ricorso.", "Condannato in appello l'ex sindaco.",
    "La Corte ha condannato all'ergastolo il killer.", "Sei anni di condanna per Villa.",
])
def test_an_italian_verdict_is_a_conviction(text):
    assert stated_facts(text) == ["conviction"]


def test_a_prosecutors_request_is_no_conviction():
    request = "Il pubblico ministero Laura Pedio aveva chiesto otto anni per Villa."
    assert unstated_fact("Laura Pedio è stata condannata a otto anni per Villa.", request)
    assert unstated_fact("Villa was convicted and got eight years.", request)


def test_a_question_about_deaths_is_answered_only_by_evidence_stating_deaths():
    def item(number, text, score):
        chunk = Chunk(f"a:{number}", "a", number, text, 0, len(text), "Floods", "it")
        return Evidence(number, chunk, 0, len(text), text, score)
    evacuated = item(1, EVACUATED, 0.8)
    died = item(2, "Nell'alluvione sono morte due persone.", 0.6)
    facts = asked_facts("How many people died in the floods?")
    assert EvidenceSet((evacuated,)).stating(Demand("quantity", tuple(facts)), 0.5) is None
    assert EvidenceSet((evacuated, died)).stating(Demand("quantity", tuple(facts)), 0.5) is died
    assert EvidenceSet((evacuated,)).stating(Demand("quantity"), 0.5) is evacuated  # no fact asked
    assert states_facts([], EVACUATED)


@pytest.mark.parametrize("question, facts", [
    ("How many people died in the Romagna floods?", ["death"]),
    ("Chi è stato arrestato dopo la protesta?", ["arrest"]),
    ("Did anyone die in the fire?", ["death"]),
    ("A quanti anni è stata condannata Laura Pedio?", ["conviction"]),  # after a preposition
    ("In quanti sono morti nell'alluvione?", ["death"]),
    # a fact in the premise is not what is asked (RealTime QA's questions open with one)
    ("An earthquake killed more than 1,000 people this week. What was its magnitude?", []),
    ("Police arrested 31 men this week. Where did the arrests occur?", []),
    ("Which country was rocked by an earthquake that killed 1,000 people?", []),
])
def test_a_question_asks_about_a_fact_in_its_main_clause_only(question, facts):
    assert asked_facts(question) == facts
