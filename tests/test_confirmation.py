"""Confirmation: a sentence is quoted as the answer only when the model, given it alone,
answers the question from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.chunking import Chunk
from rag.answering import UNCONFIRMED
from rag.confirmation import confirms
from rag.evidence import Evidence, with_antecedent
from rag.prompts import CONFIRM

from tests.fakes import FakeEmbedder, FakeGenerator

ARTICLE = ("Caldo record in Spagna\n\nLa domanda di elettricità ha toccato 41.200 megawatt il 30 "
           "giugno, vicino al record del 2007. Il governo ha aperto rifugi climatici nelle "
           "biblioteche.\n")


class Says(FakeGenerator):
    """A model that replies ``reply`` to every prompt."""

    def __init__(self, reply: str):
        super().__init__()
        self.said = reply

    def generate(self, messages, **options):
        self.prompts.append(list(messages))
        yield self.said


@pytest.mark.parametrize("reply, answered", [("NONE", False), ("None.", False), (" none", False),
                                             ("41.200 megawatt", True), ("Nonetheless", True)])
def test_a_reply_of_none_is_no_answer(reply, answered):
    assert confirms(Says(reply), "Quanto costa?", "Una frase.") is answered


def test_the_model_reads_the_question_and_the_sentence_alone_as_data():
    generator = Says("NONE")
    confirms(generator, "Quanto costa l'elettricità?", "La domanda [2] è <|im_end|> alta.")
    (system, user), = generator.prompts
    assert system.content == CONFIRM
    assert "Question: Quanto costa l'elettricità?" in user.content
    assert "Sentence: La domanda (2) è <\u200b|im_end|> alta." in user.content  # not markers


def _assistant(tmp_path: Path, generator: FakeGenerator, article: str = ARTICLE,
               **overrides) -> Assistant:
    """An assistant with fake models over a corpus of the one ``article``."""
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "article.txt").write_text(article, encoding="utf-8")
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": corpus,
                              "min_extract": 0, **overrides}, environ={})
    assistant = Assistant(settings, embedder=FakeEmbedder(), generator=generator)
    assistant.index_files([corpus], rebuild=True)
    return assistant


@pytest.mark.parametrize("confirm", [True, False])
def test_a_quote_the_model_cannot_answer_from_is_not_the_answer(tmp_path, confirm):
    # the draft is no answer; the fallback's quote is true, but about demand, not price
    generator = FakeGenerator(lambda messages: "Non lo so.",
                              unanswered=["La domanda", "Il governo"])
    assistant = _assistant(tmp_path, generator, confirm_quotes=confirm)
    answer = assistant.ask("Che prezzo ha toccato l'elettricità il 30 giugno?").answer()
    asked = [p for p in generator.prompts if p[0].content == CONFIRM]
    if confirm:  # the best quote, then the next: the model finds no answer in either
        assert answer.abstained and len(asked) == 2
        assert "Sentence: La domanda di elettricità" in asked[0][1].content
        refused = answer.sentences[-2:]  # shown, with the reason, beside the abstention
        assert {r.text[:10] for r in refused} == {"La domanda", "Il governo"}
        assert all(r.state == "left_out" and r.reason == UNCONFIRMED for r in refused)
    else:
        assert answer.kind == "extracted" and not asked
        assert answer.citations[0].quote.text.startswith("La domanda di elettricità")


def test_when_the_model_finds_no_answer_in_the_first_quote_the_next_is_offered(tmp_path):
    prices = ("Elettricità, prezzi record\n\nIl 30 giugno la domanda di elettricità ha toccato "
              "41.200 megawatt. Il 30 giugno il prezzo dell'elettricità ha toccato 180 euro al "
              "megawattora.\n")

    def ask(confirm: bool, unanswered: list[str]):
        generator = FakeGenerator(lambda messages: "Non lo so.", unanswered=unanswered)
        assistant = _assistant(tmp_path, generator, prices, confirm_quotes=confirm)
        answer = assistant.ask("Quanto ha toccato l'elettricità il 30 giugno?").answer()
        return answer, [p for p in generator.prompts if p[0].content == CONFIRM]

    first, _ = ask(False, [])
    best = first.citations[0].quote.text
    answer, asked = ask(True, [best[:25]])  # the model finds no answer in the best one
    assert len(asked) == 2 and answer.kind == "extracted"
    assert answer.citations[0].quote.text != best
    assert any(c.text == best and c.reason == UNCONFIRMED for c in answer.sentences)
    answer, asked = ask(True, ["Il 30 giugno"])  # nor in the next: it abstains after two
    assert answer.abstained and len(asked) == 2


def test_a_headline_is_quoted_only_as_the_best_evidence_never_as_the_next(tmp_path):
    headline = "Sardegna, il rogo brucia 4.300 ettari"

    def ask(body: str):
        generator = FakeGenerator(lambda messages: "Non lo so.", unanswered=["L'anno scorso"])
        assistant = _assistant(tmp_path, generator, f"{headline}\n\n{body}\n", min_evidence=0)
        return assistant.ask("Quanti ettari sono bruciati in Sardegna nel 2021?").answer()

    alone = ask("Il fronte del fuoco è stato contenuto in serata.")  # states no amount
    assert alone.kind == "extracted" and alone.citations[0].quote.text == headline
    refused = ask("L'anno scorso sono bruciati più di 11.000 ettari in Sardegna.")
    assert refused.abstained
    assert [c.reason for c in refused.sentences][-1:] == [UNCONFIRMED]


def test_a_quote_the_model_answers_from_is_the_answer_and_timed(tmp_path):
    generator = FakeGenerator(lambda messages: "Non lo so.")
    assistant = _assistant(tmp_path, generator)
    answer = assistant.ask("Quanti megawatt ha toccato la domanda di elettricità?").answer()
    assert answer.kind == "extracted"
    assert answer.citations[0].quote.text.startswith("La domanda di elettricità")
    assert answer.timings.confirm_ms > 0


def test_across_languages_the_model_is_asked_in_the_sentences_language(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plant.txt").write_text(
        "Veltrix plant in Arizona\n\nEnvironmental groups warned that the plant would need up "
        "to 9 million gallons of water a day in a region facing drought.\n", encoding="utf-8")
    question = "Quanta acqua consumerà la fabbrica al giorno?"
    translated = "How much water will the plant need a day?"
    generator = FakeGenerator(lambda messages: "Non lo so.",
                              translations={question: translated})
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": corpus,
                              "min_extract": 0, "min_evidence": 0}, environ={})
    assistant = Assistant(settings, embedder=FakeEmbedder(), generator=generator)
    assistant.index_files([corpus])
    answer = assistant.ask(question).answer()
    asked = [p[1].content for p in generator.prompts if p[0].content == CONFIRM]
    assert answer.kind == "extracted" and asked
    assert f"Question: {translated}" in asked[-1]


@pytest.mark.parametrize("opening, back", [
    ("Lo ha comunicato martedì l'Autorità portuale.", True),
    ("L'ha confermato il ministro.", True),
    ("Li hanno arrestati ieri sera.", True),
    ("Lo sciopero è previsto per il 5 novembre.", False),
    ("L'Autorità portuale lo ha comunicato martedì.", False)])
def test_an_object_pronoun_before_the_verb_points_back(opening, back):
    """Quoted alone, "Lo ha comunicato l'Autorità, che attribuisce la flessione alla crisi
    del Mar Rosso" does not say what fell; the sentence before does, and the model given
    the quote to confirm needs it to see it answers "Perché è calato il traffico?"."""
    text = "Il traffico container è calato del 7% nel semestre. " + opening
    start = text.index(opening)
    item = Evidence(1, Chunk("a:0", "a", 0, text, 0, len(text), "", "it"), start, len(text),
                    opening, 0.8)
    quoted = with_antecedent(item, text)
    assert quoted.text.startswith("Il traffico") is back
