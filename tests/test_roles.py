"""Roles: a claim saying who holds an office must cite a sentence giving that office of the
same body, and a question asking who holds one is answered only by such a sentence."""

import doctest

import pytest

import rag.roles
from rag.chunking import Chunk
from rag.claims import disagreement
from rag.demand import Demand
from rag.evidence import Evidence, EvidenceSet
from rag.roles import Role, asked_role, held_roles, states_role, unstated_role

SENTENCED = ("Il tribunale di Milano ha condannato martedì a sei anni l'ex presidente della "
             "Cooperativa Lombarda Costruzioni, Franco Villa, per bancarotta fraudolenta.")
OWNED = "Northgate, which is owned by the Dutch group Van Dalen Foods, said the offer was fair."


def item(number, text, score, lang="it"):
    chunk = Chunk(f"a:{number}", "a", number, text, 0, len(text), "News", lang)
    return Evidence(number, chunk, 0, len(text), text, score)


def test_the_module_examples_hold():
    assert doctest.testmod(rag.roles).failed == 0


@pytest.mark.parametrize("question, role", [
    ("Who is the CEO of Van Dalen Foods?", Role("ceo", ("van", "dalen", "foods"))),
    ("Chi è il presidente del tribunale di Milano?", Role("president", ("milano",), "court")),
    ("Who is the ECB president?", Role("president", ("ECB",))),
    ("Who is the Bank of England governor?", Role("governor", ("bank", "england"), "bank")),
    ("Chi è l'allenatore del Milan?", Role("coach", ("milan",))),
    ("Who is the mayor?", Role("mayor", ())),
    ("Who scored for Inter?", None),  # no office asked
    ("Chi è Franco Villa?", None),  # a person asked about, not an office
    ("Who is the man the CEO thanked?", None),  # the office is not what is asked
])
def test_a_question_asking_who_holds_an_office(question, role):
    assert asked_role(question) == role


@pytest.mark.parametrize("claim, offices", [
    ("The president of the Milan court is Franco Villa.", ["president"]),
    ("Christine Lagarde is the ECB president.", ["president"]),
    ("Il sindaco di Bologna è Matteo Lepore [1].", ["mayor"]),
    ("Lagarde è la presidente della BCE.", ["president"]),
    # an office named in passing is not what the claim says
    ("Andy Jassy, the CEO of Amazon, said growth had stabilized.", []),
    ("The walkout is the biggest in a decade.", []),
])
def test_a_claim_saying_who_holds_an_office(claim, offices):
    assert [r.office for r in held_roles(claim)] == offices


@pytest.mark.parametrize("claim, evidence", [
    ("Franco Villa is the former president of Cooperativa Lombarda Costruzioni.", SENTENCED),
    ("Christine Lagarde is the ECB president.", "La presidente della BCE, Christine Lagarde, ha detto…"),
    ("Lagarde è la presidente della BCE.", "ECB President Christine Lagarde said rates would fall."),
    ("Andy Jassy is Amazon's chief executive.", "“…”, ha detto il CEO di Amazon, Andy Jassy."),
    ("Il sindaco è Matteo Lepore.", "The mayor, Matteo Lepore, visited the flooded areas."),
])
def test_the_same_office_of_the_same_body_passes_in_either_language(claim, evidence):
    assert unstated_role(claim, evidence) == ""


@pytest.mark.parametrize("claim, evidence", [
    ("The president of the Milan court is Franco Villa.", SENTENCED),
    ("Il presidente del tribunale di Milano è Franco Villa.", SENTENCED),
    ("The CEO of Van Dalen Foods is Northgate.", OWNED),
    ("Matteo Lepore is the mayor of Bologna.", "Matteo Lepore visited the flooded areas of Bologna."),
])
def test_an_office_the_evidence_does_not_give_of_that_body_is_refused(claim, evidence):
    assert unstated_role(claim, evidence).startswith("“")


def test_a_claim_giving_an_office_of_another_body_disagrees_with_its_evidence():
    problem = disagreement("The president of the Milan court is Franco Villa.",
                           item(1, SENTENCED, 0.7), None, lang="en")
    assert problem == "“president of the Milan court”"


def test_a_question_about_an_office_is_quoted_only_from_a_sentence_giving_it():
    role = asked_role("Who is the CEO of Van Dalen Foods?")
    owned = item(1, OWNED, 0.8, "en")
    named = item(2, "Van Dalen Foods chief executive Pieter Smit declined to comment.", 0.6, "en")
    assert not states_role(role, OWNED)
    assert EvidenceSet((owned,)).stating(Demand(role=role), 0.5) is None
    assert EvidenceSet((owned, named)).stating(Demand(role=role), 0.5) is named
    assert EvidenceSet((owned,)).stating(Demand(), 0.5) is owned  # no office asked


def test_every_name_of_the_body_must_be_given():
    role = asked_role("Chi è il presidente della Regione Lombardia?")
    assert not states_role(role, "Il presidente della Regione Emilia-Romagna, Michele de "
                                 "Pascale, ha stimato i danni.")
    assert states_role(role, "Il presidente della Regione Lombardia, Attilio Fontana, ha detto…")


def test_another_kind_of_body_in_the_same_city_is_not_the_one_asked_about():
    role = asked_role("Who is the president of the Milan court?")
    assert role.kind == "court"
    assert not states_role(role, "Più cauta la presidente dell'Ordine dei medici di Milano, "
                                 "Giulia Fontana, secondo cui mancano specialisti.")
    assert states_role(role, "Il presidente del tribunale di Milano, Fabio Roia, ha detto…")
    assert states_role(role, "Milan court president Fabio Roia said…")


def test_a_bare_office_is_held_of_what_the_headline_names():
    said = ("«Venezia non è un parco a tema», ha detto il sindaco Andrea Zanon durante la "
            "conferenza stampa a Ca' Farsetti.")
    headline = "Venezia, il ticket per i turisti giornalieri sale a 10 euro"
    role = asked_role("Chi è il sindaco di Venezia?")
    assert not states_role(role, said)  # the sentence alone names no city
    assert states_role(role, said, headline)
    assert not states_role(role, said, "Milano, sciopero dei trasporti")
    assert not states_role(role, "Ha parlato anche l'ex sindaco Massimo Cacciari.", headline)
    assert unstated_role("Il sindaco di Venezia è Andrea Zanon.", said, headline) == ""
    court = asked_role("Chi è il presidente del tribunale di Milano?")  # a kind of body: never
    assert not states_role(court, "Ha detto il presidente Mario Rossi.", "Tribunale di Milano")


def test_the_headline_sets_the_office_the_fallback_may_quote():
    said = "Lo ha detto il sindaco Andrea Zanon in conferenza stampa."
    chunk = Chunk("v:0", "v", 0, said, 0, len(said), "Venezia, il ticket sale a 10 euro", "it")
    quoted = Evidence(1, chunk, 0, len(said), said, 0.8)
    demand = Demand(role=asked_role("Chi è il sindaco di Venezia?"))
    assert EvidenceSet((quoted,)).stating(demand, 0.5) is quoted


def test_a_body_named_in_another_language_is_read_by_translation():
    role = asked_role("Who is the mayor of Venice?")
    said = "«Venezia non è un parco a tema», ha detto il sindaco Andrea Zanon."
    headline = "Venezia, il ticket per i turisti giornalieri sale a 10 euro"
    def translates(name, text):  # a fake of `rag.support.translates_by`
        return name == "Venice" and "Venezia" in text
    assert not states_role(role, said, headline)
    assert states_role(role, said, headline, translates)
    assert states_role(role, "Il sindaco di Venezia, Andrea Zanon, ha detto…", "", translates)
    assert not states_role(role, "Il sindaco di Verona, Damiano Tommasi, ha detto…", "",
                           translates)
