"""Claims: does an evidence item state what a sentence of the answer claims?

Meaning, not spelling. A claim passes against an evidence item when:

* every quantity it states (`rag.numbers`: a number with its scale — "22,1 miliardi" is
  "22.1 billion" — a number in words, a percentage, a date) is one the item or its
  article's title states (a title that asks a question states nothing);
* every name it uses is in the item or the title (but not a name only the title holds in
  place of the question's subject that the item names), or completes one the item uses
  with the full name its article spells out ("Elon Musk" for "Musk"), or is the question's own
  spelling of a name the item or article spells a little differently ("Cristian"/"Christian",
  "Bill Aiken" for the article's "Bill Aken", named "Aken" in the item), or — when the claim
  is in another language than the item — names it loosely ("Mongols" for "mongoli") or
  means the same as a name the item uses ("Ottoman Empire" for "Impero ottomano", "London"
  for "Londra": ``translates``);
* when it states a death, an injury, an arrest, a verdict or a resignation, the item itself
  states one too (`rag.grave`), not merely its headline: "4,200 deaths" is never read into
  "4.200 persone evacuate", nor the headline's "condannati" into the prosecutor's request;
* when it denies ("did not", "non ha", "never", "senza"), the item denies too
  (`rag.negation`): a flipped sentence is as close to its source as sentences get;
* when it says who holds an office ("X is the president of Y"), the item gives that
  office of the same body (`rag.roles`): the president of a cooperative is no court's;
  a bare "il sindaco" is the mayor of what the item's headline names;
* when the item says something is not known ("It's not known when…", "non si sa…"), it
  says so too;
* when it says who said or thinks something ("Jassy said…", "secondo Electrek…"), that
  same person or outlet speaks in the item itself (`rag.speech`), not merely elsewhere in
  the article, nor is merely named in it: words are never moved from one mouth to another;
  when it says who reported or announced something, the item names them;
* in the item's own language, every word it takes from the question is one the item (or
  its title) uses too: a small model fills the question's premise into an evidence
  sentence about something else ("I cloroplasti con guaina…" for a sentence about
  mesophyll chloroplasts; "la commedia…" for a sentence about a drama). The question's
  frame of time ("this week", "di recente", "soon": `rag.dates.without_relative_times`)
  is when it is asked, not a fact: "JetBlue announced a deal this week" may keep it; so
  is the dimension it asks for ("How old was she?": "She was 73 years old"), and so are
  its auxiliary and modal verbs ("potrebbe avere bisogno" for "ha bisogno").

`unsaid_words` lists a claim's words that neither an item nor the question uses: a claim
is moved to an item it did not cite only when it has few (`rag.grounding`).

`disagreement` returns what the item does not state, quoted for a reader ("“Electrek”"),
or "" when the claim holds.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from typing import Callable

from .asked import without_dimension
from .corpus import Article
from .dates import without_relative_times
from .evidence import Evidence, said_before, sentence_before
from .grave import unstated_fact
from .negation import unstated_denial
from .roles import unstated_role
from .lexical import analyze, fold_accents, words
from .names import (acronyms, fold_name, in_other_words, is_acronym, letters, names,
                    question_names, variant_of)
from .numbers import unsupported
from .speech import PRONOUN, REPORTING, SAYING, speakers, speaks_back, speaks_in_context

# Whether a name means the same as one the text uses, in another language ("Ottoman
# Empire" in "…l'Impero ottomano…"): `rag.grounding` asks the embedder.
Translates = Callable[[str, str], bool]


def disagreement(claim: str, item: Evidence, article: Article | None, question: str = "",
                 lang: str | None = None, question_words: bool = True,
                 speaking: bool = True, translates: Translates | None = None) -> str:
    """What ``item`` does not state of what ``claim`` (in ``lang``) states, quoted; or "".
    ``question_words``: apply the rule on words taken from the question; ``speaking``: a
    speaker must speak in the item (else: be named in it); ``translates``: how a name of a
    claim in another language than the item's may be read as one the item uses."""
    title = stating(item.chunk.title)
    claim = without_known_asides(claim, article.text if article else "")
    return (_missing_quantity(claim, f"{title}\n{item.text}", lang, item.chunk.lang or None)
            or _missing_speaker(claim, item, speaking)
            or unstated_fact(claim, f"{referred(item, article)}{item.text}")
            or unstated_denial(claim, item.text)
            or unstated_role(claim, f"{title}\n{item.text}", item.chunk.title,
                             translates if _other_language(lang, item) else None)
            or _unknown_made_known(claim, item.text)
            or _name_not_used(claim, item, article, question, lang, translates)
            or _headline_in_place(claim, item, question)
            or (_borrowed_word(claim, f"{title}\n{item.text}", question, lang,
                               item.chunk.lang or None) if question_words else ""))


# A sentence saying something is not known: a claim resting on it must say so too.
_NOT_KNOWN = re.compile(
    r"\b(?:it(?:['’]s| is| was) not (?:yet )?(?:known|clear)|(?:is|was|remains|remained) "
    r"(?:still )?(?:unclear|unknown|uncertain)|it['’]s unclear|(?:no one|nobody) knows|"
    r"non (?:è|era|e['’]) (?:ancora )?(?:chiaro|noto)|non si sa|nessuno sa|"
    r"(?:è|era|resta|rimane) (?:ancora )?(?:incerto|sconosciuto|poco chiaro))\b", re.IGNORECASE)
_SAYS_NOT_KNOWN = re.compile(
    r"\b(?:unknown|unclear|uncertain|not (?:yet )?(?:known|clear)|(?:no one|nobody) knows|"
    r"incert\w*|sconosciut\w*|non (?:è |e['’] )?(?:ancora )?(?:chiaro|noto)|non si sa|"
    r"nessuno sa)\b", re.IGNORECASE)


def _unknown_made_known(claim: str, evidence: str) -> str:
    """"that this is known" when ``evidence`` says something is not known ("It's not known
    when residents will no longer have to boil water…") and ``claim`` states it plainly
    ("Residents will no longer have to boil water when…"); else ""."""
    if _NOT_KNOWN.search(evidence) and not _SAYS_NOT_KNOWN.search(claim):
        return "that this is known"
    return ""


def missing_name(claim: str, item: Evidence, article: Article | None, question: str = "",
                 lang: str | None = None, translates: Translates | None = None) -> str:
    """The name of ``claim`` that ``item`` does not use, quoted; or "" (`disagreement`'s
    rule on names, alone). ``translates`` applies only when ``lang`` is not the item's."""
    claim = without_known_asides(claim, article.text if article else "")
    return _name_not_used(claim, item, article, question, lang, translates)


def _name_not_used(claim: str, item: Evidence, article: Article | None, question: str,
                   lang: str | None, translates: Translates | None) -> str:
    """`missing_name` of a claim whose known asides are already dropped."""
    other_language = _other_language(lang, item)
    return _missing_name(claim, f"{stating(item.chunk.title)}\n{referred(item, article)}"
                         f"{item.text}", article.text if article else "", question,
                         translates if other_language else None)


def _other_language(lang: str | None, item: Evidence) -> bool:
    """Whether a claim in ``lang`` and ``item`` are known to be in different languages."""
    return bool(lang and item.chunk.lang and lang != item.chunk.lang)


# A sentence opening with a personal pronoun speaks of whom the sentence before names.


def continues(item: Evidence, before: Evidence) -> bool:
    """Whether ``item`` opens with a personal pronoun right after ``before`` in the same
    article: it goes on speaking of whom ``before`` names."""
    return (item.chunk.article_id == before.chunk.article_id and bool(PRONOUN.match(item.text))
            and 0 <= item.start - before.end <= 3)


def referred(item: Evidence, article: Article | None) -> str:
    """The article's sentence before ``item``, with a newline, when the item opens with a
    personal pronoun ("He promised to build 2,000 homes…" after "Green group leader Tom
    Whitcombe … said…") or its speaker is one, or a description that sentence uses ("«…»,
    ha detto il ministro" after "Il ministro delle Imprese, Paolo Bertani, ha escluso…"):
    its names are the item's too. Else ""."""
    if article is None or not (PRONOUN.match(item.text) or speaks_back(item.text)):
        return ""
    start = sentence_before(item, article.text)
    if start is None:
        return ""
    before = article.text[start:item.start].strip()
    return f"{before}\n" if PRONOUN.match(item.text) or speaks_back(item.text, before) else ""


def stating(title: str) -> str:
    """``title``, unless it asks a question: "La rivalità tra Musk e Bezos potrebbe
    intensificarsi?" states nothing, and vouches for no claim's names or numbers."""
    return "" if title.rstrip().endswith("?") else title


# --------------------------------------------------------------------------- asides

_ASIDE = re.compile(r"\s*\(([^()]{1,60})\)")


def without_known_asides(claim: str, article: str) -> str:
    """``claim`` without each parenthesis that the ``article`` puts after the same word
    ("Tesla Inc. (NASDAQ:TSLA) ha sede ad Austin"): a ticker or acronym copied with its name
    is how the article names it, no claim of its own for the item to state."""
    def dropped(aside: re.Match) -> str:
        before = re.findall(r"\w+", claim[:aside.start()])
        known = before and re.search(
            rf"\b{re.escape(before[-1])}\W*\(\s*{re.escape(aside.group(1).strip())}\s*\)",
            article, re.IGNORECASE)
        return "" if known else aside.group(0)
    return _ASIDE.sub(dropped, claim) if article else claim


# --------------------------------------------------------------------------- quantities

# "the two companies", "i due rivali", "both": a count of what the sentence already names
# refers back to them; it states no quantity of its own.
_ANAPHORIC_COUNT = re.compile(
    r"\b(?:the|these|those|both|all|i|gli|le|questi|queste|entrambi|entrambe|tutti|tutte)"
    r"\s+(?:two|three|due|tre)\b", re.IGNORECASE)


def _missing_quantity(claim: str, evidence: str, claim_lang: str | None,
                      evidence_lang: str | None) -> str:
    claim = _ANAPHORIC_COUNT.sub(lambda m: m.group(0).split()[0], claim)
    missing = unsupported(claim, evidence, claim_lang, evidence_lang)
    return f"“{missing[0]}”" if missing else ""


# --------------------------------------------------------------------------- names

def _missing_name(claim: str, evidence: str, article: str, question: str,
                  translates: Translates | None = None) -> str:
    folded, whole = fold_accents(evidence).casefold(), fold_accents(article).casefold()
    known = question_names(question)
    for run in names(claim, known):
        spelled = [w if _word_in(w, folded) or w not in known else variant_of(w, evidence) or w
                   for w in run]  # the question's spelling read as the item's
        missing = [w for w in spelled if not _word_in(w, folded) and not (
            translates and in_other_words(w, evidence))  # "mongols" for "mongoli"
            and not (is_acronym(w, claim) and letters(w) in acronyms(evidence))]  # BCE, ECB
        if (missing and not (len(missing) < len(run) and " ".join(spelled) in whole)
                and not (translates and translates(" ".join(run).title(), evidence))):
            return f"“{' '.join(run).title()}”"
    return ""


def _headline_in_place(claim: str, item: Evidence, question: str) -> str:
    """A name of ``claim`` that only the item's headline holds, said of what the question
    names and the item's sentence names while the claim does not, quoted as "“California”
    of “Sierra Sky Park”"; or "". A headline names what its article is about, not what each
    of its sentences is about: "Fresno (California) è stato fondato nel 1946" for "Quando si
    è formato l'aeroporto di Sierra Sky Park?" over "Fondato nel 1946, l'aeroporto Sierra
    Sky Park…" under the headline "Fresno (California)"."""
    text, said = fold_accents(item.text).casefold(), fold_accents(claim).casefold()
    title = fold_accents(stating(item.chunk.title)).casefold()
    known = question_names(question)
    subject = [w for w in known if _word_in(w, text) and not _word_in(w, title)]
    if not subject or any(_word_in(w, said) for w in subject):
        return ""
    for run in names(claim, known):
        if all(_word_in(w, title) and not _word_in(w, text) for w in run):
            asked = sorted(subject, key=fold_accents(question).casefold().find)
            return f"“{' '.join(run).title()}” of “{' '.join(asked).title()}”"
    return ""


def _word_in(name: str, folded: str) -> bool:
    """Whether the (folded) ``folded`` text has ``name`` as a word: "Milan" (the club) is no
    word of "Milano" (the city)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded) is not None


# --------------------------------------------------------------------------- speakers

def _missing_speaker(claim: str, item: Evidence, speaking: bool = True) -> str:
    """A speaker of the claim who does not speak in the item (for a verb of saying, when
    ``speaking``; in it, or through a pronoun or a description naming whom the sentence
    before it names) or whose last name the item does not name."""
    evidence = item.text
    for who in speakers(claim, SAYING) if speaking else ():
        if not speaks_in_context(who, evidence, partial(said_before, item)):
            return f"that “{who}” said so"
    folded = fold_accents(evidence).casefold()
    for who in speakers(claim, REPORTING) if speaking else speakers(claim):
        last = fold_name(who.split()[-1])
        if last and not re.search(rf"\b{re.escape(last)}\b", folded):
            return f"that “{who}” said so"
    return ""


# --------------------------------------------------------------------------- the question's words

# Stems sharing this many first letters are one word's forms ("divent-ato" / "divenn-e").
SHARED_STEM = 5


# Words for the text itself and what it says: "L'articolo parla di…" answers "Di cosa
# parla l'articolo?" without the evidence saying "articolo" or "parla".
_ABOUT_THE_TEXT = ("article articles story stories summary summarize discusses says "
                   "articolo articoli notizia notizie testo parla parlano tratta trattano "
                   "dice dicono riassunto riassumi sintesi argomento")
# Auxiliary and modal verbs ("Perché Tesla potrebbe avere bisogno di…": "potrebbe avere")
# state no fact of their own; the evidence may conjugate them otherwise ("ha bisogno").
_AUXILIARIES = ("avere aver avendo avuto potere può puo possono potrebbe potrebbero potrà "
                "potranno poteva potevano dovere deve devono dovrebbe dovrebbero dovrà "
                "dovranno doveva dovevano volere vuole vogliono vorrebbe vorrebbero essere "
                "sarebbe sarebbero sarà saranno have having had can could may might must "
                "should would will shall")


def _borrowed_word(claim: str, evidence: str, question: str, lang: str | None,
                   evidence_lang: str | None) -> str:
    """A word of ``claim`` that comes from ``question`` and that ``evidence`` (in the same
    language) does not use, quoted; or "". Names have their own rule; across languages
    words differ anyway, and meaning is left to the support score."""
    if not question or not lang or evidence_lang != lang:
        return ""
    asked = (set(analyze(without_relative_times(without_dimension(question)), lang))
             - set(analyze(_ABOUT_THE_TEXT, lang)) - set(analyze(_AUXILIARIES, lang)))
    used = set(analyze(evidence, lang))
    return next((f"“{word}”" for word, stem in _plain_words(claim, question, lang)
                 if stem in asked and not _used(stem, used)), "")


def unsaid_words(claim: str, item: Evidence, question: str, lang: str | None) -> tuple[str, ...]:
    """The words of ``claim`` that neither ``question`` nor ``item`` (with its title, in the
    same language as the claim) uses, names aside; none across languages, where words
    differ anyway. A claim that rests on a sentence it did not cite should be mostly made of
    that sentence's words."""
    evidence_lang = item.chunk.lang or None
    if not lang or evidence_lang != lang:
        return ()
    asked = set(analyze(question, lang))
    used = set(analyze(f"{stating(item.chunk.title)}\n{item.text}", lang))
    return tuple(dict.fromkeys(word for word, stem in _plain_words(claim, question, lang)
                               if stem not in asked and not _used(stem, used)))


@lru_cache(maxsize=1024)
def _plain_words(claim: str, question: str, lang: str) -> tuple[tuple[str, str], ...]:
    """(word, stem) for each word of ``claim`` that is no stop word, number or name. The
    same for every evidence item a claim is checked against: read once."""
    named = {w for run in names(claim, question_names(question)) for w in run}
    pairs = ((word, next(iter(analyze(word, lang)), "")) for word in words(claim))
    return tuple((word, stem) for word, stem in pairs
                 if stem.isalpha() and fold_name(word) not in named)


def _used(stem: str, used: set[str]) -> bool:
    return stem in used or (len(stem) >= SHARED_STEM
                            and any(u.startswith(stem[:SHARED_STEM]) for u in used))
