"""Peer comparison: the same corpus, models and questions through LlamaIndex's usual pipeline.

Ours: `Assistant` (EmbeddingGemma via sentence-transformers, FAISS + BM25 hybrid, Qwen2.5-Coder
via llama-cpp-python). Peer: LlamaIndex `VectorStoreIndex.from_documents` with its default
SentenceSplitter, `HuggingFaceEmbedding` on the same local model directory (with
EmbeddingGemma's query/document prompts), a `FaissVectorStore` (IndexFlatIP), and `LlamaCPP` on
the same GGUF, same threads, greedy decoding, ChatML prompt format, its default QA template.

Measured side by side, one after the other (never concurrently) on the same machine:

* index build time for the same SQuAD-it dev paragraphs (a fresh index each; model load
  excluded for both) -> chunks (nodes)/s and the ratio;
* retrieval latency p50/p95 (question embedding + search) and recall@5 / recall@1 at document
  level on SQuAD-it dev questions (ours: hybrid, and dense only);
* answer latency (time to first token, total) for a few questions.

Run it with the project's venv; it runs the peer in ``benchmarks/.venv-peer`` (see
benchmarks/README.md for its setup):

    .venv/bin/python benchmarks/peer_llamaindex.py --quick     # 40 paragraphs, a few minutes
    .venv/bin/python benchmarks/peer_llamaindex.py             # full SQuAD-it dev (data[0:24])

Ours reads the shared SQuAD-it dev index (~/.cache/rag/eval/squad-dev) read-only for the
full-size recall; builds are timed in fresh temp indexes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (EMBEDDER_DIR, LLM_FILE, SQUAD_DEV, SQUAD_FILE, Report,  # noqa: E402
                    load, ratio, rss_mb, summary)

PEER_PY = HERE / ".venv-peer" / "bin" / "python"
QUERY_PROMPT = "task: search result | query: "     # EmbeddingGemma's own prompts
DOCUMENT_PROMPT = "title: none | text: "
CHATML_SYSTEM = "You are a helpful assistant."
WARM_UP = "Di cosa parlano questi testi?"  # loads the LLM and fills its cache; never measured


# =========================================================================== peer side
# (runs in benchmarks/.venv-peer; imports nothing from rag)

def chatml(system: str, user: str) -> str:
    return (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def peer_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    import faiss
    import torch
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LISettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.llms.llama_cpp import LlamaCPP
    from llama_index.vector_stores.faiss import FaissVectorStore

    threads = spec["threads"]
    torch.set_num_threads(threads)
    out: dict = {"versions": {}}
    import llama_index.core
    out["versions"]["llama-index-core"] = llama_index.core.__version__
    t = time.perf_counter()
    instructions = ({} if spec.get("default_prompts") else
                    {"query_instruction": QUERY_PROMPT, "text_instruction": DOCUMENT_PROMPT})
    embed = HuggingFaceEmbedding(model_name=spec["embedder"], device="cpu",
                                 embed_batch_size=spec["batch_size"],
                                 model_kwargs={"dtype": getattr(torch, spec["dtype"])},
                                 **instructions)
    embed.get_query_embedding("warm-up")
    out["embedder_load_s"] = time.perf_counter() - t
    out["embedder_dtype"] = str(next(embed._model.parameters()).dtype)
    out["torch_threads"] = torch.get_num_threads()
    LISettings.embed_model = embed
    LISettings.llm = None

    def build(docs):
        documents = [Document(text=d["text"], metadata={"title": d["title"], "doc_id": d["id"]},
                              excluded_embed_metadata_keys=["doc_id"],
                              excluded_llm_metadata_keys=["doc_id"]) for d in docs]
        store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(spec["dim"]))
        t0, c0 = time.perf_counter(), time.process_time()
        index = VectorStoreIndex.from_documents(
            documents, storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=embed)
        return index, time.perf_counter() - t0, store._faiss_index.ntotal, time.process_time() - c0

    index, seconds, nodes, cpu = build(spec["build_docs"])
    out["build"] = {"seconds": seconds, "nodes": nodes, "documents": len(spec["build_docs"]),
                    "cpu_s": cpu, "load": os.getloadavg()[0]}
    if spec.get("recall_docs"):
        del index
        gc.collect()
        index, seconds, nodes, cpu = build(spec["recall_docs"])
        out["recall_build"] = {"seconds": seconds, "nodes": nodes,
                               "documents": len(spec["recall_docs"])}
    retriever = index.as_retriever(similarity_top_k=spec["depth"])
    latencies, r1, r5 = [], 0.0, 0.0
    c0 = time.process_time()
    for q in spec["questions"]:
        t0 = time.perf_counter()
        nodes_ = retriever.retrieve(q["question"])
        latencies.append((time.perf_counter() - t0) * 1000)
        ranking = list(dict.fromkeys(n.node.metadata["doc_id"] for n in nodes_))
        r1 += float(any(d in q["gold"] for d in ranking[:1]))
        r5 += float(any(d in q["gold"] for d in ranking[:5]))
    n = len(spec["questions"])
    out["retrieval"] = {"ms": latencies, "recall@1": r1 / n, "recall@5": r5 / n, "n": n,
                        "cpu_ms_per_q": (time.process_time() - c0) * 1000 / n}
    if spec["answer_questions"]:
        llm = LlamaCPP(model_path=spec["llm"], temperature=0.0,
                       max_new_tokens=spec["max_tokens"], context_window=spec["context"],
                       generate_kwargs={"top_k": 1, "seed": 0},
                       model_kwargs={"n_threads": threads, "n_threads_batch": threads, "seed": 0},
                       messages_to_prompt=lambda ms: chatml(
                           CHATML_SYSTEM, "\n".join(str(m.content) for m in ms)),
                       completion_to_prompt=lambda p: chatml(CHATML_SYSTEM, p), verbose=False)
        engine = index.as_query_engine(llm=llm, similarity_top_k=spec["top_k"], streaming=True)
        engine.query(WARM_UP).get_response()
        answers = []
        for q in spec["answer_questions"]:
            t0 = time.perf_counter()
            response = engine.query(q)
            first = None
            text = ""
            for piece in response.response_gen:
                if first is None and piece:
                    first = time.perf_counter() - t0
                text += piece
            answers.append({"question": q, "ttft_s": first, "total_s": time.perf_counter() - t0,
                            "answer": text})
        out["answers"] = answers
    out["peak_rss_mb"] = rss_mb()["peak_mb"]
    print("PEER_JSON " + json.dumps(out))


# =========================================================================== our side

def squad_docs_and_questions():
    from rag.evaluate import load_squad
    return load_squad(SQUAD_FILE, SQUAD_DEV)


def spread(items, n):
    step = max(1, len(items) // max(n, 1))
    return list(items[::step])[:n]


def ours_build(docs, folder: Path, embedder):
    from rag import Assistant, Settings
    from rag.evaluate import Dataset, index_dataset
    a = Assistant(Settings.load().replace(index_dir=str(folder)), embedder=embedder)
    t, c = time.perf_counter(), time.process_time()
    corpus = index_dataset(a, Dataset("bench", tuple(docs), ()))
    return a, corpus, time.perf_counter() - t, time.process_time() - c


def ours_retrieval(assistant, questions, modes=("hybrid", "dense")):
    """Recall at document level; an article's url holds its dataset id (rag.evaluate)."""
    from rag.retrieve import Retriever
    url = {a.id: a.url for a in assistant.index.articles.values()}
    out = {}
    for mode in modes:
        r = Retriever(assistant.index, assistant.embedder, assistant.settings)
        latencies, r1, r5 = [], 0.0, 0.0
        for q in questions:
            t = time.perf_counter()
            hits = r.search(q.question, k=50, mode=mode)
            latencies.append((time.perf_counter() - t) * 1000)
            ranking = list(dict.fromkeys(url[h.chunk.article_id] for h in hits))
            r1 += float(any(d in q.gold for d in ranking[:1]))
            r5 += float(any(d in q.gold for d in ranking[:5]))
        out[mode] = {"ms": latencies, "recall@1": r1 / len(questions),
                     "recall@5": r5 / len(questions), "n": len(questions)}
    return out


def timed_search(assistant, questions) -> tuple[list[float], float]:
    """Wall ms of `Assistant.search` per question, and the mean CPU ms per question."""
    latencies = []
    c = time.process_time()
    for q in questions:
        t = time.perf_counter()
        assistant.search(q.question)
        latencies.append((time.perf_counter() - t) * 1000)
    return latencies, (time.process_time() - c) * 1000 / max(len(questions), 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--side", choices=["ours", "peer"], default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--build-docs", type=int, help="paragraphs in the build-speed subset")
    parser.add_argument("--questions", type=int, help="questions for recall and latency")
    parser.add_argument("--answers", type=int, help="questions answered end to end")
    parser.add_argument("--peer-default-prompts", action="store_true",
                        help="peer without EmbeddingGemma's prompts (LlamaIndex's default)")
    args = parser.parse_args(argv)
    if args.side == "peer":
        peer_main(args.spec)
        return 0
    if not PEER_PY.exists():
        sys.exit(f"no peer environment at {PEER_PY}; see benchmarks/README.md")
    tmp = Path(tempfile.mkdtemp(prefix="rag-peer-"))
    try:
        return compare(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(args, tmp: Path) -> int:
    from rag import Assistant, Settings
    from rag.store import current_generation
    from common import SHARED_EVAL

    n_build = args.build_docs or (40 if args.quick else 200)
    n_q = args.questions or (40 if args.quick else 200)
    n_ans = args.answers if args.answers is not None else (2 if args.quick else 5)
    report = Report("peer-quick" if args.quick else "peer")
    dataset = squad_docs_and_questions()
    build_docs = spread(dataset.documents, n_build)
    shared = SHARED_EVAL / "squad-dev"
    full = not args.quick and current_generation(shared) is not None
    if full:
        recall_docs = dataset.documents
    else:
        recall_docs = build_docs
    ids = {d.id for d in recall_docs}
    questions = spread([q for q in dataset.questions if set(q.gold) & ids], n_q)
    answer_qs = spread(questions, n_ans) if n_ans else []

    # ---- ours
    print(f"== ours (load {load()})", flush=True)
    probe = Assistant(Settings.load().replace(index_dir=str(tmp / "none")))
    embedder = probe.embedder
    t = time.perf_counter()
    embedder.embed(["warm-up"], kind="query")
    ours_load = time.perf_counter() - t
    ours_build_load = os.getloadavg()[0]
    built, corpus, ours_build_s, ours_build_cpu = ours_build(build_docs, tmp / "ours-build",
                                                             embedder)
    target_dir = shared if full else tmp / "ours-build"
    target = Assistant(Settings.load().replace(index_dir=str(target_dir)), embedder=embedder) \
        if full else built
    ret = ours_retrieval(target, questions)
    ours_search, ours_search_cpu = timed_search(target, questions)
    answers = []
    if answer_qs:
        target.ask(WARM_UP, max_tokens=8)  # load the LLM outside the timing
        for q in answer_qs:
            first = None
            t = time.perf_counter()
            for item in target.stream(q.question):
                if isinstance(item, str) and first is None:
                    first = time.perf_counter() - t
                answer = item
            answers.append({"ttft_s": first, "total_s": time.perf_counter() - t,
                            "generate_s": answer.timings.generate_ms / 1000,
                            "verify_s": answer.timings.verify_ms / 1000,
                            "abstained": answer.abstained, "answer": answer.text})
    ours_peak = rss_mb()["peak_mb"]
    settings = target.settings
    del target, built, probe
    gc.collect()

    # ---- peer (a separate process in its own venv, run after ours has finished)
    print(f"== peer: LlamaIndex (load {load()})", flush=True)
    doc = lambda d: {"id": d.id, "text": d.text, "title": d.title}  # noqa: E731
    spec = {"embedder": str(EMBEDDER_DIR), "llm": str(LLM_FILE), "dim": 768,
            "dtype": embedder.dtype, "batch_size": embedder.batch_size,
            "threads": settings.usable_threads, "context": settings.context_tokens,
            "max_tokens": settings.max_answer_tokens, "top_k": settings.top_k, "depth": 20,
            "default_prompts": args.peer_default_prompts,
            "build_docs": [doc(d) for d in build_docs],
            "recall_docs": [doc(d) for d in recall_docs] if full else None,
            "questions": [{"question": q.question, "gold": list(q.gold)} for q in questions],
            "answer_questions": [q.question for q in answer_qs]}
    spec_path = tmp / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    t = time.perf_counter()
    proc = subprocess.run([str(PEER_PY), __file__, "--side", "peer", "--spec", str(spec_path)],
                          capture_output=True, text=True, env=env, timeout=3600)
    peer_wall = time.perf_counter() - t
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PEER_JSON ")), None)
    if line is None:
        print(proc.stdout[-3000:], proc.stderr[-5000:])
        sys.exit("the peer run failed")
    peer = json.loads(line[len("PEER_JSON "):])
    # ours again, after the peer: the same questions timed before and after the peer, so
    # a drift of the machine's speed during the run does not favour either side
    again = Assistant(Settings.load().replace(index_dir=str(target_dir)))
    again.search("warm-up")  # load the embedder and index outside the timing
    ours_after, ours_after_cpu = timed_search(again, questions)
    del again

    # ---- side by side
    ours_rate = corpus.total_chunks / ours_build_s
    p = peer["build"]
    peer_rate = p["nodes"] / p["seconds"]
    report.add("peer", f"index build s, same {len(build_docs)} SQuAD-it dev paragraphs "
               f"(ours chunks / peer nodes)", ours_build_s, p["seconds"],
               ratio(p["seconds"], ours_build_s), note=f"ratio = peer/ours time; CPU s ours "
               f"{ours_build_cpu:.0f} / peer {p['cpu_s']:.0f} (ratio "
               f"{ratio(p['cpu_s'], ours_build_cpu):.2f}); load ours {ours_build_load:.1f} / "
               f"peer {p['load']:.1f}; peer {peer['embedder_dtype']}, {peer['torch_threads']} "
               f"threads; ours "
               f"{corpus.total_chunks} chunks ({ours_rate:.2f}/s), peer {p['nodes']} nodes "
               f"({peer_rate:.2f}/s); paragraphs/s ours {len(build_docs) / ours_build_s:.2f}, "
               f"peer {len(build_docs) / p['seconds']:.2f}")
    if "recall_build" in peer:
        rb = peer["recall_build"]
        report.add("peer", f"peer full dev build s ({rb['documents']} paragraphs, "
                   f"{rb['nodes']} nodes)", rb["seconds"],
                   note="ours: the shared squad-dev index (built earlier, not re-timed here)")
    ph, pd, pp = ret["hybrid"], ret["dense"], peer["retrieval"]
    scope = f"{'full dev' if full else f'{len(recall_docs)}-paragraph subset'}, {ph['n']} q"
    report.add("peer", f"recall@5 ({scope}): ours hybrid vs peer", ph["recall@5"],
               pp["recall@5"], ratio(ph["recall@5"], pp["recall@5"]),
               note=f"ours dense only {pd['recall@5']:.3f}")
    report.add("peer", f"recall@1 ({scope}): ours hybrid vs peer", ph["recall@1"],
               pp["recall@1"], ratio(ph["recall@1"], pp["recall@1"]),
               note=f"ours dense only {pd['recall@1']:.3f}")
    so, sp = summary(ours_search + ours_after), summary(pp["ms"])
    report.add("peer", f"retrieval p50 ms (question embedding + search), the same {len(questions)}"
               f" questions: Assistant.search (before and after the peer) vs peer retriever",
               so["p50"], sp["p50"], ratio(sp["p50"], so["p50"]),
               note=f"p95 ours {so['p95']:.0f} / peer {sp['p95']:.0f}; ratio = peer/ours; ours "
               f"p50 before {summary(ours_search)['p50']:.1f} / after "
               f"{summary(ours_after)['p50']:.1f}; CPU ms/query ours "
               f"{(ours_search_cpu + ours_after_cpu) / 2:.0f} / peer {pp['cpu_ms_per_q']:.0f}")
    if answers and peer.get("answers"):
        both = [i for i, (a, b) in enumerate(zip(answers, peer["answers"]))
                if a["ttft_s"] and b["ttft_s"] and not a["abstained"]]
        ot = summary([answers[i]["ttft_s"] for i in both])
        pt = summary([peer["answers"][i]["ttft_s"] for i in both])
        report.add("peer", "answer: time to first token s (mean, questions both answered)",
                   ot["mean"], pt["mean"], ratio(pt["mean"], ot["mean"]),
                   note=f"ratio = peer/ours; {len(both)} of {len(answers)} questions "
                   f"(ours abstained on {sum(a['abstained'] for a in answers)})")
        o_total = summary([a["total_s"] for a in answers])
        p_total = summary([a["total_s"] for a in peer["answers"]])
        report.add("peer", "answer: total s (mean)", o_total["mean"], p_total["mean"],
                   ratio(p_total["mean"], o_total["mean"]),
                   note=f"ours includes grounding checks "
                   f"{summary([a['verify_s'] for a in answers])['mean']:.2f} s; answer lengths "
                   f"differ (prompts differ): ours "
                   f"{sum(len(a['answer']) for a in answers) / len(answers):.0f} chars, peer "
                   f"{sum(len(a['answer']) for a in peer['answers']) / len(answers):.0f}")
    report.add("peer", "peak RSS MB (process)", ours_peak, peer["peak_rss_mb"],
               note="ours also holds the LLM only if answers were run; both did")
    report.add("peer", "embedder load s (ours / peer)", ours_load, peer["embedder_load_s"])
    report.extra.update({"ours": {"retrieval": ret, "answers": answers, "search_ms": ours_search,
                                  "search_ms_after": ours_after},
                         "peer": peer, "peer_wall_s": peer_wall})
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
