"""Claims: quantities, names and speakers read for their meaning, not their spelling."""

from rag.chunking import Chunk
from rag.claims import disagreement, unsaid_words
from rag.names import names
from rag.corpus import Article
from rag.evidence import Evidence

SEED_EVIDENCE = ("Se Tesla offrisse soluzioni di archiviazione dati per altre aziende e clienti non "
                 "Tesla, aggiungerebbe un ulteriore livello alla rivalità di Musk con il fondatore "
                 "di Amazon, Jeff Bezos.")
SEED_ARTICLE = (SEED_EVIDENCE + " The Information ha riportato che Tesla ha rilevato l’affitto "
                "di un centro dati di Twitter, la società acquistata da Elon Musk, CEO di Tesla.")


def _item(text: str, title: str = "") -> Evidence:
    return Evidence(1, Chunk("a:0", "a", 0, text, 0, len(text), title, "it"), 0, len(text), text, 0.8)


def _fails(claim: str, evidence: str, article: str = "", question: str = "", title: str = "",
           lang: str = "en") -> str:
    return disagreement(claim, _item(evidence, title), Article("a", title, article or evidence),
                        question, lang)


def test_a_full_name_completes_a_surname_when_the_article_spells_it_out():
    claim = ("The rivalry between Elon Musk and Jeff Bezos might intensify if Tesla offers data "
             "storage to other companies.")
    assert _fails(claim, SEED_EVIDENCE, SEED_ARTICLE) == ""
    assert "Elon Musk" in _fails(claim, SEED_EVIDENCE)  # nowhere in the article: refused
    assert "Kimbal Musk" in _fails("Kimbal Musk and Bezos may clash.", SEED_EVIDENCE, SEED_ARTICLE)
    assert "Andy Jassy" in _fails("Andy Jassy agrees.", SEED_EVIDENCE, SEED_ARTICLE + " Andy Jassy")


def test_a_ticker_the_article_gives_a_name_and_a_company_form_are_no_claims_of_their_own():
    article = ("Tesla Inc (NASDAQ:TSLA) potrebbe presto avere un altro segmento di attività. "
               "L’annuncio di lavoro riporta la località di Austin, in Texas, dove ha sede Tesla.")
    austin = "L’annuncio di lavoro riporta la località di Austin, in Texas, dove ha sede Tesla."
    assert _fails("Tesla Inc. (NASDAQ:TSLA) ha sede ad Austin, in Texas.", austin, article,
                  lang="it") == ""
    assert "Nasdaq" in _fails("Amazon (NASDAQ:TSLA) ha sede ad Austin.", austin, article,
                              lang="it")  # the ticker is Tesla's, not Amazon's
    assert "Nasdaq" in _fails("Tesla (NASDAQ:TSLA) ha sede ad Austin.", austin, austin, lang="it")
    assert _fails("Elon Musk is the CEO of Tesla, Inc.", "Elon Musk, the CEO of Tesla, spoke.") == ""
    assert names("Shares of Tesla, Inc. and Microsoft Corp grew.") == [("tesla",), ("microsoft",)]


def test_a_title_that_asks_a_question_vouches_for_nothing():
    sentence = "L’azienda è stata leader di mercato nel cloud storage."
    claim = "The rivalry between Musk and Bezos could intensify."
    assert "Musk" in _fails(claim, sentence, title="La rivalità tra Musk e Bezos potrebbe "
                                                   "intensificarsi?")
    assert _fails(claim, sentence, title="La rivalità tra Musk e Bezos") == ""


def test_names_skip_the_first_word_unless_the_question_names_it_and_dates_are_not_names():
    assert names("The rivalry between Elon Musk and Jeff Bezos") == [("elon", "musk"),
                                                                     ("jeff", "bezos")]
    assert names("The report cites Tesla's plans and Twitter’s lease.") == [("tesla",), ("twitter",)]
    assert names("In June Tesla grew.") == [("tesla",)]
    evidence = "Al censimento del 2000, vi erano 427.652 persone residenti a Fresno."
    assert _fails("Milano ha 427.652 abitanti.", evidence, lang="it") == ""
    assert "Milano" in _fails("Milano ha 427.652 abitanti.", evidence,
                              question="Quanti abitanti ha Milano?", lang="it")


def test_a_question_name_may_be_spelled_as_the_evidence_spells_it_but_no_other():
    evidence = "Secondo l'enciclopedia di Christian Bay, la disobbedienza civile è non violenta."
    question = "Secondo l'enciclopedia di Cristian Bay, la disobbedienza civile è cosa?"
    answer = "Secondo l'enciclopedia di Cristian Bay, è non violenta."
    assert _fails(answer, evidence, question=question, lang="it") == ""
    assert _fails(answer, evidence, lang="it")  # the answer's own spelling must match
    assert _fails("Secondo Musk, cresce.", "Secondo Mask, cresce.", question="Cosa dice Musk?")


def test_a_question_name_spelled_otherwise_completes_the_articles_spelling():
    article = ("La canzone fu scritta dal chitarrista Bill Aken. Aken, adottata dall' attrice "
               "Lupe Mayorga, è cresciuta a Madera.")
    evidence = "Aken, adottata dall' attrice Lupe Mayorga, è cresciuta a Madera."
    claim = "Bill Aiken fu adottata dall'attrice Lupe Mayorga."
    question = "Chi adottò Bill Aiken?"
    assert _fails(claim, evidence, article, question=question, lang="it") == ""
    assert _fails(claim, evidence, article, lang="it")  # not the question's spelling: refused
    census = "Nel 1338 la popolazione fiorentina contava 110 mila abitanti."
    assert "Milano" in _fails("Milano aveva 110 mila abitanti.", census,
                              question="Quanti abitanti ha Milano?", lang="it")  # not "mila"
    assert _fails(claim.replace("Bill", "Tom"), evidence, article,
                  question=question.replace("Bill", "Tom"), lang="it")  # no "Tom Aken" anywhere


def test_words_are_never_moved_from_one_mouth_to_another():
    jassy = ("“La crescita di AWS si è stabilizzata,” ha detto il CEO di Amazon, Andy Jassy.")
    claim = "Andy Jassy, the CEO of Amazon, stated that Tesla's storage could intensify the rivalry."
    assert "Andy Jassy" in _fails(claim, SEED_EVIDENCE, SEED_ARTICLE + " " + jassy)
    assert _fails("Andy Jassy said AWS growth has stabilized.", jassy) == ""
    lease = ("The Information ha riportato a giugno che Tesla ha rilevato l’affitto di almeno un "
             "centro dati precedentemente affittato da Twitter.")
    assert "Electrek" in _fails("Electrek reported that Tesla took over a Twitter lease.", lease,
                                lease + " Secondo Electrek, il settore vale 250 miliardi.")
    assert _fails("The Information reported that Tesla took over a Twitter data center lease.",
                  lease) == ""
    rivalry = ("Se Tesla offrisse archiviazione dati ad altre aziende, aggiungerebbe un livello "
               "alla rivalità di Musk con il fondatore di Amazon, Jeff Bezos.")
    assert "Bezos" in _fails("Bezos said Tesla's storage could intensify the rivalry.", rivalry)
    assert "Bezos" in _fails("Secondo Bezos, la rivalità potrebbe crescere.", rivalry, lang="it")
    assert _fails("Tesla's storage could intensify the rivalry with Jeff Bezos.", rivalry) == ""


def test_a_reported_act_needs_its_subject_named_not_speaking():
    revenue = "Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di dollari."
    assert _fails("Amazon reported revenue of $22.1 billion.", revenue) == ""
    assert "Microsoft" in _fails("Microsoft reported revenue of $22.1 billion.", revenue)


def test_quantities_must_be_stated_with_their_scale():
    evidence = "Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS."
    assert _fails("AWS revenue was $22.1 billion.", evidence) == ""
    assert "22.1 million" in _fails("AWS revenue was $22.1 million.", evidence)
    assert "23" in _fails("AWS revenue was 23 billion dollars.", evidence)
    assert _fails("Il PNL ha ottenuto 8 seggi.", "Il PNL ha ottenuto otto seggi.", lang="it") == ""
    assert _fails("Tesla has three plants.", "Tesla ha 3 stabilimenti.") == ""


def test_a_count_of_what_the_sentence_names_is_no_new_quantity():
    evidence = "Se Tesla offrisse archiviazione dati ad altre aziende, crescerebbe la rivalità con Amazon."
    assert _fails("It could increase the competition between the two companies.", evidence) == ""
    assert _fails("La concorrenza tra le due aziende crescerebbe.", evidence, lang="it") == ""
    assert "two" in _fails("Tesla would compete with two companies.", evidence)
    assert "due" in _fails("Tesla competerebbe con due aziende.", evidence, lang="it")


def test_elided_articles_are_not_part_of_names():
    assert names("L'azienda Amazon ha registrato un fatturato, disse dell’Europa.") == [
        ("amazon",), ("europa",)]
    evidence = "Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di dollari."
    assert _fails("L'azienda Amazon ha registrato un fatturato di 22,1 miliardi di dollari.",
                  evidence, lang="it") == ""


def test_a_word_taken_from_the_question_must_be_one_the_evidence_uses():
    evidence = ("Nelle cellule mesofille, i cloroplasti sono specializzati per le reazioni di "
                "luce, quindi non hanno rubisco.")
    question = "A cosa sono specializzati i cloroplasti con guaina per guaina?"
    wrong = "I cloroplasti con guaina sono specializzati per le reazioni di luce."
    assert _fails(wrong, evidence, question=question, lang="it") == "“guaina”"
    assert disagreement(wrong, _item(evidence), None, question, "it", question_words=False) == ""
    right = "I cloroplasti delle cellule mesofille sono specializzati per le reazioni di luce."
    assert _fails(right, evidence, question=question, lang="it") == ""
    # another form of the same word is the same word ("divenne" / "diventato")
    assert _fails("Il colore è diventato dominante nella stagione 1965-66.",
                  "Fu solo nella stagione 1965-66 che il colore divenne dominante.",
                  question="In quale stagione il colore è diventato dominante?", lang="it") == ""
    # across languages the words differ anyway: meaning is the support score's
    assert _fails("Chloroplasts with a sheath are specialised for the light reactions.",
                  evidence, question="What are sheath chloroplasts specialised for?") == ""


def test_an_auxiliary_or_modal_verb_of_the_question_is_no_borrowed_word():
    """"Perché Tesla potrebbe avere bisogno di data center?": "avere" states no fact; the
    evidence conjugates it ("ha bisogno"). The question's content words still count."""
    evidence = ("In base ai resoconti, Tesla ha bisogno di più posti per ospitare i propri "
                "dati e la crescita nei data center potrebbe essere una mossa interna.")
    question = "Perché Tesla potrebbe avere bisogno di data center?"
    assert _fails("Tesla potrebbe avere bisogno di data center per ospitare i propri dati.",
                  evidence, question=question, lang="it") == ""
    assert _fails("Tesla potrebbe avere bisogno di magazzini per ospitare i propri dati.",
                  evidence, question="Perché Tesla potrebbe avere bisogno di magazzini?",
                  lang="it") == "“magazzini”"


def test_the_questions_frame_of_time_is_no_borrowed_word():
    """"This week", "recently", "soon" say when the question is asked, and "how old" what
    kind of amount it asks for, not what the evidence states: a claim may keep them. The
    question's other words still count."""
    text = "JetBlue Airways on Thursday announced it would buy Spirit Airlines."
    item = Evidence(1, Chunk("a:0", "a", 0, text, 0, len(text), "", "en"), 0, len(text), text, 0.8)
    question = "Which airline announced a deal this week to buy Spirit Airlines?"
    for claim, missing in [("JetBlue Airways announced it would buy Spirit Airlines this week.", ""),
                           ("JetBlue Airways announced a deal this week to buy Spirit Airlines.",
                            "“deal”")]:
        assert disagreement(claim, item, Article("a", "", text), question, "en") == missing
    article = "Olivia Newton-John died on Monday. She was 73."
    obituary = Evidence(1, Chunk("a:0", "a", 0, article, 0, len(article), "", "en"), 0,
                        len(article), article, 0.8)
    assert disagreement("Olivia Newton-John died on Monday, 73 years old.", obituary,
                        Article("a", "", article), "How old was Olivia Newton-John?", "en") == ""
    assert _fails("L'Unione europea richiederà presto un caricatore unico.",
                  "L'Unione europea richiederà un caricatore unico.",
                  question="Chi richiederà a breve un caricatore unico, di recente?",
                  lang="it") == ""


def test_a_name_in_another_language_passes_when_it_means_the_same():
    """An English claim over an Italian sentence: "Ottoman Empire" is the sentence's "Impero
    ottomano" when the translation test says so, "Mongols" its "mongoli" by their letters."""
    evidence = "L' Impero ottomano si alleò con la Germania; i mongoli aprirono le porte."
    pairs = {("Ottoman Empire", "Impero ottomano")}

    def translates(name, text):
        return any(name == a and b in text for a, b in pairs)

    def fails(claim, lang="en", with_translation=translates):
        return disagreement(claim, _item(evidence, ""), None, "", lang,
                            translates=with_translation)
    assert fails("The Ottoman Empire allied with Germany.") == ""
    assert "Ottoman Empire" in fails("The Ottoman Empire allied with Germany.",
                                     with_translation=None)
    assert fails("The Mongols opened the gates.") == ""
    assert "Roman Empire" in fails("The Roman Empire allied with Germany.")
    assert "Mongolesi" in fails("I Mongolesi aprirono le porte.", lang="it")  # same language: as spelled


def test_unsaid_words_are_the_claims_own_words_the_item_does_not_use():
    item = _item("Tesla attualmente domina i veicoli elettrici.")
    question = "Cosa domina attualmente Tesla?"
    assert unsaid_words("Tesla domina l’energia solare e la ricarica.", item, question,
                        "it") == ("energia", "solare", "ricarica")
    # forms of the item's words, the question's words and names are not unsaid
    assert unsaid_words("Elon Musk dice che Tesla domina il veicolo elettrico.", item,
                        "Cosa dice Tesla?", "it") == ()
    # across languages words differ anyway: nothing is counted
    assert unsaid_words("Tesla dominates solar energy.", item, question, "en") == ()


def test_what_the_source_says_is_not_known_is_not_stated_as_known():
    evidence = ("It’s not known when residents will no longer have to boil water, and that "
                "can’t be assessed until the water pressure returns to normal.")
    assert _fails("Residents will no longer have to boil water when the water pressure "
                  "returns to normal.", evidence) == "that this is known"
    assert _fails("It is not known when residents will no longer have to boil water.",
                  evidence) == ""
    assert _fails("I residenti smetteranno di bollire l'acqua quando la pressione tornerà "
                  "normale.", "Non è ancora chiaro quando i residenti smetteranno di bollire "
                  "l'acqua.", lang="it") == "that this is known"
    assert _fails("Non si sa quando i residenti smetteranno di bollire l'acqua.",
                  "Non è ancora chiaro quando i residenti smetteranno di bollire l'acqua.",
                  lang="it") == ""


def test_an_acronym_is_named_by_its_letters_in_another_order_or_by_the_long_name():
    question = "Di quanto ha tagliato i tassi la BCE?"
    claim = "La BCE ha tagliato i tassi all'1,75%."
    assert _fails(claim, "Ieri la ECB ha tagliato i tassi all'1,75%.", question=question) == ""
    assert _fails(claim, "Ieri la European Central Bank ha tagliato i tassi all'1,75%.",
                  question=question) == ""
    assert "Bce" in _fails(claim, "Ieri la Fed ha tagliato i tassi all'1,75%.", question=question)


def test_a_name_is_a_word_of_the_item_not_part_of_one():
    """"Milan" (the club) is no word of "Milano" (the city, in the headline)."""
    goal = "Al 89' Lautaro Martínez ha segnato il gol della vittoria."
    assert "Milan" in _fails("Lautaro Martínez ha segnato per il Milan.", goal,
                             title="Derby di Milano all'Inter", lang="it")
    assert _fails("Lautaro Martínez ha segnato per l'Inter.", goal,
                  title="Derby di Milano all'Inter", lang="it") == ""


def _fails_after(claim, before, sentence, lang, item_lang):
    """What ``sentence``, read after ``before`` in one article, does not state of ``claim``."""
    article = before + sentence
    item = Evidence(1, Chunk("a:0", "a", 0, article, 0, len(article), "T", item_lang),
                    len(before), len(article), sentence, 0.8)
    return disagreement(claim, item, Article("a", "T", article), "", lang)


def test_a_sentence_opening_with_a_pronoun_names_whom_the_sentence_before_names():
    said = ("Green group leader Tom Whitcombe said voters had chosen cleaner air. ")
    promised = "He promised to build 2,000 council homes by 2030."
    other = "Labour fell to 18 seats. "

    def fails(claim, before):
        return _fails_after(claim, before, promised, "it", "en")
    claim = "Tom Whitcombe ha promesso di costruire 2.000 case entro il 2030."
    assert fails(claim, said) == ""
    assert fails(claim, other) == "“Tom Whitcombe”"  # the sentence before names someone else
    assert fails(claim.replace("Tom Whitcombe", "Helen Marsh"), said) == "“Helen Marsh”"


def test_the_cost_a_question_asks_for_may_be_stated_without_its_verb():
    TITLE = "Liste d'attesa, la Regione assume 600 medici"
    plan = "Per ridurre le attese la giunta regionale ha approvato un piano da 85 milioni di euro."
    assert _fails("Il piano della Regione costa 85 milioni di euro.", plan,
                  question="Quanto costa il piano della Regione?", lang="it", title=TITLE) == ""
    assert _fails("Il piano della Regione costa 85 milioni di euro.", plan, title=TITLE,
                  question="Il piano della Regione costa troppo?", lang="it") == "“costa”"


def test_a_speaker_described_as_the_sentence_before_describes_them_is_them():
    """"«…», ha detto il ministro" gives the words of the minister whom the sentence
    before names; "il ministro Rossi" names someone else; a description the sentence before
    does not use points nowhere."""
    named = ("Il ministro delle Imprese, Paolo Bertani, ha escluso nuovi sconti sulle accise. ")
    said = "«La fiammata dei prezzi dovrebbe essere temporanea», ha detto il ministro a Milano."

    def fails(claim, before, sentence=said):
        return _fails_after(claim, before, sentence, "en", "it")
    claim = "Paolo Bertani said the surge in prices should be temporary."
    assert fails(claim, named) == ""
    assert fails(claim, named, said.replace("il ministro", "il ministro Rossi")) != ""
    assert fails(claim, "L'assessore Paolo Bertani ha escluso nuovi sconti. ") != ""
    assert fails(claim, "Il ministro Mario Draghi ha escluso nuovi sconti. ") != ""


def test_a_grave_fact_must_be_stated_by_the_sentence_not_only_by_its_headline():
    request = "Il pubblico ministero Laura Pedio aveva chiesto otto anni per Villa."
    headline = "Crac della Cooperativa Lombarda, condannati a otto anni due dirigenti"
    assert _fails("Laura Pedio è stata condannata a otto anni.", request, title=headline,
                  lang="it") == "“stata condannata”"
    assert _fails("Franco Villa è stato condannato a sei anni.",
                  "Il tribunale ha condannato Franco Villa a sei anni.", title=headline,
                  lang="it") == ""


def test_a_headline_name_does_not_take_the_place_of_the_subject_the_sentence_names():
    airport = ("Fondato nel 1946, l' aeroporto Sierra Sky Park è una comunità residenziale di "
               "aeroporti.")
    question = "Quando si è formato l' aeroporto di Sierra Sky Park?"
    title = "Fresno (California)"
    assert _fails("Fresno (California) è stato fondato nel 1946.", airport, question=question,
                  title=title, lang="it") == "“California” of “Sierra Sky Park”"
    # the subject named, the headline's place beside it; or a question naming nothing
    assert _fails("L'aeroporto Sierra Sky Park di Fresno (California) è stato fondato nel 1946.",
                  airport, question=question, title=title, lang="it") == ""
    assert _fails("Fresno (California) è stato fondato nel 1946.", airport, title=title,
                  question="Quando è stato fondato l'aeroporto?", lang="it") == ""
    # the headline's name is the question's subject: the sentence speaks of it unnamed
    tesla = "L'azienda ha pubblicato un annuncio per un ingegnere dei data center."
    assert _fails("Tesla ha pubblicato un annuncio per un ingegnere.", tesla, lang="it",
                  question="Cosa ha pubblicato Tesla?", title="Tesla entra nei data center") == ""
