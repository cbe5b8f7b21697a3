"""Grounding: each draft sentence judged against the evidence sentence(s) it cites."""

import hashlib

import numpy as np

from rag.chunking import Chunk
from rag.corpus import Article
from rag.embed import CachedEmbedder
from rag.evidence import Evidence, EvidenceSet
from rag.grounding import judge
from rag.statements import (markers, statements, strip_markers, stutter, with_markers,
                            without_meta_lead)
from tests.fakes import FakeEmbedder

ARTICLE = ("Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di dollari "
           "per AWS. La crescita si è stabilizzata, ha detto il CEO Andy Jassy.\n\n"
           "Il venditore allo scoperto Jim Chanos ha scommesso contro i data center nel 2022.")
SENTENCES = ["Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di "
             "dollari per AWS.", "La crescita si è stabilizzata, ha detto il CEO Andy Jassy.",
             "Il venditore allo scoperto Jim Chanos ha scommesso contro i data center nel 2022."]


def _evidence(title: str = "T", text: str = ARTICLE, sentences=SENTENCES, scores=None):
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), title, "it")
    items = []
    for n, sentence in enumerate(sentences, start=1):
        start = text.index(sentence)
        score = scores[n - 1] if scores else 0.8
        items.append(Evidence(n, chunk, start, start + len(sentence), sentence, score))
    article = Article("a", title, text, lang="it")
    return EvidenceSet(tuple(items)), {"a": article}


def _judge(draft, question="", evidence=None, max_gap=0.0, asked_kind=True, **kw):
    evidence, articles = evidence or _evidence(**kw)
    return judge(draft, evidence, FakeEmbedder(), articles, question=question, lang="it",
                 min_support=0.5, max_gap=max_gap, asked_kind=asked_kind)


def test_markers_and_stripping():
    assert markers("A [1]. B [2, 3][4].") == [1, 2, 3, 4]
    assert strip_markers("A fact [1].") == "A fact."
    assert with_markers("A fact.", [2, 1]) == "A fact [2][1]."


def test_a_supported_claim_keeps_the_sentence_it_cites():
    (claim,) = _judge("Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1].").claims
    assert claim.state == "verified" and claim.cited == (1,)


def test_two_claims_each_rest_on_their_own_sentence():
    first, second = _judge("Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1]. "
                           "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [1].").claims
    assert first.cited == (1,) and second.cited == (2,)  # the second is re-attached


def test_a_marker_pointing_at_no_evidence_is_dropped_and_the_claim_reattached():
    (claim,) = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [7].").claims
    assert claim.state == "verified" and claim.cited == (3,)


def test_an_unsupported_claim_is_flagged_with_a_reason_and_cites_nothing_verified():
    (claim,) = _judge("La capitale dell'Australia è Canberra [1].").claims
    assert claim.state == "unverified" and claim.reason


def test_a_wrong_scale_or_speaker_is_named_in_the_reason():
    wrong_scale, wrong_speaker = _judge(
        "Amazon ha registrato un fatturato di 22,1 milioni di dollari per AWS [1]. "
        "La crescita si è stabilizzata, ha detto Jim Chanos [2].").claims
    assert wrong_scale.state == "unverified" and "22,1 milioni" in wrong_scale.reason
    assert wrong_speaker.state == "unverified" and "Jim Chanos" in wrong_speaker.reason


def test_asked_for_someones_words_a_claim_resting_on_no_sentence_of_theirs_is_left_out():
    (claim,) = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [3].",
                      question="Cosa ha detto Jim Chanos?").claims
    assert claim.state == "left_out" and "Jim Chanos" in claim.reason
    (claim,) = _judge("La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2].",
                      question="Cosa ha detto Andy Jassy?").claims
    assert claim.state == "verified" and claim.cited == (2,)


def test_a_claim_resting_only_on_evidence_below_min_evidence_is_padding():
    """"Chi è il CEO di Microsoft?" was answered, verified, with a true sentence scoring
    0.42 that names Microsoft among Tesla's rivals: true, but nothing that weak answers."""
    evidence, articles = _evidence(scores=[0.55, 0.42, 0.40])
    draft = "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2]."
    for min_evidence, state in ((0.45, "left_out"), (0.0, "verified")):
        (claim,) = judge(draft, evidence, FakeEmbedder(), articles, question="", lang="it",
                         min_support=0.5, max_gap=0.2, min_evidence=min_evidence).claims
        assert claim.state == state, (min_evidence, claim)


def test_a_sentence_going_on_with_an_answering_one_answers_too():
    """"He promised to build 2,000 homes" scores low for "What did Tom Whitcombe promise?"
    (it does not name him), but goes on with the sentence that does, which answers."""
    text = ("Green group leader Tom Whitcombe said voters had chosen cleaner air. "
            "He promised to build 2,000 council homes by 2030.\n\nLabour fell to 18 seats.")
    sentences = ["Green group leader Tom Whitcombe said voters had chosen cleaner air.",
                 "He promised to build 2,000 council homes by 2030.", "Labour fell to 18 seats."]
    draft = "Tom Whitcombe promised to build 2,000 council homes by 2030 [2]."
    for scores, state in (([0.55, 0.35, 0.30], "verified"), ([0.30, 0.35, 0.55], "left_out")):
        evidence, articles = _evidence(text=text, sentences=sentences, scores=scores)
        (claim,) = judge(draft, evidence, FakeEmbedder(), articles, question="", lang="en",
                         min_support=0.5, max_gap=0.2, min_evidence=0.45).claims
        assert claim.state == state, (scores, claim)


def test_a_short_answer_is_supported_together_with_its_question():
    question = "Quando Jim Chanos ha scommesso contro i data center?"
    alone = _judge("Nel 2022 [3].").claims[0]
    asked = _judge("Nel 2022 [3].", question).claims[0]
    assert alone.state == "unverified"
    assert asked.state == "verified" and asked.cited == (3,) and asked.support > alone.support


def test_the_question_cannot_vouch_for_a_wrong_figure_or_name():
    question = "Quando Jim Chanos ha scommesso contro i data center?"
    for draft in ("Nel 2021 [3].", "Nel 2022, con Andy Jassy [3]."):
        assert _judge(draft, question).claims[0].state == "unverified", draft


def test_a_name_or_figure_of_the_article_title_holds_for_its_evidence():
    text = "Lo stadio è costato 1,2 miliardi di dollari."
    draft = "Lo stadio del Super Bowl 50 è costato 1,2 miliardi di dollari [1]."
    for title, state in (("Super Bowl 50", "verified"), ("", "unverified"),
                         ("Super Bowl 49", "unverified")):
        claims = _judge(draft, title=title, text=text, sentences=[text]).claims
        assert claims[0].state == state, title


def test_a_sentence_of_bare_markers_or_a_repeat_is_judged_once():
    fact = "Amazon ha registrato 22,1 miliardi per AWS [1]."
    assert statements(f"{fact} [1], [1] {fact} Amazon ha registrato 22,1 miliardi per AWS.",
                      "it") == [fact]


def test_padding_is_left_out_with_its_reason():
    answer, padding = _judge("Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1]. "
                             "Jim Chanos ha scommesso contro i data center nel 2022 [3].",
                             max_gap=0.2, scores=[0.9, 0.6, 0.5]).claims
    assert answer.state == "verified"
    assert padding.state == "left_out" and "does not answer" in padding.reason
    kept = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [3].",
                  max_gap=0.2, scores=[0.9, 0.6, 0.75]).claims
    assert kept[0].state == "verified"


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


def test_markers_that_open_a_sentence_belong_to_the_one_before():
    draft = ("Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS. [1] "
             "La crescita si è stabilizzata, ha detto il CEO Andy Jassy. [2]")
    assert statements(draft, "it") == [
        "Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1].",
        "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2]."]
    first, second = _judge(draft).claims
    assert first.cited == (1,) and second.cited == (2,)


def test_lines_echoing_the_prompt_format_are_no_statements():
    draft = ("Answer: Amazon ha registrato 22,1 miliardi per AWS [1].\n"
             "Article: Amazon e Tesla · 2024-05-02\n"
             "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2].\n"
             "Answer in Italian.\n"
             "Question: Chi è il CEO di Tesla?\nAnswer: Elon Musk [3].")
    assert statements(draft, "it") == [
        "Amazon ha registrato 22,1 miliardi per AWS [1].",
        "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2]."]


def test_an_opening_that_speaks_of_the_evidence_is_no_part_of_a_statement():
    assert (statements("Musk sold [1]. According to the evidence, in 2025 Bezos bought [2].", "en")
            == ["Musk sold [1].", "In 2025 Bezos bought [2]."])
    assert (without_meta_lead("The article states that the doctors will strike [1].")
            == "The doctors will strike [1].")
    assert without_meta_lead("Secondo l'articolo, Musk ha detto X.") == "Musk ha detto X."
    assert without_meta_lead("L'articolo afferma che Tesla vende.") == "Tesla vende."
    for attributed in ("According to sources, Musk will sell.", "According to Eurostat, it fell.",
                       "Secondo Electrek, Tesla assume."):
        assert without_meta_lead(attributed) == attributed


def test_words_said_twice_running_are_a_stutter_unless_the_source_repeats_them():
    assert stutter("Non è mai stata stata in grado di vederli.") == "stata stata"
    assert (stutter("Scioperano perché i prezzi sono saliti e i prezzi sono saliti.")
            == "i prezzi sono saliti e i prezzi sono saliti")
    assert stutter("Il fiume, detto Amazônica o Amazônica, nasce in Perù.",
                   source="Amazônica o Amazônica; Spagnolo: Selva") == ""
    for fluent in ("He said that that was all.", "Il 10 10 è un modello.", "A di Roma e Milano.",
                   "Musk said Tesla would sell storage."):
        assert stutter(fluent) == "", fluent


def test_a_claim_that_stutters_is_not_verified():
    (claim,) = _judge("Jim Chanos ha scommesso scommesso contro i data center nel 2022 [3].").claims
    assert claim.state == "unverified" and "“scommesso scommesso”" in claim.reason
    (fluent,) = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [3].").claims
    assert fluent.state == "verified"


def test_a_sentence_saying_the_evidence_does_not_tell_is_not_an_answer():
    for draft in ("The evidence does not mention who directed Casablanca [1].",
                  "Gli articoli non forniscono informazioni sul regista [1].",
                  "There is no information about the director [2].",
                  "Gli articoli non contengono la risposta a questa domanda [1].",
                  "L'articolo non menziona il regista [2]."):
        (claim,) = _judge(draft).claims
        assert claim.state == "left_out" and "do not tell" in claim.reason, draft
    (fact,) = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [3].").claims
    assert fact.state == "verified"


def test_a_claim_that_only_repeats_the_question_is_not_an_answer():
    question = "Quale venditore ha scommesso contro i data center nel 2022?"
    (echo,) = _judge("Il venditore ha scommesso contro i data center nel 2022 [3].", question).claims
    assert echo.state == "left_out" and "repeats the question" in echo.reason
    (answer,) = _judge("Jim Chanos ha scommesso contro i data center nel 2022 [3].",
                       question).claims
    assert answer.state == "verified"


def test_the_kind_of_thing_asked_for_standing_for_its_name_is_not_an_answer():
    (claim,) = _judge("La società ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1].",
                      question="Quale società ha registrato un fatturato di 22,1 miliardi?").claims
    assert claim.state == "left_out" and claim.reason == "it does not say which società"


def test_a_how_much_question_is_not_answered_by_true_sentences_that_give_no_amount():
    question = "Di quanto è cresciuto il fatturato di AWS?"
    draft = "La crescita si è stabilizzata, ha detto il CEO Andy Jassy [2]."
    (claim,) = _judge(draft, question).claims
    assert claim.state == "left_out" and claim.reason == "it does not say how many or how much"
    assert _judge(draft, question, asked_kind=False).claims[0].state == "verified"
    amount = "Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS [1]."
    assert [c.state for c in _judge(f"{amount} {draft}", question).claims] == ["verified"] * 2


def test_a_when_question_is_not_answered_by_a_sentence_that_gives_no_time():
    (claim,) = _judge("La crescita si è stabilizzata, ha detto Andy Jassy [2].",
                      "Quando si è stabilizzata la crescita di AWS?").claims
    assert claim.state == "left_out" and claim.reason == "it does not say when"


def test_a_period_after_an_abbreviation_does_not_end_a_statement():
    assert statements("Tesla cerca un Sr. Engineering Program Manager a Austin [1].", "en") == [
        "Tesla cerca un Sr. Engineering Program Manager a Austin [1]."]
    assert statements("Lavora per Acme Inc. [1] Poi se ne è andato [2].", "en") == [
        "Lavora per Acme Inc [1].", "Poi se ne è andato [2]."]


def _listing_and_lease():
    """Evidence [1]: the job listing, spotted by Electrek; [2]: The Information's report."""
    text = ("Tesla posted a job listing for a data center manager, spotted by Electrek. "
            "The Information reported that Tesla took over the lease of a data center.")
    sentences = ["Tesla posted a job listing for a data center manager, spotted by Electrek.",
                 "The Information reported that Tesla took over the lease of a data center."]
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "Tesla", "en")
    evidence = EvidenceSet(tuple(
        Evidence(n, chunk, text.index(s), text.index(s) + len(s), s, 0.8)
        for n, s in enumerate(sentences, start=1)))
    return evidence, {"a": Article("a", "Tesla", text, lang="en")}


def test_a_fact_moved_to_another_name_is_not_verified():
    evidence, articles = _listing_and_lease()

    def claim(draft):
        (judged,) = judge(draft, evidence, FakeEmbedder(), articles, question="Which outlet?",
                          lang="en", min_support=0.5, max_gap=0.0).claims
        return judged

    moved = claim("The Information spotted the job listing Tesla posted for a data center "
                  "manager [2].")
    assert moved.state == "unverified" and "Information" in moved.reason
    assert claim("Electrek spotted the job listing Tesla posted for a data center manager "
                 "[1].").state == "verified"
    assert claim("The Information reported that Tesla took over the lease of a data center "
                 "[2].").state == "verified"


def test_words_credited_to_someone_that_another_source_states_are_not_verified():
    """"The Information reported that Tesla spotted the job listing" cites The
    Information's sentence, which supports the claim as a whole for naming it; but what it
    says was reported is the listing's sentence, which credits Electrek."""
    evidence, articles = _listing_and_lease()

    def claim(draft, speakers=True):
        (judged,) = judge(draft, evidence, FakeEmbedder(), articles, lang="en",
                          question="What did The Information report?", min_support=0.3,
                          max_gap=0.0, speakers=speakers).claims
        return judged

    wrong = "The Information reported that Tesla spotted the job listing for a data center [2]."
    assert claim(wrong).state == "unverified"
    assert "Information" in claim(wrong).reason
    assert claim(wrong, speakers=False).state == "verified"  # the check is the speaker rule's
    assert claim("The Information reported that Tesla took over the lease of a data center "
                 "[2].").state == "verified"
    assert claim("Electrek spotted the job listing Tesla posted for a data center manager "
                 "[1].").state == "verified"


class _Phrasebook(FakeEmbedder):
    """Sentences all mean the same; a short phrase means what the book says it means (a
    name's translation), else something of its own."""

    BOOK = {"ottoman empire": 1, "impero ottomano": 1, "amazon jeff bezos": 2, "bezos": 2}

    def embed(self, texts, *, kind="document", titles=None, progress=False):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            key = " ".join(text.casefold().split())
            own = 3 + int(hashlib.md5(key.encode()).hexdigest(), 16) % 61
            out[i, 0 if len(key.split()) > 3 else self.BOOK.get(key, own)] = 1.0
        return out


def test_a_name_in_another_language_is_a_translation_only_of_a_phrase_not_its_own_words():
    def judged(claim, italian):
        evidence, articles = _evidence(text=italian, sentences=[italian])
        (verdict,) = judge(claim, evidence, _Phrasebook(), articles, question="", lang="en",
                           min_support=0.5, max_gap=0.0).claims
        return verdict

    assert judged("The Ottoman Empire allied with Germany [1].",
                  "L'Impero ottomano si alleò con la Germania.").state == "verified"
    added = judged("Jim Chanos opposed Amazon's Jeff Bezos [1].",
                   "Jim Chanos si è opposto a Bezos.")
    assert added.state == "unverified" and "Amazon" in added.reason


def test_a_claim_citing_two_sentences_is_checked_against_both_together():
    """"…[1] … [3]": the figures of two cited sentences, each stated by one of them, verify
    a claim joining them; a figure neither states, or words said, still do not."""
    joined = ("Amazon ha registrato 22,1 miliardi di dollari per AWS [1] e Jim Chanos ha "
              "scommesso contro i data center nel 2022 [3].")
    (claim,) = _judge(joined).claims
    assert claim.state == "verified" and claim.cited == (1, 3)
    (wrong,) = _judge(joined.replace("2022", "2023")).claims
    assert wrong.state == "unverified"
    (alone,) = _judge(joined.replace(" [1]", "")).claims  # one citation: that sentence alone
    assert alone.state == "unverified"
    said = ("Amazon ha registrato 22,1 miliardi di dollari per AWS [1], ha detto Jim Chanos "
            "nel 2022 [3].")
    assert _judge(said).claims[0].state == "unverified"


def test_a_claim_restating_the_headline_is_no_answer():
    """The evidence is embedded under its headline: a draft copying the headline ("Jackson,
    Mississippi, water crisis: Repairs have begun") reads as supported by any of it."""
    from rag.grounding import restates_headline
    text = ("Jackson Mayor Chokwe Antar Lumumba said the city made some positive gains.\n\n"
            "President Joe Biden approved an emergency declaration for Mississippi.")
    sentences = text.split("\n\n")
    evidence, _ = _evidence(title="Jackson, Mississippi, water crisis: Repairs have begun",
                            text=text, sentences=sentences)
    question = "Who is the mayor of Jackson?"
    assert restates_headline("Jackson, Mississippi, water crisis: Repairs have begun.",
                             evidence, question, "en") == "it restates the headline"
    assert restates_headline("The mayor of Jackson is Chokwe Antar Lumumba.", evidence,
                             question, "en") == ""
    assert restates_headline("Mississippi got an emergency declaration.", evidence,
                             question, "en") == ""  # not all the headline's words
    # one word of the headline that no evidence sentence holds ("Ugonotti [1]" once answered
    # "Quale pilota tedesco … era di origine ugonotta?"); one that a sentence holds is stated,
    # stemmed in the claim's language too (this evidence is marked Italian, the claim English)
    assert restates_headline("Repairs.", evidence, question, "en") == "it restates the headline"
    assert restates_headline("Mississippi.", evidence, question, "en") == ""
    assert restates_headline("Lumumba.", evidence, question, "en") == ""


def test_a_claim_moves_to_an_uncited_item_only_in_that_items_words():
    text = ("Tesla attualmente domina i veicoli elettrici. Tesla, nota per l’energia solare e "
            "le infrastrutture di ricarica, potrebbe espandersi nei data center.")
    sentences = ["Tesla attualmente domina i veicoli elettrici.", "Tesla, nota per l’energia "
                 "solare e le infrastrutture di ricarica, potrebbe espandersi nei data center."]
    question = "Cosa domina attualmente Tesla?"
    # the model gave the solar sentence the question's verb: that sentence does not say
    # "domina", and the one that does is about electric vehicles
    (claim,) = _judge("Tesla domina attualmente l’energia solare e le infrastrutture di "
                      "ricarica [2].", question, text=text, sentences=sentences).claims
    assert claim.state == "unverified" and "“domina”" in claim.reason
    assert claim.cited == (2,)
    (claim,) = _judge("Tesla domina attualmente i veicoli elettrici [2].", question, text=text,
                      sentences=sentences).claims
    assert claim.state == "verified" and claim.cited == (1,)



def test_a_claim_citing_only_a_sentence_about_another_year_does_not_answer():
    text = "Last year more than 11,000 hectares were burnt in Sardinia."
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "Wildfire", "en", date="2026-07-22")
    evidence = EvidenceSet((Evidence(1, chunk, 0, len(text), text, 0.8),))
    articles = {"a": Article("a", "Wildfire", text, lang="en", date="2026-07-22")}

    def states(question):
        verdict = judge(f"{text[:-1]} [1].", evidence, FakeEmbedder(), articles,
                        question=question, lang="en", min_support=0.5, max_gap=0.0)
        return [(c.state, c.reason) for c in verdict.claims]

    assert states("How many hectares burnt in Sardinia in 2021?") == [
        ("left_out", "it is about another year than the one asked")]
    assert states("How many hectares burnt in Sardinia in 2025?")[0][0] == "verified"
    assert states("How many hectares burnt in Sardinia?")[0][0] == "verified"
