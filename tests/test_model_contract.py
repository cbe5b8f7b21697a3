"""One contract for every Embedder and every Generator: the fakes the unit tests inject and
the real default models (e2e) pass the same tests, so a fake cannot drift from what the
product relies on."""


import numpy as np
import pytest

from rag.embed import Embedder, build_embedder
from rag.generate import Generator, Message, build_generator
from tests.helpers.real_models import require_default_models
from tests.fakes import FakeEmbedder, FakeGenerator

PASSAGE = ("Nell’ultimo trimestre, Amazon ha registrato un fatturato di 22,1 miliardi di dollari "
           "per AWS. Musk e Bezos hanno già un interesse reciproco per l’esplorazione spaziale.")
SPANS = [(0, PASSAGE.index(" Musk")), (PASSAGE.index("Musk"), len(PASSAGE))]
PREFIX = [Message("system", "You answer in one short sentence."), Message("user", "Evidence:")]
ASK = [PREFIX[0], Message("user", "Evidence:\n[1] AWS revenue was 22.1 billion dollars.\n"
                                  "Question: What was AWS revenue?\nAnswer:")]


def _real(kind: str):
    settings = require_default_models()
    return build_embedder(settings) if kind == "embedder" else build_generator(settings)


@pytest.fixture(scope="module", params=["fake", pytest.param("real", marks=pytest.mark.e2e)])
def embedder(request) -> Embedder:
    return FakeEmbedder() if request.param == "fake" else _real("embedder")


@pytest.fixture(scope="module", params=["fake", pytest.param("real", marks=pytest.mark.e2e)])
def generator(request) -> Generator:
    return FakeGenerator() if request.param == "fake" else _real("generator")


def test_an_embedder_gives_unit_float32_vectors_of_its_dimension(embedder):
    assert isinstance(embedder, Embedder) and embedder.name and embedder.dim > 0
    for kind in ("document", "query"):
        vectors = embedder.embed([PASSAGE, "AWS"], kind=kind)
        assert vectors.dtype == np.float32 and vectors.shape == (2, embedder.dim)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)  # bf16 vectors are unit to ~3 digits
    again = embedder.embed([PASSAGE, "AWS"], kind="query")
    assert np.allclose(vectors, again, atol=1e-5)  # the same text, the same vector


def test_an_embedder_late_chunks_a_passage_into_its_sentence_spans(embedder):
    out = embedder.embed_passages([PASSAGE], ["Tesla"], [SPANS])
    assert out.passages.shape == (1, embedder.dim) and len(out.sentences) == 1
    sentences = out.sentences[0]
    assert sentences.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-2)  # bf16 vectors are unit to ~3 digits
    assert np.allclose(out.passages, embedder.embed([PASSAGE], titles=["Tesla"]), atol=2e-2)
    assert embedder.count_tokens(PASSAGE) > embedder.count_tokens("AWS") > 0


def test_a_generator_streams_text_within_its_token_limit_and_repeats_itself(generator):
    assert isinstance(generator, Generator) and generator.name and generator.context_tokens > 0
    pieces = list(generator.generate(ASK, max_tokens=24, temperature=0.0))
    assert pieces and all(isinstance(p, str) for p in pieces)
    text = "".join(pieces)
    assert text.strip() and generator.count_tokens(text) <= 24 + 2
    assert "".join(generator.generate(ASK, max_tokens=24, temperature=0.0)) == text


def test_a_generator_primes_its_prompt_head_and_answers_as_without_it(generator):
    primed = generator.prime(PREFIX)
    assert primed.tokens > 0 and primed.source in ("evaluated", "disk", "memory")
    assert generator.prime(PREFIX).source == "memory"  # held: nothing read again
    once = "".join(generator.generate(ASK, max_tokens=24))
    other = [Message("system", "Reply with one word."), Message("user", "Say yes.")]
    "".join(generator.generate(other, max_tokens=4))  # something else in between
    assert "".join(generator.generate(ASK, max_tokens=24)) == once


def test_a_generator_never_says_a_token_biased_far_enough_against(generator):
    first = next(iter(generator.generate(ASK, max_tokens=4))).strip()
    assert first
    again = "".join(generator.generate(ASK, max_tokens=4, bias={first: -100.0}))
    assert not again.strip().startswith(first), (first, again)
    assert next(iter(generator.generate(ASK, max_tokens=4, bias={first: 0.0}))).strip() == first
