import dataclasses

from rag.chunking import Chunk
from rag.embed import CachedEmbedder
from rag.grounding import (Citation, Evidence, Sentence, agrees, names, check, key_sentences,
                           markers, parse_citations, quantities, strip_markers, with_markers)
from tests.fakes import FakeEmbedder

ARTICLE = ("Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di dollari "
           "per AWS. La crescita si è stabilizzata, ha detto il CEO Andy Jassy.\n\n"
           "Il venditore allo scoperto Jim Chanos ha scommesso contro i data center nel 2022.")


def _chunks():
    cut = ARTICLE.index("Il venditore")
    return [Chunk("a:0", "a", 0, ARTICLE[:cut].rstrip(), 0, len(ARTICLE[:cut].rstrip()), "T", "it"),
            Chunk("a:1", "a", 1, ARTICLE[cut:], cut, len(ARTICLE), "T", "it")]


def test_markers_and_stripping():
    assert markers("A [1]. B [2, 3][4].") == [1, 2, 3, 4]
    assert strip_markers("A fact [1].") == "A fact."
    assert with_markers("A fact.", [2, 1]) == "A fact [2][1]."


def test_markers_pointing_at_no_passage_are_dropped():
    cited = parse_citations("x [1] y [7] z [0]", _chunks())
    assert [c.marker for c in cited] == [1]


def test_quantities_read_scales_in_both_languages():
    assert quantities("22,1 miliardi") == quantities("22.1 billion") == {22.1e9}
    assert quantities("250.000 persone") >= {250000.0}
    assert 3000.0 in quantities("3 mila")


def test_wrong_scale_or_wrong_person_disagrees():
    evidence = _chunks()[0].text
    assert agrees("AWS revenue was 22.1 billion dollars.", evidence)
    assert not agrees("AWS revenue was 22.1 million dollars.", evidence)
    assert not agrees("Growth stabilized, said Jim Chanos.", evidence)


def test_supported_sentence_is_verified_with_an_exact_quote():
    chunks = _chunks()
    answer = "Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1]."
    checked = check(answer, chunks, FakeEmbedder(), min_support=0.5, lang="it")
    (sentence,) = checked.sentences
    assert sentence.verified and sentence.citations == (1,)
    (citation,) = checked.citations
    assert ARTICLE[citation.quote_start:citation.quote_end] == citation.quote
    assert "22,1 miliardi" in citation.quote


def test_two_sentences_citing_one_passage_each_get_their_own_quote():
    answer = ("Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1]. "
              "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [1].")
    checked = check(answer, _chunks(), FakeEmbedder(), min_support=0.5, lang="it")
    first, second = checked.sentences
    assert first.verified and second.verified
    assert "miliardi" in first.quotes[0].text and "Jassy" not in first.quotes[0].text
    assert "Jassy" in second.quotes[0].text and "miliardi" not in second.quotes[0].text
    (citation,) = checked.citations
    assert citation.quotes == (first.quotes[0], second.quotes[0])
    assert citation.quote == first.quotes[0].text
    assert all(ARTICLE[q.start:q.end] == q.text for q in citation.quotes)


def test_wrong_marker_is_reattached_to_the_supporting_passage():
    answer = "Jim Chanos ha scommesso contro i data center nel 2022 [1]."
    checked = check(answer, _chunks(), FakeEmbedder(), min_support=0.5, lang="it")
    assert checked.sentences[0].verified
    assert checked.sentences[0].citations == (2,)


def test_unsupported_sentence_is_flagged_and_cites_nothing():
    answer = "La capitale dell'Australia è Canberra [1]."
    checked = check(answer, _chunks(), FakeEmbedder(), min_support=0.5, lang="it")
    assert not checked.sentences[0].verified
    assert checked.sentences[0].citations == ()
    assert checked.citations == ()


def test_a_short_answer_is_supported_together_with_its_question():
    question = "Quando Jim Chanos ha scommesso contro i data center?"
    alone = check("Nel 2022 [2].", _chunks(), FakeEmbedder(), min_support=0.5, lang="it")
    asked = check("Nel 2022 [2].", _chunks(), FakeEmbedder(), min_support=0.5, lang="it",
                  question=question)
    assert not alone.sentences[0].verified
    assert asked.sentences[0].verified and asked.sentences[0].citations == (2,)
    assert asked.sentences[0].support > alone.sentences[0].support


def test_the_question_cannot_vouch_for_a_wrong_figure_or_name():
    question = "Quando Jim Chanos ha scommesso contro i data center?"
    for answer in ("Nel 2021 [2].", "Nel 2022, con Andy Jassy [2]."):
        checked = check(answer, _chunks(), FakeEmbedder(), min_support=0.5, lang="it",
                        question=question)
        assert not checked.sentences[0].verified, answer


def test_a_name_or_figure_of_the_article_title_holds_for_its_passages():
    text = "Lo stadio è costato 1,2 miliardi di dollari."
    answer = "Lo stadio del Super Bowl 50 è costato 1,2 miliardi di dollari [1]."
    for title, verified in (("Super Bowl 50", True), ("", False), ("Super Bowl 49", False)):
        chunk = Chunk("s:0", "s", 0, text, 0, len(text), title, "it")
        checked = check(answer, [chunk], FakeEmbedder(), min_support=0.5, lang="it")
        assert checked.sentences[0].verified is verified, title


def test_numbers_written_as_words_are_checked_like_digits():
    assert quantities("otto seggi, twelve cities, 30 per cento") == {8.0, 12.0, 30.0}
    assert quantities("twenty-two, una casa, sei qui") == set()  # compounds, articles, "you are"
    assert agrees("Il PNL ha ottenuto 8 seggi.", "Il PNL ha ottenuto otto seggi.")
    assert agrees("Tesla has three plants.", "Tesla ha 3 stabilimenti.")
    assert not agrees("Dodici città superano i 200.000 abitanti e tre i 100.000.",
                      "Dodici città superano i 200.000 residenti e 34 i 100.000.")


def test_a_sentence_of_bare_markers_or_a_repeat_is_not_checked_again():
    fact = "Amazon ha registrato 22,1 miliardi per AWS [1]."
    checked = check(f"{fact} [1], [1] {fact} Amazon ha registrato 22,1 miliardi per AWS.",
                    _chunks(), FakeEmbedder(), min_support=0.5, lang="it")
    assert [s.text.strip() for s in checked.sentences] == [fact]


def test_possessives_do_not_hide_names():
    assert names("The report cites Tesla's plans and Twitter’s lease.") == [("tesla",), ("twitter",)]
    assert agrees("Tesla took over Twitter's lease.", "Tesla ha rilevato l’affitto di Twitter.")


def test_a_full_name_may_complete_a_surname_only_if_the_passages_spell_it_out():
    evidence = "Aggiungerebbe un livello alla rivalità di Musk con Jeff Bezos."
    context = evidence + " Twitter, acquistata da Elon Musk, CEO di Tesla."
    assert names("The rivalry between Elon Musk and Jeff Bezos") == [("elon", "musk"),
                                                                     ("jeff", "bezos")]
    assert agrees("The rivalry between Elon Musk and Jeff Bezos may grow.", evidence, context)
    assert not agrees("The rivalry between Elon Musk and Jeff Bezos may grow.", evidence)
    assert not agrees("The rivalry between Kimbal Musk and Bezos may grow.", evidence, context)
    assert not agrees("Andy Jassy said so.", evidence, context + " Andy Jassy")


def test_key_sentences_are_the_closest_statements_not_questions():
    chunks = [Chunk("a:0", "a", 0, "Perché Chanos scommette contro i data center? "
                    "Il venditore allo scoperto Jim Chanos ha scommesso contro i data center. "
                    "Amazon ha registrato un fatturato di 22,1 miliardi.", 0, 150, "T", "it")]
    key = key_sentences("Perché Chanos scommette contro i data center?", chunks, FakeEmbedder(), n=1)
    assert [w.text for w in key] == ["Il venditore allo scoperto Jim Chanos ha scommesso contro "
                                     "i data center."]
    assert key[0].passage == 1
    assert key_sentences("x", chunks, FakeEmbedder(), n=0) == []


def test_cached_embedder_embeds_each_query_text_once():
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, size=3)
    first = cached.embed(["a b", "c d"], kind="query")
    again = cached.embed(["c d", "a b", "e f"], kind="query")
    assert inner.calls == [("query", 2), ("query", 1)]
    assert (again[0] == first[1]).all() and (again[1] == first[0]).all()
    assert (again == inner.embed(["c d", "a b", "e f"], kind="query")).all()
    cached.embed(["g h"], kind="query")             # evicts the least recently used
    assert len(cached._vectors) == 3 and ("query", "c d") not in cached._vectors
    cached.embed(["doc"], kind="document", titles=["T"])  # passages being indexed: never cached
    cached.embed(["doc"], kind="document", titles=["T"])
    assert inner.calls[-2:] == [("document", 1), ("document", 1)]


def test_a_name_from_the_question_counts_even_as_the_first_word():
    evidence = "Al censimento del 2000, vi erano 427.652 persone residenti a Fresno."
    assert agrees("Milano ha 427.652 abitanti.", evidence)   # first word: not a name by itself
    assert not agrees("Milano ha 427.652 abitanti.", evidence, question="Quanti abitanti ha Milano?")
    assert agrees("Fresno ha 427.652 abitanti.", evidence, question="Quanti abitanti ha Fresno?")


def test_a_question_name_may_be_spelled_as_the_passage_spells_it_but_no_other_name():
    evidence = "Secondo l'enciclopedia di Christian Bay, la disobbedienza civile è non violenta."
    question = "Secondo l'enciclopedia di Cristian Bay, la disobbedienza civile è cosa?"
    answer = "Secondo l'enciclopedia di Cristian Bay, è non violenta."
    assert agrees(answer, evidence, question=question)
    assert not agrees(answer, evidence)  # the answer's own spelling of a name must match
    assert not agrees("Secondo Marconi, cresce.", "Secondo Marcone, cresce.",
                      question="Cosa dice Marco?")
    assert not agrees("Secondo Musk, cresce.", "Secondo Mask, cresce.",  # too short to vary
                      question="Cosa dice Musk?")


def _quoted(text: str, *quotes: str) -> Sentence:
    return Sentence(text, (1,), 1.0, True, tuple(Evidence(1, 0, len(q), q) for q in quotes))


def test_quote_relevance_is_low_for_a_quote_that_does_not_answer_the_question():
    from rag.grounding import quote_relevance
    embedder = FakeEmbedder()
    question = "Quanto ha fatturato AWS nel trimestre?"
    on_topic, off_topic, unquoted = quote_relevance(question, [
        _quoted("AWS: 22,1 miliardi.", "Chanos ha scommesso.", "AWS ha fatturato 22,1 miliardi nel trimestre."),
        _quoted("Chanos scommette.", "Chanos ha scommesso contro i data center."),
        Sentence("Non verificata.", ())], embedder)
    assert on_topic > 0.5 > off_topic  # a sentence counts its best quote
    assert unquoted == 0.0
    assert quote_relevance("x", [], embedder) == []


def test_focus_leaves_out_verified_padding_and_its_citations_only():
    from rag.grounding import Checked, focus
    chunk = Chunk("a:0", "a", 0, "x", 0, 1)
    answer, padding = _quoted("AWS: 22,1 miliardi.", "AWS 22,1"), _quoted("Leader.", "Leader")
    padding = dataclasses.replace(padding, quotes=(Evidence(2, 0, 6, "Leader"),), citations=(2,))
    unverified = Sentence("Forse.", (), 0.2, False)
    checked = Checked((answer, padding, unverified), (
        Citation(1, chunk, "AWS 22,1", 0, 8, answer.quotes), Citation(2, chunk, "Leader", 0, 6, padding.quotes)))
    kept = focus(checked, [0.8, 0.5, 0.0], max_gap=0.2)
    assert kept.sentences == (answer, unverified)  # the unverified one stays, flagged
    assert [c.marker for c in kept.citations] == [1]
    assert focus(checked, [0.8, 0.65, 0.0], max_gap=0.2).sentences == checked.sentences
    assert focus(checked, [0.8, 0.5, 0.0], max_gap=0).sentences == checked.sentences
