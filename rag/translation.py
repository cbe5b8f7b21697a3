"""Translation: a question put into the language of the passages it finds.

Across languages no word of a question matches its passages', and the dense score of the
sentence that answers it is lower too: "Where is the job located?" scores below
`min_evidence` against "L’annuncio di lavoro riporta la località di Austin…" and would be
refused. When that happens and the best evidence sentence, or most passages found, are in
another language (`passage_language`), `rag.answering` has the model translate the question
(`translate_question`: one short greedy call under its own system prompt) and searches
again with it.
"""

from __future__ import annotations

from typing import Sequence

from . import prompts
from .generate import Generator
from .retrieve import Hit

TRANSLATE_TOKENS = 80
# The passages a question is translated for: most of the first ones in another language.
LANGUAGE_PASSAGES = 5


def needs_translation(lang: str, asked: str) -> bool:
    """Whether text in ``lang`` is in another language than ``asked`` (the question's), one
    the model can be asked for (`prompts.LANGUAGE_NAMES`)."""
    return bool(lang) and lang != asked and lang in prompts.LANGUAGE_NAMES


def passage_language(hits: Sequence[Hit], lang: str, best: str = "") -> str:
    """The language of the best evidence sentence (``best``), or else the one most of the
    first `LANGUAGE_PASSAGES` ``hits`` are in, when it is not ``lang`` (the question's)
    and the model can be asked for it; else "". In a corpus of two languages the first
    passages of an English question are mostly English, while the sentence that answers
    it may be Italian ("What did the Filt Cgil secretary warn about?")."""
    if needs_translation(best, lang):
        return best
    langs = [h.chunk.lang for h in hits[:LANGUAGE_PASSAGES] if h.chunk.lang]
    if not langs:
        return ""
    top = max(set(langs), key=langs.count)
    if not needs_translation(top, lang) or 2 * langs.count(top) <= len(langs):
        return ""
    return top


def other_language(hits: Sequence[Hit], lang: str) -> str:
    """The language most of the first `LANGUAGE_PASSAGES` ``hits`` in a language other than
    ``lang`` are in, when the model can be asked for it; else "". When no article names
    what the question names, the articles may name it in their own language ("BCE" is
    "ECB" in English, "Regno Unito" "UK")."""
    langs = [h.chunk.lang for h in hits[:LANGUAGE_PASSAGES]
             if needs_translation(h.chunk.lang, lang)]
    return max(set(langs), key=langs.count) if langs else ""


def translate_question(generator: Generator, question: str, lang: str) -> str:
    """``question`` in ``lang``, by the model (greedy); the question itself when the
    model replies with nothing usable."""
    text = "".join(generator.generate(prompts.translate_messages(question, lang),
                                      max_tokens=TRANSLATE_TOKENS, temperature=0.0))
    return prompts.question_reply(text, question)
