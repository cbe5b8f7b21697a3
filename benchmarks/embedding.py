"""Embedding benchmark: indexing speed per backend, side by side, and sentence vectors.

``speed``: the same ~200-token news passages (RealTime QA articles chunked as the product
chunks them, each under its article's title) embedded by each backend in interleaved
rounds, so that every backend sees the same machine load; prints chunks/s per backend, the
ratio to torch float32, and each backend's cosine to torch float32 on the same passages.
``--simulate-avx2`` re-runs itself with torch's kernels limited to AVX2 (ATen, MKL, oneDNN,
FBGEMM); ONNX Runtime has no such switch and keeps the CPU's best kernels (VNNI here).

``kernels``: the ceiling any int8 copy can reach on this CPU. One matrix product of the
embedder's shape (tokens x 768 by 768 x 1152, the MLP's up projection) run by ONNX Runtime
in float32, as per-tensor dynamic int8 (what both recipes give most layers) and as block-wise
8-bit (``MatMulNBits``, recipe ``int8``'s projections), interleaved; GOP/s and the ratio to
float32. Only the Linear layers can be made faster this way, so an int8 embedder cannot embed
faster than float32 by more than the int8 product's ratio.

``sentences``: on SQuAD-it dev paragraphs, how often the sentence holding a gold answer
(``answer_start``) ranks first / in the top 3 among its paragraph's sentences for the
question, with (a) late-chunked sentence vectors (`Embedder.embed_passages`), (b) each
sentence embedded alone as a document, (c) the two averaged.

    .venv/bin/python benchmarks/embedding.py speed --backends torch-float32,torch-bfloat16,onnx-int8
    .venv/bin/python benchmarks/embedding.py speed --simulate-avx2 --threads 1
    .venv/bin/python benchmarks/embedding.py kernels --threads 2
    .venv/bin/python benchmarks/embedding.py sentences --paragraphs 200 --backend torch

Document vectors are not cached here (each run embeds everything), except in ``sentences``
where the cache only spares re-runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from common import EMBEDDER_DIR, RAG_HOME, RTQA_DIR, SQUAD_DEV, SQUAD_FILE, Report  # noqa: E402

QUESTIONS = ("Why might the Musk-Bezos rivalry grow?", "Che cosa ha detto Andy Jassy?",
             "Quali sono stati i ricavi di Lumetta Ceramiche nel 2024?")
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}


def news_passages(count: int) -> tuple[list[str], list[str]]:
    """~200-token passages (and their titles) of RealTime QA articles, chunked as indexed."""
    from rag.chunking import chunk_article
    from rag.corpus import Article
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(EMBEDDER_DIR), local_files_only=True)
    count_tokens = lambda t: len(tokenizer(t, add_special_tokens=False)["input_ids"])  # noqa: E731
    texts, titles = [], []
    with open(RTQA_DIR / "corpus.jsonl", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            record = json.loads(line)
            if not record.get("text"):
                continue
            article = Article(id=str(n), title=record.get("title") or "", text=record["text"],
                              lang="en")
            for chunk in chunk_article(article, count_tokens, 200, 40):
                texts.append(chunk.text)
                titles.append(chunk.title)
            if len(texts) >= count:
                return texts[:count], titles[:count]
    return texts, titles


def embedder_for(backend: str, threads: int):
    """The product's embedder for a benchmark backend name (torch-float32, onnx-int8…)."""
    from rag.embed import SentenceTransformerEmbedder

    setting, _, dtype = backend.partition("-") if backend.startswith("torch") else \
        (backend, "", "auto")
    return SentenceTransformerEmbedder(EMBEDDER_DIR, "embeddinggemma-300m", dtype=dtype or "auto",
                                       backend=setting, threads=threads, cache=None)


def speed(args: argparse.Namespace) -> None:
    if args.simulate_avx2 and os.environ.get("ATEN_CPU_CAPABILITY") != "avx2":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **AVX2_ONLY})
    import torch

    torch.set_num_threads(args.threads)
    texts, titles = news_passages(args.rounds * args.per_round + 2)
    backends = args.backends.split(",")
    embedders = {b: embedder_for(b, args.threads) for b in backends}
    report = Report("embedding-speed")
    report.extra["isa"] = "AVX2 (torch only)" if args.simulate_avx2 else "native"
    for name, embedder in embedders.items():  # load and warm up
        started = time.perf_counter()
        embedder.embed(texts[-2:], titles=titles[-2:])
        report.add("load", f"{name}: load + first batch, s", time.perf_counter() - started)
    rates = {b: [] for b in backends}
    vectors = {b: [] for b in backends}
    for r in range(args.rounds):
        part = slice(r * args.per_round, (r + 1) * args.per_round)
        for name in backends if r % 2 == 0 else backends[::-1]:
            started = time.perf_counter()
            vectors[name].append(embedders[name].embed(texts[part], titles=titles[part]))
            rates[name].append(args.per_round / (time.perf_counter() - started))
        print(f"round {r}: " + ", ".join(f"{b} {rates[b][-1]:.2f}" for b in backends), flush=True)
    for name in backends:  # one question at a time, as the app embeds them
        times = []
        for question in QUESTIONS * 3:
            started = time.perf_counter()
            embedders[name].embed([question], kind="query")
            times.append((time.perf_counter() - started) * 1000)
        report.add("query", f"{name}: one question, ms (median of {len(times)})",
                   statistics.median(times))
    reference = np.concatenate(vectors[backends[0]])
    base = statistics.median(rates[backends[0]])
    for name in backends:
        rate = statistics.median(rates[name])
        cosines = (np.concatenate(vectors[name]) * reference).sum(axis=1)
        report.add("speed", f"{name}: chunks/s (median of {args.rounds} rounds)", rate,
                   base, rate / base, note=f"cosine to {backends[0]}: min {cosines.min():.4f}, "
                   f"mean {cosines.mean():.4f}; {args.threads} threads")
    report.finish()


def kernels(args: argparse.Namespace) -> None:
    import tempfile

    import onnxruntime as ort

    report = Report("embedding-kernels")
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((args.tokens, 768)).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    with tempfile.TemporaryDirectory() as work:
        files = _kernel_models(Path(work), rng)
        sessions = {name: ort.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
                    for name, path in files.items()}
        outputs = {name: s.run(None, {"x": inputs})[0] for name, s in sessions.items()}
        seconds = {name: [] for name in sessions}
        for r in range(args.rounds):
            for name in list(sessions) if r % 2 == 0 else list(sessions)[::-1]:
                started = time.perf_counter()
                sessions[name].run(None, {"x": inputs})
                seconds[name].append(time.perf_counter() - started)
    operations = 2 * args.tokens * 768 * 1152
    base = statistics.median(seconds["float32"])
    for name, times in seconds.items():
        error = np.abs(outputs[name] - outputs["float32"]).max() / np.abs(outputs["float32"]).max()
        report.add("matrix product", f"{name}: GOP/s (median of {args.rounds})",
                   operations / statistics.median(times) / 1e9, "",
                   base / statistics.median(times),
                   note=f"{args.tokens}x768 by 768x1152, {args.threads} threads; "
                        f"max error {error:.4f} of the largest output")
    report.finish()


def _kernel_models(work: Path, rng: np.random.Generator) -> dict[str, Path]:
    """One float32 MatMul of the embedder's shape, and its two quantized forms, made by the
    same functions as the recipes' layers (`rag.onnx_build`)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from rag.onnx_build import blockwise_8bit, dynamic_int8

    weight = numpy_helper.from_array((rng.standard_normal((768, 1152)) * 0.05)
                                     .astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="up_proj")], "kernel",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 768])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1152])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    files = {"float32": work / "float32.onnx", "int8 per-tensor": work / "int8.onnx",
             "8-bit block-wise": work / "nbits.onnx"}
    onnx.save(model, str(files["float32"]))
    dynamic_int8(files["float32"], files["int8 per-tensor"], exclude=[])
    blockwise_8bit(model, exclude=[]).save_model_to_file(str(files["8-bit block-wise"]))
    return files


def squad_paragraphs(limit: int) -> list[tuple[str, str, list[tuple[str, list[int]]]]]:
    """(title, context, [(question, gold answer starts)]) of the dev split's paragraphs."""
    first, last = (int(x) for x in SQUAD_DEV.split(":"))
    data = json.loads(Path(SQUAD_FILE).read_text(encoding="utf-8"))["data"][first:last]
    out = [(a["title"].replace("_", " "), p["context"],
            [(qa["question"], [x["answer_start"] for x in qa["answers"]]) for qa in p["qas"]])
           for a in data for p in a["paragraphs"]]
    step = max(1, len(out) // limit)  # spread over every article of the split
    return out[::step][:limit]


def sentences(args: argparse.Namespace) -> None:
    from rag.chunking import split_sentences
    from rag.embed import SentenceTransformerEmbedder
    from rag.vector_cache import VectorCache

    embedder = SentenceTransformerEmbedder(
        EMBEDDER_DIR, "embeddinggemma-300m", backend=args.backend, threads=args.threads,
        cache=VectorCache(RAG_HOME / "vector-cache.sqlite"))
    paragraphs = squad_paragraphs(args.paragraphs)
    spans = [split_sentences(text, "it") for _, text, _ in paragraphs]
    report = Report("embedding-sentences")
    started = time.perf_counter()
    late = embedder.embed_passages([t for _, t, _ in paragraphs],
                                   [title for title, _, _ in paragraphs], spans, progress=True)
    report.add("cost", "late-chunked: passages + sentence vectors, s",
               time.perf_counter() - started)
    started = time.perf_counter()
    alone = [embedder.embed([text[a:b] for a, b in own], titles=[title] * len(own),
                            progress=False) for (title, text, _), own in zip(paragraphs, spans)]
    report.add("cost", "standalone sentence vectors, s", time.perf_counter() - started)
    questions = [(i, q, starts) for i, (_, _, qas) in enumerate(paragraphs) for q, starts in qas]
    asked = embedder.embed([q for _, q, _ in questions], kind="query", progress=True)
    kinds = {"late-chunked": late.sentences, "standalone": alone,
             "averaged": [_unit(a + b) for a, b in zip(late.sentences, alone)]}
    for kind, per_paragraph in kinds.items():
        first, top3 = _ranks(questions, asked, per_paragraph, spans)
        report.add("gold sentence", f"{kind}: ranked first / in the top 3", first, top3,
                   note=f"{len(questions)} questions, {len(paragraphs)} paragraphs, "
                        f"backend {embedder.backend}")
    chance = statistics.mean(1 / max(1, len(s)) for s in spans)
    report.add("gold sentence", "chance of ranking it first (mean 1/sentences)", chance)
    report.finish()


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _ranks(questions, asked, per_paragraph, spans) -> tuple[float, float]:
    """Share of questions whose best (top 3) sentence holds a gold answer start."""
    first = top3 = 0
    for (i, _, starts), question in zip(questions, asked):
        order = np.argsort(-(per_paragraph[i] @ question))
        gold = {n for n, (a, b) in enumerate(spans[i]) for s in starts if a <= s < b}
        first += bool(order[:1].size and order[0] in gold)
        top3 += bool(gold & set(order[:3].tolist()))
    return first / len(questions), top3 / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("speed", help="chunks/s per backend, side by side")
    run.add_argument("--backends", default="torch-float32,torch-bfloat16,onnx-int8")
    run.add_argument("--rounds", type=int, default=6)
    run.add_argument("--per-round", type=int, default=8)
    run.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    run.add_argument("--simulate-avx2", action="store_true")
    run.set_defaults(func=speed)
    ceiling = sub.add_parser("kernels", help="int8 vs float32 matrix products on this CPU")
    ceiling.add_argument("--tokens", type=int, default=16 * 220,
                         help="rows: tokens of one batch (default: 16 passages of ~220)")
    ceiling.add_argument("--rounds", type=int, default=9)
    ceiling.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ceiling.set_defaults(func=kernels)
    late = sub.add_parser("sentences", help="gold-sentence ranking on SQuAD-it dev")
    late.add_argument("--paragraphs", type=int, default=200)
    late.add_argument("--backend", default="torch")
    late.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    late.set_defaults(func=sentences)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
