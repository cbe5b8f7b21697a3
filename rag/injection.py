"""Injection: find text in an article that addresses the assistant instead of the reader.

News is data, never instructions. An article may still carry text written for a language
model: orders ("ignore all previous instructions", "d'ora in poi rispondi…"), chat-template
control tokens (``<|im_start|>``, ``[INST]``), fake system notices. Such text is flagged
when the article is indexed (`flag_instructions` fills `Article.instructions`); the
answering pipeline never uses a flagged span as evidence, so the model never reads it and
the answer can never repeat it as a fact.

A flagged sentence flags its whole paragraph (an attack is often split across sentences,
the payload in the one that looks harmless), and a flagged title, or flagged paragraphs
covering most of the text, flag the whole article.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

from .corpus import Article

Span = tuple[int, int]
WHOLE_ARTICLE_SHARE = 0.5  # flagged paragraphs covering this much of the text flag it all

_ROLE_TOKENS = re.compile(
    r"<\|?\s*(?:im_start|im_end|system|assistant|user|endoftext|eot_id|start_header_id)"
    r"\s*\|?>|\[/?INST\]|<<\s*/?SYS\s*>>|<\s*/?s\s*>|^\s*#{2,}\s*(?:instruction|system|"
    r"response)\b|^\s*(?:system|assistant)\s*:", re.IGNORECASE | re.MULTILINE)

_ORDERS = [
    # English
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|"
    r"rules|guidelines|directives?)\b",
    r"\bsystem\s+(?:notice|override|instructions?)\b",
    r"\bfrom\s+now\s+on\b[^.!?\n]{0,40}\b(?:answer|respond|reply)\b",
    r"\b(?:answer|respond|reply)\s+(?:to\s+)?(?:every|all|any|each)\s+(?:question|query|"
    r"request|prompt)s?\s+(?:with|by|saying|that)\b",
    r"\byou\s+(?:are|must|will|should)\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|"
    r"language\s+model|chatbot)\b",
    r"\byou\s+must\s+(?:now\s+)?(?:answer|respond|reply|ignore|say|pretend)\b",
    r"\b(?:ai|language\s+model|llm|chatbot|assistant)[,:]\s+(?:you\s+must|please\s+"
    r"(?:answer|ignore)|answer|respond|ignore)\b",
    # Italian
    r"\b(?:ignora|ignorate|dimentica|dimenticate|trascura|non\s+considerare)\b[^.!?\n]{0,40}"
    r"\b(?:istruzion[ei]|regole|indicazioni|prompt|comandi)\b",
    r"\b(?:avviso|messaggio|comunicazione)\s+(?:importante\s+)?(?:di|del)\s+sistema\b",
    r"\bd['’]ora\s+in\s+(?:poi|avanti)\b[^.!?\n]{0,40}\b(?:rispondi|risponderai|rispondete|"
    r"dovrai\s+rispondere|devi\s+rispondere)\b",
    r"\brispond(?:i|ete|erai)\s+(?:sempre\s+)?(?:a\s+)?(?:ogni|tutte\s+le|qualsiasi|"
    r"qualunque)\s+(?:domand[ae]|richiest[ae])\b",
    r"\b(?:sei|tu\s+sei)\s+(?:ora\s+)?(?:un[' ]?\s*)?(?:assistente|intelligenza\s+artificiale|"
    r"modello\s+linguistico|chatbot)\b",
    # French, German, Spanish, Portuguese: the common openings
    r"\bignore[rz]?\s+(?:toutes\s+)?les\s+instructions\b",
    r"\bignorier(?:e|en)?\b[^.!?\n]{0,30}\b(?:anweisungen|befehle)\b",
    r"\bignora\b[^.!?\n]{0,30}\binstrucciones\b",
    r"\bignore\b[^.!?\n]{0,30}\binstruções\b",
]
_ORDER = re.compile("|".join(f"(?:{p})" for p in _ORDERS), re.IGNORECASE)


def addresses_assistant(text: str) -> bool:
    """Whether ``text`` speaks to a language model: an order to it or a role token."""
    return bool(_ROLE_TOKENS.search(text) or _ORDER.search(text))


def instruction_spans(title: str, text: str) -> tuple[Span, ...]:
    """The spans of ``text`` to keep out of evidence: every paragraph holding a sentence
    that addresses the assistant, or the whole text when the title does or when such
    paragraphs cover most of it."""
    if not text:
        return ()
    if addresses_assistant(title):
        return ((0, len(text)),)
    spans = tuple(span for span in _paragraphs(text) if addresses_assistant(text[span[0]:span[1]]))
    if sum(end - start for start, end in spans) >= WHOLE_ARTICLE_SHARE * len(text.strip()):
        return ((0, len(text)),)
    return spans


def flag_instructions(article: Article) -> Article:
    """``article`` with `Article.instructions` set to its flagged spans."""
    spans = instruction_spans(article.title, article.text)
    return replace(article, instructions=spans) if spans != article.instructions else article


def overlaps(span: Span, flagged: tuple[Span, ...]) -> bool:
    """Whether ``span`` (article offsets) touches any flagged span."""
    start, end = span
    return any(start < f_end and f_start < end for f_start, f_end in flagged)


def _paragraphs(text: str) -> Iterator[Span]:
    """Spans of the paragraphs of ``text`` (blocks of lines between blank lines)."""
    for m in re.finditer(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*", text):
        yield m.start(), m.start() + len(m.group(0).rstrip())
