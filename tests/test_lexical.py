"""Analyzer (elisions, possessives, accents, numbers, stopwords), the corpus `Lexicon` that
treats each word by its own language, and the BM25 index, on mixed-language fixtures."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag import keyword_index, lexical
from rag.keyword_index import KeywordIndex, LanguageStats, idf
from rag.lexical import (Lexicon, analyze, analyze_query, fold_accents,
                         question_language, words)


@pytest.mark.parametrize("text, expected", [
    ("dell'economia", ["economia"]),
    ("l’azienda", ["azienda"]),
    ("Un'auto nell'anno, c'è quest'anno", ["auto", "anno", "è", "anno"]),
    ("all'Italia e sull'Europa", ["italia", "e", "europa"]),
    ("Musk's company and Biden’s plan", ["musk", "company", "and", "biden", "plan"]),
    ("Il PIL è cresciuto del 22,1% nel 2022", ["il", "pil", "è", "cresciuto", "del", "22,1",
                                               "nel", "2022"]),
    ("2.9 million, 250.000 euro", ["2.9", "million", "250.000", "euro"]),
])
def test_words(text, expected):
    assert words(text) == expected


def test_italian_analysis_stems_folds_and_drops_stopwords():
    tokens = analyze("Perché la città dell'economia è cresciuta del 22,1%?", "it")
    assert "22,1" in tokens
    assert not {"perche", "perché", "la", "del", "e", "è"} & set(tokens)
    assert all(t == fold_accents(t) for t in tokens)
    # the same word with or without its accent gives the same token
    assert analyze("città", "it") == analyze("citta", "it")
    assert analyze("perche quale", "it") == []  # unaccented stopwords too
    # inflections share a stem
    assert len(set(analyze("economia economiche economico economici", "it"))) == 1


def test_english_analysis():
    assert analyze("What did Musk's companies report?", "en") == ["musk", "compani", "report"]


def test_corpus_free_query_analysis_is_the_union_of_languages():
    tokens = analyze_query("Quali aziende hanno investito?", ["it", "en"])
    assert set(analyze("Quali aziende hanno investito?", "it")) <= set(tokens)
    assert analyze_query("x", []) == analyze("x", "en")


# --------------------------------------------------------------------------- fixtures
# A mostly Italian corpus of course pages (issue 24): three pages are detected as English
# because they quote English programme names, yet they are written in Italian.
COURSES_IT = [
    "Il corso di laurea triennale in Ingegneria edile, innovazione e recupero del costruito "
    "forma tecnici che trovano sbocchi occupazionali nelle imprese di costruzione, negli "
    "studi di progettazione e nella pubblica amministrazione.",
    "Il corso di laurea in Economia aziendale prepara laureati che lavorano nelle banche, "
    "nelle imprese e nella consulenza. Gli sbocchi sono ampi.",
    "Il corso di laurea magistrale in Ingegneria civile approfondisce le strutture, la "
    "geotecnica e l'idraulica.",
    "Il corso di laurea in Lettere moderne offre una formazione umanistica. I laureati "
    "insegnano nelle scuole o lavorano nell'editoria.",
    "La segreteria studenti del corso di laurea è aperta il lunedì e il giovedì. Le "
    "iscrizioni si chiudono a settembre.",
    "Il corso di laurea in Scienze biologiche forma biologi che lavorano nei laboratori di "
    "analisi e nella ricerca.",
]
COURSES_EN_LABELLED = [
    "Laurea magistrale in MEDITERRANEAN FOOD SCIENCE AND TECHNOLOGY. Il corso di laurea è "
    "tenuto in lingua inglese presso il Dipartimento di Agraria.",
    "Laurea magistrale in TRANSNATIONAL GERMAN STUDIES. Il corso di laurea, tenuto in "
    "inglese e tedesco, è il primo di questo tipo.",
    "Laurea magistrale in SPATIAL PLANNING. Corso di laurea internazionale in lingua "
    "inglese, con la città di Bari come laboratorio.",
]
COURSE_QUESTION = ("Quali sono gli sbocchi occupazionali che il corso di laurea triennale in "
                   "ingegneria edile, innovazione e recupero del costruito offre?")

# A mostly English news corpus with two Italian articles that quote English titles.
NEWS_EN = [
    "The Department of Energy announced a $2 billion loan for a new battery plant in "
    "Michigan on Tuesday.",
    "Wheat prices rose for a third week as exports from Ukraine stalled.",
    "The Federal Reserve raised interest rates by three quarters of a point.",
    "Apple announced a new iPhone with a faster chip and a better camera.",
]
NEWS_IT_QUOTING = [
    "La band The Rolling Stones ha annunciato il tour: what a night, dicono i fan, e la "
    "canzone Start Me Up of course.",
    "Il film The Lord of the Rings torna al cinema: la saga della Terra di Mezzo è di nuovo "
    "in sala.",
]


def _courses() -> KeywordIndex:
    texts = COURSES_IT + COURSES_EN_LABELLED
    return KeywordIndex.build(texts, ["it"] * len(COURSES_IT) + ["en"] * len(COURSES_EN_LABELLED))


# --------------------------------------------------------------------------- ranking

def test_an_italian_question_does_not_rank_pages_labelled_english_by_its_function_words():
    scores = _courses().scores(COURSE_QUESTION)
    italian, english = scores[:len(COURSES_IT)], scores[len(COURSES_IT):]
    assert int(np.argmax(scores)) == 0
    # the pages that share a content word with the question (ingegneria, sbocchi, offre)
    # rank above every page that shares only "corso di laurea" and function words
    sharing = italian[[1, 2, 3]]
    assert sharing.min() > english.max()


def test_an_english_question_does_not_match_italian_articles_by_its_function_words():
    texts = NEWS_EN + NEWS_IT_QUOTING
    index = KeywordIndex.build(texts, ["en"] * len(NEWS_EN) + ["it"] * len(NEWS_IT_QUOTING))
    scores = index.scores("What did the Department of Energy announce about the new "
                          "battery plant?")
    assert int(np.argmax(scores)) == 0
    assert scores[3] > 0  # "announced a new": a weaker but real match
    assert not scores[len(NEWS_EN):].any()  # "what", "the", "of" are no keywords


def test_a_passage_scores_the_same_whatever_its_language_label():
    """One word, one token, one document frequency: the label of a page quoting English
    names does not turn its Italian words into rare terms."""
    texts = COURSES_IT + [COURSES_IT[2]]
    index = KeywordIndex.build(texts, ["it"] * len(COURSES_IT) + ["en"])
    scores = index.scores("Quali corsi di ingegneria civile approfondiscono le strutture?")
    assert scores[-1] == pytest.approx(scores[2])
    assert scores[2] == scores.max()


def test_each_question_word_counts_once():
    index = _courses()
    tokens = index.query_tokens("ingegneria edile")
    assert len(tokens) == 2  # today's per-language union gave ingegneria + ingegner
    assert index.query_tokens("Ingegneria INGEGNERIA ingegneria") == tokens[:1]


def test_an_english_question_finds_an_italian_page_quoting_english_names():
    index = KeywordIndex.build(NEWS_EN + COURSES_IT + COURSES_EN_LABELLED[:1],
                               ["en"] * len(NEWS_EN) + ["it"] * (len(COURSES_IT) + 1))
    scores = index.scores("Which master's degree teaches Mediterranean food science and "
                          "technology?")
    assert int(np.argmax(scores)) == len(NEWS_EN) + len(COURSES_IT)


def test_an_italian_question_in_a_mostly_english_corpus_keeps_italian_stemming():
    italian = ["La crisi petrolifera iniziò nell'ottobre 1973, quando i paesi produttori "
               "aumentarono i prezzi del greggio.",
               "Le economie europee rallentarono dopo la crisi."]
    english = NEWS_EN + ["Oil prices fell as the economic crisis deepened in Europe.",
                         "The crisis of the regional banks started in March."]
    index = KeywordIndex.build(english + italian, ["en"] * len(english) + ["it"] * 2)
    scores = index.scores("Quando sono iniziate le crisi petrolifere?")
    assert int(np.argmax(scores)) == len(english)  # iniziate ~ iniziò, petrolifere ~ -a
    assert index.query_tokens("petrolifere") == index.lexicon.passage("petrolifera")


ISOLATION_IT = ["Gli astronauti dell'Apollo rimasero in isolamento.",
                "I medici rimasero in isolamento per tre settimane.",
                "Il cantiere della stazione resterà chiuso per due settimane.",
                "Le piogge sono durate settimane in tutta la regione.",
                "Il festival del cinema dura tre settimane ogni estate."]
APOLLO_EN = ["The Apollo theater in Harlem reopened on Friday.",
             "Apollo Global Management bought a stake in the airline.",
             "Shares of Apollo rose after the earnings call.",
             "Apollo said the fund raised four billion dollars.",
             "An Apollo executive joined the board of the bank.",
             "The Apollo deal closed in March, the company said."]
ISOLATION_QUESTION = "Chi rimase in isolamento per settimane dopo l'Apollo?"


def test_a_name_common_in_the_other_language_keeps_its_weight_in_the_question_language():
    """"Apollo" is rare among the Italian passages and common in the English news: weighed
    over all passages it counted less than "settimane", and the Italian passage that
    shares "isolamento settimane" ranked above the one about the Apollo astronauts."""
    index = KeywordIndex.build(ISOLATION_IT + APOLLO_EN,
                               ["it"] * len(ISOLATION_IT) + ["en"] * len(APOLLO_EN))
    scores = index.scores(ISOLATION_QUESTION)
    assert int(np.argmax(scores)) == 0
    alone = KeywordIndex.build(ISOLATION_IT, ["it"] * len(ISOLATION_IT))
    # the Italian passages rank as in an index of them alone (only the average passage
    # length differs)
    italian = scores[:len(ISOLATION_IT)]
    assert np.argsort(-italian).tolist() == np.argsort(-alone.scores(ISOLATION_QUESTION)).tolist()


def test_language_stats_weigh_a_token_by_its_rarity_in_one_language():
    stats = LanguageStats.count([["apollo", "isol"], ["isol"], ["apollo"], ["apollo"]],
                                ["it", "it", "en", "en"], {"apollo": 0, "isol": 1})
    assert stats.langs == ("en", "it") and stats.passages.tolist() == [2, 2]
    weights = stats.weights("it", [0, 1])
    assert weights == pytest.approx([idf(2, 1) / idf(4, 3), idf(2, 2) / idf(4, 2)])
    assert weights[0] > 1  # apollo: rarer among the Italian passages than among all
    # no language, a language no passage is in, one language: the corpus IDF stands
    assert stats.weights("", [0]) is None and stats.weights("de", [0]) is None
    assert LanguageStats.count([["isol"]], ["it"], {"isol": 0}).weights("it", [0]) is None


# --------------------------------------------------------------------------- lexicon

def test_each_word_takes_the_language_that_uses_it_most():
    passages = [words(t) for t in COURSES_IT + COURSES_EN_LABELLED]
    lexicon = Lexicon.of(passages, ["it"] * len(COURSES_IT) + ["en"] * 3)
    assert lexicon.langs == ("it", "en")
    assert lexicon.word_langs["di"] == "it" and lexicon.word_langs["corso"] == "it"
    assert lexicon.word_langs["lunedi"] == "it"  # keys are accent-folded (lunedì)
    assert lexicon.word_langs["citta"] == "en"  # only a page labelled English uses it
    # so an Italian function word is dropped in a page labelled English too
    assert "di" not in lexicon.passage(COURSES_EN_LABELLED[0])
    assert lexicon.passage("corso") == analyze("corso", "it")
    # passages of an unknown language do not vote
    assert Lexicon.of([["the", "corso"], ["corso"]], ["", "it"]).word_langs["the"] == "it"
    assert Lexicon.of([], []).langs == (lexical.DEFAULT_LANG,)


def test_question_language_is_read_from_its_function_words():
    assert question_language(words("Quali sono gli sbocchi di Spatial Planning?")) == "it"
    assert question_language(words("What are the prospects of a laurea in Bari?")) == "en"
    assert question_language(words("Spatial Planning Bari")) == ""


def test_unknown_question_words_are_stemmed_in_the_question_language():
    lexicon = Lexicon.of([words("Le economie europee crescono.")], ["it"])
    assert lexicon.query("economiche") == analyze("economia", "it")
    # a question's function words never count, even where the corpus uses them as content
    lexicon = Lexicon.of([words("what a night"), words("a night to remember")], ["it", "it"])
    assert lexicon.query("What a night!") == ["night"]
    assert lexicon.query("zzz", vocabulary={"other"}) == []


def test_lexicon_json_round_trip():
    lexicon = Lexicon.of([words("La città di Bari"), words("The city of Bari")], ["it", "en"])
    again = Lexicon.from_json(json.loads(json.dumps(lexicon.to_json())))
    assert again == lexicon


# --------------------------------------------------------------------------- index

def test_keyword_index_ranks_matching_passages():
    texts = ["L'azienda ha registrato ricavi per 22,1 miliardi.",
             "La città di Bari ha riaperto il porto.",
             "Tesla enters the data center business."]
    index = KeywordIndex.build(texts, ["it", "it", "en"])
    scores = index.scores("Quanti ricavi ha registrato l'azienda? 22,1")
    assert int(np.argmax(scores)) == 0
    assert index.scores("porto di Bari").argmax() == 1
    assert not index.scores("zzzz").any()
    assert KeywordIndex.build([], []).scores("x").shape == (0,)


TEMPLATED = [f"Anno Accademico 2024/2025\nCorso di laurea in {name}.\n{body}"
             for name, body in [("Fisica", "Si studiano meccanica e termodinamica."),
                                ("Chimica", "Si studiano chimica organica e analitica."),
                                ("Storia", "Si studiano storia antica e medievale.")]]


def test_ignored_lines_carry_no_keywords():
    texts = TEMPLATED + ["Il calendario dell'anno accademico inizia a ottobre."]
    index = KeywordIndex.build(texts, ["it"] * 4, ignore_lines={"anno accademico 2024/2025"})
    scores = index.scores("Quando inizia l'anno accademico?")
    assert int(np.argmax(scores)) == 3 and not scores[:3].any()
    assert index.scores("fisica").argmax() == 0
    plain = KeywordIndex.build(texts, ["it"] * 4)
    assert plain.scores("Quando inizia l'anno accademico?")[:3].all()


def test_save_and_load_round_trip(tmp_path):
    index = KeywordIndex.build(TEMPLATED + ["Wheat prices rose."], ["it"] * 3 + ["en"],
                               ignore_lines={"Anno Accademico 2024/2025"})
    index.save(tmp_path / "keyword")
    loaded = KeywordIndex.load(tmp_path / "keyword")
    assert loaded.langs == ("en", "it")
    assert loaded.ignore_lines == {"anno accademico 2024/2025"}
    assert loaded.lexicon == index.lexicon
    for query in ("wheat", "chimica organica", "anno accademico"):
        np.testing.assert_allclose(loaded.scores(query), index.scores(query))


def test_an_index_from_an_older_analyzer_is_rebuilt_from_its_chunks(tmp_path, monkeypatch):
    gen = tmp_path / "gen-1"
    texts = TEMPLATED + ["Musk's companies reported record revenue."]
    KeywordIndex.build(texts, ["it"] * 3 + ["en"],
                       ignore_lines={"anno accademico 2024/2025"}).save(gen / "keyword")
    with open(gen / "chunks.jsonl", "w", encoding="utf-8") as handle:
        for n, text in enumerate(texts):
            handle.write(json.dumps({"id": f"a:{n}", "text": text,
                                     "lang": "en" if n == 3 else "it"}) + "\n")
    monkeypatch.setattr(keyword_index, "ANALYZER_VERSION", lexical.ANALYZER_VERSION + 1)
    reopened = KeywordIndex.load(gen / "keyword")
    assert reopened.scores("musk")[3] > 0
    assert not reopened.scores("anno accademico").any()  # its ignored lines are kept
    (gen / "chunks.jsonl").rename(gen / "moved.jsonl")
    with pytest.raises(ValueError, match="analyzer version"):
        KeywordIndex.load(gen / "keyword")
