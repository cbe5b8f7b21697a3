"""Evaluation: retrieval (and optionally answer) quality on external datasets.

Everything goes through the public `Assistant` API: the corpus is indexed with
`Assistant.index_files`, from ``.jsonl`` shards written into the eval index folder with
the dataset id in each record's ``url`` (indexing is incremental, so a re-run embeds
nothing), and every question is asked with `Assistant.search` (the assistant keeps each
question's vector, so the three modes embed it once). Hits map back to dataset ids
through the articles' ids (an article id is a content hash, so two identical documents
share one article and both ids). Datasets are read by `rag.evaldata`, scored by
`rag.evalmetrics`.

Metrics are at document level: the retrieved chunks are mapped to document ids,
de-duplicated in rank order, and recall@k / MRR@10 are computed on that ranking. Only
questions with at least one gold document that has text are counted.

`evaluate_mixed` measures languages side by side: each dataset on its own index, then
all the datasets' documents in one index (an Italian and an English corpus together),
each dataset's questions on it.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm.auto import tqdm

from .corpus import load_articles
from .evaldata import Dataset, Question, combine, write_corpus
from .evaldata import load_realtimeqa, load_squad  # noqa: F401 - benchmarks/ import them here
from .evalmetrics import (contains_gold, document_ranking, latency_stats, recall_at,
                          reciprocal_rank, token_f1)
from .evalmetrics import normalize_answer  # noqa: F401 - benchmarks/ import it here
from .filters import Filters
from .retrieve import MODES

CORPUS_FOLDER = "eval-corpus"   # inside the eval index folder
DEFAULT_DEPTH = 50              # chunks retrieved per question, enough for 10 distinct docs
KS = (1, 5, 10)
DATE_CHOICES = ("off", "hint", "filter", "on")
RETRIEVAL_SETTINGS = ("embedder", "chunk_tokens", "chunk_overlap", "candidates", "rrf_k",
                      "dense_weight", "sentence_weight", "fusion", "recency_half_life_days",
                      "date_hints", "date_boost", "min_evidence")


# --------------------------------------------------------------------------- indexing

@dataclass(frozen=True)
class IndexedCorpus:
    """Article id -> dataset document ids, the ids of documents that have text, and what
    indexing them cost."""
    doc_ids: dict[str, tuple[str, ...]]
    documents: frozenset[str]
    seconds: float
    chunks_embedded: int
    total_chunks: int
    sentences: int


def index_dataset(assistant, dataset: Dataset, *, progress: bool = False) -> IndexedCorpus:
    """Index the dataset's corpus with ``assistant`` (incremental) and map articles to ids.

    A first build indexes the shards cumulatively (shards 0..n for n = 0, 1, ...), so
    a long build saves its progress after each shard and can be interrupted and resumed.
    """
    folder = Path(assistant.settings.index_dir) / CORPUS_FOLDER
    started = time.perf_counter()
    shards = write_corpus(dataset, folder)
    doc_ids: dict[str, list[str]] = {}
    shard_ids = []
    for shard in shards:
        articles = load_articles([shard]).articles
        shard_ids.append({a.id for a in articles})
        for article in articles:
            doc_ids.setdefault(article.id, []).append(article.url)
    indexed = indexed_article_ids(assistant)
    todo = [n for n, ids in enumerate(shard_ids) if not ids <= indexed]
    steps = [shards[: n + 1] for n in todo[:-1]] + [[folder]]
    embedded = 0
    for step, paths in enumerate(steps, start=1):
        if progress and len(steps) > 1:
            tqdm.write(f"indexing step {step}/{len(steps)} ({len(paths)} shards)")
        report = assistant.index_files(paths, progress=progress)
        embedded += report.chunks_embedded
    indexed = indexed_article_ids(assistant)
    mapping = {a: tuple(ids) for a, ids in doc_ids.items() if a in indexed}
    return IndexedCorpus(mapping, frozenset(i for ids in mapping.values() for i in ids),
                         time.perf_counter() - started, embedded, report.total_chunks,
                         report.total_sentences)


def indexed_article_ids(assistant) -> set[str]:
    return {a.id for a in assistant.articles()}


# --------------------------------------------------------------------------- running

@dataclass
class RunResult:
    mode: str
    dates: str
    n_questions: int
    metrics: dict[str, float]
    timings: dict[str, Any]
    answers: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {"mode": self.mode, "dates": self.dates, "n_questions": self.n_questions,
               **{k: round(v, 4) for k, v in self.metrics.items()}, "timings": self.timings}
        out.update({k: round(v, 4) for k, v in self.answers.items()})
        return out


def question_filters(question: Question, dates: str) -> Filters | None:
    """"filter"/"on": no article published after the question's date (nor undated)."""
    if dates in ("filter", "on") and question.date:
        return Filters(date_to=question.date, undated=False)
    return None


def question_today(question: Question, dates: str) -> dt.date | None:
    if dates in ("hint", "on") and question.date:
        return dt.date.fromisoformat(question.date)
    return None


def evaluate(assistant, dataset: Dataset, *, modes: Sequence[str] = ("hybrid",),
             dates: Sequence[str] = ("off",), limit: int | None = None,
             depth: int = DEFAULT_DEPTH, answers: bool = False,
             progress: bool = False) -> dict[str, Any]:
    """Index the corpus, then score every (mode, dates) run; returns a JSON-able report."""
    _check_choices(modes, dates)
    corpus = index_dataset(assistant, dataset, progress=progress)
    return measure(assistant, dataset, corpus, modes=modes, dates=dates, limit=limit,
                   depth=depth, answers=answers, progress=progress)


def _check_choices(modes: Sequence[str], dates: Sequence[str]) -> None:
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    for d in dates:
        if d not in DATE_CHOICES:
            raise ValueError(f"unknown dates option {d!r}; use one of {', '.join(DATE_CHOICES)}")


def measure(assistant, dataset: Dataset, corpus: IndexedCorpus, *, modes: Sequence[str],
            dates: Sequence[str] = ("off",), limit: int | None = None,
            depth: int = DEFAULT_DEPTH, answers: bool = False,
            progress: bool = False) -> dict[str, Any]:
    """Score ``dataset``'s questions on the corpus ``assistant`` has indexed."""
    questions = [q for q in dataset.questions if set(q.gold) & corpus.documents]
    skipped = len(dataset.questions) - len(questions)
    questions = questions[:limit] if limit else questions
    if not questions:
        raise ValueError(f"{dataset.name}: no question has a gold document with text in "
                         f"the corpus")
    first_ms = first_searches(assistant, questions, progress)
    runs = []
    for dates_option in dates:
        for mode in modes:
            run = run_retrieval(assistant, questions, corpus, mode=mode, dates=dates_option,
                                depth=depth, progress=progress)
            run.timings["first_search_ms"] = latency_stats(first_ms)
            if answers:
                run.answers, generation = run_answers(assistant, questions, mode,
                                                      dates_option, progress)
                run.timings.update(generation)
            runs.append(run)
    s = assistant.settings
    return {
        "dataset": dataset.name, **runs[0].to_json(),
        "questions_without_gold_text": skipped,
        "index": {"dir": str(s.index_dir), "seconds": round(corpus.seconds, 1),
                  "documents": len(corpus.documents), "chunks": corpus.total_chunks,
                  "chunks_embedded": corpus.chunks_embedded, "sentences": corpus.sentences},
        "settings": {k: v for k, v in s.as_dict().items() if k in RETRIEVAL_SETTINGS},
        "runs": [r.to_json() for r in runs],
    }


def first_searches(assistant, questions: Sequence[Question], progress: bool) -> list[float]:
    """Each question searched once (the assistant embeds and keeps its vector), timed:
    what a first search costs, query embedding included. The runs then search with the
    vector already known, so their times compare the modes alone."""
    times = []
    for q in tqdm(questions, desc="embedding questions", unit="q", disable=not progress):
        started = time.perf_counter()
        assistant.search(q.question, k=1, mode="dense")
        times.append((time.perf_counter() - started) * 1000)
    return times


def run_retrieval(assistant, questions: Sequence[Question], corpus: IndexedCorpus, *,
                  mode: str, dates: str = "off", depth: int = DEFAULT_DEPTH,
                  progress: bool = False) -> RunResult:
    sums = {f"recall@{k}": 0.0 for k in KS} | {"mrr@10": 0.0}
    times = []
    for q in tqdm(questions, desc=f"{mode} (dates {dates})", unit="q", disable=not progress):
        started = time.perf_counter()
        hits = assistant.search(q.question, k=depth, mode=mode,
                                filters=question_filters(q, dates),
                                today=question_today(q, dates))
        times.append((time.perf_counter() - started) * 1000)
        ranking = document_ranking(hits, corpus.doc_ids)
        for k in KS:
            sums[f"recall@{k}"] += recall_at(ranking, q.gold, k)
        sums["mrr@10"] += reciprocal_rank(ranking, q.gold, 10)
    n = len(questions)
    return RunResult(mode, dates, n, {k: v / n for k, v in sums.items()},
                     {"retrieve_ms": latency_stats(times)})


def run_answers(assistant, questions: Sequence[Question], mode: str, dates: str,
                progress: bool) -> tuple[dict[str, float], dict[str, Any]]:
    """The full `Assistant.ask` path; scores containment and token F1 against the answers."""
    contained, f1, abstained, generate_ms, total_ms = [], [], [], [], []
    for q in tqdm(questions, desc=f"answering ({mode})", unit="q", disable=not progress):
        answer = assistant.ask(q.question, mode=mode, filters=question_filters(q, dates),
                               today=question_today(q, dates)).answer()
        abstained.append(float(answer.abstained))
        golds = q.answers or ("",)
        text = "" if answer.abstained else answer.text
        contained.append(contains_gold(text, golds) if q.answers else 0.0)
        f1.append(max(token_f1(strip_markers(text), g) for g in golds))
        generate_ms.append(answer.timings.generate_ms)
        total_ms.append(answer.timings.total_ms)
    return ({"contains_gold": statistics.fmean(contained), "f1": statistics.fmean(f1),
             "abstention_rate": statistics.fmean(abstained)},
            {"generate_ms": latency_stats(generate_ms),
             "answer_total_ms": latency_stats(total_ms)})


def strip_markers(text: str) -> str:
    """An answer without its citation markers ("[1]")."""
    return re.sub(r"\s*\[\d+\]", "", text)


# --------------------------------------------------------------------------- mixed

def evaluate_mixed(assistant_at: Callable[[Path], Any], datasets: Sequence[Dataset],
                   root: Path, *, modes: Sequence[str] = ("hybrid",),
                   dates: Sequence[str] = ("off",), limit: int | None = None,
                   depth: int = DEFAULT_DEPTH, progress: bool = False) -> dict[str, Any]:
    """Each dataset on its own index (``root/<dataset>``), and all of them in one index
    (``root/<mixed-…>``), each dataset's questions measured on both.

    ``assistant_at(index_dir)`` gives an assistant over that index folder."""
    _check_choices(modes, dates)
    if len(datasets) < 2:
        raise ValueError("a mixed evaluation needs at least two datasets")
    options = dict(modes=modes, dates=dates, limit=limit, depth=depth, progress=progress)
    combined = combine(datasets)
    mixed = assistant_at(root / combined.name)
    corpus = index_dataset(mixed, combined, progress=progress)
    pairs = []
    for data in datasets:
        single = evaluate(assistant_at(root / data.name), data, **options)
        together = measure(mixed, data, corpus, **options)
        pairs.append({"dataset": data.name, "single": single, "mixed": together})
    return {"mixed": together["index"], "datasets": pairs}


# --------------------------------------------------------------------------- tables

def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of the runs."""
    answer_cols = [c for c in ("contains_gold", "f1", "abstention_rate") if c in report["runs"][0]]
    head = ["mode", "dates", "n", "R@1", "R@5", "R@10", "MRR@10", *answer_cols,
            "retrieve ms mean/p50/p95"]
    rows = []
    for r in report["runs"]:
        t = r["timings"]["retrieve_ms"]
        rows.append([r["mode"], r["dates"], str(r["n_questions"]),
                     *(f"{r[k]:.3f}" for k in ("recall@1", "recall@5", "recall@10", "mrr@10")),
                     *(f"{r[c]:.3f}" for c in answer_cols),
                     f"{t['mean']:.1f}/{t['p50']:.1f}/{t['p95']:.1f}"])
    ix = report["index"]
    q = report["runs"][0]["timings"]["first_search_ms"]
    out = [f"dataset {report['dataset']}: {ix['documents']} documents, {ix['chunks']} chunks "
           f"(index {ix['seconds']:.1f}s, {ix['chunks_embedded']} chunks embedded); "
           f"first search, query embedding included: {q['mean']:.1f} ms mean",
           *_aligned(head, rows)]
    for r in report["runs"] if answer_cols else ():
        g = r["timings"].get("generate_ms", {})
        out.append(f"{r['mode']}: generate ms mean/p50/p95 "
                   f"{g.get('mean', 0):.0f}/{g.get('p50', 0):.0f}/{g.get('p95', 0):.0f}")
    return "\n".join(out)


def format_mixed_table(report: dict[str, Any]) -> str:
    """Single-language index against the mixed index, per dataset, mode and dates."""
    keys = ("recall@1", "recall@5", "recall@10", "mrr@10")
    head = ["dataset", "mode", "dates", "n", *(f"{k} single/mixed" for k in keys),
            "R@5 mixed-single"]
    rows = []
    for pair in report["datasets"]:
        for one, two in zip(pair["single"]["runs"], pair["mixed"]["runs"]):
            rows.append([pair["dataset"], one["mode"], one["dates"], str(one["n_questions"]),
                         *(f"{one[k]:.3f}/{two[k]:.3f}" for k in keys),
                         f"{two['recall@5'] - one['recall@5']:+.3f}"])
    ix = report["mixed"]
    return "\n".join([f"mixed index {ix['dir']}: {ix['documents']} documents, "
                      f"{ix['chunks']} chunks", *_aligned(head, rows)])


def _aligned(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return [line(head), line(["-" * w for w in widths]), *map(line, rows)]
