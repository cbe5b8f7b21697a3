"""A draft's text: its citation markers ``[n]`` and its sentences.

The model cites evidence as ``[1]`` or ``[2][3]`` (rarely ``[1, 2]``). `statements` splits
a draft into the sentences `rag.grounding` judges one by one, each with its own markers;
`strip_markers` and `with_markers` take them off and put them back where a reader expects
them, before the final punctuation. `stutter` finds words a sentence says twice running
("stata stata", "i prezzi sono saliti e i prezzi sono saliti"): a small model degenerating;
`without_meta_lead` drops an opening that speaks of the prompt ("According to the evidence, ").
"""

from __future__ import annotations

import re
from typing import Sequence

from .chunking import split_sentences
from .prompts import without_format

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+\s*")
# A run of one to six words said again at once, perhaps after "and"/"e"/"or"/"o".
_STUTTER = re.compile(r"\b(\w+(?:\W+\w+){0,5}?)\W+(?:(?:and|or|e|ed|o)\W+)?\1\b",
                      re.IGNORECASE)
# The model speaking of its prompt ("According to the evidence, …", "L'articolo afferma che
# …"): a reader sees no evidence list, and the article is not a speaker. An opening naming
# sources or an outlet ("According to sources", "According to Eurostat") is news's own
# attribution, and stays.
_META_LEAD = re.compile(
    r"^(?:(?:according\s+to|based\s+on|as\s+(?:stated|mentioned|reported)\s+in)\s+(?:the\s+)?"
    r"(?:evidence|articles?|text|passages?|information\s+(?:provided|given))|"
    r"(?:the|this)\s+(?:evidence|articles?|text|passage)\s+(?:states?|says?|mentions?|"
    r"reports?|indicates?|shows?)(?=\s+that\b)|"
    r"(?:secondo|in\s+base\s+a(?:ll['’]\s*|lle\s+|gli\s+|l\s+)?|stando\s+a(?:ll['’]\s*|lle\s+|gli\s+)?)"
    r"\s*(?:l['’]\s*|le\s+|gli\s+|il\s+|la\s+)?(?:evidenz[ae]|articol[oi]|testo|passagg[io])"
    r"(?:\s+fornit[oaie])?|"
    r"(?:l['’]\s*|gli\s+|le\s+|il\s+)(?:evidenz[ae]|articol[oi]|testo)\s+(?:afferma(?:no)?|"
    r"dic(?:e|ono)|riporta(?:no)?|indica(?:no)?|menziona(?:no)?|sostien(?:e|ono))(?=\s+che\b))"
    r"\s*(?:,\s*|that\s+|che\s+)", re.IGNORECASE)
_SAID_TWICE = {"that", "had"}  # grammatical twice: "he said that that was all", "had had"
# Abbreviations that end with a period inside a sentence: titles, company forms.
ABBREVIATION_END = re.compile(
    r"\b(?:Sr|Jr|Dr|Mr|Mrs|Ms|Prof|St|Inc|Corp|Ltd|Co|Sig|Sigg|Dott|Ing|Avv|Gen|Sen|Rep|"
    r"Gov|vs|ca|approx|ecc|etc|No|nr)\.$")


def markers(text: str) -> list[int]:
    """Every number inside [n] / [n, m] markers, in order."""
    return [int(n) for group in MARKER.findall(text) for n in re.split(r"[,;]", group)]


def strip_markers(text: str) -> str:
    text = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", MARKER.sub("", text))  # "role [1] in"
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def with_markers(sentence: str, cited: Sequence[int]) -> str:
    """``sentence`` with its markers placed before its final punctuation: 'x [1][2].'"""
    if not cited:
        return sentence
    tags = "".join(f"[{n}]" for n in cited)
    body = sentence.rstrip()
    end = len(body.rstrip(".!?…"))
    return f"{body[:end]} {tags}{body[end:]}"


def stutter(sentence: str, source: str = "") -> str:
    """The words ``sentence`` says twice running, as it spells them ("stata stata"), or "":
    a run holding a word of three letters or more (not a number), which ``source`` (the
    text the sentence draws on) does not repeat itself ("Amazônica o Amazônica")."""
    folded = f" {_words(source)} "
    for match in _STUTTER.finditer(sentence):
        run = _words(match.group(0))
        words = run.split()
        if (any(len(w) >= 3 and not w.isdigit() for w in words) and words[0] not in _SAID_TWICE
                and f" {run} " not in folded):
            return match.group(0)
    return ""


def _words(text: str) -> str:
    """``text``'s words, casefolded, one space apart: the same words however punctuated."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def without_meta_lead(sentence: str) -> str:
    """``sentence`` without an opening that speaks of the prompt ("According to the
    evidence, ", "The article states that ", "Secondo l'articolo, "), its first letter
    raised."""
    rest = _META_LEAD.sub("", sentence, count=1)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


def statements(answer: str, lang: str) -> list[str]:
    """The answer's sentences, each once, with their markers: markers that open a sentence
    ("… Amazon. [1] Musk and…") belong to the one before; lines echoing the prompt's format
    ("Article: …") are no statements, nor is an opening that speaks of the evidence
    ("According to the evidence, "); a small model may also repeat a
    sentence over and over, or leave a stray "[1], [1]" that states nothing."""
    answer = without_format(answer)
    sentences: list[str] = []
    for text in _joined_after_abbreviations(answer, split_sentences(answer, lang)):
        lead = LEADING_MARKERS.match(text)
        if lead and sentences:
            cited = dict.fromkeys(markers(sentences[-1]) + markers(lead.group(0)))
            sentences[-1] = with_markers(strip_markers(sentences[-1]), list(cited))
            text = text[lead.end():]
        sentences.append(without_meta_lead(text))
    seen: set[str] = set()
    kept = []
    for text in sentences:
        key = _words(strip_markers(text))
        if key and key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def _joined_after_abbreviations(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The spans' texts, a span that ends with an abbreviation ("a Sr.", "Acme Inc.") and
    cites nothing joined to the next: the sentence splitter took its period for an end."""
    pieces: list[str] = []
    joined_start = None
    for (start, end), following in zip(spans, [*spans[1:], None]):
        joined_start = start if joined_start is None else joined_start
        if (following and ABBREVIATION_END.search(text[start:end]) and not markers(text[start:end])
                and not LEADING_MARKERS.match(text[following[0]:following[1]])):
            continue
        pieces.append(text[joined_start:end])
        joined_start = None
    return pieces
