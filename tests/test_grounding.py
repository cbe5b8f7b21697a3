from rag.chunking import Chunk
from rag.grounding import (agrees, names, check, markers, parse_citations, quantities, strip_markers,
                           with_markers)
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


def test_possessives_do_not_hide_names():
    assert names("The report cites Tesla's plans and Twitter’s lease.") == {"tesla", "twitter"}
    assert agrees("Tesla took over Twitter's lease.", "Tesla ha rilevato l’affitto di Twitter.")
