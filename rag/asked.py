"""What a question asks for — a quantity, a time, a reason — and whether a sentence states it.

    >>> asked_for("Di quanto è cresciuto il fatturato di AWS?")
    'quantity'
    >>> states("quantity", "Il fatturato è cresciuto del 12%.", "it")
    True
    >>> asked_for("When was Jeff Bezos born?"), states("time", "Musk and Bezos are rivals.", "en")
    ('time', False)

A "how many / how much / by how much" question (quanti, quanto, di quanto…), or one that
asks for a measure by its name ("What is Tesla's stock price?", "Qual è la popolazione
di…", "How tall…", "Quanto è alto…"), is answered only by a sentence that states an
amount: a number, a percentage, a number word, or a vague amount ("migliaia", "half a
million"). A "when / in what year" question (quando,
in che anno…) only by one that states a time: a date, a year, a century or decade, a
month or weekday, a span of days or years, or a clause of time ("durante l'impero
romano", "after the war", "in conditions of low light"). A "why / perché / come mai / what
caused" question only by one that gives a cause, a purpose or a condition ("because",
"attribuisce la flessione alla crisi", "to run its AI models", "se Tesla offrisse…"): "Il
traffico container è calato del 7%" is true, and no answer to why. Any other question asks for
nothing this module can check: ``""``. A "which outlet / quale società…" question asks to
name a thing of that kind: an answer that puts the kind itself where the name should stand
("The outlet spotted the listing in Austin") names none (`unnamed`), and a sentence that
speaks of it only as that kind ("…the company has cut air conditioning") names it in an
earlier sentence (`refers_to_asked`).

The time and reason tests are generous on purpose — each must hold for every sentence that
could answer a "when" or "why" question, so that it rejects only sentences that state no
time or no reason at all; the fallback quotes only evidence that states the asked kind
(`rag.evidence`), and an answer to such a question that states none is no answer
(`rag.answering`). Questions are read in English and Italian; in other languages nothing
is asked.
"""

from __future__ import annotations

import re
from typing import Literal

from .dates import MONTHS, WEEKDAYS
from .numbers import mentions

Asked = Literal["quantity", "times", "time", "reason", ""]

# "Quante volte…?", "How many times…?": a count of occasions, which an ordinal gives ("per la
# terza volta"); for any other amount an ordinal is none ("Di quanto ha tagliato i tassi?").
_TIMES_QUESTION = re.compile(r"\b(?:quante\s+volte|how\s+many\s+times)\b", re.IGNORECASE)

_HOW_LONG = (r"quanto\s+tempo|da\s+quanto|fino\s+a\s+quando|entro\s+quando|a\s+che\s+ora|"
             r"how\s+long|how\s+soon|what\s+time")
_OTHER_QUESTION_WORD = re.compile(
    r"\b(?:che\s+cosa|cosa|chi|qual[ei]?|come|dove|perch[ée]|what|who|which|how|where|why)\b",
    re.IGNORECASE)
# A measure named: "What is Tesla's stock price?", "Qual è stata la popolazione di Fresno
# nel 2010?" — a noun only ever answered with an amount (not "value" or "age": "the Bronze
# Age"), after "what is / qual è" and at most two other words.
_MEASURES = (r"prices?|costs?|worth|revenues?|sales|profits?|turnover|income|salary|"
             r"population|height|length|weight|distance|temperature|speed|budget|valuation|"
             r"capacity|death\s+toll|prezz[oi]|cost[oi]|fatturato|ricavi|utile|stipendio|"
             r"popolazione|altezza|lunghezza|peso|distanza|temperatura|velocità|valutazione|"
             r"capacità|bilancio")
# "Quanto costa…", "Di quanto è cresciuto…", "quanti…", "how much…", "how tall…": "quanto"
# only at the start (elsewhere it is mostly "as much as", "per quanto riguarda", "secondo
# quanto"), and before a copula only with a dimension: "Quanto è alto…?" asks for an
# amount, "Quanto era popolare…?" for a degree.
_QUANTITY_QUESTION = re.compile(
    r"^\W*(?:di|a|fino\s+a)\s+quant[oa]\b|^\W*quant[oa]\b(?!\s+(?:è|e'|era|sono|erano|fu|"
    r"furono|stat[oaie])\b)|^\W*quanto\s+(?:è|era|sono|erano|fu)\s+(?:alt|lung|pesant|"
    r"profond|larg|distant)\w*|\bquant[ie]\b|\bhow\s+(?:many|much|far|old|tall|high|heavy|"
    r"deep|wide|fast)\b|\b(?:what|which)\s+(?:percentage|share|proportion|amount|number|"
    r"sum)\b|\b(?:quale|che)\s+(?:percentuale|quota|somma|cifra|importo)\b|"
    r"^\W*(?:what|qual)(?:\s+|['’]\s*)(?:is|was|are|were|s|è|e'|era|sono|erano|fu)\s+"
    r"(?:stat[oaie]\s+)?(?:the\s+|il\s+|la\s+|lo\s+|i\s+|le\s+|l['’]\s*|[\w.’'-]+['’]s\s+)?"
    rf"(?:[\w-]+\s+){{0,2}}(?:{_MEASURES})\b", re.IGNORECASE)
# "Quando è nato…?", "In che anno…", "Da quanto tempo…"; not "Quando le forze agiscono su
# un corpo, di che cosa avete bisogno…?" nor "Quando molti non pagano le tasse, può
# essere…?", where "quando" opens a condition (another question word, or a comma, follows).
_TIME_QUESTION = re.compile(
    rf"\b(?:{_HOW_LONG})\b|\b(?:in\s+)?(?:che|quale|what|which)\s+(?:anno|anni|secolo|"
    r"decennio|data|giorno|mese|periodo|epoca|year|century|decade|date|day|month|period|"
    r"era)\b", re.IGNORECASE)
_WHEN = re.compile(r"^\W*(?:(?:da|fino\s+a|a\s+partire\s+da|since|until)\s+)?(?:quando|when)\b",
                   re.IGNORECASE)

# "Why…?", "Perché…?", "Come mai…?", "What caused…?" (also after a sentence setting the
# scene: "Starbucks brought back a drink. Why…?").
_REASON_QUESTION = re.compile(
    r"(?:^|[.!?]\s+)\W*(?:(?:and|but|e|ma)\s+)?(?:why|perch[ée]|come\s+mai)\b|"
    r"\b(?:per\s+quale|per\s+che|for\s+what)\s+(?:motivo|ragione|causa|reason)\b|"
    r"\bwhat\s+(?:caused|causes|led\s+to|prompted|drove)\b|"
    r"\b(?:what\s+(?:is|was|are|were)\s+the|qual\s+(?:è|era)\s+(?:il|la))\s+(?:reasons?|"
    r"causes?|motivo|ragione|causa)\b", re.IGNORECASE)
# Words that give a cause, a purpose or a condition: generous, as the time test is.
_REASON = re.compile(
    r"\b(?:because|cause[sd]?|causing|due\s+to|owing|since|as\s+a\s+result|result\w*|reasons?|"
    r"thanks|so|as|over|therefore|thus|hence|in\s+order|to\s+\w+|if|unless|amid|after|"
    r"following|"
    r"driven|blam\w+|attribut\w+|linked|led|leads?|leading|aim\w*|goal|purpose|bid|seek\w*|"
    r"sought|want\w*|hop(?:e|es|ed|ing)|plan(?:s|ned|ning)?|fear\w*|concern\w*|worr\w+|respon\w+|"
    r"effects?|impact\w*|pressure\w*|motiv\w+|help\w*|allow\w*|enabl\w+|need\w*|must|"
    r"risk\w*|could|would|might|may|"
    r"perch[ée]|poiché|siccome|dato\s+che|visto\s+che|caus\w+|dovut\w+|per\s+via|grazie|"
    r"ragion\w+|seguito|attribu\w+|se|qualora|così|modo\s+da|affinché|scopo|fine|mir\w+|"
    r"obiettiv\w+|spint\w+|provoc\w+|deriv\w+|legat\w+|conseguenz\w+|effett\w+|dopo|"
    r"quindi|pertanto|dunque|infatti|bisogn\w+|necessit\w+|permett\w+|consent\w+|aiut\w+|"
    r"vuole|vogliono|voleva|intend\w+|punt\w+|rischi\w*|timor\w+|preoccup\w+|"
    r"pression\w+|rispost\w+|potrebbe|potrebbero|per\s+\w+(?:are|ere|ire|arsi|ersi|irsi)|"
    r"per\s+(?:chi|coloro|quanti)|for\s+(?:those|anyone|people)\s+who|"
    r"chied\w+|domand\w+|rivendic\w+|protest\w*|asking|request\w*|demand\w*|calling\s+for|"
    r"benefit\w*\s+from|favorit\w+|beneficiat\w+|fuel\w*|spurred|boost\w*)\b",
    re.IGNORECASE)

_AMOUNT_WORDS = (r"migliai[ao]|centinai[ao]|decin[ae]|dozzin[ae]|mezz[oa]|metà|doppio|triplo|"
                 r"thousands|hundreds|dozens?|tens|half|double|twice|triple|millions|billions|"
                 r"milioni|miliardi|volte|times|nessun[oa]?|none|poch[ieao]|pochissim[ieao]|"
                 r"few|fewer|molt[ieao]|many|numeros[ie]|several|divers[ie]|alcun[ie]|tant[ie]|"
                 r"raramente|rarely|spesso|often|mai|never|sempre|always|più|more|meno|less|"
                 r"most|maggior\w*|minor\w*|majority|minority|tutt[ieao]|all|entramb[ie]|both")
_TIME_WORDS = (r"ieri|oggi|domani|stamattina|yesterday|today|tomorrow|tonight|now|ora|adesso|"
               r"secol[oi]|century|centuries|decenni?[oi]?|decades?|anni|anno|years?|mes[ei]|"
               r"months?|settiman[ae]|weeks?|giorn[oi]|days?|or[ae]|hours?|minut[oi]|minutes?|"
               r"epoca|era|periodo|period|stagione|season|estate|inverno|primavera|autunno|"
               r"summer|winter|spring|autumn|mattina|sera|notte|morning|evening|night|"
               r"durante|during|dopo|after|afterwards|prima|before|poi|then|later|earlier|"
               r"quando|when|whenever|mentre|while|once|since|sin|fino|until|till|entro|within|"
               r"recente(?:mente)?|recently|ancora|already|già|finally|infine|allora|"
               r"at\s+the\s+time|all'?\s*epoca|medioevo|antichità|impero|empire|guerra|war|"
               r"regno|reign|"
               r"condizion[ei]|conditions?|situazion[ei]|situations?|cas[oi]|cases?|"
               r"immediatamente|immediately|subito|soon|presto|tardi|late|momento|moment|"
               r"volt[ae]|times?|fas[ei]|phases?|stages?")
# A word, not the elided article of the next one ("all’implementazione", "quell'anno").
_AMOUNT = re.compile(rf"\b(?:{_AMOUNT_WORDS})\b(?!['’]\w)|\d", re.IGNORECASE)
_TIME = re.compile(rf"\b(?:{_TIME_WORDS})\b(?!['’]\w)|\b\d{{2,4}}\b|\d0s\b|['’]\d0\b|"
                   r"\b[IVX]+\s*(?:sec|cent)", re.IGNORECASE)
_MONTH_WORDS = frozenset(MONTHS) | frozenset(WEEKDAYS)  # "died on Monday"


# "Which outlet…?", "Quale società…?": a question asking to name a kind of thing.
_ENTITY_NOUNS = (r"outlets?|websites?|sites?|newspapers?|magazines?|publications?|channels?|"
                 r"networks?|compan(?:y|ies)|firms?|brands?|automakers?|carmakers?|agenc(?:y|ies)|"
                 r"organi[sz]ations?|teams?|countr(?:y|ies)|nations?|cit(?:y|ies)|states?|"
                 r"universit(?:y|ies)|schools?|parties|party|banks?|"
                 r"testat[ae]|sit[oi]|giornal[ei]|riviste?|canal[ei]|reti|rete|società|aziend[ae]|"
                 r"marc(?:hio|hi)|agenzi[ae]|organizzazion[ei]|squadr[ae]|paes[ei]|nazion[ei]|"
                 r"città|stat[oi]|universit[àa]|scuol[ae]|partit[oi]|banc[ah]e?")
_ASKED_ENTITY = re.compile(rf"\b(?:which|what|quale|quali|che)\s+({_ENTITY_NOUNS})\b",
                           re.IGNORECASE)
_DETERMINER = (r"(?:the|this|that|these|those|il|lo|la|i|gli|le|l['’]\s*|"
               r"questa|questo|queste|questi)")


_COPULA = re.compile(r"is|was|are|were|è|e'|era|sono|erano|fu")


def unnamed(question: str, claim: str) -> str:
    """The kind of thing ``question`` asks to name ("outlet": "Which outlet spotted the
    listing?") when ``claim`` opens with that word itself where the name should stand
    ("The outlet spotted the listing in Austin", "L'azienda è leader di mercato"); else "".
    A name, a comma, a relative clause or a copula before a name after it ("The outlet
    Electrek…", "The outlet that…is Electrek", "The company is Ford"), or a name after a
    word the question does not use ("L'azienda ferroviaria RFI…"), is an answer's shape,
    and passes."""
    asked = _ASKED_ENTITY.search(question)
    if not asked:
        return ""
    noun = asked.group(1)
    opening = re.match(rf"\W*{_DETERMINER}\s*{re.escape(noun)}\s+(\S+)(?:\s+(\S+))?", claim,
                       re.IGNORECASE)
    if not opening or opening.group(1)[0].isupper() or re.fullmatch(
            r"that|which|who|che|cui|,.*", opening.group(1).casefold()):
        return ""
    if _COPULA.fullmatch(opening.group(1).casefold()) and (opening.group(2) or "a")[0].isupper():
        return ""  # "The company is Ford"; not "L'azienda è leader di mercato"
    asked_words = {w.casefold() for w in re.findall(r"\w+", question)}
    if (opening.group(2) or "a")[0].isupper() and opening.group(1).casefold() not in asked_words:
        return ""  # "L'azienda ferroviaria RFI…"; not "The outlet spotted Tesla's…"
    return noun.casefold()


# "Which popular tourist destination…?", "Quale tipo francese…?": the words after the
# question word, before its verb, name the kind of thing asked for.
_ASKED_PHRASE = re.compile(r"\b(?:which|what|quale|quali|che)\s+((?:[^\W\d_]+\s+){0,2}[^\W\d_]+)",
                           re.IGNORECASE)
_NOT_A_KIND = frozenset(
    "is was are were do does did has have had will would can could should may might "
    "è era sono erano fu ha hanno aveva avevano cosa c of di del della the il la lo "
    "a an un una to in per".split())


# A word between the article and the kind: not a preposition ("la proprietà della società
# affiliata" is about a property).
_MODIFIER = (r"(?!(?:of|for|from|to|with|by|at|on|di|del|della|dello|dei|degli|delle|da|dal|"
             r"dalla|al|alla|per|con|su|sul|sulla)\b)(?-i:[a-zà-ÿ][\w-]*)")


def refers_to_asked(question: str, text: str) -> bool:
    """Whether ``text`` speaks of the kind of thing ``question`` asks to name by that kind
    itself, with a definite article and no name after it ("…claims that the company has
    cut air conditioning" for "Which company…?", "Sales of the processed cheese product…"
    for "Which product is it?"): it names what it speaks of elsewhere, before it. A place
    ("…ban abortion in the state" for "Which state…?") is where, and names nothing; a
    kind followed by a name or a number ("la stagione 1999-2000") names it."""
    asked = _ASKED_PHRASE.search(question)
    if not asked:
        return False
    kinds = []
    for word in asked.group(1).split():
        if word.casefold() in _NOT_A_KIND:
            break
        if word.islower():  # "Quale Dottore…?" asks for a name of a name
            kinds.append(re.escape(word))
    if not kinds:
        return False
    described = (rf"(?<!\bin )(?<!\bnel )(?<!\bnella )\b{_DETERMINER}\b\s*"
                 rf"(?:{_MODIFIER}\s+){{0,2}}(?:{'|'.join(kinds)})\b(?!\s+(?-i:[A-ZÀ-Ý0-9]))")
    return re.search(described, text, re.IGNORECASE) is not None


# "How old was she?", "Quanto è alto…?", "Quanto costa…?": the adjective or verb names the
# kind of amount asked for; an answer states it as a number ("She was 73 years old", "Il
# piano costa 85 milioni"), the evidence may not use it ("un piano da 85 milioni di euro").
_DIMENSION = re.compile(
    r"\bhow\s+(?:old|tall|high|heavy|deep|wide|fast|far|long|big|large)\b|"
    r"^\W*quanto\s+(?:è|era|sono|erano|fu)\s+(?:alt|lung|pesant|profond|larg|distant|grand)\w*|"
    r"^\W*quanto\s+(?:(?:è|era|sono|erano)\s+)?cost(?:a|ano|ava|avano|ato|ata|ati|ate|erà|eranno)\b|"
    r"\bcost(?:s|ed)?\b(?=\W*$)",  # "How much did the bridge cost?"
    re.IGNORECASE)


def without_dimension(question: str) -> str:
    """``question`` without the word naming the dimension it asks for ("how old")."""
    return _DIMENSION.sub(" ", question)


def asked_for(question: str) -> Asked:
    """What ``question`` asks for: ``"quantity"``, ``"times"`` (how many times), ``"time"``,
    ``"reason"`` or ``""``."""
    if _REASON_QUESTION.search(question):
        return "reason"
    if _TIME_QUESTION.search(question) or (_WHEN.search(question) and "," not in question
                                           and not _OTHER_QUESTION_WORD.search(question)):
        return "time"
    if _TIMES_QUESTION.search(question):
        return "times"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    return ""


def states_exactly(asked: Asked, text: str, lang: str | None = None) -> bool:
    """Whether ``text`` states an amount as a figure ("22,1 miliardi", "12%", "three"), not
    only vaguely ("uno dei suoi maggiori motori", "thousands"), when a quantity is
    ``asked``; otherwise `states`."""
    if asked in ("quantity", "times"):
        return bool(re.search(r"\d", text) or _amounts(text, lang, asked))
    return states(asked, text, lang)


def states(asked: Asked, text: str, lang: str | None = None) -> bool:
    """Whether ``text`` states what is ``asked`` (always, when nothing is asked)."""
    if asked in ("quantity", "times"):
        return bool(_AMOUNT.search(text) or _amounts(text, lang, asked))
    if asked == "time":
        words = {w.casefold() for w in re.findall(r"\w+", text)}
        return bool(_TIME.search(text) or words & _MONTH_WORDS)
    if asked == "reason":
        return bool(_REASON.search(text))
    return True


def _amounts(text: str, lang: str | None, asked: Asked) -> list:
    """The numbers ``text`` mentions (`rag.numbers.mentions`); an ordinal written in words
    ("terza", "third") only when a count of times is ``asked``."""
    return [m for m in mentions(text, lang)
            if asked == "times" or re.search(r"\d", m.text)
            or any(r.kind != "ordinal" for r in m.readings)]
