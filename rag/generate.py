"""Generation: the `Generator` protocol and its llama.cpp (llama-cpp-python) implementation.

The GGUF's own chat template formats the messages, and decoding is llama-cpp-python's own
`create_chat_completion` (greedy at temperature 0). One model instance is shared by every
caller, so generation is serialized by a lock.

The fixed head of every prompt (the instructions) is evaluated once per machine, not per
question or per process: `prime` evaluates it, and `rag.prefix_state` keeps its llama.cpp
state on disk for the next process, which loads it in a fraction of a second. A prompt that
starts with the primed prefix is always read from the prefix's end (never from a longer
head it happens to share with an earlier prompt), because llama.cpp's numerics depend on
where a prompt is split: so an answer does not depend on what was asked before, nor on
whether its process loaded the prefix from disk or evaluated it.

Loading is lazy: building a generator reads nothing. The weights load on the first call of
`prime`, `generate` or `count_tokens`. llama.cpp releases Python's GIL while it reads the
weights and evaluates, so a caller that wants a fast cold start runs `prime` in a thread
as soon as it knows the system prompt, while the embedder loads in the main thread; a
`generate` that comes meanwhile waits for it.

Prompt-lookup decoding and a draft model (the 0.5B) were measured against this plain
greedy decoding (benchmarks/generation.py, AVX-512 and AVX2 builds): on a CPU with one or
two cores, checking a batch of drafted tokens costs nearly as much as generating them one
by one (a batch of 1 + 4 drafts about 3.5 single steps), so both were slower (0.3-0.8x the
plain tokens per CPU second), llama-cpp-python's prompt lookup makes every prompt token
compute its logits (a slower first token), and the batched checks changed some greedy
answers. Neither is used. Nor is flash attention: raw llama.cpp reads a prompt from scratch
with it 1.2x faster (AVX-512; 1.06x AVX2), but in real answers after the restored prefix it
showed no gain in time to first token beyond the spread between runs, and it changed 5 of
20 answers.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

from .prefix_state import Primed, PrefixStore, prime_prefix, state_key
from .settings import Settings

# Marks the end of the prefix's last message when the chat template renders it.
_END_OF_PREFIX = "\u0000rag-prefix-end\u0000"


log = logging.getLogger(__name__)


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
                 temperature: float = 0.0, stop: Sequence[str] = (),
                 bias: Mapping[str, float] | None = None) -> Iterator[str]:
        """Yield the reply's text piece by piece. ``bias`` is added to the logit of each of
        its texts that is one token of the model's vocabulary ("NONE": -1.0 makes the
        greedy reply NONE only when it beats the likeliest other token by 1)."""

    def count_tokens(self, text: str) -> int: ...

    def prime(self, prefix: Sequence[Message]) -> Primed:
        """Load the model if needed and make it hold the evaluated state of ``prefix``: the
        messages every later prompt starts with (the system message, and the fixed head of
        the user message), up to the end of the last one's text. A prompt that starts with
        them then pays only for the rest. Thread-safe; call it early, in a thread."""


@dataclass(frozen=True)
class _Prefix:
    messages: tuple[Message, ...]
    tokens: tuple[int, ...]
    key: str  # of its saved state


class LlamaCppGenerator:
    """A local GGUF model run by llama.cpp on the CPU.

    ``state_dir``: where `prime` keeps evaluated prefixes (None: in memory only)."""

    def __init__(self, path: Path, name: str, *, context_tokens: int = 4096,
                 threads: int = 1, seed: int = 0, state_dir: Path | None = None):
        self.path = Path(path)
        self.name = name
        self.context_tokens = context_tokens
        self.threads = threads
        self.seed = seed
        self.store = PrefixStore(state_dir) if state_dir else None
        self._llm: Any = None
        self._prefix: _Prefix | None = None  # the last primed prefix
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()  # one generation (or priming) at a time

    @property
    def llm(self):
        """The llama-cpp-python model, loaded on first use."""
        with self._load_lock:
            if self._llm is None:
                from llama_cpp import Llama

                _keep_standard_streams()
                self._llm = Llama(model_path=str(self.path), n_ctx=self.context_tokens,
                                  n_threads=self.threads, n_threads_batch=self.threads,
                                  seed=self.seed, verbose=False)
            return self._llm

    def _token_bias(self, bias: Mapping[str, float]) -> dict[int, float]:
        """``bias`` by token id, for the texts that are one token."""
        ids = {text: self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
               for text in bias}
        return {ids[text][0]: value for text, value in bias.items() if len(ids[text]) == 1}

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def generate(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0, stop: Sequence[str] = (),
                 bias: Mapping[str, float] | None = None) -> Iterator[str]:
        payload = [{"role": m.role, "content": m.content} for m in messages]
        with self._lock:
            self._read_after_prefix(messages)
            stream = self.llm.create_chat_completion(
                payload, max_tokens=max_tokens, temperature=temperature,
                top_k=1 if temperature == 0 else 40, stop=list(stop) or None,
                seed=self.seed, stream=True, logit_bias=self._token_bias(bias or {}) or None)
            for event in stream:
                piece = event["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

    def prime(self, prefix: Sequence[Message]) -> Primed:
        with self._lock:  # before loading: a `generate` that comes meanwhile waits for all
            if self._prefix is None or self._prefix.messages != tuple(prefix):
                tokens = self.prefix_tokens(prefix)  # rendered, tokenized and keyed once
                self._prefix = _Prefix(tuple(prefix), tuple(tokens),
                                       state_key(self._state_parts(), tokens))
            return self._hold_prefix()

    def _hold_prefix(self) -> Primed:
        prefix = self._prefix
        return prime_prefix(LlamaPrefix(self.llm), prefix.tokens, self.store, self.name,
                            prefix.key)

    def _read_after_prefix(self, messages: Sequence[Message]) -> None:
        """A prompt that starts with the primed prefix is read from the prefix's end, any
        other from its start, never from a longer head it shares with an earlier prompt:
        every answer is then computed the same way whatever was asked before, and as in a
        new process that loaded the saved prefix (llama.cpp's numerics depend on where a
        prompt is split; two questions over the same evidence differ only in their last
        tokens, and a reused head changed a greedy answer)."""
        prefix = self._prefix
        if prefix is None or not prefix.tokens or not _starts_with(messages, prefix.messages):
            self.llm.n_tokens = 0  # read from the start: llama-cpp-python would reuse any head
            return
        self._hold_prefix()
        self.llm.n_tokens = len(prefix.tokens)

    def prefix_tokens(self, prefix: Sequence[Message]) -> list[int]:
        """The tokens every prompt that starts with ``prefix`` starts with: the chat
        template's rendering up to the end of the last message's text, tokenized as
        `create_chat_completion` tokenizes a prompt. Empty when the model's chat format is
        not its GGUF template (nothing is primed then)."""
        llm = self.llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not prefix or not template or llm.chat_handler is not None \
                or llm.chat_format != "chat_template.default":
            return []
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(template=template,
                                        eos_token=_token_text(llm, llm.token_eos()),
                                        bos_token=_token_text(llm, llm.token_bos()))
        payload = [{"role": m.role, "content": m.content} for m in prefix]
        payload[-1]["content"] += _END_OF_PREFIX
        text = formatter(messages=payload).prompt
        if _END_OF_PREFIX not in text:
            return []
        head = text.split(_END_OF_PREFIX, 1)[0]
        return list(llm.tokenize(head.encode("utf-8"), add_bos=False, special=True))

    def _state_parts(self) -> dict[str, Any]:
        """What a saved prefix state depends on besides its tokens: the exact model file,
        the llama.cpp build (its numerics differ between builds) and the context."""
        import llama_cpp

        library = Path(getattr(getattr(llama_cpp.llama_cpp, "_lib", None), "_name",
                               llama_cpp.__file__))
        return {"format": 1, "model": _file_identity(self.path),
                "llama_cpp": llama_cpp.__version__, "library": _file_identity(library),
                "system": llama_cpp.llama_print_system_info().decode(errors="replace"),
                "n_ctx": self.context_tokens, "threads": self.threads,
                "n_batch": self.llm.n_batch}


class LlamaPrefix:
    """`rag.prefix_state.PrefixModel` over a llama-cpp-python model (sequence 0 of its
    context). After a restore, the model's own prompt cache knows the restored tokens, so
    `create_chat_completion` evaluates only what follows them."""

    def __init__(self, llm):
        self.llm = llm

    def cached_tokens(self) -> list[int]:
        return self.llm.input_ids[:self.llm.n_tokens].tolist()

    def evaluate(self, tokens: Sequence[int]) -> None:
        self.llm.reset()
        self.llm.eval(list(tokens))

    def snapshot(self) -> bytes:
        import llama_cpp

        ctx = self.llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
        return ctypes.string_at(buffer, written)

    def restore(self, tokens: Sequence[int], state: bytes) -> bool:
        import llama_cpp

        llm = self.llm
        llm.reset()
        memory = llama_cpp.llama_get_memory(llm.ctx)
        llama_cpp.llama_memory_seq_rm(memory, -1, -1, -1)
        if not tokens or not state or len(tokens) > llm.n_ctx():
            return False
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(llm.ctx, buffer, len(state), 0) == 0:
            llama_cpp.llama_memory_seq_rm(memory, -1, -1, -1)
            return False
        llm.input_ids[:len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        return True


class _StreamsKept:
    """A stand-in for llama-cpp-python's ``suppress_stdout_stderr``, which points the
    process's file descriptors 1 and 2 at /dev/null while a model loads: from the thread
    that loads the LLM in the background, that swallowed whatever the main thread printed
    meanwhile (`rag ask --json` answering at once printed nothing). llama.cpp's own logs
    go to Python logging instead (`_log_llama`): errors as errors, the rest as debug."""

    def __init__(self, disable: bool = True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


_LOG_CALLBACK: list = []  # llama.cpp keeps a pointer to it: it must outlive every call


def _keep_standard_streams() -> None:
    import llama_cpp

    for name in ("llama", "_internals"):  # the modules that load a model (once imported)
        module = getattr(llama_cpp, name, None)
        if hasattr(module, "suppress_stdout_stderr"):
            module.suppress_stdout_stderr = _StreamsKept
    if not _LOG_CALLBACK and hasattr(llama_cpp, "llama_log_set"):
        _LOG_CALLBACK.append(llama_cpp.llama_log_callback(_log_llama))
        llama_cpp.llama_log_set(_LOG_CALLBACK[0], ctypes.c_void_p(0))


def _log_llama(level: int, text: bytes, user_data) -> None:
    log.log(logging.ERROR if level == 4 else logging.DEBUG,  # ggml.h: GGML_LOG_LEVEL_ERROR = 4
            "llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


def _starts_with(messages: Sequence[Message], prefix: Sequence[Message]) -> bool:
    """Whether ``messages`` begin with ``prefix`` (whose last text may be continued)."""
    if not prefix or len(messages) < len(prefix):
        return False
    *whole, last = prefix
    head = messages[len(whole)]
    return list(messages[:len(whole)]) == whole and head.role == last.role \
        and head.content.startswith(last.content)


def _token_text(llm, token: int) -> str:
    return llm.detokenize([token], special=True).decode(errors="replace") if token >= 0 else ""


def _file_identity(path: Path) -> dict[str, Any]:
    """A file as its path, size and modification time (cheap; no hashing of 1 GB)."""
    stat = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


def build_generator(settings: Settings) -> LlamaCppGenerator:
    """The LLM named by the settings; its file is checked, its weights not yet loaded.
    Evaluated prompt prefixes are kept in ``{home}/prompt-cache``."""
    from .models import ensure_ready

    name, path = ensure_ready(settings.llm, "llm", settings.home)
    return LlamaCppGenerator(path, name, context_tokens=settings.context_tokens,
                             threads=settings.usable_threads, seed=settings.seed,
                             state_dir=settings.home / "prompt-cache")
