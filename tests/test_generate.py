"""Generation: saved prompt prefixes (rag.prefix_state) and the llama.cpp generator's
priming, with a fake model; one end-to-end test with the real model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rag import prompts
from rag.generate import LlamaCppGenerator, Message, _starts_with
from rag.models import ensure_ready, status
from rag.prefix_state import MAGIC, PrefixStore, prime_prefix, state_key
from rag.settings import Settings
from tests.fakes import FakeGenerator

PARTS = {"model": {"path": "/m/model.gguf", "size": 1, "mtime_ns": 2}, "n_ctx": 4096}
TOKENS = [11, 22, 33, 44]


class FakePrefixModel:
    """Holds "state" = the tokens it evaluated, serialized; refuses what `refuse` says."""

    def __init__(self, refuse: bool = False):
        self.tokens: list[int] = []
        self.evaluated: list[list[int]] = []
        self.restored: list[list[int]] = []
        self.refuse = refuse

    def cached_tokens(self):
        return list(self.tokens)

    def evaluate(self, tokens):
        self.evaluated.append(list(tokens))
        self.tokens = list(tokens)

    def snapshot(self) -> bytes:
        return b"KV:" + ",".join(map(str, self.tokens)).encode()

    def restore(self, tokens, state: bytes) -> bool:
        if self.refuse or state != b"KV:" + ",".join(map(str, tokens)).encode():
            self.tokens = []
            return False
        self.restored.append(list(tokens))
        self.tokens = list(tokens)
        return True


def prime(model, store, tokens=TOKENS, parts=PARTS):
    return prime_prefix(model, tokens, store, "qwen", state_key(parts, tokens))


def test_first_prime_evaluates_and_saves_then_a_new_model_loads_it(tmp_path):
    store = PrefixStore(tmp_path)
    first = FakePrefixModel()
    primed = prime(first, store)
    assert primed.source == "evaluated" and primed.tokens == 4
    assert first.evaluated == [TOKENS] and primed.path.exists()
    assert primed.path.read_bytes().startswith(MAGIC)

    second = FakePrefixModel()  # a new process
    again = prime(second, store)
    assert again.source == "disk" and again.path == primed.path
    assert second.evaluated == [] and second.restored == [TOKENS]
    assert second.tokens == TOKENS


def test_a_model_already_holding_the_prefix_is_left_alone(tmp_path):
    model = FakePrefixModel()
    model.tokens = TOKENS + [99, 98]  # the prefix, then an earlier answer
    primed = prime(model, PrefixStore(tmp_path))
    assert primed.source == "memory"
    assert model.evaluated == [] and model.restored == [] and not list(tmp_path.iterdir())


def test_a_changed_prompt_or_build_misses_and_writes_its_own_file(tmp_path):
    store = PrefixStore(tmp_path)
    prime(FakePrefixModel(), store)
    other_prompt = prime(FakePrefixModel(), store, tokens=[11, 22, 35])
    other_build = prime(FakePrefixModel(), store, parts={**PARTS, "system": "AVX2 only"})
    assert other_prompt.source == other_build.source == "evaluated"
    assert len(list(tmp_path.glob("*.kv"))) == 3


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupt_state_file_is_ignored_deleted_and_rebuilt(tmp_path, damage):
    store = PrefixStore(tmp_path)
    path = prime(FakePrefixModel(), store).path
    blob = path.read_bytes()
    path.write_bytes({"truncate": blob[:-3], "flip": blob[:-1] + bytes([blob[-1] ^ 1]),
                      "garbage": os.urandom(64), "empty": b""}[damage])
    model = FakePrefixModel()
    primed = prime(model, store)
    assert primed.source == "evaluated" and model.evaluated == [TOKENS]
    assert prime(FakePrefixModel(), store).source == "disk"  # rebuilt and whole again


def test_a_state_file_for_other_tokens_under_the_same_name_is_not_used(tmp_path):
    store = PrefixStore(tmp_path)
    key = state_key(PARTS, TOKENS)
    store.save("qwen", key, [1, 2, 3], b"KV:1,2,3")  # e.g. a hash prefix collision
    model = FakePrefixModel()
    assert prime_prefix(model, TOKENS, store, "qwen", key).source == "evaluated"


def test_a_state_llama_cpp_refuses_is_deleted_and_the_prefix_evaluated(tmp_path):
    store = PrefixStore(tmp_path)
    path = prime(FakePrefixModel(), store).path
    model = FakePrefixModel(refuse=True)
    primed = prime(model, store)
    assert primed.source == "evaluated" and model.evaluated == [TOKENS]
    assert path.exists()  # deleted, then written again by this prime


def test_saving_is_atomic_and_an_unwritable_directory_only_costs_the_save(tmp_path):
    store = PrefixStore(tmp_path)
    prime(FakePrefixModel(), store)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    model = FakePrefixModel()
    primed = prime(model, PrefixStore(blocked / "cache"))
    assert primed.source == "evaluated" and primed.path is None and model.tokens == TOKENS


def test_only_the_most_recently_used_files_are_kept(tmp_path):
    store = PrefixStore(tmp_path, keep=2)
    paths = [prime(FakePrefixModel(), store, tokens=[i, i + 1]).path for i in range(4)]
    for age, path in enumerate(reversed(paths)):  # make their order unambiguous
        if path.exists():
            os.utime(path, (1_000_000 - age, 1_000_000 - age))
    store.save("qwen", state_key(PARTS, [9]), [9], b"KV:9")
    left = sorted(p.name for p in tmp_path.glob("*.kv"))
    assert len(left) == 2 and paths[-1].name in left
    assert prime(FakePrefixModel(), PrefixStore(tmp_path), tokens=[3, 4]).source == "disk"


def test_without_a_store_priming_evaluates_in_memory():
    model = FakePrefixModel()
    primed = prime_prefix(model, TOKENS, None, "qwen", "k")
    assert primed.source == "evaluated" and primed.path is None and model.tokens == TOKENS


# -- the llama.cpp generator's prefix, with a fake llama object ---------------------------
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


class FakeLlama:
    """Tokenizes by characters; enough of llama_cpp.Llama for `prefix_tokens`."""

    chat_handler = None
    chat_format = "chat_template.default"
    metadata = {"tokenizer.chat_template": CHATML}

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False):
        return list(text)

    def detokenize(self, tokens, special=False):
        return bytes(tokens)

    def token_eos(self):
        return ord("$")

    def token_bos(self):
        return -1


class FakeLlamaWithCache(FakeLlama):
    """Also keeps a prompt cache: the tokens it holds, as llama_cpp.Llama does."""

    def __init__(self):
        self.input_ids = np.zeros(4096, dtype=np.intc)
        self.n_tokens = 0
        self.reads: list[list[int]] = []

    def reset(self):
        self.n_tokens = 0

    def eval(self, tokens):
        self.reads.append(list(tokens))
        self.input_ids[self.n_tokens:self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)


def fake_generator(tmp_path: Path) -> LlamaCppGenerator:
    generator = LlamaCppGenerator(tmp_path / "model.gguf", "fake", state_dir=tmp_path)
    generator._llm = FakeLlama()
    return generator


def test_the_prefix_is_the_template_rendering_up_to_the_last_message_text(tmp_path):
    generator = fake_generator(tmp_path)
    prefix = [Message("system", "Be brief."), Message("user", "Evidence:")]
    head = bytes(generator.prefix_tokens(prefix)).decode()
    assert head == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nEvidence:"
    full = [Message("system", "Be brief."), Message("user", "Evidence:\n[1] x\nQuestion: y")]
    rendered = FakeLlama.metadata["tokenizer.chat_template"]
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    prompt = Jinja2ChatFormatter(rendered, "$", "")(
        messages=[{"role": m.role, "content": m.content} for m in full]).prompt
    assert prompt.startswith(head)


def test_a_prompt_after_the_prefix_is_read_from_the_prefix_end_whatever_came_before(tmp_path):
    generator = LlamaCppGenerator(tmp_path / "model.gguf", "fake", state_dir=None)
    generator._llm = llm = FakeLlamaWithCache()
    generator._state_parts = lambda: {}
    prefix = [Message("system", "Be brief."), Message("user", "Evidence:")]
    primed = generator.prime(prefix)
    assert primed.source == "evaluated" and llm.n_tokens == primed.tokens
    # an earlier answer left more in the cache: its evidence, question and reply
    earlier = list(b"\n[1] Acme sold 3.5 million bikes.\nQuestion: how many?")
    llm.eval(earlier)
    generator._read_after_prefix([Message("system", "Be brief."),
                                  Message("user", "Evidence:\n[1] Acme sold 3.5 million")])
    assert llm.n_tokens == primed.tokens and len(llm.reads) == 2  # cut back, nothing re-read
    llm.eval(earlier)
    generator._read_after_prefix([Message("system", "Other rules."), Message("user", "Hi")])
    assert llm.n_tokens == 0  # another prompt is read from its start, whatever is cached


def test_priming_the_same_prefix_again_renders_and_keys_nothing(tmp_path):
    generator = LlamaCppGenerator(tmp_path / "model.gguf", "fake", state_dir=None)
    generator._llm = llm = FakeLlamaWithCache()
    keyed = []
    generator._state_parts = lambda: keyed.append(1) or {}
    prefix = [Message("system", "Be brief."), Message("user", "Evidence:")]
    assert generator.prime(prefix).source == "evaluated"
    assert generator.prime(list(prefix)).source == "memory" and len(keyed) == 1
    assert len(llm.reads) == 1
    other = [Message("system", "Other rules."), Message("user", "Evidence:")]
    assert generator.prime(other).source == "evaluated" and len(keyed) == 2


def test_messages_start_with_a_prefix_whose_last_text_they_continue():
    prefix = [Message("system", "S"), Message("user", "Evidence:")]
    assert _starts_with([Message("system", "S"), Message("user", "Evidence:\n[1] x")], prefix)
    assert not _starts_with([Message("system", "S2"), Message("user", "Evidence:")], prefix)
    assert not _starts_with([Message("system", "S"), Message("assistant", "Evidence:")], prefix)
    assert not _starts_with([Message("system", "S")], prefix)
    assert not _starts_with([Message("system", "S")], [])


def test_no_prefix_is_primed_for_a_model_without_its_own_chat_template(tmp_path):
    generator = fake_generator(tmp_path)
    generator._llm.chat_format = "llama-2"
    assert generator.prefix_tokens([Message("system", "Be brief.")]) == []


def test_building_a_generator_loads_nothing(tmp_path):
    generator = LlamaCppGenerator(tmp_path / "missing.gguf", "x", state_dir=tmp_path)
    assert generator._llm is None and not list(tmp_path.iterdir())


def test_the_fake_generator_primes_too():
    fake = FakeGenerator()
    primed = fake.prime([Message("system", "Be brief and exact.")])
    assert primed.source == "evaluated" and primed.tokens == 4
    assert fake.prime([Message("system", "Be brief and exact.")]).source == "memory"
    assert fake.primed == [[Message("system", "Be brief and exact.")]] * 2


# -- end to end: the real model -------------------------------------------------------------
@pytest.mark.e2e
def test_a_saved_prefix_is_reused_by_a_new_generator_with_the_same_answer(tmp_path):
    import llama_cpp

    settings = Settings.load()
    if not any(s.name == settings.llm and s.state == "ok" for s in status(settings.home)):
        if os.environ.get("CI"):
            pytest.fail("the default LLM is not prepared: run scripts/setup.sh")
        pytest.skip("the default LLM is not prepared: run scripts/setup.sh")
    name, path = ensure_ready(settings.llm, "llm", settings.home)
    prefix = [Message("system", prompts.SYSTEM), Message("user", prompts.EVIDENCE_HEAD)]
    question = [Message("system", prompts.SYSTEM), Message("user", (
        f"{prompts.EVIDENCE_HEAD}\nArticle: Tesla e i data center\n"
        "[1] Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di "
        "dollari per AWS, con un aumento del 12% rispetto all’anno precedente.\n"
        "Question: Quanto ha fatturato AWS nell'ultimo trimestre?\nAnswer in Italian.\nAnswer:"))]
    runs = []
    for _ in range(2):  # the second generator stands for a new process
        generator = LlamaCppGenerator(path, name, threads=settings.usable_threads,
                                      state_dir=tmp_path)
        primed = generator.prime(prefix)
        for _ in range(2):  # asked again: read again from the prefix's end, same answer
            llama_cpp.llama_perf_context_reset(generator.llm.ctx)
            text = "".join(generator.generate(question, max_tokens=40))
            evaluated = llama_cpp.llama_perf_context(generator.llm.ctx).n_p_eval
            runs.append((primed, text, evaluated, len(generator.prefix_tokens(question))))
        generator.llm.close()
    (first, text_1, evaluated_1, full), _, (second, text_2, evaluated_2, _), _ = runs
    assert first.source == "evaluated" and second.source == "disk"
    assert first.path == second.path and first.path.stat().st_size > 0
    assert text_2 == text_1 and text_1.strip()
    assert {run[1:3] for run in runs} == {(text_1, evaluated_1)}
    # Only what follows the prefix was read: the question's own text, the chat template's
    # closing and opening tokens, and at most the prefix's last token again.
    suffix = full - first.tokens
    assert suffix <= evaluated_2 <= suffix + 8
    assert evaluated_2 == evaluated_1
