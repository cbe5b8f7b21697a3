"""Evaluation: retrieval (and optionally answer) quality on an external dataset.

A dataset is a corpus of documents with ids and questions whose gold is a set of
document ids. Three input forms are read into the same internal form:

* SQuAD JSON (`load_squad`): each paragraph is one document, id ``"{i}-{j}"``
  (article index in ``data``, paragraph index), title = the article's title; a
  question's gold is its own paragraph; its answers are the SQuAD answer texts.
* A JSONL pair (`load_jsonl`): corpus lines ``{"id", "text", "title"?, "date"?,
  "source"?, "author"?, "lang"?}``, question lines ``{"question", "gold": [ids],
  "answers"?: [str], "date"?}``.
* RealTime QA (`load_realtimeqa`): its ``corpus.jsonl`` (``url`` is the id,
  ``publish_date`` "YYYY/MM/DD") and ``questions.jsonl`` (``question_sentence``,
  ``gold_doc_urls``, ``answer_text``, ``question_date``, ``week``), optionally
  restricted to a range of weeks.

The corpus is indexed through the public `Assistant.index_files` path, from
``.jsonl`` shards written into the eval index folder with the dataset id in each
record's ``url``; indexing is incremental, so a re-run embeds nothing. Hits map
back to dataset ids through the articles' ids (an article id is a content hash,
so two identical documents share one article and both ids).

Metrics are at document level: the retrieved chunks are mapped to document ids,
de-duplicated in rank order, and recall@k / MRR@10 are computed on that ranking.
Only questions with at least one gold document that has text are counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import statistics
import string
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

import numpy as np
from tqdm.auto import tqdm

from .corpus import load_articles
from .retrieve import MODES, Filters, Hit, Retriever

CORPUS_FOLDER = "eval-corpus"   # inside the eval index folder
SHARD_BYTES = 1024 * 1024       # below corpus.MAX_FILE_BYTES; one indexing checkpoint each
DEFAULT_DEPTH = 50              # chunks retrieved per question, enough for 10 distinct docs
KS = (1, 5, 10)
DATE_CHOICES = ("off", "hint", "filter", "on")


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""
    date: str = ""     # ISO YYYY-MM-DD
    source: str = ""
    author: str = ""
    lang: str = ""


@dataclass(frozen=True)
class Question:
    question: str
    gold: tuple[str, ...]
    answers: tuple[str, ...] = ()
    date: str = ""     # ISO YYYY-MM-DD: the day it was asked (reference for "last week")
    id: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    documents: tuple[Document, ...]
    questions: tuple[Question, ...]


# --------------------------------------------------------------------------- loaders

def parse_range(text: str | None) -> tuple[str, str] | None:
    """"0:24" -> ("0", "24"); "20220617:20220902" likewise; None/"" -> None."""
    if not text:
        return None
    start, sep, end = text.partition(":")
    if not sep:
        raise ValueError(f"expected a range like START:END, got {text!r}")
    return start.strip(), end.strip()


def load_squad(path: str | Path, articles: str | None = None, *, lang: str = "it",
               name: str | None = None) -> Dataset:
    """A SQuAD v1.1 file; ``articles`` "A:B" keeps ``data[A:B]`` (ids keep the full index)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    bounds = parse_range(articles)
    start = int(bounds[0] or 0) if bounds else 0
    stop = int(bounds[1] or len(data)) if bounds else len(data)
    documents, questions = [], []
    for i in range(start, min(stop, len(data))):
        article = data[i]
        title = str(article.get("title", "")).replace("_", " ")
        for j, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{i}-{j}"
            documents.append(Document(doc_id, paragraph["context"], title=title, lang=lang))
            for qa in paragraph.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(Question(qa["question"], (doc_id,), answers, id=str(qa.get("id", ""))))
    suffix = f"-{start}-{stop}" if bounds else ""
    return Dataset(name or f"squad-{Path(path).stem}{suffix}", tuple(documents), tuple(questions))


def load_jsonl(corpus: str | Path, questions: str | Path, *, name: str | None = None) -> Dataset:
    """Our own JSONL pair (see the module docstring)."""
    documents = []
    for record in _read_jsonl(corpus):
        text = record.get("text") or ""
        if not isinstance(text, str) or not text.strip():
            continue
        documents.append(Document(
            str(record["id"]), text, title=record.get("title") or "",
            date=_iso_date(record.get("date") or record.get("publish_date") or ""),
            source=record.get("source") or "", author=_join(record.get("author") or ""),
            lang=record.get("lang") or ""))
    qs = []
    for n, record in enumerate(_read_jsonl(questions)):
        gold = record.get("gold") or []
        gold = (gold,) if isinstance(gold, str) else tuple(map(str, gold))
        answers = record.get("answers") or ()
        answers = (answers,) if isinstance(answers, str) else tuple(map(str, answers))
        qs.append(Question(record["question"], gold, answers,
                           date=_iso_date(record.get("date") or ""),
                           id=str(record.get("id", n))))
    return Dataset(name or Path(corpus).stem, tuple(documents), tuple(qs))


def load_realtimeqa(directory: str | Path, weeks: str | None = None, *,
                    name: str = "realtimeqa") -> Dataset:
    """RealTime QA's merged ``corpus.jsonl`` and ``questions.jsonl``; ``weeks`` "A:B" inclusive.

    The corpus is always the whole ``corpus.jsonl`` (so one index serves every split);
    only the questions are restricted to the weeks.
    """
    directory = Path(directory)
    documents = []
    for record in _read_jsonl(directory / "corpus.jsonl"):
        text = record.get("text") or ""
        if not text.strip():
            continue
        url = record["url"]
        documents.append(Document(
            url, text, title=record.get("title") or "",
            date=_iso_date(record.get("publish_date") or ""),
            source=_site(url), author=_join(record.get("authors") or ""), lang="en"))
    bounds = parse_range(weeks)
    qs = []
    for record in _read_jsonl(directory / "questions.jsonl"):
        week = str(record.get("week", ""))
        if bounds and not ((bounds[0] or week) <= week <= (bounds[1] or week)):
            continue
        if not record.get("gold_doc_urls"):
            continue
        qs.append(Question(record["question_sentence"], tuple(record["gold_doc_urls"]),
                           tuple(record.get("answer_text") or ()),
                           date=_iso_date(record.get("question_date") or ""),
                           id=str(record.get("question_id", ""))))
    return Dataset(name, tuple(documents), tuple(qs))


def _read_jsonl(path: str | Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _iso_date(value: str) -> str:
    value = str(value).strip()
    if not value:
        return ""
    m = re.match(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", value)
    if m:
        return dt.date(*map(int, m.groups())).isoformat()
    from dateutil import parser
    try:
        return parser.parse(value).date().isoformat()
    except (ValueError, OverflowError):
        return ""


def _join(value: Any) -> str:
    return ", ".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else str(value)


def _site(url: str) -> str:
    host = urlparse(url).netloc.lower()
    return re.sub(r"^(www|edition|amp|m)\.", "", host)


# --------------------------------------------------------------------------- indexing

@dataclass(frozen=True)
class IndexedCorpus:
    """Article id -> dataset document ids, and the ids of documents that have text."""
    doc_ids: dict[str, tuple[str, ...]]
    documents: frozenset[str]
    seconds: float
    chunks_embedded: int
    total_chunks: int


def write_corpus(dataset: Dataset, folder: Path) -> list[Path]:
    """The documents as ``.jsonl`` shards (dataset id in ``url``); unchanged shards are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    shards: list[list[str]] = [[]]
    size = 0
    for d in dataset.documents:
        record = {"url": d.id, "title": d.title, "text": d.text, "date": d.date,
                  "source": d.source, "author": d.author, "lang": d.lang}
        line = json.dumps({k: v for k, v in record.items() if v}, ensure_ascii=False) + "\n"
        if size + len(line.encode()) > SHARD_BYTES and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append(line)
        size += len(line.encode())
    paths = []
    for n, lines in enumerate(shards):
        path = folder / f"part-{n:04d}.jsonl"
        content = "".join(lines)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        paths.append(path)
    for stale in set(folder.glob("part-*.jsonl")) - set(paths):
        stale.unlink()
    return paths


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
    indexed = set(assistant.index.articles)
    embedded = 0
    todo = [n for n, ids in enumerate(shard_ids) if not ids <= indexed]
    steps = [shards[: n + 1] for n in todo[:-1]] + [[folder]]
    for step, paths in enumerate(steps, start=1):
        if progress and len(steps) > 1:
            tqdm.write(f"indexing step {step}/{len(steps)} ({len(paths)} shards)")
        report = assistant.index_files(paths, progress=progress)
        embedded += report.chunks_embedded
    seconds = time.perf_counter() - started
    indexed = set(assistant.index.articles)
    mapping = {a: tuple(ids) for a, ids in doc_ids.items() if a in indexed}
    return IndexedCorpus(mapping, frozenset(i for ids in mapping.values() for i in ids),
                         seconds, embedded, report.total_chunks)


# --------------------------------------------------------------------------- metrics

def document_ranking(hits: Sequence[Hit], doc_ids: dict[str, tuple[str, ...]]) -> list[str]:
    """Dataset document ids in the order their first chunk was retrieved."""
    ranking: dict[str, None] = {}
    for hit in hits:
        for doc in doc_ids.get(hit.chunk.article_id, ()):
            ranking.setdefault(doc, None)
    return list(ranking)


def recall_at(ranking: Sequence[str], gold: Iterable[str], k: int) -> float:
    """1 if any gold document is among the first k, else 0 (the usual QA retrieval recall)."""
    gold = set(gold)
    return float(any(doc in gold for doc in ranking[:k]))


def reciprocal_rank(ranking: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    gold = set(gold)
    for rank, doc in enumerate(ranking[:k], start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def normalize_answer(text: str) -> str:
    """SQuAD normalization (lowercase, no punctuation/articles, single spaces), plus
    Italian articles and accent folding."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[’'`´]", " ", text)
    text = "".join(" " if c in string.punctuation or c in "“”«»—–" else c for c in text)
    text = re.sub(r"\b(a|an|the|il|lo|la|i|gli|le|l|un|uno|una)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if not pred or not ref or not same:
        return float(pred == ref)
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_gold(prediction: str, golds: Iterable[str]) -> float:
    text = f" {normalize_answer(prediction)} "
    return float(any(g and f" {g} " in text for g in map(normalize_answer, golds)))


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 2) if values else 0.0,
            "p50": round(_percentile(values, 50), 2), "p95": round(_percentile(values, 95), 2)}


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
        if self.answers:
            out.update({k: round(v, 4) for k, v in self.answers.items()})
        return out


def question_filters(question: Question, dates: str) -> Filters | None:
    """"filter"/"on": no article published after the question's date."""
    if dates in ("filter", "on") and question.date:
        return Filters(date_to=question.date)
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
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    for d in dates:
        if d not in DATE_CHOICES:
            raise ValueError(f"unknown dates option {d!r}; use one of {', '.join(DATE_CHOICES)}")
    corpus = index_dataset(assistant, dataset, progress=progress)
    questions = [q for q in dataset.questions if set(q.gold) & corpus.documents]
    skipped = len(dataset.questions) - len(questions)
    if limit:
        questions = questions[:limit]
    if not questions:
        raise ValueError("no question has a gold document with text in the corpus")
    vectors, embed_ms = embed_questions(assistant, questions, progress)
    runs = []
    for dates_option in dates:
        for mode in modes:
            runs.append(run_retrieval(assistant, questions, vectors, corpus, mode=mode,
                                      dates=dates_option, depth=depth, progress=progress))
            runs[-1].timings["query_embed_ms"] = _stats(embed_ms)
            if answers:
                runs[-1].answers, generation = run_answers(assistant, questions, mode,
                                                           dates_option, progress)
                runs[-1].timings.update(generation)
    first = runs[0].to_json()
    s = assistant.settings
    return {
        "dataset": dataset.name, **first,
        "questions_without_gold_text": skipped,
        "index": {"dir": str(s.index_dir), "seconds": round(corpus.seconds, 1),
                  "documents": len(corpus.documents), "chunks": corpus.total_chunks,
                  "chunks_embedded": corpus.chunks_embedded,
                  "sentences": assistant.index.manifest.n_sentences},
        "settings": {k: v for k, v in s.as_dict().items() if k in RETRIEVAL_SETTINGS},
        "runs": [r.to_json() for r in runs],
    }


RETRIEVAL_SETTINGS = ("embedder", "chunk_tokens", "chunk_overlap", "candidates", "rrf_k",
                      "dense_weight", "sentence_weight", "fusion", "recency_half_life_days",
                      "date_hints", "date_boost", "min_relevance")


def embed_questions(assistant, questions: Sequence[Question], progress: bool,
                    latency_sample: int = 10) -> tuple[np.ndarray, list[float]]:
    """Question vectors, embedded in batches once and cached in the index folder (so
    re-runs and every mode reuse them); the query latency is timed on a few questions
    embedded alone, as the app does."""
    name = assistant.embedder.name
    digest = hashlib.sha256("\n".join([name, *(q.question for q in questions)]).encode())
    cache = Path(assistant.settings.index_dir) / f"eval-queries-{digest.hexdigest()[:16]}.npy"
    times = []
    for q in questions[:latency_sample]:
        started = time.perf_counter()
        assistant.embedder.embed([q.question], kind="query")
        times.append((time.perf_counter() - started) * 1000)
    if cache.exists():
        vectors = np.load(cache)
        if vectors.shape[0] == len(questions):
            return vectors, times
    vectors = assistant.embedder.embed([q.question for q in questions], kind="query",
                                       progress=progress)
    tmp = cache.with_name(cache.name + ".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(cache)
    return vectors, times


def run_retrieval(assistant, questions: Sequence[Question], vectors: np.ndarray,
                  corpus: IndexedCorpus, *, mode: str, dates: str = "off",
                  depth: int = DEFAULT_DEPTH, progress: bool = False) -> RunResult:
    retriever = Retriever(assistant.index, assistant.embedder, assistant.settings)
    sums = {f"recall@{k}": 0.0 for k in KS} | {"mrr@10": 0.0}
    times = []
    for q, vector in tqdm(list(zip(questions, vectors)), desc=f"{mode} (dates {dates})",
                          unit="q", disable=not progress):
        started = time.perf_counter()
        hits = retriever.search(q.question, k=depth, mode=mode, vector=vector,
                                filters=question_filters(q, dates),
                                today=question_today(q, dates))
        times.append((time.perf_counter() - started) * 1000)
        ranking = document_ranking(hits, corpus.doc_ids)
        for k in KS:
            sums[f"recall@{k}"] += recall_at(ranking, q.gold, k)
        sums["mrr@10"] += reciprocal_rank(ranking, q.gold, 10)
    n = len(questions)
    return RunResult(mode, dates, n, {k: v / n for k, v in sums.items()},
                     {"retrieve_ms": _stats(times)})


def run_answers(assistant, questions: Sequence[Question], mode: str, dates: str,
                progress: bool) -> tuple[dict[str, float], dict[str, Any]]:
    """The full `Assistant.ask` path; scores containment and token F1 against the answers."""
    from .assistant import Assistant

    asker = assistant
    if assistant.settings.mode != mode:
        asker = Assistant(assistant.settings.replace(mode=mode), embedder=assistant.embedder,
                          generator=assistant.generator)
        asker._index = assistant.index  # the same immutable snapshot: no second load
    contained, f1, abstained, generate_ms, total_ms = [], [], [], [], []
    for q in tqdm(questions, desc=f"answering ({mode})", unit="q", disable=not progress):
        answer = asker.ask(q.question, filters=question_filters(q, dates))
        abstained.append(float(answer.abstained))
        golds = q.answers or ("",)
        text = "" if answer.abstained else answer.text
        contained.append(contains_gold(text, golds) if q.answers else 0.0)
        f1.append(max(token_f1(re.sub(r"\s*\[\d+\]", "", text), g) for g in golds))
        generate_ms.append(answer.timings.generate_ms)
        total_ms.append(answer.timings.total_ms)
    return ({"contains_gold": statistics.fmean(contained), "f1": statistics.fmean(f1),
             "abstention_rate": statistics.fmean(abstained)},
            {"generate_ms": _stats(generate_ms), "answer_total_ms": _stats(total_ms)})


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
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    ix = report["index"]
    q = report["runs"][0]["timings"]["query_embed_ms"]
    out = [f"dataset {report['dataset']}: {ix['documents']} documents, {ix['chunks']} chunks "
           f"(index {ix['seconds']:.1f}s, {ix['chunks_embedded']} chunks embedded); "
           f"query embedding {q['mean']:.1f} ms mean",
           line(head), line(["-" * w for w in widths]), *map(line, rows)]
    if answer_cols:
        for r in report["runs"]:
            g = r["timings"].get("generate_ms", {})
            out.append(f"{r['mode']}: generate ms mean/p50/p95 "
                       f"{g.get('mean', 0):.0f}/{g.get('p50', 0):.0f}/{g.get('p95', 0):.0f}")
    return "\n".join(out)
