"""Small deterministic stand-ins for the real models, behind the same protocols."""

from __future__ import annotations

import hashlib
import re
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from rag.embed import PassageVectors
from rag.generate import Message
from rag.lexical import analyze
from rag.prefix_state import Primed
from rag.prompts import CONFIRM, TRANSLATE

DIM = 256
# A word the fake generator is biased against this much it never says.
BANNED = -100.0


class FakeEmbedder:
    """Hashed bag of stemmed words: texts that share words have a high cosine."""

    name = "fake-embedder"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    @property
    def dim(self) -> int:
        return DIM

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed_passages(self, texts: Sequence[str], titles: Sequence[str] | None,
                       spans: Sequence[Sequence[tuple[int, int]]], *,
                       progress: bool = False) -> PassageVectors:
        """Passage vectors, and each sentence span's bag of words (the span's own text)."""
        passages = self.embed(texts, titles=titles, progress=progress)
        return PassageVectors(passages, tuple(
            self.embed([text[a:b] for a, b in own]) if own else passages[:0]
            for text, own in zip(texts, spans)))

    def embed(self, texts: Sequence[str], *, kind: str = "document",
              titles: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        self.calls.append((kind, len(texts)))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in analyze(text, "en") + analyze(text, "it"):
                h = int(hashlib.md5(token.encode()).hexdigest(), 16)
                out[i, h % DIM] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out


def extractive_reply(messages: Sequence[Message]) -> str:
    """Copy the evidence sentence sharing most words with the question, citing it."""
    user = messages[-1].content
    question = user.split("Question:", 1)[1].split("\n")[0] if "Question:" in user else user
    items = re.findall(r"^\[(\d+)\] (.*)$", user, flags=re.M)
    if not items:
        return "NOT_FOUND"
    q = set(analyze(question, "en")) | set(analyze(question, "it"))
    n, text = max(items, key=lambda item: len(q & set(analyze(item[1], "en"))))
    if not q & set(analyze(text, "en")):
        return "NOT_FOUND"
    return f"{text.rstrip('.')} [{n}]."


class FakeGenerator:
    """Replies with ``reply(messages)``, streamed word by word; asked to translate a
    question, with its entry in ``translations``, else the question itself; asked to answer
    from one sentence (`rag.confirmation`), NONE when the sentence begins with one of
    ``unanswered``, else the sentence. A word of its reply biased by `BANNED` or less is
    left out. Records the prompts."""

    name = "fake-llm"
    context_tokens = 4096

    def __init__(self, reply: Callable[[Sequence[Message]], str] = extractive_reply,
                 translations: dict[str, str] | None = None,
                 unanswered: Sequence[str] = ()):
        self.reply = reply
        self.translations = translations or {}
        self.unanswered = tuple(unanswered)
        self.prompts: list[list[Message]] = []
        self.primed: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0, stop: Sequence[str] = (),
                 bias: Mapping[str, float] | None = None) -> Iterator[str]:
        self.prompts.append(list(messages))
        if messages[0].content.startswith(TRANSLATE.split("{")[0]):
            asked = messages[-1].content
            words = self.translations.get(asked, asked).split(" ")
        elif messages[0].content == CONFIRM:
            sentence = messages[-1].content.split("Sentence: ", 1)[1].split("\nQuestion: ")[0]
            unanswered = any(sentence.startswith(start) for start in self.unanswered)
            words = ["NONE" if unanswered else sentence]
        else:
            words = self.reply(messages).split(" ")
        banned = {text for text, value in (bias or {}).items() if value <= BANNED}
        words = [w for w in words if w not in banned] or ["…"]
        for i, word in enumerate(words[:max_tokens]):
            yield word if i == 0 else " " + word

    def prime(self, prefix: Sequence[Message]) -> Primed:
        """Records the prefix; "evaluated" the first time, then "memory"."""
        source = "memory" if list(prefix) in self.primed else "evaluated"
        self.primed.append(list(prefix))
        return Primed(sum(self.count_tokens(m.content) for m in prefix), source, 0.0)


def citing(sentence_start: str, claim: str) -> Callable[[Sequence[Message]], str]:
    """A fake model's reply: ``claim``, citing the evidence item that begins so."""
    def reply(messages: Sequence[Message]) -> str:
        items = dict(re.findall(r"^\[(\d+)\] (.*)$", messages[-1].content, flags=re.M))
        number = next(n for n, text in items.items() if text.startswith(sentence_start))
        return f"{claim} [{number}]."
    return reply
