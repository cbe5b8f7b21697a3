import doctest

import rag.names
from rag.names import names, question_names, speaks_of, subject_names


def test_the_module_examples_hold():
    assert doctest.testmod(rag.names).failed == 0


def test_a_question_s_names_skip_the_capitalized_first_word_and_calendar_words():
    assert question_names("Quanti abitanti ha Torino a Gennaio?") == {"torino"}
    assert question_names("Why might the Musk–Bezos rivalry grow?") == {"musk", "bezos"}
    assert question_names("quanto costa il pane?") == frozenset()
    assert question_names("A quake hit Khost this week. What was its magnitude?") == {"khost"}
    assert names("Jeff Bezos ha detto") == [("jeff", "bezos")]


def test_an_article_speaks_of_a_name_as_spelled_as_a_form_or_in_another_language():
    italian = "Torino e Firenze hanno accolto turisti francesi; il Reno scorre in Germania."
    assert speaks_of({"torino"}, italian)
    assert speaks_of({"francia"}, italian)          # "francesi": a form sharing "franc"
    assert speaks_of({"turin"}, italian)            # the same city in English
    assert speaks_of({"florence"}, italian)
    assert speaks_of({"germany"}, italian)
    assert speaks_of(set(), italian)                # a question naming nothing: any article


def test_an_article_on_another_place_does_not_speak_of_the_one_asked():
    newcastle = ("Newcastle upon Tyne\nLa contea di Tyne and Wear ha 1.076.000 abitanti; "
                 "la valle del Tine e Durham sono vicine, 110-120 mila abitanti.")
    assert not speaks_of({"torino"}, newcastle)     # not "Tyne", nor "Tine"
    assert not speaks_of({"milano"}, newcastle)     # not "mila"
    assert not speaks_of({"cervino"}, "L'Aare contiene le acque del Finsteraarhorn.")
    assert speaks_of({"torino", "newcastle"}, newcastle)  # one name of the question is enough
    assert not speaks_of({"australia"}, "Tesla ha sede ad Austin, in Texas.")  # 0.67, but short


def test_function_words_of_a_name_do_not_count_as_naming_it():
    named = question_names("What did The Information report about Twitter?")
    assert not speaks_of(named, "The company opened a new office in the city.")
    assert speaks_of(named, "Secondo The Information, Twitter lascia il data center.")


def test_the_phrases_a_name_may_be_start_at_capitalized_words():
    from rag.names import name_phrases
    phrases = name_phrases("Durante la guerra l'Impero ottomano si alleò con la Germania.")
    assert "Impero ottomano" in phrases and "Germania" in phrases
    assert not any(p.startswith(("l'", "guerra")) for p in phrases)


def test_names_joined_by_a_hyphen_are_each_a_name():
    assert question_names("What could make the Musk-Bezos rivalry grow?") == {"musk", "bezos"}
    assert speaks_of(question_names("Why might the Musk-Bezos rivalry grow?"),
                     "La rivalità tra Musk e Bezos potrebbe intensificarsi?")


def test_a_title_separates_two_names_and_is_neither():
    """"JetBlue CEO Robin Hayes" names JetBlue and Robin Hayes; "CEO" is neither, so "JetBlue
    Airways CEO is Robin Hayes" needs no "JetBlue Airways CEO" in the article."""
    assert names("Amazon CEO Andy Jassy said AWS grew.") == [("amazon",), ("andy", "jassy"),
                                                              ("aws",)]
    assert names("JetBlue Airways CEO is Robin Hayes.") == [("jetblue", "airways"),
                                                           ("robin", "hayes")]
    assert names("Ha parlato President Joe Biden.") == [("joe", "biden")]
    assert names("Tesla cresce.") == []  # a sentence's first word alone is no name


def test_an_acronym_is_named_by_the_same_letters_in_another_order():
    """The same body has its letters in another order in another language."""
    ecb = "The ECB cut its deposit rate; the European Central Bank meets again in December."
    assert speaks_of(subject_names("Di quanto ha tagliato i tassi la BCE?"), ecb)
    assert speaks_of(subject_names("Cosa ha deciso la NATO?"), "OTAN leaders met on Monday.")
    assert subject_names("Con chi si è alleato in WW I?") == frozenset()  # too short for a name
    assert speaks_of(subject_names("How much does bread cost in the United Kingdom?"),
                     "A white loaf in the UK costs £1.47.")  # the name's initials
    assert speaks_of(subject_names("Cosa ha detto la BCE?"),
                     "Lagarde spoke for the European Central Bank.")  # a long name's initials
    assert not speaks_of(subject_names("Cosa ha detto la BCE?"), "The BBC met the BIS.")
    assert not speaks_of(subject_names("Who is Elon Musk?"), "Michael Evans spoke.")


def test_a_close_spelling_names_a_place_only_across_languages():
    """"Regno Unito" was read as named by a Lombardy article's "Regione", which kept the
    article's sentences as evidence for "Quanto costa una pagnotta bianca nel Regno Unito?"."""
    lombardy = "Regione Lombardia: 1,2 milioni di visite in ritardo."
    assert speaks_of({"regno"}, lombardy)  # loosely, as "Turin" is "Torino"
    assert not speaks_of({"regno"}, lombardy, loosely=False)
    assert speaks_of({"lombardia"}, lombardy, loosely=False)  # as spelled
    tethys = "La Tetide, o Tethys, era un oceano del Mesozoico."
    assert speaks_of({"teethys"}, tethys, loosely=False)  # a misspelling is still a name
    assert speaks_of({"lombardi"}, lombardy, loosely=False)  # a form sharing "lomba"


def test_evidence_comes_only_from_articles_naming_the_subject_in_the_question_s_spelling():
    from rag.chunking import Chunk
    from rag.corpus import Article
    from rag.evidence import candidates
    from rag.retrieve import Hit

    text = "La Regione Lombardia assume 600 medici per ridurre le attese."
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "Liste d'attesa", "it")

    class OneArticle:
        def article(self, article_id):
            return Article("a", "Liste d'attesa", text, lang="it")

    hits = [Hit(chunk, 1, 1.0, 0.9)]
    assert candidates(hits, OneArticle(), {"regno", "unito"}, lang="it") == []
    assert candidates(hits, OneArticle(), {"regno", "unito"})  # no language: loosely
    assert candidates(hits, OneArticle(), {"region"}, lang="en")  # across languages
