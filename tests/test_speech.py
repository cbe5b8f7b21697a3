"""Speech: who speaks in a sentence, and whose words a question asks for."""

from pathlib import Path

import pytest

from rag.speech import asked_speaker, speakers, speaks
from tests.fakes import citing

REPO = Path(__file__).resolve().parent.parent

JASSY = "“La crescita di AWS si è stabilizzata,” ha detto il CEO di Amazon, Andy Jassy."
CHANOS = ("“Il cloud è il loro nemico, non il loro business”, ha detto Chanos l’anno scorso.")
RIVALRY = ("Se Tesla offrisse archiviazione dati ad altre aziende, aggiungerebbe un livello alla "
           "rivalità di Musk con il fondatore di Amazon, Jeff Bezos.")
ELECTREK = ("Secondo Electrek, il settore dei data center vale oltre 250 miliardi di dollari, "
            "il che potrebbe attrarre nuovi arrivati come Tesla.")
LEASE = ("The Information ha riportato a giugno che Tesla ha rilevato l’affitto di un centro "
         "dati di Twitter.")


@pytest.mark.parametrize("claim,who", [
    ("Andy Jassy, the CEO of Amazon, stated that Tesla's storage could intensify the rivalry.",
     "Andy Jassy"),
    ("According to Electrek, the sector is worth $250 billion.", "Electrek"),
    ("The Information reported that Tesla took over a Twitter lease.", "Information"),
    ("Secondo Electrek il settore vale 250 miliardi.", "Electrek"),
    ("La crescita si è stabilizzata, ha detto il CEO di Amazon, Andy Jassy.", "Andy Jassy"),
])
def test_speakers_are_read_in_both_languages(claim, who):
    assert who in speakers(claim)


@pytest.mark.parametrize("claim", [
    "L'articolo afferma che dodici astronauti hanno camminato sulla Luna.",
    "Secondo l'articolo, Tesla offrirà soluzioni di archiviazione.",
    "Secondo gli articoli, Musk e Bezos sono rivali.",
    "According to the text, AWS grew 12%.",
])
def test_the_text_itself_is_no_speaker(claim):
    assert speakers(claim) == []




def test_a_speaker_named_first_is_not_followed_by_what_they_said():
    assert speakers("Andy Jassy said AWS growth has stabilized.") == ["Andy Jassy"]
    assert speakers("Jassy ha detto che AWS cresce.") == ["Jassy"]
    assert speakers("Fiji’s defense minister said climate change is the biggest threat in "
                    "the Asia-Pacific region.") == []  # not "Asia-Pacific"
    assert speakers("L’annuncio riporta la località di Austin, dove ha sede Tesla.") == []


def test_a_speaker_set_off_by_commas_before_the_verb_speaks():
    """"…,” her husband, John Easterling, wrote in a statement on Instagram": the name
    between commas speaks, not the last name after the verb; a place before a comma and
    the verb is no speaker."""
    widow = ("“She passed away peacefully,” her husband, John Easterling, wrote in a statement "
             "on the singer’s verified Instagram account.")
    assert speakers(widow) == ["John Easterling"]
    assert speaks("John Easterling", widow) and speaks("Olivia Newton-John's husband", widow)
    assert not speaks("Olivia Newton-John's daughter", widow)
    assert speakers("In Rome, said the minister, prices rose.") == []
    assert speakers("A Roma, ha detto il ministro, i prezzi sono saliti.") == []


@pytest.mark.parametrize("sentence, who", [
    (JASSY, "Andy Jassy"), (JASSY, "Jassy"), (JASSY, "the CEO of Amazon"),
    (CHANOS, "Jim Chanos"), (ELECTREK, "Electrek"), (LEASE, "The Information"),
    ("Fiji’s defense minister said climate change posed the biggest threat.", "Fiji’s minister"),
])
def test_a_sentence_gives_the_words_of_its_speaker(sentence, who):
    assert speaks(who, sentence)


@pytest.mark.parametrize("sentence, who", [
    (RIVALRY, "Bezos"), (RIVALRY, "Musk"),  # named, but saying nothing
    (ELECTREK, "Tesla"),  # named in what Electrek says
    (LEASE, "Tesla"), (JASSY, "Chanos"),
    ("The minister said Bezos was wrong about the rivalry.", "Bezos"),
])
def test_a_sentence_naming_someone_does_not_give_their_words(sentence, who):
    assert not speaks(who, sentence)


@pytest.mark.parametrize("question, who", [
    ("What did Andy Jassy say about AWS?", "Andy Jassy"),
    ("And what did Jassy say?", "Jassy"),
    ("Cosa ha detto Jim Chanos sui data center?", "Jim Chanos"),
    ("Che cosa ha dichiarato il CEO di Amazon?", "CEO"),  # "di …" may be the topic
    ("According to Electrek, how big is the sector?", "Electrek"),
    ("Why might the Musk–Bezos rivalry grow?", ""),
    ("According to a recent survey, what share of adults disapprove?", ""),
    ("What did the report say about prices?", ""),
])
def test_whose_words_a_question_asks_for(question, who):
    assert asked_speaker(question) == who


def test_a_question_for_someones_words_is_answered_from_their_own_words(fake_assistant):
    """Asked what Chanos said, a draft restating a sentence about him is true but not his
    words (it once passed as verified): the answer quotes his words instead."""
    question = "Cosa ha detto Jim Chanos sui data center?"
    reply = citing("Il venditore allo scoperto", "Jim Chanos si è inacidito sui data center")
    assistant = fake_assistant(reply, min_evidence=0, min_extract=0)
    assistant.index_files([REPO / "corpus"])
    answer = assistant.ask(question).answer()
    assert answer.kind == "extracted", answer.to_json()
    assert answer.sentences[0].state == "left_out"
    assert answer.sentences[0].reason == "it does not give what “Jim Chanos” said"
    (citation,) = answer.citations
    assert "ha detto Chanos" in citation.quote.text
    assert answer.text.startswith("“La storia è che") and "““" not in answer.text


def test_words_nobody_in_the_articles_said_are_not_answered(fake_assistant):
    """Bezos is named in the article but says nothing there. (The question's "detto", which
    the sentence does not use, would also refuse the draft: that rule is set aside here.)"""
    question = "Cosa ha detto Bezos su Tesla?"
    reply = citing("Se Tesla offrisse", "Bezos ha detto che Tesla aggiungerebbe un ulteriore "
                   "livello alla rivalità")
    assistant = fake_assistant(reply, min_evidence=0, min_extract=0, check_question_words=False)
    assistant.index_files([REPO / "corpus"])
    answer = assistant.ask(question).answer()
    assert answer.abstained and answer.citations == (), answer.to_json()
    assert "Bezos" in answer.sentences[0].reason
    unchecked = fake_assistant(reply, min_evidence=0, min_extract=0, check_question_words=False,
                     check_speakers=False)
    assert unchecked.ask(question).answer().kind == "generated"  # Bezos is named: enough
