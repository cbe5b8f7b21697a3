"""Concurrency through the HTTP API: N clients (the official `openai` client, streaming)
asking different questions at once, against the same questions asked one at a time, side
by side in one run on the real app (`rag.server` on 127.0.0.1, the bundled corpus).

Reported: throughput (answers per minute) and latency p50/p95 (to the sources, to the
first word of the draft, to the checked answer), for the sequential and the concurrent run,
and their ratios; the API's own cost on cheap calls (GET /v1/models, and POST /v1/search
against `Assistant.search` called directly); and whether every client got its own answer
(the answer's question is the one it asked, its citations quote the article exactly) with
no errors.

    .venv/bin/python benchmarks/http_concurrency.py              # real default models
    .venv/bin/python benchmarks/http_concurrency.py --fake       # a smoke run (fake models)
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, Report, ratio, summary  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.server import serve  # noqa: E402
from rag.settings import Settings  # noqa: E402

QUESTIONS = [
    "Quanto ha registrato Amazon di fatturato per AWS nell'ultimo trimestre?",
    "Dove ha sede Tesla secondo l'annuncio di lavoro?",
    "Quanto vale il settore dei data center secondo Electrek?",
    "Che cosa ha detto Andy Jassy sulla crescita di AWS?",
    "Quale ruolo cerca Tesla nell'annuncio di lavoro?",
    "Che scommessa ha fatto Jim Chanos contro i data center?",
    "What did The Information report in June about Tesla?",
    "Which companies would Tesla compete with in the data center business?",
]


@dataclass(frozen=True)
class Timing:
    question: str
    sources_s: float
    draft_s: float  # the first word of the model's draft (reasoning_content); 0: none
    total_s: float  # the checked answer, whole
    own_answer: bool  # the response is about the question asked, its quotes exact


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(base: str, question: str, assistant: Assistant) -> Timing:
    """One streamed question; the times from sending it."""
    import openai
    client = openai.OpenAI(base_url=base, api_key="x", max_retries=0, timeout=1800)
    started = time.perf_counter()
    sources = draft = 0.0
    final: dict = {}
    for chunk in client.chat.completions.create(
            model="rag", stream=True, messages=[{"role": "user", "content": question}]):
        now = time.perf_counter() - started
        extra = chunk.model_extra or {}
        if "passages" in extra and not sources:
            sources = now
        delta = (chunk.choices[0].delta.model_extra or {}) if chunk.choices else {}
        if delta.get("reasoning_content") and not draft:
            draft = now
        if chunk.choices and chunk.choices[0].finish_reason:
            final = extra
    total = time.perf_counter() - started
    return Timing(question, sources, draft, total, own_answer(final, question, assistant))


def own_answer(final: dict, question: str, assistant: Assistant) -> bool:
    if final.get("question") != question:
        return False
    for c in final.get("citations", []):
        article = assistant.store.article(c["article_id"])
        if article is None or article.text[c["quote_start"]:c["quote_end"]] != c["quote"]:
            return False
    return True


def run_at_once(base: str, questions: list[str], assistant: Assistant) -> tuple[list, list, float]:
    """Every question from its own thread, released together: (timings, errors, wall s)."""
    barrier = threading.Barrier(len(questions))
    timings: list[Timing] = []
    errors: list[str] = []

    def client(question: str) -> None:
        barrier.wait()
        try:
            timings.append(ask(base, question, assistant))
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors.append(f"{question}: {exc}")
    threads = [threading.Thread(target=client, args=(q,)) for q in questions]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, errors, time.perf_counter() - started


def report_run(report: Report, section: str, timings: list[Timing], wall: float) -> float:
    throughput = ratio(60 * len(timings), wall)
    report.add(section, "answers", len(timings))
    report.add(section, "wall s", wall)
    report.add(section, "throughput answers/min", throughput)
    for name, values in (("to sources", [t.sources_s for t in timings if t.sources_s]),
                         ("to first draft word", [t.draft_s for t in timings if t.draft_s]),
                         ("latency (checked answer)", [t.total_s for t in timings])):
        stats = summary(values)
        report.add(section, f"{name} p50 s", stats["p50"])
        report.add(section, f"{name} p95 s", stats["p95"])
    report.add(section, "own answers", sum(t.own_answer for t in timings))
    return throughput


def api_cost(report: Report, base: str, assistant: Assistant, repeats: int) -> None:
    """The API's own cost: cheap calls over HTTP against the same call made directly."""
    import httpx
    with httpx.Client(base_url=base, timeout=60) as http:
        models, searched, direct = [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            http.get("/models").raise_for_status()
            models.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            http.post("/search", json={"query": QUESTIONS[0]}).raise_for_status()
            searched.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assistant.search(QUESTIONS[0])
            direct.append((time.perf_counter() - started) * 1000)
    http_p50, direct_p50 = summary(searched)["p50"], summary(direct)["p50"]
    report.add("API cost", "GET /v1/models p50 ms", summary(models)["p50"])
    report.add("API cost", "POST /v1/search p50 ms", http_p50, direct_p50,
               ratio(http_p50, direct_p50), note="reference: Assistant.search directly")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="questions asked at once")
    parser.add_argument("--fake", action="store_true", help="fake models (a smoke run)")
    parser.add_argument("--repeats", type=int, default=20, help="cheap calls for API cost")
    args = parser.parse_args()
    questions = (QUESTIONS * (args.clients // len(QUESTIONS) + 1))[:args.clients]

    tmp = Path(tempfile.mkdtemp(prefix="rag-http-bench-"))
    shutil.copytree(REPO / "corpus", tmp / "corpus", ignore=shutil.ignore_patterns("uploads"))
    settings = Settings.load().replace(index_dir=tmp / "index", corpus_dir=tmp / "corpus",
                                       port=free_port())
    if args.fake:
        from tests.fakes import FakeEmbedder, FakeGenerator
        assistant = Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())
    else:
        assistant = Assistant(settings)
    assistant.index_files([tmp / "corpus"])
    server = serve(settings, assistant=assistant, block=False)
    base = f"{server.url}v1"
    report = Report("http_concurrency")
    report.extra.update(clients=args.clients, fake=args.fake,
                        models=[settings.embedder, settings.llm])
    try:
        assistant.warm_up()
        ask(base, QUESTIONS[0], assistant)  # every cache warm, as on a server in use
        api_cost(report, base, assistant, args.repeats)
        started = time.perf_counter()
        one_by_one = [ask(base, q, assistant) for q in questions]
        alone = report_run(report, "one at a time", one_by_one, time.perf_counter() - started)
        at_once, errors, wall = run_at_once(base, questions, assistant)
        together = report_run(report, f"{args.clients} at once", at_once, wall)
        report.add(f"{args.clients} at once", "errors", len(errors),
                   note="; ".join(errors)[:200])
        report.add("at once vs one at a time", "throughput ratio", together, alone,
                   ratio(together, alone))
        p95 = (summary([t.total_s for t in at_once])["p95"],
               summary([t.total_s for t in one_by_one])["p95"])
        report.add("at once vs one at a time", "latency p95 ratio", p95[0], p95[1],
                   ratio(*p95))
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report.finish()


if __name__ == "__main__":
    main()
