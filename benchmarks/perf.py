"""Speed on two CPU cores, measured against the hardware limits and the raw libraries.

Each section runs the product path and its raw-library counterpart side by side in one
process, on the same machine, and prints the figures and their ratios:

  bandwidth   memory read/copy bandwidth (numpy, 2 threads) -> the token-generation ceiling
  generation  Assistant.stream vs raw llama-cpp-python create_chat_completion(stream=True):
              time to first token and tokens/s, same model file, threads and messages
  cache       prompt (KV) cache reuse: cold vs warm system prefix, and a chat follow-up
              (condense call in between), before and after condensing under SYSTEM (raw llama)
  indexing    Assistant.index_files vs raw SentenceTransformer.encode_document on the same
              chunks (RealTime QA articles, fresh temp index); unchanged re-runs
  query       Assistant.search latency on a shared eval index (read-only) and at RealTime QA
              size (the shared index if built, else a proxy: real chunk texts, random vectors)
  scale       FAISS exact vs HNSW (rag.store settings) on synthetic unit vectors:
              build time, search p50/p95, recall@10 of HNSW against exact search
  memory      peak RSS of a fresh process: both models loaded, an index open, one answer
  coldstart   process start to first answer: `rag ask ... --json` on the bundled corpus

    .venv/bin/python benchmarks/perf.py --quick              # smoke run, a few minutes
    .venv/bin/python benchmarks/perf.py                      # every section, full size
    .venv/bin/python benchmarks/perf.py generation cache     # some sections
    .venv/bin/python benchmarks/perf.py scale --sizes 100000,1000000

Shared eval indexes under ~/.cache/rag/eval are only ever opened read-only; everything
this script writes goes to a temp folder (removed at exit) or to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (EMBEDDER_DIR, LLM_FILE, REPO, RTQA_DIR, SHARED_EVAL, SQUAD_DEV,  # noqa: E402
                    SQUAD_FILE, Report, load, memory_bandwidth, ratio, rss_mb, summary)

SECTIONS = ("bandwidth", "generation", "cache", "indexing", "query", "scale", "memory",
            "coldstart")
TMP = Path(tempfile.gettempdir()) / f"rag-bench-{os.getpid()}"  # made in main()


# --------------------------------------------------------------------------- helpers

def product_messages(assistant, question, chunks, lang):
    """The messages `Assistant.stream` sends, rebuilt through rag.prompts (key sentences too)."""
    from rag import prompts
    from rag.generate import Message
    from rag.grounding import key_sentences
    key = [(w.passage, w.text) for w in key_sentences(
        question, chunks, assistant.query_embedder, assistant.settings.key_sentences)]
    return [Message("system", prompts.SYSTEM),
            Message("user", prompts.user_message(question, chunks, lang, key))]


@functools.cache  # sections ask again; the check parses the whole eval corpus
def shared_index(name: str) -> Path | None:
    """A finished shared eval index, else None: it has a CURRENT generation that holds every
    article of its eval corpus (a `rag eval` build still in progress is not used)."""
    from rag.corpus import load_articles
    from rag.evaluate import CORPUS_FOLDER
    from rag.store import current_generation
    path = SHARED_EVAL / name
    gen = current_generation(path)
    if gen is None:
        return None
    if (path / CORPUS_FOLDER).is_dir():
        manifest = json.loads((gen / "manifest.json").read_text())
        indexed = set(manifest["article_hashes"])  # article id -> text hash
        wanted = {a.id for a in load_articles([path / CORPUS_FOLDER]).articles}
        if not wanted <= indexed:
            print(f"({name}: {len(indexed & wanted)} of {len(wanted)} articles indexed so far; "
                  "not used)", flush=True)
            return None
    return path


def read_only_assistant(index_dir: Path):
    """An Assistant over someone else's index: Index.open only reads; we never write."""
    from rag import Assistant, Settings
    return Assistant(Settings.load().replace(index_dir=str(index_dir)))


def squad_questions(n: int, offset: int = 0) -> list:
    """n SQuAD-it dev questions spread evenly over the split (deterministic)."""
    from rag.evaluate import load_squad
    qs = load_squad(SQUAD_FILE, SQUAD_DEV).questions
    step = max(1, len(qs) // max(n, 1))
    return [qs[(offset + i * step) % len(qs)] for i in range(n)]


def perf_reset(llm) -> None:
    import llama_cpp
    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)


def perf_read(llm) -> dict:
    import llama_cpp
    d = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return {"t_p_eval_ms": d.t_p_eval_ms, "n_p_eval": d.n_p_eval, "t_eval_ms": d.t_eval_ms,
            "n_eval": d.n_eval}


class GenerateProbe:
    """Wraps a generator's `generate` to record each call's messages, start/end times and
    llama's own prompt/decode counters (instrumentation only; the call is unchanged)."""

    def __init__(self, generator):
        self.generator = generator
        self.original = generator.generate
        self.calls: list[dict] = []
        generator.generate = self._generate

    def _generate(self, messages, **options):
        llm = self.generator.llm
        record = {"messages": list(messages), "options": options}
        self.calls.append(record)
        perf_reset(llm)
        record["start"] = time.perf_counter()
        pieces = []
        for piece in self.original(messages, **options):
            record.setdefault("first", time.perf_counter())
            record["last"] = time.perf_counter()
            pieces.append(piece)
            yield piece
        record["end"] = time.perf_counter()
        record["perf"] = perf_read(llm)
        record["text"] = "".join(pieces)


def raw_stream(llm, messages, *, max_tokens: int, temperature: float, seed: int) -> dict:
    """raw llama-cpp-python streaming chat completion, timed like the product's."""
    payload = [{"role": m.role, "content": m.content} for m in messages]
    perf_reset(llm)
    out = {"start": time.perf_counter(), "pieces": []}
    for event in llm.create_chat_completion(
            payload, max_tokens=max_tokens, temperature=temperature,
            top_k=1 if temperature == 0 else 40, stop=None, seed=seed, stream=True):
        piece = event["choices"][0]["delta"].get("content")
        if piece:
            out.setdefault("first", time.perf_counter())
            out["last"] = time.perf_counter()
            out["pieces"].append(piece)
    out["end"] = time.perf_counter()
    out["perf"] = perf_read(llm)
    out["text"] = "".join(out["pieces"])
    return out


def decode_rate(llm, text: str, first: float, last: float) -> float:
    """Wall-clock generation rate after the first token: (tokens - 1) / (last - first)."""
    n = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
    return (n - 1) / (last - first) if n > 1 and last > first else float("nan")


# --------------------------------------------------------------------------- sections

def section_bandwidth(report: Report, args) -> dict:
    bw = memory_bandwidth(threads=2, megabytes=256 if args.quick else 1024)
    one = memory_bandwidth(threads=1, megabytes=256 if args.quick else 1024)
    report.add("bandwidth", "read GB/s (numpy sum, 2 threads)", bw["read_gb_s"],
               note=f"1 thread: {one['read_gb_s']:.1f}")
    report.add("bandwidth", "copy GB/s (read+write, 2 threads)", bw["copy_gb_s"],
               note=f"1 thread: {one['copy_gb_s']:.1f}")
    size = LLM_FILE.stat().st_size
    ceiling = bw["read_gb_s"] * 1e9 / size
    report.add("bandwidth", "generation ceiling tok/s (model bytes / read bandwidth)", ceiling,
               note=f"{size / 1e9:.2f} GB GGUF")
    report.extra["bandwidth"] = {**bw, "one_thread": one, "ceiling_tok_s": ceiling}
    return {"ceiling": ceiling}


def section_generation(report: Report, args, ceiling: float | None = None) -> None:
    from llama_cpp import Llama
    from rag.assistant import Answer
    from rag.corpus import detect_language

    index_dir = args.index or shared_index("squad-dev")
    if index_dir is None:
        report.add("generation", "skipped", "no index", note="build squad-dev or pass --index")
        return
    assistant = read_only_assistant(index_dir)
    gen = assistant.generator
    probe = GenerateProbe(gen)
    raw = Llama(model_path=str(gen.path), n_ctx=gen.context_tokens, n_threads=gen.threads,
                n_threads_batch=gen.threads, seed=gen.seed, verbose=False)
    s = assistant.settings
    max_tokens = 96 if args.quick else s.max_answer_tokens
    n = 2 if args.quick else 4
    questions = squad_questions(n + 1, offset=7)
    rows = []
    for i, q in enumerate(questions):
        # alternate who goes first (ours, raw, raw, ours, ...) so a load change on a shared
        # machine does not always hit the same side; the raw run needs ours' passages, so on
        # "raw first" turns the passages come from a retrieval-only dry run
        raw_first = i % 2 == 1
        r = None
        if raw_first:
            hits = assistant._pack(assistant.search(q.question), q.question, max_tokens)
            lang0 = detect_language(q.question) or "en"
            pre = product_messages(assistant, q.question, [h.chunk for h in hits], lang0)
            r = raw_stream(raw, pre, max_tokens=max_tokens, temperature=s.temperature,
                           seed=s.seed)
        started = time.perf_counter()
        first = None
        answer = None
        before = len(probe.calls)
        for item in assistant.stream(q.question, max_tokens=max_tokens):
            if isinstance(item, Answer):
                answer = item
            else:
                first = first or time.perf_counter()
        if len(probe.calls) == before:  # abstained before generating (low relevance)
            continue
        call = probe.calls[-1]
        messages = call["messages"]
        # the identical prompt, rebuilt through rag.prompts from the packed passages
        lang = detect_language(q.question) or "en"
        rebuilt = product_messages(assistant, answer.standalone_question,
                                   [h.chunk for h in answer.passages], lang)
        same_prompt = rebuilt == messages
        if r is None:
            r = raw_stream(raw, rebuilt, max_tokens=max_tokens, temperature=s.temperature,
                           seed=s.seed)
        elif pre != rebuilt:
            same_prompt = False
        row = {
            "question": q.question,
            "same_prompt": same_prompt,
            "ours_ttft_e2e": (first - started) if first else float("nan"),
            "ours_ttft_gen": (call["first"] - call["start"]) if call.get("first") else float("nan"),
            "ours_decode_wall": decode_rate(gen.llm, call["text"], call.get("first", 0),
                                            call.get("last", 0)),
            "ours_perf": call["perf"],
            "raw_ttft": (r["first"] - r["start"]) if r.get("first") else float("nan"),
            "raw_decode_wall": decode_rate(raw, r["text"], r.get("first", 0), r.get("last", 0)),
            "raw_perf": r["perf"],
            "raw_text": r["text"],
            "retrieve_ms": answer.timings.retrieve_ms,
            "verify_ms": answer.timings.verify_ms,
        }
        row["ours_decode_llama"] = _llama_rate(call["perf"])
        row["raw_decode_llama"] = _llama_rate(r["perf"])
        row["same_output"] = call["text"].strip() == r["text"].strip()
        row["ours_text"] = call["text"]
        if i == 0:  # warm-up: both instances start cold; the measured ones reuse the prefix
            continue
        rows.append(row)
        print(f"    q{i}: ours ttft {row['ours_ttft_gen']:.2f}s {row['ours_decode_wall']:.1f} tok/s"
              f" | raw ttft {row['raw_ttft']:.2f}s {row['raw_decode_wall']:.1f} tok/s"
              f" | prompt evaluated ours {call['perf']['n_p_eval']} raw {r['perf']['n_p_eval']}"
              f" | same prompt {same_prompt} same output {row['same_output']}", flush=True)
    if not rows:
        report.add("generation", "skipped", "every question abstained")
        return
    mean = lambda key: float(np.nanmean([x[key] for x in rows]))  # noqa: E731
    ours_tps, raw_tps = mean("ours_decode_wall"), mean("raw_decode_wall")
    per_q = float(np.nanmedian([x["ours_decode_wall"] / x["raw_decode_wall"] for x in rows]))
    report.add("generation", "tokens/s, Assistant.stream vs raw llama (wall, after 1st token)",
               ours_tps, raw_tps, ratio(ours_tps, raw_tps), ">= 0.95",
               ratio(ours_tps, raw_tps) >= 0.95, note=f"{len(rows)} questions, order "
               f"alternated; median per-question ratio {per_q:.2f}; same prompt: "
               f"{all(x['same_prompt'] for x in rows)}, same output: "
               f"{sum(x['same_output'] for x in rows)}/{len(rows)}")
    pooled = lambda key: (sum(x[key]["n_eval"] for x in rows) * 1000  # noqa: E731
                          / max(sum(x[key]["t_eval_ms"] for x in rows), 1e-9))
    o_l, r_l = pooled("ours_perf"), pooled("raw_perf")
    report.add("generation", "decode tok/s by llama's own counters (pooled over questions)",
               o_l, r_l, ratio(o_l, r_l), ">= 0.95", ratio(o_l, r_l) >= 0.95,
               note="sum of decoded tokens / sum of decode time: robust to short answers")
    o_t, r_t = mean("ours_ttft_gen"), mean("raw_ttft")
    report.add("generation", "time to first token s (generation call; same warm prefix)",
               o_t, r_t, ratio(o_t, r_t), "<= raw (ratio <= 1.05)", ratio(o_t, r_t) <= 1.05,
               note="ratio = ours/raw; ~5% is run-to-run noise here")
    report.add("generation", "time to first token s, end to end (retrieval + prompt)",
               mean("ours_ttft_e2e"), note=f"retrieval {mean('retrieve_ms'):.0f} ms mean")
    p_ours = float(np.mean([x["ours_perf"]["n_p_eval"] for x in rows]))
    report.add("generation", "prompt tokens evaluated per answer (mean)", p_ours,
               float(np.mean([x["raw_perf"]["n_p_eval"] for x in rows])))
    p_rate = float(np.mean([x["ours_perf"]["n_p_eval"] / x["ours_perf"]["t_p_eval_ms"] * 1000
                            for x in rows if x["ours_perf"]["t_p_eval_ms"] > 0]))
    report.add("generation", "prompt eval tok/s (llama counters)", p_rate)
    if ceiling:
        report.add("generation", "tokens/s vs memory-bandwidth ceiling", ours_tps, ceiling,
                   ratio(ours_tps, ceiling), note="ceiling = GGUF bytes / numpy read GB/s")
    report.add("generation", "grounding checks after generation, ms (mean)", mean("verify_ms"))
    report.extra["generation"] = [{k: v for k, v in x.items()} for x in rows]
    del raw
    gc.collect()


def _llama_rate(perf: dict) -> float:
    return perf["n_eval"] / perf["t_eval_ms"] * 1000 if perf["t_eval_ms"] > 0 else float("nan")


def section_cache(report: Report, args) -> None:
    """KV prefix reuse: cold vs warm system prompt; a chat follow-up, before and after."""
    from llama_cpp import Llama
    from rag import prompts
    from rag.generate import Message

    index_dir = args.index or shared_index("squad-dev")
    if index_dir is None:
        report.add("cache", "skipped", "no index")
        return
    assistant = read_only_assistant(index_dir)
    gen = assistant.generator
    probe = GenerateProbe(gen)
    llm = gen.llm
    small = 8  # prompt processing is what is measured here
    q1, q2, q3 = squad_questions(3, offset=11)
    system_tokens = len(llm.tokenize(
        f"<|im_start|>system\n{prompts.SYSTEM}<|im_end|>\n".encode(), add_bos=False,
        special=True))

    def ask(question, history=()):
        first = len(probe.calls)
        answer = assistant.ask(question, history=history, max_tokens=small)
        return answer, probe.calls[first:]

    llm.reset()  # cold: nothing in the KV cache
    a1, (c1,) = ask(q1.question)
    a2, (c2,) = ask(q2.question)  # warm: the previous prompt shares the system prefix
    a3, calls3 = ask(q3.question, history=[(q2.question, a2.text)])
    answer3 = calls3[-1]
    ttft = lambda c: c["first"] - c["start"] if c.get("first") else c["end"] - c["start"]  # noqa
    report.add("cache", "system prompt tokens (ChatML-wrapped)", system_tokens)
    report.add("cache", "prompt tokens evaluated, cold question", c1["perf"]["n_p_eval"],
               note=f"prompt eval {c1['perf']['t_p_eval_ms'] / 1000:.2f} s, TTFT {ttft(c1):.2f} s")
    report.add("cache", "prompt tokens evaluated, next question (warm prefix)",
               c2["perf"]["n_p_eval"],
               note=f"prompt eval {c2['perf']['t_p_eval_ms'] / 1000:.2f} s, TTFT {ttft(c2):.2f} s")
    per_tok = c1["perf"]["t_p_eval_ms"] / max(c1["perf"]["n_p_eval"], 1)
    report.add("cache", "system prefix reused on the warm question (tokens)",
               _reused(llm, c2), system_tokens,
               note=f"≈ {_reused(llm, c2) * per_tok / 1000:.2f} s of prompt eval saved per question")
    if len(calls3) == 2:
        cond, ans = calls3
        report.add("cache", "chat follow-up: condense call, tokens evaluated",
                   cond["perf"]["n_p_eval"], note=f"{cond['perf']['t_p_eval_ms'] / 1000:.2f} s")
        report.add("cache", "chat follow-up: answer call, tokens evaluated",
                   ans["perf"]["n_p_eval"], note=f"{ans['perf']['t_p_eval_ms'] / 1000:.2f} s, "
                   f"reused {_reused(llm, ans)} tokens (the system prefix survives the condense call)")
    # Before/after, on raw llama with the same three prompts: the condense call under its own
    # system prompt (as before) evicted the shared prefix; under SYSTEM (today) it does not.
    m1, m2 = c1["messages"], answer3["messages"]
    condense = calls3[0]["messages"] if len(calls3) == 2 else None
    if condense is None:
        return
    raw = Llama(model_path=str(gen.path), n_ctx=gen.context_tokens, n_threads=gen.threads,
                n_threads_batch=gen.threads, seed=gen.seed, verbose=False)
    def run(seq):
        raw.reset()
        return [raw_stream(raw, msgs, max_tokens=small, temperature=0.0, seed=0) for msgs in seq]
    task = condense[1].content.removeprefix(prompts.CONDENSE + "\n\n")
    before = run([m1, [Message("system", prompts.CONDENSE), Message("user", task)], m2])
    today = run([m1, condense, m2])
    for label, seq in (("before: condense under its own system prompt", before),
                       ("today: condense as a user turn under SYSTEM", today)):
        report.add("cache", f"follow-up tokens evaluated, condense + answer: {label}",
                   seq[1]["perf"]["n_p_eval"] + seq[2]["perf"]["n_p_eval"],
                   note=f"prompt eval {(seq[1]['perf']['t_p_eval_ms'] + seq[2]['perf']['t_p_eval_ms']) / 1000:.2f} s;"
                   f" answer TTFT {seq[2]['first'] - seq[2]['start']:.2f} s")
    report.extra["cache"] = {"condense_before": before[1]["text"], "condense_today": today[1]["text"]}
    del raw
    gc.collect()


def _reused(llm, call) -> int:
    """Prompt tokens of this call that were not evaluated (served from the KV cache)."""
    msgs = [{"role": m.role, "content": m.content} for m in call["messages"]]
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    fmt = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],
                              eos_token="<|im_end|>", bos_token="", add_generation_prompt=True)
    prompt = fmt(messages=msgs).prompt
    total = len(llm.tokenize(prompt.encode(), add_bos=False, special=True))
    return total - call["perf"]["n_p_eval"]


def section_indexing(report: Report, args) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from rag import Assistant, Settings
    from rag.evaluate import Dataset, index_dataset, load_realtimeqa, load_squad, write_corpus

    n_articles = 6 if args.quick else 30
    data = load_realtimeqa(RTQA_DIR)
    docs = tuple(d for d in data.documents if len(d.text) > 1500)[:n_articles]
    folder = TMP / "index-rtqa"
    settings = Settings.load().replace(index_dir=str(folder))
    assistant = Assistant(settings)
    emb = assistant.embedder
    emb.embed(["warm-up"], kind="document")  # load the weights outside the timing
    spent = {"embed": 0.0}
    original = emb.embed

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            spent["embed"] += time.perf_counter() - t
    emb.embed = timed
    src = TMP / "articles"
    paths = write_corpus(Dataset("bench", docs, ()), src)
    t = time.perf_counter()
    rep = assistant.index_files(paths)
    wall = time.perf_counter() - t
    emb.embed = original
    chunks = assistant.index.chunks
    ours = rep.chunks_embedded / wall
    # raw sentence-transformers on the same chunk texts and titles, same dtype and threads
    st = SentenceTransformer(str(EMBEDDER_DIR), device="cpu", local_files_only=True,
                             model_kwargs={"dtype": getattr(torch, emb.dtype)})
    st.encode_document(["warm-up"])
    texts = [c.text for c in chunks]
    t = time.perf_counter()
    st.encode_document(texts, batch_size=emb.batch_size, normalize_embeddings=True)
    raw_s = time.perf_counter() - t
    raw_rate = len(texts) / raw_s
    report.add("indexing", f"chunks/s, Assistant.index_files vs raw encode_document "
               f"({len(texts)} chunks, {len(docs)} RealTime QA articles)",
               ours, raw_rate, ratio(ours, raw_rate), ">= 0.9", ratio(ours, raw_rate) >= 0.9,
               note=f"{emb.dtype}, batch {emb.batch_size}, {torch.get_num_threads()} torch threads")
    # the same raw encoder on exactly our inputs (each chunk under its article's title, as
    # EmbeddingGemma's document prompt allows): what is left is the pipeline's own overhead
    titles = [c.title for c in chunks]
    titled = emb._with_titles(texts, titles)
    t = time.perf_counter()
    st.encode(titled, prompt="", batch_size=emb.batch_size, normalize_embeddings=True)
    titled_rate = len(texts) / (time.perf_counter() - t)
    report.add("indexing", "chunks/s, Assistant.index_files vs raw encode of the same titled "
               "inputs", ours, titled_rate, ratio(ours, titled_rate),
               note="the titles (better retrieval) are the rest of the gap to encode_document")
    t = time.perf_counter()  # our embed call again, after the raw runs (single runs vary ±3%)
    emb.embed(texts, kind="document", titles=titles)
    again_rate = len(texts) / (time.perf_counter() - t)
    report.add("indexing", "chunks/s, our embed call alone (run after the raw ones) vs raw "
               "encode of the same titled inputs", again_rate, titled_rate,
               ratio(again_rate, titled_rate), note="the order of runs, not the pipeline")
    rest = wall - spent["embed"]
    report.add("indexing", "index_files wall s: embedding / everything else", spent["embed"],
               rest, note="else = parse + chunk + BM25 + FAISS + save (fsync, sha256)")
    _with_sentence_vectors(report, emb, paths, wall, rep.chunks_embedded)
    t = time.perf_counter()
    again = assistant.index_files(paths)
    report.add("indexing", "re-run unchanged (same files): seconds / chunks embedded",
               time.perf_counter() - t, again.chunks_embedded, goal="seconds, 0 embedded",
               met=again.chunks_embedded == 0)
    if args.sweep:
        _sweep_embedding(report, st, texts[:48], emb)
    del st
    gc.collect()
    # each finished shared eval index, re-run unchanged on a private copy (never the original)
    for name, load_data in (("squad-dev", lambda: load_squad(SQUAD_FILE, SQUAD_DEV)),
                            ("realtimeqa", lambda: load_realtimeqa(RTQA_DIR))):
        shared = shared_index(name)
        if shared is None:
            continue
        copy = TMP / f"{name}-copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(shared, copy, ignore=shutil.ignore_patterns(".lock", "eval-queries-*"))
        a2 = Assistant(Settings.load().replace(index_dir=str(copy)), embedder=emb)
        dataset = load_data()
        t = time.perf_counter()
        res = index_dataset(a2, dataset)
        report.add("indexing", f"{name} ({len(dataset.documents)} documents, "
                   f"{res.total_chunks} chunks) re-run unchanged: s / chunks embedded",
                   time.perf_counter() - t, res.chunks_embedded, goal="seconds, 0 embedded",
                   met=res.chunks_embedded == 0, note="index_dataset on a private copy")
        del a2
        shutil.rmtree(copy, ignore_errors=True)
    _shared_build_facts(report)
    if not args.quick:
        _rtqa_unchanged_floor(report)


def _with_sentence_vectors(report: Report, emb, paths, wall: float, n_chunks: int) -> None:
    """The same articles indexed with sentence vectors (`--sentence-vectors`): the cost."""
    from rag import Assistant, Settings
    folder = TMP / "index-rtqa-sentences"
    shutil.rmtree(folder, ignore_errors=True)
    assistant = Assistant(Settings.load().replace(index_dir=str(folder), sentence_vectors=True),
                          embedder=emb)
    t = time.perf_counter()
    assistant.index_files(paths)
    with_sentences = time.perf_counter() - t
    report.add("indexing", f"index_files wall s with sentence vectors vs without "
               f"({n_chunks} chunks, {assistant.index.manifest.n_sentences} sentence vectors)",
               with_sentences, wall, ratio(with_sentences, wall), goal="reported (opt-in)",
               note="RAG_SENTENCE_VECTORS=1: better retrieval, see README")
    shutil.rmtree(folder, ignore_errors=True)


def _rtqa_unchanged_floor(report: Report) -> None:
    """An unchanged re-run of the whole RealTime QA corpus still parses every shard
    (load_articles: JSON, cleaning, language detection, content hashes) before it finds
    nothing to embed: time that floor on the full corpus in a temp folder."""
    from rag.corpus import load_articles
    from rag.evaluate import load_realtimeqa, write_corpus
    data = load_realtimeqa(RTQA_DIR)
    shards = write_corpus(data, TMP / "rtqa-shards")
    t = time.perf_counter()
    loaded = load_articles(shards)
    seconds = time.perf_counter() - t
    report.add("indexing", f"RealTime QA unchanged re-run floor: parse {len(shards)} shards, "
               f"{len(loaded.articles)} articles (load_articles) s", seconds,
               note="index_dataset's first build re-parses shards 0..n at every step n")


def _sweep_embedding(report, st, texts, emb) -> None:
    import torch
    for dtype in ("bfloat16", "float32"):
        model = st if dtype == emb.dtype else None
        if model is None:
            from sentence_transformers import SentenceTransformer
            model = SentenceTransformer(str(EMBEDDER_DIR), device="cpu", local_files_only=True,
                                        model_kwargs={"dtype": getattr(torch, dtype)})
            model.encode_document(["warm-up"])
        for bs in (4, 16, 64):
            t = time.perf_counter()
            model.encode_document(texts, batch_size=bs)
            rate = len(texts) / (time.perf_counter() - t)
            report.add("indexing", f"sweep: encode_document {dtype} batch {bs}, chunks/s", rate)
    before = torch.get_num_threads()
    for threads in (1,):
        torch.set_num_threads(threads)
        t = time.perf_counter()
        st.encode_document(texts, batch_size=16)
        report.add("indexing", f"sweep: {threads} torch thread, batch 16, chunks/s",
                   len(texts) / (time.perf_counter() - t))
    torch.set_num_threads(before)


def _shared_build_facts(report: Report) -> None:
    """What the other engineers' builds took (read from their logs and manifests only)."""
    from rag.store import current_generation
    for name in ("realtimeqa", "squad-dev"):
        gen = current_generation(SHARED_EVAL / name)
        if gen is None:
            report.add("indexing", f"shared {name} index", "not built yet",
                       note=f"no CURRENT in {SHARED_EVAL / name}")
            continue
        manifest = json.loads((gen / "manifest.json").read_text())
        # the corpus shards are written first, the generation last: their mtimes bound the build
        shards = sorted((SHARED_EVAL / name / "eval-corpus").glob("*.jsonl"))
        first = min((p.stat().st_mtime for p in shards), default=None)
        seconds = manifest["updated"] - first if first else float("nan")
        report.add("indexing", f"shared {name} build: chunks / wall s (from file times)",
                   manifest["n_chunks"], seconds,
                   note=f"{manifest['n_chunks'] / seconds:.2f} chunks/s incl. model load, under "
                   "the load of that time; a build that was stopped and resumed counts the "
                   "time it was stopped too" if seconds == seconds else "")


def _proxy_rtqa_index(embedder, dim: int, seed: int = 0):
    """RealTime QA sized index: every article's text cut into ~200-token windows (about
    900 characters on word boundaries), real BM25 over them, random unit vectors."""
    from rag.chunking import Chunk
    from rag.corpus import article_from_text
    from rag.evaluate import load_realtimeqa
    from rag.store import Index

    data = load_realtimeqa(RTQA_DIR)
    rng = np.random.default_rng(seed)
    added = []
    for d in data.documents:
        try:
            art = article_from_text(d.text, title=d.title, date=d.date, source=d.source, lang="en")
        except Exception:
            continue
        chunks, start, n = [], 0, 0
        text = art.text
        while start < len(text):
            end = min(len(text), start + 900)
            if end < len(text):
                space = text.rfind(" ", start + 600, end)
                end = space if space > start else end
            chunks.append(Chunk(f"{art.id}:{n}", art.id, n, text[start:end], start, end,
                                art.title, "en", art.date, art.source))
            start, n = max(end - 150, start + 1) if end < len(text) else end, n + 1
        v = rng.standard_normal((len(chunks), dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        added.append((art, chunks, v))
    base = Index.empty(embedder, dim, 200, 40)
    return base.updated(added, set())


def section_query(report: Report, args) -> None:
    from rag import Assistant, Settings
    from rag.evaluate import load_realtimeqa
    from rag.retrieve import Retriever

    n = 10 if args.quick else 50
    targets = []
    squad = shared_index("squad-dev")
    if squad is not None:
        targets.append(("SQuAD-it dev index (shared, read-only)", squad,
                        [q.question for q in squad_questions(n)]))
    rtqa_q = [q.question for q in load_realtimeqa(RTQA_DIR).questions][:n]
    rtqa = args.rtqa_index or shared_index("realtimeqa")
    if rtqa is not None:
        targets.append(("RealTime QA index (shared, read-only)", rtqa, rtqa_q))
    else:
        targets.append(("RealTime QA size proxy (real chunk texts, random vectors)", None, rtqa_q))
    embedder = None
    for label, index_dir, questions in targets:
        if index_dir is not None:
            a = read_only_assistant(index_dir)
            if embedder is not None:
                a._embedder = embedder
            t = time.perf_counter()
            _ = a.index
            open_s = time.perf_counter() - t
        else:
            a = Assistant(Settings.load().replace(index_dir=str(TMP / "unused")),
                          embedder=embedder)
            t = time.perf_counter()
            proxy = _proxy_rtqa_index(a.embedder.name, a.embedder.dim)
            build_s = time.perf_counter() - t
            a._index = proxy  # in memory only; nothing is written
            open_s = float("nan")
            report.add("query", "proxy build (in memory: FAISS flat + BM25) s", build_s,
                       note=f"{len(proxy.chunks)} chunks")
        embedder = a.embedder
        a.search("warm-up question")
        full, qemb, rest = [], [], []
        retriever = Retriever(a.index, a.embedder, a.settings)
        for q in questions:
            t = time.perf_counter()
            a.search(q)
            full.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            v = a.embedder.embed([q], kind="query")[0]
            qemb.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            retriever.search(q, vector=v)
            rest.append((time.perf_counter() - t) * 1000)
        s_full, s_q, s_rest = summary(full), summary(qemb), summary(rest)
        size = len(a.index.chunks)
        report.add("query", f"Assistant.search p50 / p95 ms — {label}, {size} chunks, "
                   f"{a.index.manifest.faiss_type}", s_full["p50"], s_full["p95"],
                   note=f"query embedding p50 {s_q['p50']:.0f} ms; search+fusion p50 "
                   f"{s_rest['p50']:.1f} / p95 {s_rest['p95']:.1f} ms; index open "
                   f"{open_s:.2f} s")


def section_scale(report: Report, args) -> None:
    """Dense search only: BM25 over a million synthetic documents is left out (its build
    would take tens of minutes and several GB here, and says nothing about real text)."""
    sizes = [int(x) for x in (args.sizes or ("20000" if args.quick else "100000,1000000")
                              ).split(",")]
    kinds = (args.data or "spectrum,random").split(",")
    dim, nq, k = 768, (50 if args.quick else 200), 10
    rng = np.random.default_rng(0)
    real = _real_vectors()
    for n in sizes:
        for data in kinds:
            if data == "random" and n > 100_000 and not args.sizes:
                continue  # default full run: random data only up to 100k (see README)
            _scale_one(report, args, n, data, dim, nq, k, rng, real)


def _real_vectors():
    """Real EmbeddingGemma passage vectors and question vectors from the shared SQuAD-it dev
    index (read-only), to give synthetic data the real spectrum; None if not built."""
    import faiss
    from rag.store import current_generation
    gen = current_generation(SHARED_EVAL / "squad-dev")
    if gen is None:
        return None
    passages = faiss.read_index(str(gen / "dense.faiss"))
    x = passages.reconstruct_n(0, passages.ntotal)
    queries = sorted((SHARED_EVAL / "squad-dev").glob("eval-queries-*.npy"))
    q = np.load(queries[0]) if queries else None
    return x, q


def _synthetic(n: int, dim: int, data: str, rng, real):
    """random: i.i.d. unit vectors (no structure: the worst case for any graph index).
    spectrum: Gaussian with the mean and covariance of real passage vectors, normalized."""
    if data == "random" or real is None:
        x = rng.standard_normal((n, dim), dtype=np.float32)
    else:
        base = real[0].astype(np.float64)
        mean = base.mean(axis=0)
        vals, vecs = np.linalg.eigh(np.cov(base, rowvar=False))
        transform = (vecs * np.sqrt(np.clip(vals, 0, None))).T.astype(np.float32)
        x = np.empty((n, dim), np.float32)
        for a in range(0, n, 100_000):
            b = min(n, a + 100_000)
            x[a:b] = rng.standard_normal((b - a, dim), dtype=np.float32) @ transform + mean
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _scale_one(report, args, n, data, dim, nq, k, rng, real) -> None:
    import faiss
    from rag.store import HNSW_EF_CONSTRUCTION, HNSW_M, faiss_kind, hnsw_ef_search, new_hnsw
    x = _synthetic(n, dim, data, rng, real)
    if data == "spectrum" and real is not None and real[1] is not None:
        q_real = real[1][rng.choice(len(real[1]), nq, replace=False)].astype(np.float32)
        query_sets = (("real SQuAD-it questions", q_real),)
    else:
        q_rand = rng.standard_normal((nq, dim), dtype=np.float32)
        q_rand /= np.linalg.norm(q_rand, axis=1, keepdims=True)
        query_sets = (("random queries", q_rand),)
    # near-neighbour queries: a stored vector plus noise of norm ~0.5 (it stays the top hit)
    noise = 0.5 / np.sqrt(dim)
    q_near = x[rng.integers(0, n, nq)] + noise * rng.standard_normal((nq, dim), dtype=np.float32)
    q_near /= np.linalg.norm(q_near, axis=1, keepdims=True)
    query_sets += (("near-neighbour queries", q_near),)
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    flat_build = time.perf_counter() - t
    kind = "flat"
    if args.hnsw_max and n > args.hnsw_max:  # exact search only (HNSW build too long)
        tf = _single_query_ms(flat, query_sets[0][1], k)
        report.add("scale", f"{n:,} {data} vectors, {query_sets[0][0]}: exact search "
                   f"(IndexFlatIP) p50 / p95 ms", summary(tf)["p50"], summary(tf)["p95"],
                   note=f"flat build {flat_build:.1f} s; HNSW not built (--hnsw-max "
                   f"{args.hnsw_max}); RSS {rss_mb()['rss_mb']:.0f} MB")
        del flat, x
        gc.collect()
        return
    t = time.perf_counter()
    kind = faiss_kind(n)
    cached = (args.keep / f"hnsw-{n}-{data}-M{HNSW_M}-efc{HNSW_EF_CONSTRUCTION}.faiss"
              if args.keep else None)
    reused = cached is not None and cached.exists()
    if reused:  # same seed, same vectors: reuse the slow graph build
        hnsw = faiss.read_index(str(cached))
    else:  # the store's HNSW, also below the size where build_faiss would pick it
        hnsw = new_hnsw(dim)
        hnsw.add(x)
    ef_product = hnsw_ef_search(n)
    hnsw.hnsw.efSearch = ef_product
    hnsw_build = time.perf_counter() - t
    if cached is not None and not reused:
        cached.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(hnsw, str(cached))
    build_note = f"read from {cached}" if reused else "built"
    for qname, qs in query_sets:
        _, exact = flat.search(qs, k)
        tf = _single_query_ms(flat, qs, k)
        th = _single_query_ms(hnsw, qs, k)
        _, approx = hnsw.search(qs, k)
        recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(approx, exact)]))
        report.add("scale", f"{n:,} {data} vectors, {qname}: search p50 ms HNSW vs flat "
                   f"(M={HNSW_M}, efSearch={ef_product})",
                   summary(th)["p50"], summary(tf)["p50"],
                   ratio(summary(tf)["p50"], summary(th)["p50"]), "recall@10 >= 0.95",
                   recall >= 0.95, note=f"HNSW recall@10 {recall:.3f}; p95 flat "
                   f"{summary(tf)['p95']:.1f} / HNSW {summary(th)['p95']:.1f} ms; "
                   f"ratio = speedup")
        if qname != "near-neighbour queries":
            for ef in (256, 512, 1024, 2048, 4096):
                hnsw.hnsw.efSearch = ef
                _, approx = hnsw.search(qs, k)
                r = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(approx, exact)]))
                report.add("scale", f"{n:,} {data} vectors, {qname}, efSearch={ef}",
                           summary(_single_query_ms(hnsw, qs[:50], k))["p50"],
                           note=f"recall@10 {r:.3f}")
            hnsw.hnsw.efSearch = ef_product
    report.add("scale", f"{n:,} {data} vectors: build s flat / HNSW (rag.store picks {kind})",
               flat_build, hnsw_build, note=f"HNSW {build_note}; RSS now "
               f"{rss_mb()['rss_mb']:.0f} MB; "
               "an update that only adds articles extends a copy (Index.updated); others rebuild")
    del flat, hnsw, x
    gc.collect()


def _single_query_ms(index, queries, k) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        index.search(q.reshape(1, -1), k)
        out.append((time.perf_counter() - t) * 1000)
    return out


CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1]); index_dir = sys.argv[2]; question = sys.argv[3]
sys.path.insert(0, sys.argv[4])
from common import rss_mb
marks = {}
def mark(name):
    marks[name] = {"s": round(time.time() - t0, 2), **{k: round(v) for k, v in rss_mb().items()}}
mark("python started")
from rag import Assistant, Settings
mark("rag imported")
a = Assistant(Settings.load().replace(index_dir=index_dir))
a.embedder.embed(["x"], kind="query"); mark("embedder loaded")
_ = a.index; mark("index open")
_ = a.generator.llm; mark("LLM loaded")
ans = a.ask(question); mark("answered")
print(json.dumps({"marks": marks, "abstained": ans.abstained, "timings": ans.to_json()["timings"]}))
"""


def section_memory(report: Report, args) -> None:
    index_dir = args.rtqa_index or shared_index("realtimeqa")
    label = "RealTime QA index"
    if index_dir is None:  # the same size on disk and in memory: real texts and BM25,
        from rag import Settings  # random vectors
        from rag.embed import build_embedder
        embedder = build_embedder(Settings.load())  # its name and size (the child loads its own)
        index_dir = TMP / "rtqa-proxy"
        _proxy_rtqa_index(embedder.name, embedder.dim).save(index_dir)
        label = "RealTime QA size proxy index (real texts, random vectors)"
    question = "When did the James Webb Space Telescope send its first images?"
    out = subprocess.run([sys.executable, "-c", CHILD, str(time.time()), str(index_dir),
                          question, str(Path(__file__).parent)], capture_output=True, text=True,
                         cwd=REPO, timeout=900)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    marks = data["marks"]
    for name, m in marks.items():
        report.add("memory", f"{name}: RSS / peak MB", m["rss_mb"], m["peak_mb"],
                   note=f"at {m['s']} s")
    report.add("memory", f"peak RSS MB, both models + {label} + 1 answer",
               marks["answered"]["peak_mb"], note=f"abstained: {data['abstained']}")
    report.extra["memory"] = data


def section_coldstart(report: Report, args) -> None:
    from rag import Assistant, Settings
    folder = TMP / "index-corpus"
    a = Assistant(Settings.load().replace(index_dir=str(folder)))
    a.index_files([REPO / "corpus"])
    del a
    gc.collect()
    rag = Path(sys.executable).parent / "rag"
    question = "Quanto vale il settore dei data center?"
    runs = []
    for i in range(1 if args.quick else 3):
        t = time.perf_counter()
        out = subprocess.run([str(rag), "ask", question, "--index", str(folder), "--json"],
                             capture_output=True, text=True, cwd=REPO, timeout=600)
        wall = time.perf_counter() - t
        data = json.loads(out.stdout)
        runs.append((wall, data["timings"]))
    walls = [w for w, _ in runs]
    t = runs[-1][1]
    last = data
    report.add("coldstart", "process start -> answer printed, s (rag ask --json, bundled corpus)",
               float(np.median(walls)), note=f"runs: {', '.join(f'{w:.1f}' for w in walls)}; in "
               f"the answer: retrieve {t['retrieve_ms']:.0f} ms, first token "
               f"{t['first_token_ms']:.0f} ms, generate {t['generate_ms']:.0f} ms, total "
               f"{t['total_ms']:.0f} ms; abstained {last['abstained']}, "
               f"{len(last['answer'])} chars (models load lazily inside the first question)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import rag.cli"], cwd=REPO, check=True)
    report.add("coldstart", "python -c 'import rag.cli' s", time.perf_counter() - t0)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", default=["all"], metavar="SECTION",
                        help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small smoke version")
    parser.add_argument("--sweep", action="store_true",
                        help="indexing: also sweep embedding batch size, dtype and threads")
    parser.add_argument("--index", type=Path, help="index for generation/cache "
                        "(default: the shared SQuAD-it dev index, read-only)")
    parser.add_argument("--rtqa-index", type=Path, help="a finished RealTime QA index "
                        "(default: ~/.cache/rag/eval/realtimeqa if built)")
    parser.add_argument("--sizes", help="scale: comma-separated vector counts")
    parser.add_argument("--hnsw-max", type=int, default=0,
                        help="scale: above this many vectors time exact search only")
    parser.add_argument("--data", help="scale: spectrum (real covariance, default) and/or random")
    parser.add_argument("--keep", type=Path, help="scale: save each HNSW graph here and reuse "
                        "it on the next run (same sizes and data: the vectors are seeded)")
    args = parser.parse_args(argv)
    chosen = SECTIONS if "all" in args.sections else tuple(args.sections)
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(SECTIONS)}")
    TMP.mkdir(parents=True, exist_ok=True)
    report = Report("perf-quick" if args.quick else "perf")
    print(f"load before: {load()}; temp folder {TMP}", flush=True)
    ceiling = None
    try:
        for name in SECTIONS:
            if name not in chosen:
                continue
            print(f"== {name} (load {load()})", flush=True)
            t = time.perf_counter()
            if name == "bandwidth":
                ceiling = section_bandwidth(report, args)["ceiling"]
            elif name == "generation":
                if ceiling is None:
                    ceiling = section_bandwidth(report, args)["ceiling"]
                section_generation(report, args, ceiling)
            else:
                globals()[f"section_{name}"](report, args)
            report.extra.setdefault("section_seconds", {})[name] = time.perf_counter() - t
            report.checkpoint()
            gc.collect()
    finally:
        report.finish()
        shutil.rmtree(TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
