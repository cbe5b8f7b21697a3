"""Evaluation datasets: documents with ids, and questions whose gold is a set of ids.

Three input forms are read into the same `Dataset`:

* SQuAD JSON (`load_squad`): each paragraph is one document, id ``"{i}-{j}"``
  (article index in ``data``, paragraph index), title = the article's title; a
  question's gold is its own paragraph; its answers are the SQuAD answer texts.
* A JSONL pair (`load_jsonl`): corpus lines ``{"id", "text", "title"?, "date"?,
  "source"?, "author"?, "lang"?}``, question lines ``{"question", "gold": [ids],
  "answers"?: [str], "date"?}``.
* RealTime QA (`load_realtimeqa`): its ``corpus.jsonl`` (``url`` is the id,
  ``publish_date`` "YYYY/MM/DD") and ``questions.jsonl`` (``question_sentence``,
  ``gold_doc_urls``, ``answer_text``, ``question_date``, ``week``), optionally
  restricted to a range of weeks and to a sample of the corpus that keeps the
  questions' gold articles (`sample`).

`write_corpus` writes a dataset's documents as ``.jsonl`` shards any `rag` index reads.
`combine` puts several datasets' documents into one corpus (a mixed-language index)
while each keeps its own questions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

SHARD_BYTES = 1024 * 1024       # below formats.MAX_FILE_BYTES; one indexing checkpoint each


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
                    articles: int | None = None, name: str = "realtimeqa") -> Dataset:
    """RealTime QA's merged ``corpus.jsonl`` and ``questions.jsonl``; ``weeks`` "A:B" inclusive.

    The corpus is the whole ``corpus.jsonl`` (so one index serves every split), only the
    questions are restricted to the weeks; or, with ``articles``, a `sample` of that many
    articles that keeps the gold articles of those weeks' questions.
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
    dataset = Dataset(name, tuple(documents), tuple(qs))
    if not articles:
        return dataset
    weeks_part = "-".join(bounds) if bounds else "all"
    return sample(Dataset(f"{name}-{weeks_part}", dataset.documents, dataset.questions),
                  articles)


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


def sample(dataset: Dataset, size: int) -> Dataset:
    """``dataset`` with about ``size`` documents: every gold document of its questions,
    then others in a fixed pseudo-random order (sha256 of the id) up to ``size``."""
    gold = {g for q in dataset.questions for g in q.gold}
    keep = {d.id for d in dataset.documents if d.id in gold}
    others = sorted((d.id for d in dataset.documents if d.id not in gold),
                    key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    keep.update(others[:max(size - len(keep), 0)])
    documents = tuple(d for d in dataset.documents if d.id in keep)
    return Dataset(f"{dataset.name}-{size}", documents, dataset.questions)


def combine(datasets: Sequence[Dataset]) -> Dataset:
    """One corpus of all the datasets' documents (ids must not collide), no questions:
    each dataset keeps its own questions and is measured on this corpus."""
    documents: dict[str, Document] = {}
    for data in datasets:
        for d in data.documents:
            if documents.setdefault(d.id, d) != d:
                raise ValueError(f"document id {d.id!r} is in two datasets with other text")
    return Dataset("mixed-" + "+".join(d.name for d in datasets), tuple(documents.values()), ())


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
