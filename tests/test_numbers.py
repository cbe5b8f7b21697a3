"""Quantities read for their meaning: the same value however a language writes it."""
from __future__ import annotations

import pytest

from rag.numbers import Quantity, mentions, quantities, unsupported


def number(value: float) -> Quantity:
    return Quantity("number", value)


def percent(value: float) -> Quantity:
    return Quantity("percent", value)


def date(year: int = 0, month: int = 0, day: int = 0) -> Quantity:
    return Quantity("date", 0.0, year, month, day)


@pytest.mark.parametrize("text, lang", [
    ("22,1 miliardi di dollari", "it"), ("$22.1 billion", "en"), ("22.1bn", "en"),
    ("$22.1B", "en"), ("22,1 Milliarden Dollar", "de"), ("22,1 milliards de dollars", "fr"),
    ("22,1 mil millones de dólares", "es"), ("22.1 billion", None),
])
def test_a_scale_reads_the_same_in_every_language(text, lang):
    assert quantities(text, lang) == {number(22.1e9)}


@pytest.mark.parametrize("text, lang", [
    ("250.000", "it"), ("250,000", "en"), ("250 mila", "it"), ("250 thousand", "en"),
    ("250 000", "fr"), ("250\u202f000", "fr"), ("duecentocinquantamila", "it"),
])
def test_grouping_and_thousands(text, lang):
    assert quantities(text, lang) == {number(250_000)}


def test_the_decimal_mark_is_the_language_s():
    assert quantities("2,9", "it") == quantities("2.9", "en") == {number(2.9)}
    assert quantities("2.900", "it") == quantities("2,900", "en") == {number(2900)}
    assert quantities("2.900", "en") == {number(2.9)}
    assert quantities("2.900") == {number(2.9), number(2900)}  # language unknown: both
    assert quantities("1.234,5 e 1,234.5") == {number(1234.5)}


@pytest.mark.parametrize("text, lang", [
    ("12%", "it"), ("12 %", "fr"), ("12 per cento", "it"), ("12 percent", "en"),
    ("il 12% in più", "it"), ("+12%", "en"), ("dodici per cento", "it"), ("twelve percent", "en"),
])
def test_percentages(text, lang):
    assert quantities(text, lang) == {percent(12)}


def test_a_range_shares_its_scale_unit_or_percent_sign():
    assert quantities("10-12%", "it") == {percent(10), percent(12)}
    assert quantities("tra il 10 e il 12%", "it") == {percent(10), percent(12)}
    assert quantities("between 10 and 12 million", "en") == {number(10e6), number(12e6)}
    assert quantities("tra dieci e dodici miliardi", "it") == {number(10e9), number(12e9)}


def test_units_carry_their_si_prefix():
    assert quantities("3 km", "en") == quantities("3.000 metri", "it") == {number(3000)}
    assert quantities("1–3 µm", "en") == {number(1e-6), number(3e-6)}
    assert quantities("1 e 3 metri", "it") == {number(1), number(3)}


@pytest.mark.parametrize("text, lang, value", [
    ("otto seggi", "it", 8), ("three plants", "en", 3), ("ventidue", "it", 22),
    ("twenty-two", "en", 22), ("twenty two", "en", 22), ("due milioni", "it", 2e6),
    ("a million users", "en", 1e6), ("un milione", "it", 1e6), ("mille dipendenti", "it", 1000),
    ("one hundred and five", "en", 105), ("quattro virgola cinque miliardi", "it", 4.5e9),
    ("vingt-deux", "fr", 22), ("zweiundzwanzig", "de", 22), ("veintidós", "es", 22),
    ("vinte e dois", "pt", 22), ("Sette aziende", "it", 7),
])
def test_numbers_written_as_words(text, lang, value):
    assert quantities(text, lang) == {number(value)}


@pytest.mark.parametrize("text, lang", [
    ("una casa, uno studio", "it"), ("one of them, a house", "en"),  # articles and pronouns
    ("Sei qui? Non sei d'accordo. Sei un grande.", "it"),              # "you are"
    ("milioni di persone, hundreds of people", None),                  # no count
    ("secondo Electrek", "it"), ("il primo ministro", "it"),           # "according to", "prime"
    ("He asked for a second opinion.", "en"),
    ("Non è mai successo.", "it"),                                     # "mai" is May in French
    ("It may rain.", "en"), ("March of the penguins", "en"),
    ("The 5G network and the Xbox One", "en"),
])
def test_words_that_are_not_quantities(text, lang):
    assert quantities(text, lang) == set()


def test_sei_is_six_when_it_counts():
    assert quantities("Ci sono sei candidati e ha lavorato sei mesi.", "it") == {number(6)}


def test_ordinals():
    for text, lang in (("3rd", "en"), ("la terza volta", "it"), ("the third time", "en"),
                       ("Q3", "en"), ("il 3° posto", "it")):
        assert Quantity("ordinal", 3) in quantities(text, lang), text


def test_a_bare_year_is_a_year_or_a_count():
    assert quantities("nel 2022", "it") == {number(2022), date(2022)}
    assert quantities("2,022 employees", "en") == {number(2022)}


@pytest.mark.parametrize("text, lang", [
    ("17 giugno 2022", "it"), ("June 17, 2022", "en"), ("17 June 2022", "en"),
    ("the 17th of June, 2022", "en"), ("2022-06-17", None), ("17/06/2022", "it"),
    ("06/17/2022", "en"), ("17.06.2022", "de"), ("17. Juni 2022", "de"), ("17 juin 2022", "fr"),
    ("17 de junio de 2022", "es"), ("17 de junho de 2022", "pt"), ("17 giu 2022", "it"),
])
def test_a_date_reads_the_same_however_written(text, lang):
    assert quantities(text, lang) == {date(2022, 6, 17)}


def test_partial_dates_keep_what_they_write():
    assert quantities("a giugno 2022", "it") == {date(2022, 6)}
    assert quantities("il 17 giugno", "it") == {date(0, 6, 17)}
    assert quantities("in May", "en") == quantities("a maggio", "it") == {date(0, 5)}
    assert quantities("Il 31 giugno", "it") == {date(0, 6, 31)}  # read, not judged


def test_mentions_say_where_and_how_the_text_writes_them():
    found = mentions("AWS: 22,1 miliardi di dollari (+12%) il 17 giugno 2022.", "it")
    assert [m.text for m in found] == ["22,1 miliardi", "+12%", "17 giugno 2022"]
    assert found[0].literal == "22,1" and found[2].literal == ""


IT_22 = "AWS ha registrato ricavi per 22,1 miliardi di dollari, in crescita del 12%."
SIGNED = "L'accordo è stato firmato il 17 giugno 2022."


@pytest.mark.parametrize("claim, evidence, lang_claim, lang_evidence", [
    ("AWS revenue was $22.1 billion, up 12 percent.", IT_22, "en", "it"),
    ("Ricavi di 22,1 miliardi.", "Revenue of $22.1B.", "it", "en"),
    ("250,000 people attended.", "Hanno partecipato 250.000 persone.", "en", "it"),
    ("The PNL won eight seats.", "Il PNL ha ottenuto 8 seggi.", "en", "it"),
    ("Ha perso due milioni di euro.", "It lost 2 million euros.", "it", "en"),
    ("The deal was signed on June 17, 2022.", SIGNED, "en", "it"),
    ("L'accordo è stato firmato il 17/06/2022.", "The deal was signed on 17 June 2022.", "it", "en"),
    ("It was signed in June 2022, on the 17th.", SIGNED, "en", "it"),
    ("It was signed in 2022.", SIGNED, "en", "it"),
    ("Sales rose 10-12%.", "Le vendite sono salite tra il 10 e il 12%.", "en", "it"),
    ("Over 250 billion dollars.", "Oltre 250 miliardi di dollari.", "en", "it"),
    ("The tower is 3 km tall.", "La torre è alta 3.000 metri.", "en", "it"),
    ("It happened for the third time.", "È successo per la terza volta.", "en", "it"),
    ("One of the plants closed.", "Uno degli stabilimenti ha chiuso.", "en", "it"),
    ("Tesla has 1 plant in Berlin.", "Tesla ha una fabbrica a Berlino.", "en", "it"),
    ("The company has 2.900 employees.", "L'azienda ha 2.900 dipendenti.", "en", "it"),  # copied
    ("Il primo ministro ha parlato.", "The Prime Minister spoke.", "it", "en"),
    ("Amazon laid off 10,000 workers.", "Amazon ha licenziato diecimila dipendenti.", "en", "it"),
    ("The average was 23.6°C.", "An average temperature of 23.6C.", "en", "en"),  # degrees
    ("Ha raggiunto 46°C.", "A station registered 46C, a record.", "it", "en"),
    ("Userà 9 milioni di galloni d'acqua.", "It will need 9 million gallons of water.", "it", "en"),
    ("Sono 2 milioni di chilometri.", "It is 2 million km.", "it", "en"),
])
def test_a_faithful_translation_passes(claim, evidence, lang_claim, lang_evidence):
    assert unsupported(claim, evidence, lang_claim, lang_evidence) == []


@pytest.mark.parametrize("claim, evidence, lang_claim, lang_evidence, missing", [
    ("AWS revenue was $22.1 million.", IT_22, "en", "it", ["$22.1 million"]),
    ("AWS revenue was $21.1 billion, up 12%.", IT_22, "en", "it", ["$21.1 billion"]),
    ("AWS grew 12 billion.", IT_22, "en", "it", ["12 billion"]),
    ("Il tasso è 2.900.", "Il tasso è 2,9.", "it", "it", ["2.900"]),
    ("The deal was signed on June 18, 2022.", SIGNED, "en", "it", ["June 18, 2022"]),
    ("The deal was signed in July 2022.", SIGNED, "en", "it", ["July 2022"]),
    ("The deal was signed in 2021.", SIGNED, "en", "it", ["2021"]),
    ("It was signed on June 17, 2022.", "Firmato il 17 giugno.", "en", "it", ["June 17, 2022"]),
    ("The PNL won nine seats and 8 mayors.", "Il PNL ha ottenuto 8 seggi.", "en", "it", ["nine"]),
    ("The particles measure 1 to 3 meters.", "Le particelle misurano 1–3 µm.", "en", "it",
     ["1", "3 meters"]),
    ("It has 250 employees.", "Ha 250.000 dipendenti.", "en", "it", ["250"]),
    ("Sales rose 10-15%.", "Le vendite sono salite del 10-12%.", "en", "it", ["15%"]),
    ("In April, Tesla sold 100,000 cars.", "A maggio Tesla ha venduto 100.000 auto.", "en", "it",
     ["April"]),
    ("It happened for the fourth time.", "È successo per la terza volta.", "en", "it", ["fourth"]),
    ("Sales rose 12%.", "Le vendite sono salite di 12 unità.", "en", "it", ["12%"]),
    ("It reached 47°C.", "A station registered 46C, a record.", "en", "en", ["47°C"]),
    ("Userà 9 milioni di litri d'acqua.", "It will need 9 million gallons of water.", "it", "en",
     ["9 milioni di litri"]),  # another unit, with the scale before it
    ("The road is 5 miles long.", "La strada è lunga 5 chilometri.", "en", "it", ["5 miles"]),
])
def test_what_the_evidence_does_not_state_is_named(claim, evidence, lang_claim, lang_evidence,
                                                   missing):
    assert unsupported(claim, evidence, lang_claim, lang_evidence) == missing


def test_each_missing_phrase_is_named_once():
    assert unsupported("12 cities, 12 towns.", "Ci sono 11 città.", "en", "it") == ["12"]


def test_a_list_written_without_spaces_is_read_item_by_item_not_as_one_number():
    """SQuAD-it text holds "500,1.000,5.000,10.000": not one malformed number (which once
    stopped the checks with a ValueError) but four."""
    found = mentions("Premi di 500,1.000,5.000,10.000 persone.", "it", generous=True)
    values = {q.value for m in found for q in m.readings if q.kind == "number"}
    assert {500.0, 1000.0, 5000.0, 10000.0} <= values
    assert unsupported("Premiate 5.000 persone.", "Premi di 500,1.000,5.000,10.000 persone.",
                       "it", "it") == []
