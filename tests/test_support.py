"""Support: words in quotation marks must be the source's, or a translation of them."""

import numpy as np

from rag.chunking import Chunk
from rag.evidence import Evidence, EvidenceSet
from rag.support import misattributed, misquoted
from tests.fakes import FakeEmbedder

SAID = ("“Olivia has been a symbol of triumphs and hope for over 30 years sharing her journey "
        "with breast cancer,” her husband wrote.")


def _item(text: str, lang: str) -> Evidence:
    return Evidence(1, Chunk("a:0", "a", 0, text, 0, len(text), "T", lang), 0, len(text), text, 0.8)


class _Translations(FakeEmbedder):
    """The faithful Italian translation means the English sentence; anything else means
    something of its own."""

    SAME = {"olivia è stata un simbolo di trionfi e speranza per oltre 30 anni condividendo il "
            "suo percorso con il cancro al seno",
            "olivia has been a symbol of triumphs and hope for over 30 years sharing her "
            "journey with breast cancer"}

    def embed(self, texts, *, kind="document", titles=None, progress=False):
        out = super().embed(texts, kind=kind, titles=titles)
        for i, text in enumerate(texts):
            if " ".join(text.strip(" ,.“”\"").casefold().split()) in self.SAME:
                out[i] = np.eye(out.shape[1], dtype=np.float32)[0]
        return out


def test_quoted_words_in_the_sources_language_must_be_its_words():
    item = _item(SAID, "en")
    assert misquoted("Her husband wrote: “Olivia has been a symbol of triumphs and hope.”",
                     [item], "en", FakeEmbedder(), 0.8) == ""
    assert misquoted("He wrote: “Olivia was a symbol of triumph and of hope for 30 years.”",
                     [item], "en", FakeEmbedder(), 0.8) == (
        "“Olivia was a symbol of triumph and of hope for 30 years.”")
    assert misquoted("She starred in “Grease” [1].", [item], "en", FakeEmbedder(), 0.8) == ""


def test_quoted_words_in_another_language_must_read_as_the_same_sentence():
    item = _item(SAID, "en")
    faithful = ("Il marito ha scritto: “Olivia è stata un simbolo di trionfi e speranza per "
                "oltre 30 anni condividendo il suo percorso con il cancro al seno.”")
    wrong = ("Il marito ha scritto: “Olivia ha stato un simbolo di triumphi e speranza per "
             "oltre 30 anni con la malattia di cuore.”")
    assert misquoted(faithful, [item], "it", _Translations(), 0.8) == ""
    assert misquoted(wrong, [item], "it", _Translations(), 0.8).startswith("“Olivia ha stato")


def test_clause_windows_are_one_or_two_clauses_of_a_sentence():
    from rag.support import clause_windows
    windows = clause_windows("Se Tesla offrisse soluzioni ad altre aziende, aggiungerebbe un "
                             "livello alla rivalità con il fondatore di Amazon, Jeff Bezos.")
    assert "aggiungerebbe un livello alla rivalità con il fondatore di Amazon, Jeff Bezos." \
        in windows
    assert clause_windows("Amazon ha registrato 22,1 miliardi di dollari per AWS.") == []


LISTING = "Tesla posted a job listing for a data center manager, spotted by Electrek."
LEASE = "The Information reported that Tesla took over the lease of a data center."


def _listing_and_lease():
    text = f"{LISTING} {LEASE}"
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "Tesla", "en")
    return EvidenceSet(tuple(Evidence(n, chunk, text.index(s), text.index(s) + len(s), s, 0.8)
                             for n, s in enumerate((LISTING, LEASE), start=1)))


def test_words_or_an_act_credited_to_someone_must_be_theirs():
    evidence = _listing_and_lease()

    def credited_wrongly(claim, cited, question):
        return misattributed(claim, cited, evidence, FakeEmbedder(), 0.1, question)

    assert credited_wrongly("The Information reported that Tesla spotted the job listing.",
                            [2], "Who spotted the job listing?") == "Information"
    assert credited_wrongly("The Information spotted the job listing Tesla posted.", [2],
                            "Which outlet spotted the job listing?") == "Information"
    assert credited_wrongly("Electrek spotted the job listing Tesla posted.", [1],
                            "Which outlet spotted the job listing?") == ""
    assert credited_wrongly("The Information reported that Tesla took over a data center "
                            "lease.", [2], "What did The Information report?") == ""


def test_a_doer_the_question_names_is_not_what_it_asks_for():
    """Asked what Tesla did, "Tesla …" names no answer: its predicate is not compared."""
    evidence = _listing_and_lease()
    assert misattributed("Tesla took over the job listing of a data center manager.", [2],
                         evidence, FakeEmbedder(), 0.1, "What did Tesla take over?") == ""
