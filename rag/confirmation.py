"""Confirmation: before a sentence is quoted as the answer, the model answers from it alone.

The extractive fallback (`rag.answering`) quotes an evidence sentence when no sentence of
the draft is verified. Scores and the question's demand (`rag.demand`) pick the sentence
most likely to answer, but a true sentence on a neighbouring matter passes them: "Quanto
costa l'elettricità in Spagna?" found "Electricity demand hit 41,200 megawatts…", "How many
hotels are there in Venice?" the headline on Venice's access fee, "Quando è previsto lo
sciopero dei medici?" the transport strike's date. So before it is quoted, the model is
given the question and that sentence (with the sentence before, when it points back) and
told to answer with the sentence's words or to reply NONE; a NONE leaves the quote out and
the assistant abstains. Some still pass: the model answers "Who scored Inter's third goal?"
from the sentence on the winning goal.

It is one short greedy call under its own system prompt (about 100 tokens: about a second
on two cores), made only when the answer would be a quote. Made on a generated answer's
verified sentences too, it would cost more than it saves: over the 130 generated answers of
the news dev set (`benchmarks/news.py`) it refused 10 right answers to catch 3 wrong ones.
Reading one sentence is a task a 1.5B model does far better than judging one: asked "does
this sentence answer?", its yes/no odds barely separated right quotes from wrong ones on the
news dev questions. Nor
does the sentence before, given as context, help: on RealTime QA dev's 68 quotes it let two
more non-answers through and still refused "The White House has said shots could begin as
early as next week" (9 refused, 3 of them right, against 11 and 4 without it). The
article's headline as context changed 5 of the 68: one more right quote passed and one more
was refused, one more non-answer was refused and two more passed ("Which country declared
victory against the Covid-19 pandemic?" answered "South Korea" from a sentence on South
Korea's ministry, under the headline on North Korea's victory).
"""

from __future__ import annotations

import re

from . import prompts
from .generate import Generator

CONFIRM_TOKENS = 4
# NONE is the reply only when the model is sure: its logit must beat the likeliest other
# first token's by this much (about 2.7 times as likely). A plain greedy NONE refused 9 of
# 20 right quotes for SQuAD-it's machine-translated questions; with this margin, 3 of 20
# (and 2 of 31 right quotes on news, against 8 of 16 wrong ones; both dev sets).
CONFIRM_MARGIN = 1.0
# The model's reply when the sentence does not answer: "NONE", "None.", "none"
_NONE = re.compile(r"^\W*none\b", re.IGNORECASE)


def confirms(generator: Generator, question: str, sentence: str) -> bool:
    """Whether the model, given only ``sentence``, answers ``question`` from it (greedy)
    rather than replying NONE (by `CONFIRM_MARGIN`)."""
    reply = "".join(generator.generate(prompts.confirm_messages(question, sentence),
                                       max_tokens=CONFIRM_TOKENS, temperature=0.0,
                                       bias={"NONE": -CONFIRM_MARGIN}))
    return not _NONE.match(reply)
