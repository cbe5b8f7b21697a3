"""Grounding benchmark: answers to SQuAD-it questions and off-corpus questions, scored.

Every question is asked once, as a user asks it (`Assistant.ask`), over an index of all the
split's paragraphs. Reported:

* answerable abstention — answerable questions answered "not in the articles";
* off-corpus abstention — questions no paragraph answers, answered so (higher is better);
* gold contained — answerable questions whose answer text contains a gold answer;
* quote accuracy — citations whose quote span covers a gold answer span of the question
  (SQuAD gives each answer's character offset in its paragraph), over all citations of
  answerable answers;
* evidence coverage — answerable questions whose first evidence sentence (any of them)
  covers a gold answer span: the most an extracted quote can reach;
* kinds — how answers were made (generated, extracted from the evidence, abstained);
* time — p50 of the whole answer, first evidence, first token.

`--records FILE` saves every answer with its citations and quotes, for the hand audit of
citation precision (benchmarks/grounding-audit.md). `--replay FILE` answers with the drafts
such a file recorded instead of running the model, so the checks can be compared under other
`--settings` on the very same drafts in a minute (a quote in another language is then shown
as it is, not restated). `--in-english` asks the answerable questions in English, as the
model translates them (once, kept beside the index): English questions over Italian articles,
the product's own case, where "gold contained" counts only answers that keep the gold words
(numbers, names) and quote accuracy is unchanged in meaning. The script speaks only the public API
and reads both the current one (`ask()` returns a `Response`) and the one before the
evidence-first redesign (`ask()` returned the `Answer`), so one question set measures the
old design and the new side by side:

    .venv/bin/python benchmarks/grounding.py --squad …/SQuAD_it-test.json --articles 0:24 \\
        --n 80 --off benchmarks/questions/off_corpus_dev.txt --index ~/.cache/rag/eval/g-dev
    PYTHONPATH=/tmp/old-rag .venv/bin/python benchmarks/grounding.py …   # the old design
    .venv/bin/python benchmarks/grounding.py … --replay dev.json --settings check_question_words=false
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import string
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Paragraph:
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    text: str
    golds: tuple[tuple[str, int], ...] = ()  # (answer, offset in its paragraph); () off-corpus
    paragraph: int = -1


@dataclass
class Record:
    question: str
    answerable: bool
    kind: str
    abstained: bool
    answer: str
    seconds: float
    first_evidence_ms: float = 0.0
    first_token_ms: float = 0.0
    best_evidence: float = 0.0  # the best evidence score (the current design's events)
    draft: str = ""
    contains_gold: bool = False
    citations: list[dict] = field(default_factory=list)  # marker, quote, covers_gold, sentence
    sentences: list[dict] = field(default_factory=list)  # each answer sentence, state, support
    golds: list[str] = field(default_factory=list)  # the question's gold answers
    evidence_covers: list[bool] = field(default_factory=list)  # each evidence item, best first


def load_squad(path: Path, articles: str) -> tuple[list[Paragraph], list[Question]]:
    first, last = (int(x) for x in articles.split(":"))
    paragraphs, questions = [], []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"][first:last]:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                questions.append(Question(qa["question"], tuple(
                    (a["text"], a["answer_start"]) for a in qa["answers"]), len(paragraphs)))
            paragraphs.append(Paragraph(article["title"], p["context"]))
    return paragraphs, questions


def sample(questions: list[Question], n: int) -> list[Question]:
    """Every k-th question: a deterministic spread over the split's articles."""
    step = max(len(questions) // n, 1)
    return questions[::step][:n]


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if ch in string.punctuation + "“”‘’«»" else ch for ch in text)
    text = re.sub(r"\b(il|lo|la|i|gli|le|un|uno|una|l|the|a|an)\b", " ", text)
    return " ".join(text.split())


def contains_gold(answer: str, golds) -> bool:
    """A gold answer's words, whole, in the answer's text (its [n] markers left out, so that
    a gold "1" is not found in "[1]" nor in "1946")."""
    found = " " + normalize(re.sub(r"\[\d+\]", " ", answer)) + " "
    return any(normalize(g) and f" {normalize(g)} " in found for g, _ in golds)


def write_corpus(paragraphs: list[Paragraph], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "paragraphs.jsonl", "w", encoding="utf-8") as out:
        for p in paragraphs:
            out.write(json.dumps({"title": p.title, "text": p.text, "lang": "it"},
                                 ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- both APIs

def final_answer(response):
    """The checked answer: `Response.answer()` now, the returned `Answer` before."""
    return response.answer() if hasattr(response, "answer") and callable(response.answer) \
        else response


def quotes_of(citation) -> list[tuple[str, int, int]]:
    """(text, start, end) of each quote of a citation, in article offsets."""
    quotes = getattr(citation, "quotes", ()) or ()
    found = []
    for q in quotes:
        text = getattr(q, "text", "")
        found.append((text, q.start, q.end))
    if not found and getattr(citation, "quote", ""):
        found.append((citation.quote, citation.quote_start, citation.quote_end))
    return found


def sentence_quotes(answer) -> dict[int, list[str]]:
    """Marker -> the answer sentences citing it (for the audit)."""
    cited: dict[int, list[str]] = {}
    for s in getattr(answer, "sentences", ()) or ():
        if getattr(s, "verified", True):
            for n in s.citations:
                cited.setdefault(n, []).append(s.text)
    return cited


# --------------------------------------------------------------------------- scoring

def covers_gold(citation, q: Question, paragraphs: list[Paragraph]) -> bool:
    """Whether a quote of ``citation`` covers a gold answer span of question ``q`` (in the
    question's own paragraph)."""
    return any(span_covers_gold(citation.chunk, start, end, q, paragraphs)
               for _, start, end in quotes_of(citation))


def span_covers_gold(chunk, start: int, end: int, q: Question,
                     paragraphs: list[Paragraph]) -> bool:
    """Whether article offsets ``start``-``end`` of ``chunk``'s article cover a gold span."""
    p = paragraphs[q.paragraph]
    at = p.text.find(chunk.text)
    if at < 0 or p.title != chunk.title:
        return False
    shift = at - chunk.start
    return any(start + shift <= offset and offset + len(gold) <= end + shift
               for gold, offset in q.golds)


def evidence_covers(evidence, q: Question, paragraphs: list[Paragraph]) -> list[bool]:
    """For each evidence item, in number order, whether it covers a gold span of ``q``."""
    return [span_covers_gold(e.chunk, e.start, e.end, q, paragraphs)
            for e in sorted(evidence, key=lambda e: e.number)]


def ask_one(assistant, q: Question, answerable: bool, paragraphs) -> Record:
    started = time.perf_counter()
    response, evidence = assistant.ask(q.text), ()
    if hasattr(response, "events"):
        for event in response.events():
            if type(event).__name__ == "Sources":
                evidence = sorted(event.evidence, key=lambda e: e.number)
    best = max((e.score for e in evidence), default=0.0)
    answer = final_answer(response)
    seconds = time.perf_counter() - started
    t = answer.timings
    record = Record(q.text, answerable, getattr(answer, "kind", "abstained" if answer.abstained
                                                  else "generated"),
                    answer.abstained, answer.text, seconds,
                    getattr(t, "first_evidence_ms", getattr(t, "retrieve_ms", 0.0)),
                    getattr(t, "first_token_ms", 0.0), best, getattr(answer, "draft", ""))
    if answerable:
        record.evidence_covers = evidence_covers(evidence, q, paragraphs)
    record.sentences = [{"text": s.text, "state": getattr(s, "state", "verified" if s.verified
                                                          else "unverified"),
                         "support": getattr(s, "support", 0.0), "reason": getattr(s, "reason", "")}
                        for s in getattr(answer, "sentences", ())]
    if answer.abstained:
        return record
    record.contains_gold = answerable and contains_gold(answer.text, q.golds)
    sentences = sentence_quotes(answer)
    for c in answer.citations:
        record.citations.append({
            "marker": c.marker, "title": c.chunk.title,
            "quotes": [text for text, _, _ in quotes_of(c)],
            "sentences": sentences.get(c.marker, []),
            "covers_gold": answerable and covers_gold(c, q, paragraphs)})
    record.golds = sorted({g for g, _ in q.golds})
    return record


def summary(records: list[Record]) -> dict[str, float]:
    ans = [r for r in records if r.answerable]
    off = [r for r in records if not r.answerable]
    cites = [c for r in ans if not r.abstained for c in r.citations]
    kinds = {k: sum(r.kind == k for r in records) for k in ("generated", "extracted", "abstained")}
    answered = [r for r in records if not r.abstained]
    return {
        "answerable": len(ans), "off_corpus": len(off),
        "answerable_abstention": round(sum(r.abstained for r in ans) / max(len(ans), 1), 3),
        "off_corpus_abstention": round(sum(r.abstained for r in off) / max(len(off), 1), 3),
        "gold_contained": round(sum(r.contains_gold for r in ans) / max(len(ans), 1), 3),
        "quote_accuracy": round(sum(c["covers_gold"] for c in cites) / max(len(cites), 1), 3),
        "citations": len(cites), **{f"kind_{k}": v for k, v in kinds.items()},
        "evidence_first_covers": round(sum(r.evidence_covers[:1] == [True] for r in ans)
                                       / max(len(ans), 1), 3),
        "evidence_any_covers": round(sum(any(r.evidence_covers) for r in ans)
                                     / max(len(ans), 1), 3),
        "p50_seconds": round(statistics.median(r.seconds for r in records), 2),
        "p50_seconds_answered": round(statistics.median(r.seconds for r in answered), 2)
        if answered else 0.0,
        "p50_first_evidence_ms": round(statistics.median(r.first_evidence_ms for r in records)),
        "p50_first_token_ms": round(statistics.median(
            r.first_token_ms for r in answered if r.first_token_ms) if any(
            r.first_token_ms for r in answered) else 0),
    }


class ReplayedDrafts:
    """A generator that writes, for each question, the draft a recorded run wrote for it
    (and nothing for a question it has no record of); tokens are counted, and other
    prompts (translating a question) answered, by ``real``. ``records``: this script's
    ``--records`` file, or `news.py`'s."""

    def __init__(self, records: Path, real):
        saved = json.loads(records.read_text(encoding="utf-8"))
        self.drafts = {" ".join(r["question"].split()): r["draft"]
                       for r in (saved["records"] if isinstance(saved, dict) else saved)}
        self.real, self.name, self.context_tokens = real, real.name, real.context_tokens

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def prime(self, prefix):
        return None

    def generate(self, messages, **options):
        asked = re.search(r"\nQuestion: (.*)\nAnswer in ", messages[-1].content)
        if not asked:
            yield from self.real.generate(messages, **options)
            return
        yield self.drafts.get(" ".join(asked.group(1).split()), "")


def replaying(records: Path | None, settings):
    """The generator answering with the drafts of ``records`` (`ReplayedDrafts`), or None
    (the real model) when there are none."""
    if not records:
        return None
    from rag.parts import build_generator
    return ReplayedDrafts(records, build_generator(settings))


def in_english(questions: list[Question], generator, cache: Path) -> list[Question]:
    """``questions`` as a reader would ask them in English: each translated once by the
    model (greedy) and kept in ``cache``, so every later run asks the same words."""
    from rag.generate import Message
    done = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
    for q in questions:
        if q.text not in done:
            messages = [Message("system", "Translate the user's Italian question into English. "
                                          "Reply with the English question only."),
                        Message("user", q.text)]
            reply = "".join(generator.generate(messages, max_tokens=64, temperature=0.0))
            done[q.text] = next((line.strip().strip('"') for line in reply.splitlines()
                                 if line.strip()), q.text)
    cache.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
    return [Question(done[q.text], q.golds, q.paragraph) for q in questions]


def settings_pairs(text: str) -> dict[str, str]:
    """``key=value,key=value`` as Settings overrides (an argparse type; perf.py's too)."""
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected key=value[,key=value], got {text!r}")
    return {key.strip(): value.strip() for key, value in pairs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", required=True, type=Path, help="SQuAD-it JSON file")
    parser.add_argument("--articles", default="0:24", help="slice of data[] (dev 0:24, held-out 24:48)")
    parser.add_argument("--n", type=int, default=80, help="answerable questions to sample")
    parser.add_argument("--off", type=Path, required=True, help="off-corpus questions, one a line")
    parser.add_argument("--index", type=Path, required=True, help="index folder for the split")
    parser.add_argument("--records", type=Path, help="save every answer here (JSON)")
    parser.add_argument("--limit", type=int, help="only the first N questions of each kind")
    parser.add_argument("--settings", type=settings_pairs, default={}, metavar="KEY=VALUE,…",
                        help="settings to change from the defaults")
    parser.add_argument("--replay", type=Path, metavar="RECORDS",
                        help="answer with the drafts of this --records file, not the model")
    parser.add_argument("--in-english", action="store_true",
                        help="ask the answerable questions in English (translated once by the "
                             "model, kept beside the index): English questions, Italian articles")
    args = parser.parse_args(argv)

    from rag import Assistant, Settings
    paragraphs, questions = load_squad(args.squad, args.articles)
    corpus = args.index.parent / f"{args.index.name}-corpus"
    write_corpus(paragraphs, corpus)
    settings = Settings.load({**args.settings, "index_dir": args.index, "corpus_dir": corpus})
    assistant = Assistant(settings, generator=replaying(args.replay, settings))
    started = time.perf_counter()
    assistant.index_files([corpus], progress=True)
    print(f"indexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    off = [line.strip() for line in args.off.read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]
    answerable = sample(questions, args.n)[:args.limit]
    if args.in_english:
        cache = args.index.parent / f"{args.index.name}-questions-en.json"
        answerable = in_english(answerable, assistant.generator, cache)
    asked = [(q, True) for q in answerable] + \
        [(Question(text), False) for text in off[:args.limit]]
    records = []
    for i, (q, answerable) in enumerate(asked, 1):
        record = ask_one(assistant, q, answerable, paragraphs)
        records.append(record)
        print(f"[{i}/{len(asked)}] {record.seconds:5.1f}s {record.kind[:3]} "
              f"{'A' if answerable else 'O'} {q.text[:50]!r} -> {record.answer[:90]!r}",
              file=sys.stderr, flush=True)
    result = summary(records)
    print(json.dumps(result, indent=1))
    if args.records:
        args.records.write_text(json.dumps({"summary": result, "records": [asdict(r) for r in records]},
                                           ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
