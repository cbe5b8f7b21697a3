"""Negation: a claim that denies must cite a sentence that denies, in either language; a
denial answering a yes/no question is no mere repeat of it."""

import doctest

import pytest

import rag.negation
from rag.grounding import repeats
from rag.negation import denies, unstated_denial

from test_claims import _fails


def test_the_module_examples_hold():
    assert doctest.testmod(rag.negation).failed == 0


@pytest.mark.parametrize("claim, evidence", [
    ("The grid did not suffer outages.", "Il sistema elettrico ha retto senza blackout."),
    ("Il governo non ha confermato il piano.", "The government did not confirm the plan."),
    ("Veltrix has not decided on Texas.", "The company had not made a decision on Texas."),
    ("The company did not comment.", "The company declined to comment."),
    ("Il sindaco non ha preso una decisione.", "Il sindaco ha escluso una decisione a breve."),
    ("No arrests were made.", "Police have made no arrests."),
    ("The team is the world's No. 1.", "La squadra è la prima al mondo."),  # a rank
    ("The grid suffered outages.", "The grid did not suffer outages."),  # not checked this way
])
def test_a_denial_passes_when_its_evidence_denies(claim, evidence):
    assert unstated_denial(claim, evidence) == ""


@pytest.mark.parametrize("claim, evidence", [
    ("The grid did not suffer outages.", "The grid suffered outages on Tuesday."),
    ("Il governo non ha confermato il piano.", "The government confirmed the plan."),
    ("Musk has never sold Tesla shares.", "Musk sold Tesla shares in 2022."),
    ("Nessuno è stato arrestato.", "Police arrested two men."),
])
def test_a_flipped_sentence_is_refused(claim, evidence):
    assert unstated_denial(claim, evidence)
    assert _fails(claim, evidence)  # the claim check as a whole


def test_a_denial_answering_a_yes_no_question_is_no_repeat():
    question = "Did the power grid suffer outages?"
    assert not denies(question)
    assert not repeats("The power grid did not suffer outages.", question, "en")
    assert repeats("The power grid suffered outages.", question, "en")
    assert repeats("Il governo non ha confermato il piano.", "Perché il governo non ha confermato il piano?",
                   "it")
