"""What `check_asked_kind` changes on English news: RealTime QA questions that ask how many,
how much or when (`rag.asked`), answered with the rule and without it, side by side.

The questions of ``--weeks`` that ask for an amount or a time are asked, each on its own
question date (time expressions such as "this week" read from it, no article published after
it: `rag eval --dates on`), over the index `rag eval` builds of the same articles, by two
assistants that share their models and differ only in the setting. The model writes the same
draft for both (greedy decoding from the same prompt), so every difference is the rule's.
Reported per variant: answers containing a gold answer (`rag.evalmetrics.contains_gold`),
abstentions, how answers were made; and every question whose answer differs.

    .venv/bin/rag eval --realtimeqa ../shared/evaldata/realtimeqa --weeks 20220617:20220902 \\
        --rtqa-articles 150 --index ~/.cache/rag/eval/rtqa-dev-150 --dates on --answers
    .venv/bin/python benchmarks/asked_kind.py --weeks 20220617:20220902 --articles 150 \\
        --index ~/.cache/rag/eval/rtqa-dev-150
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RTQA_DIR, Report  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realtimeqa", type=Path, default=RTQA_DIR, help="RealTime QA folder")
    parser.add_argument("--weeks", default="20220617:20220902", help="A:B (dev: the default)")
    parser.add_argument("--articles", type=int, default=150, help="as rag eval --rtqa-articles")
    parser.add_argument("--index", type=Path, required=True, help="the index rag eval built")
    args = parser.parse_args(argv)

    from rag import Assistant, Settings
    from rag.asked import asked_for
    from rag.evaldata import load_realtimeqa
    from rag.evalmetrics import contains_gold
    from rag.evaluate import question_filters, question_today

    dataset = load_realtimeqa(args.realtimeqa, args.weeks, articles=args.articles)
    questions = [q for q in dataset.questions if asked_for(q.question)]
    settings = Settings.load({"index_dir": args.index})
    checked = Assistant(settings)
    unchecked = Assistant(settings.replace(check_asked_kind=False),
                          embedder=checked.embedder, generator=checked.generator)
    report = Report("asked_kind")
    rows = {"with the rule": [], "without": []}
    for i, q in enumerate(questions, 1):
        for name, assistant in (("with the rule", checked), ("without", unchecked)):
            answer = assistant.ask(q.question, filters=question_filters(q, "on"),
                                   today=question_today(q, "on")).answer()
            text = "" if answer.abstained else answer.text
            rows[name].append((answer.kind, bool(contains_gold(text, q.answers)), answer.text))
        (kind, gold, text), (kind_b, gold_b, text_b) = (rows["with the rule"][-1],
                                                        rows["without"][-1])
        print(f"[{i}/{len(questions)}] {asked_for(q.question)}: {q.question[:70]!r} "
              f"gold {q.answers}", file=sys.stderr, flush=True)
        if text != text_b:
            print(f"   with: {kind} {gold} {text[:160]!r}\n   without: {kind_b} {gold_b} "
                  f"{text_b[:160]!r}", file=sys.stderr, flush=True)
    for name, answers in rows.items():
        n = len(answers)
        report.add(name, "questions asking an amount or a time", n)
        report.add(name, "answer contains a gold answer", sum(g for _, g, _ in answers) / n)
        report.add(name, "abstained", sum(k == "abstained" for k, _, _ in answers) / n)
        report.add(name, "generated / extracted / abstained", " / ".join(
            str(sum(k == kind for k, _, _ in answers)) for kind in ("generated", "extracted",
                                                                   "abstained")))
    report.add("both", "answers that differ", sum(
        a[2] != b[2] for a, b in zip(rows["with the rule"], rows["without"])))
    report.finish()


if __name__ == "__main__":
    main()
