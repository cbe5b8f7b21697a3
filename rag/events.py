"""Events: what answering a question streams, in order, before the answer is final.

    Stage("searching") · Sources(passages, evidence) · Stage("reading") ·
    Stage("writing") · Draft("…") … · Stage("checking") · Done(answer)

A face shows the sources as soon as they arrive, the draft as it is written (as a draft:
the checks may change it), and the checked `Answer` when `Done` comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from .answer import Answer
from .evidence import Evidence
from .retrieve import Hit

StageName = Literal["understanding", "searching", "reading", "writing", "checking"]


@dataclass(frozen=True)
class Stage:
    """A stage begins, ``elapsed_ms`` after the question."""

    name: StageName
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Sources:
    """The retrieved passages and the evidence chosen from them, before any generation."""

    passages: tuple[Hit, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Draft:
    """A piece of the model's draft answer, as it is written."""

    text: str


@dataclass(frozen=True)
class Done:
    """The checked answer."""

    answer: Answer


Event = Union[Stage, Sources, Draft, Done]
