"""The embedder: prompts, the persistent vector cache, backend choice and the late-chunk
span mapping, with a small fake encoder; the real model's checks are marked e2e."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest

from rag import backends
from rag.embed import CachedEmbedder, PassageVectors, SentenceTransformerEmbedder
from rag.encoders import normalize, span_token_masks
from rag.vector_cache import VectorCache, text_key
from tests.fakes import FakeEmbedder

DIM = 32
PROMPTS = ('{"prompts": {"query": "task: search result | query: ", '
           '"document": "title: none | text: "}}')


def fake_vector(text: str) -> np.ndarray:
    """A unit vector determined by the text (hashed character trigrams)."""
    out = np.zeros(DIM, np.float32)
    for i in range(max(1, len(text) - 2)):
        out[int(hashlib.md5(text[i:i + 3].encode()).hexdigest(), 16) % DIM] += 1
    return normalize(out[None])[0]


class FakeEncoder:
    """Vectors of the exact model input; a span's vector is that of its characters, so a
    test can see which characters each span pooled."""

    backend = "fake-backend"
    dim = DIM

    def __init__(self):
        self.inputs: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode(self, texts, *, batch_size, progress=False):
        self.inputs += list(texts)
        return np.stack([fake_vector(t) for t in texts])

    def encode_spans(self, texts, spans, *, batch_size, progress=False):
        self.inputs += list(texts)
        return [np.stack([fake_vector(t)] + [fake_vector(t[a:b]) for a, b in own])
                for t, own in zip(texts, spans)]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config_sentence_transformers.json").write_text(PROMPTS)
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


def make(model_dir: Path, cache: VectorCache | None = None,
         encoder: FakeEncoder | None = None) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_dir, "fake-model", cache=cache,
                                       encoder=encoder or FakeEncoder())


# -- prompts and the late-chunk span mapping ---------------------------------------------

def test_documents_read_the_title_prompt_and_queries_the_query_prompt(model_dir):
    encoder = FakeEncoder()
    embedder = make(model_dir, encoder=encoder)
    embedder.embed(["Il testo."], titles=["Un titolo"])
    embedder.embed(["Chi?"], kind="query")
    assert encoder.inputs == ["title: Un titolo | text: Il testo.",
                              "task: search result | query: Chi?"]


def test_sentence_spans_are_mapped_through_the_prompt_and_title(model_dir):
    text = "Tesla builds cars. Amazon sells books online."
    spans = [(0, 18), (19, len(text))]
    result = make(model_dir).embed_passages([text], ["Rivals"], [spans])
    assert isinstance(result, PassageVectors)
    assert result.passages.shape == (1, DIM)
    assert result.sentences[0].shape == (2, DIM)
    for (a, b), vector in zip(spans, result.sentences[0]):
        np.testing.assert_allclose(vector, fake_vector(text[a:b]), atol=1e-6)
    np.testing.assert_allclose(result.passages[0],
                               fake_vector("title: Rivals | text: " + text), atol=1e-6)


def test_passage_vectors_of_embed_passages_equal_embed(model_dir):
    embedder = make(model_dir)
    texts, titles = ["First passage here.", "Second one."], ["A", ""]
    late = embedder.embed_passages(texts, titles, [[(0, 5)], []])
    np.testing.assert_allclose(late.passages, embedder.embed(texts, titles=titles), atol=1e-6)
    assert late.sentences[1].shape == (0, DIM)


def test_embed_passages_rejects_mismatched_spans(model_dir):
    with pytest.raises(ValueError, match="2 texts but 1 span"):
        make(model_dir).embed_passages(["a", "b"], None, [[(0, 1)]])


def test_span_masks_pool_the_tokens_a_span_overlaps():
    # <bos> "title" ":" "▁none" | "▁Tesla" "▁builds" "." "▁Amazon" "." <eos> <pad>
    offsets = np.array([(0, 0), (0, 5), (5, 6), (6, 11), (11, 17), (17, 24), (24, 25),
                        (25, 32), (32, 33), (0, 0), (0, 0)])
    masks = span_token_masks(offsets, [(12, 25), (26, 33), (40, 45)])
    assert masks[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    assert masks[1].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    # past the (truncated) end: the nearest real token, never a special token
    assert masks[2].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]


# -- the persistent vector cache -----------------------------------------------------------

def test_the_cache_embeds_nothing_twice_across_embedders(model_dir, tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite")
    first = FakeEncoder()
    vectors = make(model_dir, cache, first).embed(["One.", "Two.", "One."], titles=["T"] * 3)
    assert first.inputs == ["title: T | text: One.", "title: T | text: Two."]
    again = FakeEncoder()  # a rebuild, another index, another process
    np.testing.assert_array_equal(
        make(model_dir, VectorCache(tmp_path / "cache.sqlite"), again).embed(
            ["One.", "Two.", "One."], titles=["T"] * 3), vectors)
    assert again.inputs == []


def test_the_cache_keys_on_title_and_spans_and_never_stores_questions(model_dir, tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite")
    encoder = FakeEncoder()
    embedder = make(model_dir, cache, encoder)
    embedder.embed(["Same text."], titles=["A"])
    embedder.embed(["Same text."], titles=["B"])
    embedder.embed_passages(["Same text."], ["A"], [[(0, 4)]])
    embedder.embed_passages(["Same text."], ["A"], [[(5, 10)]])
    embedder.embed_passages(["Same text."], ["A"], [[(5, 10)]])
    embedder.embed(["Who?"], kind="query")
    embedder.embed(["Who?"], kind="query")
    assert len(encoder.inputs) == 6  # two titles, two span sets, the question twice
    assert cache.stats().vectors == 4  # two passages, two late-chunked entries


def test_embed_passages_fills_the_passage_cache(model_dir, tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite")
    encoder = FakeEncoder()
    embedder = make(model_dir, cache, encoder)
    late = embedder.embed_passages(["A passage."], ["T"], [[(0, 2)]])
    np.testing.assert_array_equal(embedder.embed(["A passage."], titles=["T"]), late.passages)
    assert len(encoder.inputs) == 1


def test_other_weights_or_backends_do_not_share_vectors(model_dir, tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite")
    make(model_dir, cache).embed(["Text."])
    other = FakeEncoder()
    other.backend = "another-backend"
    make(model_dir, cache, other).embed(["Text."])
    (model_dir / "model.safetensors").write_bytes(b"new weights!")
    changed = FakeEncoder()
    make(model_dir, cache, changed).embed(["Text."])
    assert other.inputs and changed.inputs


def test_the_cache_is_bounded_dropping_the_least_recently_used(tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite", max_mb=1)
    vectors = np.ones((1, 256), np.float32)
    for batch in range(12):  # about 1.2 MB of vectors
        keys = [text_key(f"{batch}-{i}") for i in range(100)]
        cache.put("m", keys, [vectors] * len(keys))
        cache.get("m", [text_key("0-0")], 256)  # kept in use
    stats = cache.stats()
    assert stats.megabytes <= 1.2 and 0 < stats.vectors < 1200
    assert cache.get("m", [text_key("0-0")], 256)[0] is not None
    assert cache.get("m", [text_key("0-1")], 256)[0] is None
    assert cache.clear() == stats.vectors and cache.stats().vectors == 0


def test_the_cache_serves_threads_at_once(tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite")
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                key = text_key(f"{n}-{i}")
                cache.put("m", [key], [np.full((1, 8), n, np.float32)])
                assert cache.get("m", [key], 8)[0][0, 0] == n
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and cache.stats().vectors == 80


def test_an_unreadable_cache_file_is_named(tmp_path):
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(Exception, match="cache.sqlite"):
        VectorCache(bad)


# -- backend choice and manifest names -----------------------------------------------------

def test_reference_backends_keep_the_model_name_in_manifests():
    assert backends.manifest_name("embeddinggemma-300m", "torch-float32") == \
        "embeddinggemma-300m"
    assert backends.manifest_name("embeddinggemma-300m", "torch-bfloat16", 256) == \
        "embeddinggemma-300m@256"


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown embedding backend 'cuda'"):
        backends.choose_backend("cuda")


# -- the fakes and wrappers follow the protocol --------------------------------------------

def test_fake_and_cached_embedders_late_chunk_like_the_real_one():
    fake = FakeEmbedder()
    text = "Tesla builds cars. Amazon sells books."
    result = CachedEmbedder(fake).embed_passages([text], ["T"], [[(0, 18), (19, 38)]])
    np.testing.assert_allclose(result.sentences[0][1],
                               fake.embed([text[19:38]], titles=["T"])[0], atol=1e-6)
    assert result.passages.shape == (1, fake.dim)


# -- the real model --------------------------------------------------------------------------

PASSAGE = ("Tesla potrebbe offrire soluzioni di archiviazione dati ad altre aziende. "
           "Andy Jassy, amministratore delegato di Amazon, ha detto che AWS resta il leader. "
           "Il titolo Tesla è salito del 3% in borsa.")


@pytest.fixture(scope="module")
def real_embedder():
    from rag.embed import build_embedder
    from rag.settings import Settings

    return build_embedder(Settings.load({"embed_backend": "torch", "embed_dtype": "float32",
                                         "embed_cache_mb": 0}, environ={}))


@pytest.mark.e2e
def test_real_late_chunked_passage_vector_is_the_reference_vector(real_embedder):
    from rag.chunking import split_sentences

    spans = split_sentences(PASSAGE, "it")
    late = real_embedder.embed_passages([PASSAGE], ["Tesla e Amazon"], [spans])
    reference = real_embedder.embed([PASSAGE], titles=["Tesla e Amazon"])
    assert np.abs(late.passages - reference).max() < 1e-4
    assert late.sentences[0].shape == (3, real_embedder.dim)


@pytest.mark.e2e
def test_real_late_chunked_sentences_answer_their_question(real_embedder):
    from rag.chunking import split_sentences

    spans = split_sentences(PASSAGE, "it")
    late = real_embedder.embed_passages([PASSAGE], [""], [spans]).sentences[0]
    questions = ["Che cosa ha detto il capo di Amazon?", "Di quanto è salito il titolo Tesla?"]
    asked = real_embedder.embed(questions, kind="query")
    assert (asked @ late.T).argmax(axis=1).tolist() == [1, 2]
    standalone = real_embedder.embed([PASSAGE[a:b] for a, b in spans])
    assert (late * standalone).sum(axis=1).min() > 0.6


@pytest.mark.e2e
def test_the_onnx_encoder_tokenizes_as_the_model_does(real_embedder):
    from transformers import AutoTokenizer

    from rag.onnx_encoder import OnnxEncoder

    own = AutoTokenizer.from_pretrained(str(real_embedder.path), local_files_only=True)
    onnx = OnnxEncoder(real_embedder.path, None, backend="onnx-int8", max_tokens=64)
    texts = [PASSAGE, "", "Chi è Jassy?", "«22,1 miliardi» — €\n\nrighe  nuove",
             "parola " * 63, "parola " * 62, "<pad> <eos> testo"]
    expected = own(texts, return_offsets_mapping=True, return_tensors="np", padding=True,
                   truncation=True, max_length=64)
    ids, attention, offsets = onnx.features(texts)
    assert ids.tolist() == expected["input_ids"].tolist()
    assert attention.tolist() == expected["attention_mask"].tolist()
    assert offsets.tolist() == expected["offset_mapping"].tolist()
    assert onnx.count_tokens("parola " * 100) == \
        len(own("parola " * 100, add_special_tokens=False)["input_ids"])


# -- backends: the choice per CPU, the ONNX copy's stamp, its pooling ----------------------

def test_auto_keeps_torch_where_the_cpu_has_bf16_but_no_vnni(monkeypatch):
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert backends.choose_backend("auto") == "torch"
    vnni = {"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}  # int8 beats bf16 there
    monkeypatch.setattr(backends, "cpu_flags", lambda: vnni)
    assert backends.choose_backend("auto") == "onnx-int8"


def test_auto_on_a_bf16_cpu_takes_only_its_own_int8_copy(monkeypatch, model_dir):
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "avx512_vnni"})
    made = {"int8-mixed"}  # not this CPU's copy: bf16 torch is kept
    monkeypatch.setattr("rag.onnx_build.ready",
                        lambda path, recipe: path / "model.onnx" if recipe in made else None)
    assert backends.choose_backend("auto", model_dir) == "torch"
    made.add("int8")
    assert backends.choose_backend("auto", model_dir) == "onnx-int8"


def test_auto_picks_the_int8_copy_for_the_cpu_where_it_lacks_bf16(monkeypatch):
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx2", "fma"})
    assert backends.choose_backend("auto") == "onnx-int8-mixed"  # no VNNI
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_vnni"})
    assert backends.choose_backend("auto") == "onnx-int8"
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx2", "avx_vnni"})
    assert backends.choose_backend("auto") == "onnx-int8"
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: None)
    assert backends.choose_backend("auto") == "torch"  # ONNX Runtime not installed


def test_another_backend_is_recorded_in_the_manifest_name():
    assert backends.manifest_name("embeddinggemma-300m", "onnx-int8") == \
        "embeddinggemma-300m+onnx-int8"
    assert backends.manifest_name("embeddinggemma-300m", "onnx-int8", 256) == \
        "embeddinggemma-300m+onnx-int8@256"


def test_the_onnx_copy_is_used_only_while_it_matches_its_stamp_and_source(model_dir):
    import json

    from rag import onnx_build

    folder = onnx_build.target_dir(model_dir, "int8")
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"graph")
    (folder / onnx_build.STAMP).write_text(json.dumps({
        "source": onnx_build.source_fingerprint(model_dir),
        "files": {"model.onnx": {"size": 5, "sha256": onnx_build._sha256(folder / "model.onnx")}}}))
    assert onnx_build.ready(model_dir, "int8", full=True) == folder / "model.onnx"
    (folder / "model.onnx").write_bytes(b"GRAPH")  # same size, other bytes
    assert onnx_build.ready(model_dir, "int8") is not None
    assert onnx_build.ready(model_dir, "int8", full=True) is None
    (folder / "model.onnx").write_bytes(b"graph, truncated or grown")
    assert onnx_build.ready(model_dir, "int8") is None
    (folder / "model.onnx").write_bytes(b"graph")
    (model_dir / "model.safetensors").write_bytes(b"re-fetched weights")
    assert onnx_build.ready(model_dir, "int8") is None


def projections_graph(path: Path) -> np.ndarray:
    """An ONNX graph of three Linear layers, named as the exported model names them:
    q_proj, o_proj, down_proj (64 wide); returns its input for a test run."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights, previous = [], [], "x"
    for name in ("q_proj", "o_proj", "down_proj"):
        node = helper.make_node("MatMul", [previous, f"{name}.weight"], [f"{name}.out"],
                                name=f"node_{name}")
        entry = node.metadata_props.add()
        entry.key, entry.value = "pkg.torch.onnx.name_scopes", f"['model', 'layers.0.{name}']"
        nodes.append(node)
        weights.append(numpy_helper.from_array(
            (rng.standard_normal((64, 64)) / 8).astype(np.float32), f"{name}.weight"))
        previous = f"{name}.out"
    graph = helper.make_graph(
        nodes, "projections", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, [None, 64])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return rng.standard_normal((5, 64)).astype(np.float32)


@pytest.mark.parametrize("recipe, outlier_op", [("int8", "MatMulNBits"), ("int8-mixed", "MatMul")])
def test_each_recipe_quantizes_the_projections_it_names(tmp_path, recipe, outlier_op):
    import onnx
    import onnxruntime as ort

    from rag import onnx_build

    body, out = tmp_path / "body.onnx", tmp_path / "out.onnx"
    x = projections_graph(body)
    onnx_build._quantize(body, out, tmp_path, recipe)
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert "MatMulInteger" in ops  # q_proj: per-tensor dynamic int8
    assert outlier_op in ops and ({"MatMul", "MatMulNBits"} - {outlier_op}).isdisjoint(ops)
    reference = ort.InferenceSession(str(body)).run(None, {"x": x})[0]
    quantized = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
    cosine = (reference * quantized).sum(1) / np.linalg.norm(reference, axis=1) / \
        np.linalg.norm(quantized, axis=1)
    assert cosine.min() > 0.99


def tiny_st_model(folder: Path, width: int) -> Path:
    """A sentence-transformers directory with mean pooling and one Dense layer (identity)."""
    import json

    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
        {"idx": 3, "name": "3", "path": "3_Normalize",
         "type": "sentence_transformers.models.Normalize"}]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False, "include_prompt": True}))
    (folder / "2_Dense").mkdir()
    (folder / "2_Dense" / "config.json").write_text(json.dumps(
        {"activation_function": "torch.nn.modules.linear.Identity"}))
    save_file({"linear.weight": np.eye(width, dtype=np.float32)},
              str(folder / "2_Dense" / "model.safetensors"))
    return folder


def word_tokenizer(folder: Path) -> None:
    """A real `tokenizers` tokenizer in ``folder``: one token per space-separated word, <bos>
    first, padded with <pad> (by tokenizer_config.json, as the model's own names it)."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    words = ["<pad>", "<bos>", "<unk>", "aa", "bb.", "cc", "dd", "ee.", "ff", "gg."]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(single="<bos> $A",
                                                             special_tokens=[("<bos>", 1)])
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<pad>"}))


class PositionSession:
    """Token state = one-hot of the token's position (so pooled vectors show which pooled)."""

    def run(self, outputs, feeds):
        ids = feeds["input_ids"]
        return [np.broadcast_to(np.eye(8, dtype=np.float32)[: ids.shape[1]],
                                (*ids.shape, 8)).copy()]


def test_the_onnx_encoder_pools_spans_of_its_own_forward_pass(tmp_path):
    from rag.onnx_encoder import OnnxEncoder

    folder = tiny_st_model(tmp_path / "st", 8)
    word_tokenizer(folder)
    encoder = OnnxEncoder(folder, tmp_path / "x.onnx", backend="t")
    encoder.session = PositionSession()
    texts = ["aa bb. cc dd ee.", "ff gg."]
    out = encoder.encode_spans(texts, [[(0, 6), (7, 16)], [(3, 6)]], batch_size=2)
    np.testing.assert_allclose(out[0][0], normalize(np.eye(8)[:6].mean(0)[None])[0], atol=1e-6)
    np.testing.assert_allclose(out[0][1], normalize(np.eye(8)[1:3].mean(0)[None])[0], atol=1e-6)
    np.testing.assert_allclose(out[0][2], normalize(np.eye(8)[3:6].mean(0)[None])[0], atol=1e-6)
    # the shorter text, padded in the batch, pools only its own tokens
    np.testing.assert_allclose(out[1][0], normalize(np.eye(8)[:3].mean(0)[None])[0], atol=1e-6)
    np.testing.assert_allclose(out[1][1], np.eye(8)[2], atol=1e-6)
    np.testing.assert_allclose(encoder.encode(texts, batch_size=1),
                               np.stack([out[0][0], out[1][0]]), atol=1e-6)
    assert encoder.dim == 8


def test_an_index_of_another_backend_is_served_by_that_backend(model_dir):
    embedder = make(model_dir)  # fake-model+fake-backend
    assert embedder.for_index(embedder.name) is embedder
    reference = embedder.for_index("fake-model")
    assert reference.name == "fake-model" and reference.backend.startswith("torch")
    assert embedder.for_index("fake-model+onnx-int8").backend == "onnx-int8"
    assert embedder.for_index("fake-model+onnx-int8-mixed").backend == "onnx-int8-mixed"
    assert embedder.for_index("another-model") is embedder  # the store reports that one
    assert backends.parse_manifest_name("m+onnx-int8@256") == \
        backends.RecordedEmbedder("m", "onnx-int8", 256)


def test_auto_never_builds_the_int8_copy_itself(monkeypatch, model_dir):
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"avx2", "fma"})
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: object())
    assert backends.choose_backend("auto", model_dir) == "torch"  # not made yet
    made = {"int8"}  # made before: still faster than float32
    monkeypatch.setattr("rag.onnx_build.ready",
                        lambda path, recipe: path / "model.onnx" if recipe in made else None)
    assert backends.choose_backend("auto", model_dir) == "onnx-int8"
    made.add("int8-mixed")  # this CPU's own recipe comes first
    assert backends.choose_backend("auto", model_dir) == "onnx-int8-mixed"


@pytest.mark.e2e
@pytest.mark.parametrize("backend", list(backends.ONNX_RECIPES))
def test_real_int8_copy_agrees_with_the_reference(real_embedder, backend):
    from rag.chunking import split_sentences
    from rag.onnx_build import ready

    if ready(real_embedder.path, backends.recipe_of(backend)) is None:
        pytest.skip(f"no {backend} copy made (python -m rag.onnx_build --recipe "
                    f"{backends.recipe_of(backend)})")
    fast = SentenceTransformerEmbedder(real_embedder.path, "embeddinggemma-300m",
                                       backend=backend)
    assert fast.name == f"embeddinggemma-300m+{backend}"
    spans = split_sentences(PASSAGE, "it")
    mine = fast.embed_passages([PASSAGE], ["Tesla e Amazon"], [spans])
    reference = real_embedder.embed_passages([PASSAGE], ["Tesla e Amazon"], [spans])
    assert (mine.passages * reference.passages).sum() > 0.98
    assert (mine.sentences[0] * reference.sentences[0]).sum(axis=1).min() > 0.95
    question = "Che cosa ha detto il capo di Amazon?"
    assert (fast.embed([question], kind="query") @ real_embedder.embed(
        [question], kind="query").T)[0, 0] > 0.98


def test_an_interrupted_run_keeps_the_vectors_it_made(model_dir, tmp_path):
    from rag.embed import SAVE_EVERY

    class Failing(FakeEncoder):
        def encode(self, texts, *, batch_size, progress=False):
            if self.inputs:
                raise KeyboardInterrupt
            return super().encode(texts, batch_size=batch_size)

    cache = VectorCache(tmp_path / "cache.sqlite")
    texts = [f"Passage number {n}." for n in range(SAVE_EVERY + 5)]
    with pytest.raises(KeyboardInterrupt):
        make(model_dir, cache, Failing()).embed(texts)
    assert cache.stats().vectors == SAVE_EVERY
    again = FakeEncoder()
    make(model_dir, cache, again).embed(texts)
    assert len(again.inputs) == 5


# -- the checks reuse the evidence's vectors -----------------------------------------------

def test_the_checks_encode_only_the_draft_and_reuse_the_evidence_vectors(model_dir, tmp_path):
    """Evidence selection embeds each candidate sentence as a document (kept in the cache);
    checking a draft against the chosen evidence then encodes only the draft's sentence,
    alone and after the question."""
    from rag.chunking import Chunk
    from rag.corpus import Article
    from rag.evidence import select_evidence
    from rag.grounding import judge
    from rag.retrieve import Hit

    text = "Amazon ha registrato 22,1 miliardi di dollari per AWS. Jim Chanos ha scommesso contro Tesla."
    chunk = Chunk("a:0", "a", 0, text, 0, len(text), "AWS", "it")
    article = Article("a", "AWS", text, lang="it")

    class OneArticle:
        def article(self, article_id):
            return article

    encoder = FakeEncoder()
    embedder = CachedEmbedder(make(model_dir, VectorCache(tmp_path / "cache.sqlite"), encoder))
    question = "Quanto ha fatturato AWS?"
    query = embedder.embed([question], kind="query")[0]
    evidence = select_evidence(question, query, [Hit(chunk, 1, 1.0, 0.9)], OneArticle(),
                               embedder, n=2, lexical_weight=0.3, rank_weight=0.02)
    assert len(evidence) == 2
    encoder.inputs.clear()
    verdict = judge("AWS ha registrato 22,1 miliardi di dollari [1].", evidence, embedder,
                    {"a": article}, question=question, lang="it", min_support=0.0, max_gap=0.0)
    assert verdict.claims[0].state == "verified"
    assert encoder.inputs == [
        "task: search result | query: AWS ha registrato 22,1 miliardi di dollari.",
        "task: search result | query: Quanto ha fatturato AWS? AWS ha registrato 22,1 miliardi di dollari."]
