"""Settings: one frozen dataclass with a default for every knob.

Precedence, lowest first: the defaults below, ``RAG_*`` environment variables
(``RAG_TOP_K=8``), then explicit overrides (CLI flags, keyword arguments).
Everything is validated on load: an unknown key, a value of the wrong type, a choice
outside its ``Literal`` or a number out of range is a `SettingsError` naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

from .errors import RagError

ENV_PREFIX = "RAG_"


class SettingsError(RagError, ValueError):
    """A setting has an unknown name or a value of the wrong type."""


def _default_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rag"


@dataclass(frozen=True)
class Settings:
    # Where prepared models live (outside the repository).
    home: Path = dataclasses.field(default_factory=_default_home)
    # The on-disk index; several corpora can live side by side in different dirs.
    index_dir: Path = Path("index")
    # Where the index lives instead: a postgresql:// URL (PostgreSQL with pgvector, for
    # teams); "" = the local index folder `index_dir`.
    store: str = ""
    # Where uploaded and pasted articles are saved (under uploads/) before indexing.
    corpus_dir: Path = Path("corpus")
    # Registry name (see `rag models`) or a local sentence-transformers directory.
    embedder: str = "embeddinggemma-300m"
    # Registry name or a local GGUF file.
    llm: str = "qwen2.5-coder-1.5b"
    # "auto" picks bfloat16 where the CPU has native bf16 support, else float32.
    embed_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # Matryoshka truncation (EmbeddingGemma supports 768/512/256/128); 0 = full.
    embed_dim: int = 0
    # Passages embedded per forward pass.
    embed_batch_size: int = 16
    # Document vectors are kept in {home}/vector-cache.sqlite, so no passage is embedded
    # twice (rebuilds, several indexes over the same articles); its size in MB; 0 = off.
    embed_cache_mb: int = 1024
    # The embedder's forward pass (see rag/backends.py): "torch" is the sentence-transformers
    # reference (in embed_dtype); "onnx-int8" (for CPUs with VNNI) and "onnx-int8-mixed"
    # (without) int8 copies made locally; "auto" takes this CPU's copy once it is made
    # (scripts/setup.sh makes it), except on a CPU with bf16 and no VNNI, which keeps torch.
    embed_backend: Literal["auto", "torch", "onnx-int8", "onnx-int8-mixed"] = "auto"
    # Chunk size and overlap, in the embedder's own tokens.
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    # Retrieval: "hybrid", "dense" or "keyword".
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    # Candidates taken from each retriever before fusion.
    candidates: int = 50
    # Passages given to the model.
    top_k: int = 4
    # The k of reciprocal-rank fusion (fusion "rrf").
    rrf_k: int = 60
    # Weight of the dense side in the fusion (keyword gets 1 - this); tuned on SQuAD-it dev.
    dense_weight: float = 0.7
    # New indexes keep one vector per passage sentence (pooled from the passage's own
    # embedding): the answer's evidence is chosen with them, and retrieval also ranks a
    # passage by its best sentence. An existing index keeps what it was built with.
    sentence_vectors: bool = True
    # Share of the dense weight given to the best sentence (index with sentence vectors).
    sentence_weight: float = 0.75
    # Hybrid fusion: "convex" (z-normalized scores) or "rrf" (weighted reciprocal rank).
    fusion: Literal["convex", "rrf"] = "convex"
    # Prefer recent articles: 0 = off; otherwise a half-life in days.
    recency_half_life_days: float = 0.0
    # Time expressions in a question ("last June", "ieri") boost articles of that period.
    date_hints: bool = True
    # How much: added to an in-period passage's fused score (scaled to 0..1 over candidates).
    date_boost: float = 0.1
    # Evidence: how many sentences of the retrieved passages the model reads, and how they
    # are scored: cosine to the question, plus this weight times the share of the
    # question's (rarer) words they hold, minus this weight times log(passage rank).
    evidence_sentences: int = 4
    evidence_lexical_weight: float = 0.3
    evidence_rank_weight: float = 0.02
    # The model reads only the evidence scoring within this of the best item: what scores
    # lower could only make padding, which `max_relevance_gap` leaves out, and each item
    # read costs prompt time (0.2: a sooner first token, slightly fewer right answers;
    # BENCHMARKS.md). The fallback still draws on all. 0 = read every item.
    evidence_gap: float = 0.0
    # When no evidence scores `min_evidence` and some of the first passages found are in
    # another language than the question, the model translates the question (one short call) and
    # the passages and evidence are found again with it: across languages no word matches
    # and every score is lower.
    translate_questions: bool = True
    # Below this best evidence score nothing answers the question: abstain without
    # calling the model. A sentence of the answer resting only on evidence scoring below
    # it is padding, left out.
    min_evidence: float = 0.45
    # Evidence comes only from articles that name one of the question's names (when it
    # names any): a question about Torino is not answered from an article on Newcastle.
    check_subject: bool = True
    # Checks on the draft: each sentence against the evidence it cites.
    verify: bool = True
    # A sentence is verified when its cosine (as a query) to the evidence it cites (as a
    # document) is at least this.
    min_support: float = 0.48
    # A word a sentence takes from the question must be one the evidence it cites uses
    # (when both are in one language): else it states the question's premise, not the
    # evidence.
    check_question_words: bool = True
    # A question asking how many / how much / when / why, or for a measure by name (a
    # price, a population: `rag.asked`), is answered only by sentences that state an
    # amount, a time or a reason (a cause, a purpose, a condition), one about a death, an
    # injury, an arrest, a verdict, a resignation or a dismissal only by sentences stating it
    # (`rag.grave`), and one asking who holds an office only by sentences giving it of the
    # same body (`rag.roles`), and one naming a year not by sentences about other years
    # (`rag.demand`): a draft stating none is no answer, and the fallback quotes the best
    # evidence that states one (or abstains).
    check_asked_kind: bool = True
    # Who said it (`rag.speech`): a sentence saying someone said or thinks something must
    # cite one in which they speak, not one that merely names them, and what it says they
    # said (or, answering "who…?", did) must not be stated far better by a sentence that
    # does not name them; a question asking for someone's words ("what did Jassy say?") is
    # answered only from sentences in which they speak. Off: a speaker need only be named
    # in the sentence cited.
    check_speakers: bool = True
    # A verified sentence whose evidence scores this much below the best evidence is
    # padding (true, but not an answer) and is left out. 0 = keep every sentence.
    max_relevance_gap: float = 0.20
    # When no sentence of the draft is verified, answer with the best evidence itself
    # (quoted, or restated in the question's language and checked) if it scores at least
    # `min_extract`.
    extractive_fallback: bool = True
    min_extract: float = 0.55
    # The fallback quotes the evidence the unverified draft drew on (the model read every
    # item): the one stating the numbers and names a draft sentence's cited item does not,
    # else the one holding most of its answer words; with none in common, the best evidence.
    extract_by_draft: bool = True
    # Before quoting a sentence, the model is asked the question with that sentence alone
    # and quotes it only if it answers from it (not "NONE"): a true sentence on a
    # neighbouring matter is no answer (`rag.confirmation`).
    confirm_quotes: bool = True
    # A restatement of a quote in another language must read as the same sentence: cosine
    # at least this.
    min_translation: float = 0.80
    # Generation: the draft stops after this many sentences, or tokens.
    max_answer_sentences: int = 3
    max_answer_tokens: int = 320
    # Sampling temperature (0: greedy, the same answer every time).
    temperature: float = 0.0
    # The LLM's context window, in tokens.
    context_tokens: int = 4096
    # CPU threads for llama.cpp and the embedder; 0 = all usable cores.
    threads: int = 0
    # Sampling seed.
    seed: int = 0
    # The chat page and the HTTP API (`rag serve`); the largest upload or request body.
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: int = 20
    # A token the HTTP API accepts as `Authorization: Bearer <token>` (an OpenAI client's
    # api_key), and the page as a password; "" = none. Serving beyond loopback needs it
    # or a user name and password (`rag serve --auth`).
    api_token: str = dataclasses.field(default="", repr=False)
    # Pages and feeds (rag add, rag feeds, rag sync): seconds one fetch may take in all,
    # and the largest page, feed or PDF fetched, in MB.
    fetch_timeout: float = 20.0
    fetch_max_mb: int = 20
    # While `rag serve` runs, sync the feeds every this many minutes; 0 = never.
    sync_minutes: float = 0.0

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults, then ``RAG_*`` variables, then ``overrides`` (None values are skipped)."""
        environ = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX):].lower()
            if name not in known:
                raise SettingsError(
                    f"unknown setting {key}; known: "
                    + ", ".join(ENV_PREFIX + n.upper() for n in known))
            values[name] = _convert(known[name], raw, key)
        for name, value in (overrides or {}).items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r}; known: {', '.join(known)}")
            if value is not None:
                values[name] = _convert(known[name], value, name)
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (values converted as from the CLI)."""
        return dataclasses.replace(
            self, **{k: _convert(_field(k), v, k) for k, v in changes.items() if v is not None})

    @property
    def usable_threads(self) -> int:
        return self.threads or usable_cores()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v)
                for f in fields(self)}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _field(name: str) -> dataclasses.Field:
    for f in fields(Settings):
        if f.name == name:
            return f
    raise SettingsError(f"unknown setting {name!r}")


def _type_of(field: dataclasses.Field) -> Any:
    return get_type_hints(Settings)[field.name]


def _convert(field: dataclasses.Field, value: Any, label: str) -> Any:
    kind = _type_of(field)
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if str(value) not in choices:
            raise SettingsError(f"setting {label}: {value!r} is not one of "
                                f"{', '.join(map(str, choices))}")
        return str(value)
    name = getattr(kind, "__name__", str(kind))
    try:
        if kind is Path:
            return Path(value).expanduser()
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {label}: {value!r} is not a valid {name}") from None


def _validate(settings: "Settings") -> None:
    """Ranges and choices every field must respect, checked on construction."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        kind = _type_of(f)
        if get_origin(kind) is Literal and value not in get_args(kind):
            raise SettingsError(f"setting {f.name}: {value!r} is not one of "
                                f"{', '.join(map(str, get_args(kind)))}")
        if kind in (int, float) and not isinstance(value, bool) and value < 0:
            raise SettingsError(f"setting {f.name}: {value!r} must not be negative")
    for name in ("top_k", "candidates", "chunk_tokens", "embed_batch_size",
                 "max_answer_tokens", "context_tokens", "max_upload_mb", "fetch_timeout",
                 "fetch_max_mb"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name}: must be at least 1")
    for name in ("dense_weight", "sentence_weight"):
        if not 0 <= getattr(settings, name) <= 1:
            raise SettingsError(f"setting {name}: must be between 0 and 1")
    if settings.chunk_overlap >= settings.chunk_tokens:
        raise SettingsError("setting chunk_overlap: must be smaller than chunk_tokens")
    if not 0 < settings.port < 65536:
        raise SettingsError(f"setting port: {settings.port} is not a TCP port")
