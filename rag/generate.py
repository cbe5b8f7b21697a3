"""Generation: the `Generator` protocol and its llama.cpp (llama-cpp-python) implementation.

The GGUF's own chat template formats the messages. Weights load on first use. One
model instance is shared by every caller, so generation is serialized by a lock;
llama.cpp reuses the KV cache of the longest common prompt prefix, so the fixed
instructions at the head of every prompt are evaluated only once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator, Protocol, Sequence, runtime_checkable

from .settings import Settings


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@runtime_checkable
class Generator(Protocol):
    """Streams the reply to a chat. `name` identifies the model."""

    name: str
    context_tokens: int

    def generate(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0, stop: Sequence[str] = ()) -> Iterator[str]:
        """Yield the reply's text piece by piece."""

    def count_tokens(self, text: str) -> int: ...


class LlamaCppGenerator:
    """A local GGUF model run by llama.cpp on the CPU."""

    def __init__(self, path: Path, name: str, *, context_tokens: int = 4096,
                 threads: int = 1, seed: int = 0):
        self.path = Path(path)
        self.name = name
        self.context_tokens = context_tokens
        self.threads = threads
        self.seed = seed
        self._lock = threading.Lock()

    @cached_property
    def llm(self):
        from llama_cpp import Llama

        return Llama(model_path=str(self.path), n_ctx=self.context_tokens,
                     n_threads=self.threads, n_threads_batch=self.threads,
                     seed=self.seed, verbose=False)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def generate(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0, stop: Sequence[str] = ()) -> Iterator[str]:
        payload = [{"role": m.role, "content": m.content} for m in messages]
        with self._lock:
            stream = self.llm.create_chat_completion(
                payload, max_tokens=max_tokens, temperature=temperature,
                top_k=1 if temperature == 0 else 40, stop=list(stop) or None,
                seed=self.seed, stream=True)
            for event in stream:
                piece = event["choices"][0]["delta"].get("content")
                if piece:
                    yield piece


def build_generator(settings: Settings) -> LlamaCppGenerator:
    """The LLM named by the settings; its file is checked, its weights not yet loaded."""
    from .models import ensure_ready

    name, path = ensure_ready(settings.llm, "llm", settings.home)
    return LlamaCppGenerator(path, name, context_tokens=settings.context_tokens,
                             threads=settings.usable_threads, seed=settings.seed)
