"""Overview: "What is the article about?" is answered from the article's gist."""

import doctest

import pytest

import rag.overview
from rag.overview import asked_about, asks_overview

ARTICLE = """Tesla punta sui data center

Tesla potrebbe entrare nel settore dei data center, in concorrenza con Amazon.

Ricevi una notifica con le ultime notizie, i nostri articoli e altro ancora!

Un annuncio di lavoro di Tesla cerca un manager per i data center di Tesla.

Il settore dei data center vale oltre 250 miliardi di dollari, e attira Tesla.

I data center di Tesla potrebbero servire solo ai dati di Tesla.

Amazon guida il mercato dei data center con AWS.
"""


def test_the_module_examples_hold():
    assert doctest.testmod(rag.overview).failed == 0


@pytest.mark.parametrize("question", [
    "What is the article about?", "What's this article about?", "Summarize the article.",
    "Summarize it", "What are the main points of the article?", "Di cosa parla l'articolo?",
    "Riassumi l'articolo", "Qual è l'argomento dell'articolo?", "Cosa dice l'articolo?",
])
def test_a_question_about_the_article_itself_asks_for_an_overview(question):
    assert asks_overview(question)


@pytest.mark.parametrize("question", [
    "What does the article say about Jassy?", "Summarize what Jassy said",
    "Riassumi cosa ha detto Chanos", "Di cosa parla Jassy?", "Who wrote the article?",
    "Why might the Musk–Bezos rivalry grow?",
])
def test_a_question_about_something_in_the_article_does_not(question):
    assert not asks_overview(question)


def _assistant_reading(fake_assistant, tmp_path, draft: str):
    """An assistant over ARTICLE whose model writes ``draft``, and the prompts it read."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tesla.txt").write_text(ARTICLE, encoding="utf-8")
    read: list[str] = []

    def reply(messages):
        read.append(messages[-1].content)
        return draft

    assistant = fake_assistant(reply)
    assistant.index_files([corpus])
    return assistant, read


def _items(prompt: str) -> list[str]:
    return [line.split("] ", 1)[1] for line in prompt.splitlines() if line.startswith("[")]


def test_the_overview_is_written_from_the_articles_gist_not_its_likeness_to_the_question(
        fake_assistant, tmp_path):
    assistant, read = _assistant_reading(
        fake_assistant, tmp_path,
        "L'articolo parla di Tesla che potrebbe entrare nel settore dei data center [1].")
    answer = assistant.ask("Di cosa parla l'articolo?").answer()
    assert answer.kind == "generated", answer.to_json()["sentences"]
    assert "entrare nel settore dei data center" in answer.citations[0].quote.text
    assert "Ricevi una notifica" not in read[0]  # a newsletter prompt is no gist
    gist = _items(read[0])
    where = [ARTICLE.index(text) for text in gist]
    assert len(gist) == 4 and where == sorted(where), gist  # in the article's order


@pytest.mark.parametrize("question,subject", [
    ("What does the article say about Jassy?", "Jassy"),
    ("Cosa dice l'articolo su Chanos?", "Chanos"),
    ("Tell me about Jim Chanos.", "Jim Chanos"),
    ("Parlami di AWS", "AWS"),
    ("Cosa dice l'articolo?", ""),
    ("What did Jassy say?", ""),
])
def test_a_question_on_what_the_articles_say_of_a_subject_names_it(question, subject):
    assert asked_about(question) == subject


def test_what_the_article_says_of_a_subject_is_every_sentence_naming_it(fake_assistant,
                                                                      tmp_path):
    assistant, read = _assistant_reading(
        fake_assistant, tmp_path,
        "L'articolo dice che Amazon guida il mercato dei data center con AWS [1].")
    answer = assistant.ask("Cosa dice l'articolo su Amazon?").answer()
    assert answer.kind == "generated", answer.to_json()["sentences"]
    items = _items(read[0])
    assert len(items) == 2 and all("Amazon" in item for item in items), items
    nothing = assistant.ask("Cosa dice l'articolo su Microsoft?").answer()
    assert nothing.abstained and len(read) == 1  # no sentence names it: no model call
