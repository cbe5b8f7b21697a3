"""Grounding benchmark: the default models with and without the citation checks, side by side.

Each question is answered ONCE with the relevance gate and the checks off; the
checks are then applied to that same generation, so the two columns differ only
by the checks. Questions: a deterministic sample of SQuAD-it dev questions
(retrieval over all dev paragraphs) and off-corpus questions written for this
benchmark (none of them is answered by those paragraphs).

Reported: answer sentences verified (%), citation precision (a cited passage is
the gold paragraph or contains a gold answer: judged from the dataset, not by
our checker), abstention on off-corpus questions, false abstention on answerable
ones, and correctness (a gold answer contained in the answer). An abstention quotes the
passage sentence closest to the question when it is similar enough (`min_closest`): how
often that happens (answerable and off-corpus) and how often the quote holds a gold
answer are reported too; such an answer still counts as an abstention. Answerable
abstentions are split by cause: the model wrote NOT_FOUND, or the checks refused its answer
(and how often that refused answer contained a gold answer all the same). Verified sentences
the checks leave out as padding (`max_relevance_gap`) are counted in `sentences_left_out`.

    .venv/bin/python benchmarks/grounding.py \\
        --squad ../shared/evaldata/squad_it/SQuAD_it-test.json --articles 0:24 --n 40

Held-out check (`--articles 24:48 --index ~/.cache/rag/eval/squad-heldout`): that split's
paragraphs name Microsoft's CEO and Canberra, so leave those off-corpus questions out with
`--answered-by-corpus QUESTION`.

`--sweep` also prints the metrics over a grid of min_evidence × min_support (dev calibration).
`--replay RECORDS` answers with the generations saved by an earlier `--records` run instead of
the LLM (same retrieval, new checks): minutes instead of half an hour, for a change to the
checks alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rag import Assistant, Settings
from rag.generate import build_generator
from rag.prompts import NOT_FOUND
from rag.evaluate import contains_gold, index_dataset, load_squad, normalize_answer
from rag.grounding import (Scored, decide, markers, quote_relevance, rank_sentences, score,
                           settle)

OFF_CORPUS = [
    "What is the capital of Australia?", "Who won the 2018 FIFA World Cup?",
    "How many moons does Mars have?", "Who wrote One Hundred Years of Solitude?",
    "What is the boiling point of ethanol?", "Who painted the Mona Lisa?",
    "What is the population of Tokyo?", "Which company makes the iPhone?",
    "Who was the lead singer of Queen?", "What is the tallest mountain in Africa?",
    "How long is the Danube river?", "Who won the Tour de France in 2020?",
    "Qual è la capitale dell'Australia?", "Chi ha vinto il Festival di Sanremo nel 2023?",
    "Quanti abitanti ha Milano?", "Chi ha scritto I promessi sposi?",
    "Qual è la ricetta della carbonara?", "Chi ha dipinto la Gioconda?",
    "Quanto è alto il Monte Bianco?", "Chi ha vinto il Giro d'Italia nel 2019?",
    "Quanto costa un biglietto della metro di Roma?", "Chi ha inventato il telefono?",
    "Qual è il piatto tipico di Napoli?", "In che anno è nato Dante Alighieri?",
]
# Written after min_evidence was calibrated on the list above, and never used to tune
# anything: an out-of-sample check of off-corpus abstention. The dev paragraphs were
# searched for each answer's key words (none of them holds one).
OFF_CORPUS_HELD_OUT = [
    "Who is the CEO of Microsoft?", "What is the chemical symbol for gold?",
    "Who composed The Four Seasons?", "How tall is the Eiffel Tower?",
    "How many players are on a rugby union team?", "Who discovered penicillin?",
    "Who wrote Pride and Prejudice?", "How many moons does Jupiter have?",
    "Chi ha vinto lo scudetto nel 2021?", "Qual è il fiume più lungo d'Italia?",
    "Chi ha composto La traviata?", "In che anno è stata fondata la FIAT?",
    "Quante regioni ha l'Italia?", "Chi è stato il primo presidente della Repubblica italiana?",
    "Quanto costa un caffè al bar in Italia?", "Chi ha scritto Il nome della rosa?",
]


@dataclass
class Record:
    question: str
    answerable: bool
    golds: list[str]
    gold_doc: str
    similarity: float            # best question–passage cosine
    top_keyword: float           # the top passage's keyword score (the gate lets it through)
    raw: str                     # the model's answer as generated
    not_found: bool              # the model said NOT_FOUND
    passage_docs: list[str]      # dataset doc id of each numbered passage
    passage_has_gold: list[bool]
    closest_similarity: float    # the passage sentence closest to the question (an
    closest_has_gold: bool       # abstention quotes it when similar enough): has a gold answer?
    scored: list[Scored]


class Replay:
    """A `Generator` that replies with a saved generation; the real one counts tokens, so
    the passages are packed as they were."""

    def __init__(self, real, records: list[dict]):
        self.real, self.name, self.context_tokens = real, real.name, real.context_tokens
        self.saved = {r["question"]: r["raw"] or NOT_FOUND for r in records}
        self.question = ""

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def generate(self, messages, **options):
        yield self.saved[self.question]


def collect(assistant: Assistant, questions, doc_of_chunk) -> list[Record]:
    records = []
    for i, (text, answerable, golds, gold_doc) in enumerate(questions, 1):
        started = time.perf_counter()
        if isinstance(assistant.generator, Replay):
            assistant.generator.question = text
        answer = assistant.ask(text)
        chunks = [h.chunk for h in answer.passages]
        raw = answer.text if not answer.abstained else ""
        scored = score(raw, chunks, assistant.embedder, answer.language, text) if raw else []
        ranked = rank_sentences(text, chunks, assistant.query_embedder)
        closest, similarity = ranked[0] if ranked else (None, 0.0)
        records.append(Record(
            text, answerable, golds, gold_doc,
            max((h.similarity for h in answer.passages), default=0.0),
            answer.passages[0].keyword if answer.passages else 0.0, raw, answer.abstained,
            [doc_of_chunk(c) for c in chunks],
            [any(normalize_answer(g) in normalize_answer(c.text) for g in golds) for c in chunks],
            similarity, bool(closest) and contains_gold(closest.text, golds) > 0, scored))
        print(f"[{i}/{len(questions)}] {time.perf_counter() - started:5.1f}s "
              f"{'A' if answerable else 'O'} {text[:60]!r} -> {raw[:80]!r}", file=sys.stderr)
    return records


@dataclass(frozen=True)
class Outcome:
    """A record answered as the product answers it with the checks on."""

    abstained: bool
    gated: bool                  # abstained before the model: nothing relevant retrieved
    sentences: tuple             # the checked sentences the answer keeps
    left_out: int                # verified sentences left out as padding


def checked_answer(r: Record, *, min_relevance: float, min_support: float, min_evidence: float,
                   max_relevance_gap: float, embedder) -> Outcome:
    gated = not (r.similarity >= min_relevance or r.top_keyword > 0)  # = the product's gate
    if not r.scored:
        return Outcome(True, gated, (), 0)
    checked = decide(r.scored, [None] * len(r.passage_docs), min_support)
    kept = settle(checked, quote_relevance(r.question, checked.sentences, embedder),
                  min_evidence=min_evidence, max_gap=max_relevance_gap)  # = the product's checks
    if gated or r.not_found or kept is None:
        return Outcome(True, gated, checked.sentences, 0)
    return Outcome(False, gated, kept.sentences, len(checked.sentences) - len(kept.sentences))


def metrics(records: list[Record], *, checks: bool, min_relevance: float,
            min_support: float, min_evidence: float = 0.0, min_closest: float = 0.0,
            max_relevance_gap: float = 0.0, embedder=None) -> dict[str, float]:
    verified = sentences = cited = cited_ok = correct = 0
    abstain_off = abstain_ans = n_off = n_ans = abstain_held = n_held = 0
    quoted_ans = quoted_gold = quoted_off = 0
    by_model = by_checks = by_checks_right = 0  # why answerable questions abstained
    left_out = 0  # verified sentences left out of answers as padding
    for r in records:
        passages = [None] * len(r.passage_docs)
        if checks:
            outcome = checked_answer(r, min_relevance=min_relevance, min_support=min_support,
                                     min_evidence=min_evidence,
                                     max_relevance_gap=max_relevance_gap, embedder=embedder)
            abstained, gated = outcome.abstained, outcome.gated
            sents = [(s.text, s.citations, s.verified) for s in outcome.sentences]
            left_out += outcome.left_out
        else:
            sents = [(s.text, tuple(n for n in markers(s.text) if 1 <= n <= len(passages)),
                      None) for s in r.scored]
            abstained, gated = r.not_found, False
        quoted = checks and abstained and not gated and min_closest > 0 \
            and r.closest_similarity >= min_closest
        if r.answerable:
            n_ans += 1
            abstain_ans += abstained
            by_model += abstained and r.not_found
            rejected = abstained and not r.not_found and not gated
            by_checks += rejected
            by_checks_right += rejected and contains_gold(r.raw, r.golds) > 0
            quoted_ans += quoted
            quoted_gold += quoted and r.closest_has_gold
            if not abstained:
                correct += contains_gold(" ".join(t for t, _, _ in sents), r.golds) > 0
                for _, cites, _ in sents:
                    for n in cites:
                        cited += 1
                        cited_ok += (r.passage_docs[n - 1] == r.gold_doc
                                     or r.passage_has_gold[n - 1])
        else:
            n_off += 1
            abstain_off += abstained
            quoted_off += quoted
            n_held += r.question in OFF_CORPUS_HELD_OUT
            abstain_held += abstained and r.question in OFF_CORPUS_HELD_OUT
        if not abstained:
            sentences += len(sents)
            verified += sum(1 for _, _, v in sents if v) if checks else \
                sum(1 for s in decide(r.scored, passages, min_support).sentences if s.verified)
    return {
        "sentences_verified": verified / max(sentences, 1),
        "citation_precision": cited_ok / max(cited, 1),
        "citations": cited,
        "off_corpus_abstained": abstain_off / max(n_off, 1),
        "off_held_out_abstained": abstain_held / max(n_held, 1),
        "answerable_abstained": abstain_ans / max(n_ans, 1),
        "correct": correct / max(n_ans, 1),
        "ans_abstained_model": by_model / max(n_ans, 1),
        "ans_abstained_checks": by_checks / max(n_ans, 1),
        "ans_rejected_had_gold": by_checks_right / max(n_ans, 1),
        "ans_abstained_quoting": quoted_ans / max(n_ans, 1),
        "quote_has_gold": quoted_gold / max(n_ans, 1),
        "off_corpus_quoting": quoted_off / max(n_off, 1),
        "sentences_left_out": left_out,
    }


def _checked(record: Record, outcome: Outcome) -> list[dict]:
    """With the checks: each sentence the answer keeps, its citations and the quote each one
    points at (for auditing the citations by hand); none when the answer abstains."""
    return [] if outcome.abstained else [
        {"text": s.text, "verified": s.verified, "citations": list(s.citations),
         "quotes": [q.text for q in s.quotes],
         "gold_ok": [record.passage_docs[n - 1] == record.gold_doc
                     or record.passage_has_gold[n - 1] for n in s.citations]}
        for s in outcome.sentences]


def sample_questions(dataset, n: int) -> list:
    step = max(len(dataset.questions) // n, 1)
    chosen = dataset.questions[::step][:n]
    return [(q.question, True, list(q.answers), q.gold[0]) for q in chosen]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", required=True, help="SQuAD-it JSON file")
    parser.add_argument("--articles", default="0:24", help="slice of data[] (dev: 0:24)")
    parser.add_argument("--n", type=int, default=40, help="answerable questions to sample")
    parser.add_argument("--index", default=str(Path.home() / ".cache/rag/eval/squad-dev"))
    parser.add_argument("--records", help="save per-question records (JSON) here")
    parser.add_argument("--sweep", action="store_true", help="also print a threshold grid")
    parser.add_argument("--replay", help="reuse the generations of this --records file")
    parser.add_argument("--answered-by-corpus", action="append", default=[], metavar="QUESTION",
                        help="leave this off-corpus question out: the corpus answers it "
                             "(e.g. the held-out split names Microsoft's CEO); repeatable")
    args = parser.parse_args(argv)
    unknown = set(args.answered_by_corpus) - set(OFF_CORPUS + OFF_CORPUS_HELD_OUT)
    if unknown:
        parser.error(f"not an off-corpus question of this benchmark: {sorted(unknown)}")

    settings = Settings.load({"index_dir": args.index, "min_relevance": -1.0, "verify": False})
    generator = None
    if args.replay:
        generator = Replay(build_generator(settings), json.loads(Path(args.replay).read_text()))
    assistant = Assistant(settings, generator=generator)
    dataset = load_squad(args.squad, args.articles)
    corpus = index_dataset(assistant, dataset, progress=True)
    doc_of_chunk = lambda chunk: (corpus.doc_ids.get(chunk.article_id) or ("?",))[0]  # noqa: E731
    off_corpus = [q for q in OFF_CORPUS + OFF_CORPUS_HELD_OUT if q not in args.answered_by_corpus]
    questions = sample_questions(dataset, args.n) + [(q, False, [], "") for q in off_corpus]
    started = time.perf_counter()
    records = collect(assistant, questions, doc_of_chunk)
    elapsed = time.perf_counter() - started

    defaults = Settings.load()
    thresholds = dict(min_relevance=defaults.min_relevance, min_support=defaults.min_support,
                      min_evidence=defaults.min_evidence, min_closest=defaults.min_closest,
                      max_relevance_gap=defaults.max_relevance_gap)
    embedder = assistant.query_embedder
    without = metrics(records, checks=False, **thresholds)
    with_checks = metrics(records, checks=True, embedder=embedder, **thresholds)
    print(f"\nGrounding benchmark: {args.n} SQuAD-it questions of data[{args.articles}] + {len(off_corpus)} "
          f"off-corpus ({sum(q in OFF_CORPUS_HELD_OUT for q in off_corpus)} held out); models {defaults.embedder} + {defaults.llm}; "
          f"{elapsed:.0f}s for {len(records)} answers; thresholds {thresholds}\n")
    print(f"| {'metric':<22} | {'without checks':>14} | {'with checks':>11} |")
    print(f"|{'-' * 24}|{'-' * 16}|{'-' * 13}|")
    for key in without:
        cell = (lambda v: f"{v:.0f}") if key in ("citations", "sentences_left_out") else (lambda v: f"{v:.3f}")
        print(f"| {key:<22} | {cell(without[key]):>14} | {cell(with_checks[key]):>11} |")
    if args.sweep:
        print("\nmin_evidence min_support  verified  precision  off_abst  ans_abst  correct")
        for ev in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45):
            for sup in (0.5, 0.55, 0.6):
                m = metrics(records, checks=True, min_relevance=defaults.min_relevance,
                            min_support=sup, min_evidence=ev, embedder=embedder)
                print(f"{ev:>12.2f} {sup:>11.2f} {m['sentences_verified']:>9.3f} "
                      f"{m['citation_precision']:>10.3f} {m['off_corpus_abstained']:>9.3f} "
                      f"{m['answerable_abstained']:>9.3f} {m['correct']:>8.3f}")
    if args.records:
        options = {k: v for k, v in thresholds.items() if k != "min_closest"}
        outcomes = [checked_answer(r, embedder=embedder, **options) for r in records]
        Path(args.records).write_text(json.dumps(
            [{k: v for k, v in vars(r).items() if k != "scored"} |
             {"sentences": [{"text": s.text, "best": [(n, round(v, 4), a) for n, v, _, a in s.best]}
                            for s in r.scored],
              "abstained": o.abstained, "checked": _checked(r, o)}
             for r, o in zip(records, outcomes)],
            ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
