"""Demand: what a question asks of the sentence that answers it.

A true sentence of the articles is no answer when it does not state what is asked: an
amount, a time or a reason (`rag.asked`), the grave fact asked about (`rag.grave`: "How
many people died?"), the office asked about, of the same body (`rag.roles`), or the words
of the person whose words are asked for (`rag.speech`); nor is one about another year than
the question names ("Quanti ettari sono bruciati nel 2021?" is not answered by "Last year
more than 11,000 hectares were burnt", said in 2026). `Demand.of` reads all five from a
question; `met_by` says whether a sentence meets them. The extractive fallback quotes
only evidence that meets the question's demand.

    >>> Demand.of("Quante persone sono morte nell'alluvione?").kind
    'quantity'
    >>> Demand.of("How many people died?").met_by("The heatwave reached 41 degrees.")
    False
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from .asked import Asked, asked_for, states
from .dates import years_since, years_stated
from .grave import asked_facts, states_facts
from .roles import Role, asked_role, states_role
from .speech import asked_speaker, speaks_in_context


@dataclass(frozen=True)
class Demand:
    """What a sentence must state to answer a question."""

    kind: Asked = ""  # an amount, a number of times, a time, a reason, or "" (anything)
    facts: tuple[str, ...] = ()  # grave facts asked about: "death", "arrest"…
    role: Role | None = None  # the office asked who holds, of its body
    speaker: str = ""  # whose words are asked for
    years: frozenset[int] = frozenset()  # the years the question names

    @classmethod
    def of(cls, question: str, *, kinds: bool = True, speakers: bool = True) -> "Demand":
        """What ``question`` demands; ``kinds`` reads the kind, facts and office asked
        (`check_asked_kind`), ``speakers`` whose words are asked for (`check_speakers`)."""
        speaker = asked_speaker(question) if speakers else ""
        if not kinds:
            return cls(speaker=speaker)
        return cls(asked_for(question), tuple(asked_facts(question)), asked_role(question),
                   speaker, years_stated(question))

    def met_by(self, text: str, lang: str | None = None, said_on: dt.date | None = None,
               before: Callable[[], str] = str, setting: str = "") -> bool:
        """Whether ``text`` (in ``lang``, said on ``said_on`` when known; ``before`` gives
        the sentence before it; ``setting`` its article's headline) states everything
        demanded."""
        return (states(self.kind, text, lang) and states_facts(self.facts, text)
                and states_role(self.role, text, setting)
                and (not self.speaker or speaks_in_context(self.speaker, text, before))
                and self.in_years(text, said_on))

    def in_years(self, text: str, said_on: dt.date | None = None) -> bool:
        """Whether ``text`` may be about the years asked: it names one of them, a year before
        them that it speaks of as holding since, or none."""
        stated = years_stated(text, said_on)
        return (not self.years or not stated or bool(stated & self.years)
                or any(asked >= since for asked in self.years for since in years_since(text)))
