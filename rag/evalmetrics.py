"""Evaluation metrics: document rankings from retrieved passages, recall@k and MRR, and
answer scores (SQuAD-style token F1, gold answer contained in a long answer)."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from .retrieve import Hit


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
    Italian articles and accent folding; every punctuation mark or symbol, not only ASCII
    ones, parts words: "23.6°C" holds "23.6", "€10 milioni" holds "10 milioni"."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
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


def latency_stats(values: Sequence[float]) -> dict[str, float]:
    """Mean, median and 95th percentile, rounded to 0.01."""
    def percentile(q: float) -> float:
        return round(float(np.percentile(values, q)), 2) if values else 0.0
    return {"mean": round(statistics.fmean(values), 2) if values else 0.0,
            "p50": percentile(50), "p95": percentile(95)}
