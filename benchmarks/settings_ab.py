"""What a change of settings does to answers on English news: RealTime QA questions answered
by two assistants that share their models and differ only in ``--settings``, side by side.

Each question of ``--weeks`` (or only those asking how many, how much or when: ``--asking
amount-or-time``, `rag.asked`) is asked on its own question date (time expressions such as
"this week" read from it, no article published after it: `rag eval --dates on`), over the
index `rag eval` builds of the same articles. The model writes each prompt's text once: the
second assistant is given what the first was for the same prompt (greedy decoding would
write it again), so every difference is the settings'. Reported per variant: answers
containing a gold answer (`rag.evalmetrics.contains_gold`), abstentions, how answers were
made; and every question whose answer differs.

    .venv/bin/rag eval --realtimeqa ../shared/evaldata/realtimeqa --weeks 20220617:20220902 \\
        --rtqa-articles 150 --index ~/.cache/rag/eval/rtqa-dev-150 --dates on --answers
    .venv/bin/python benchmarks/settings_ab.py --index ~/.cache/rag/eval/rtqa-dev-150 \\
        --settings check_asked_kind=false --asking amount-or-time
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RTQA_DIR, Report  # noqa: E402
from grounding import settings_pairs  # noqa: E402


class SharedDrafts:
    """The model of two assistants: a prompt it was given before gets the text it wrote
    then (as far as it was read), without running the model again."""

    def __init__(self, real):
        self.real, self.name, self.context_tokens = real, real.name, real.context_tokens
        self.written: dict[tuple, str] = {}

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def prime(self, prefix):
        return self.real.prime(prefix)

    def generate(self, messages, **options):
        key = (tuple((m.role, m.content) for m in messages),
               tuple(sorted((k, hashable(v)) for k, v in options.items())))
        if key in self.written:
            yield self.written[key]
            return
        pieces: list[str] = []
        try:
            for piece in self.real.generate(messages, **options):
                pieces.append(piece)
                yield piece
        finally:
            self.written[key] = "".join(pieces)


def hashable(value):
    """``value`` as a key: a mapping (the logit ``bias``) as its sorted items."""
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realtimeqa", type=Path, default=RTQA_DIR, help="RealTime QA folder")
    parser.add_argument("--weeks", default="20220617:20220902", help="A:B (dev: the default)")
    parser.add_argument("--articles", type=int, default=150, help="as rag eval --rtqa-articles")
    parser.add_argument("--index", type=Path, required=True, help="the index rag eval built")
    parser.add_argument("--settings", type=settings_pairs, required=True, metavar="KEY=VALUE,…",
                        help="what the second assistant changes from the defaults")
    parser.add_argument("--asking", choices=("all", "amount-or-time"), default="all",
                        help="which questions to ask")
    args = parser.parse_args(argv)

    table = Report("settings_ab")  # started here: its wall time is the whole run's
    from rag import Assistant, Settings
    from rag.asked import asked_for
    from rag.evaldata import load_realtimeqa
    from rag.evalmetrics import contains_gold
    from rag.evaluate import question_filters, question_today
    from rag.generate import build_generator

    dataset = load_realtimeqa(args.realtimeqa, args.weeks, articles=args.articles)
    questions = [q for q in dataset.questions if args.asking == "all"
                 or asked_for(q.question) in ("quantity", "times", "time")]
    settings = Settings.load({"index_dir": args.index})
    model = SharedDrafts(build_generator(settings))
    variants = {"defaults": Assistant(settings, generator=model)}
    changed = ",".join(f"{k}={v}" for k, v in args.settings.items())
    variants[changed] = Assistant(Settings.load({**args.settings, "index_dir": args.index}),
                                  embedder=variants["defaults"].embedder, generator=model)
    rows: dict[str, list] = {name: [] for name in variants}
    for i, q in enumerate(questions, 1):
        for name, assistant in variants.items():
            answer = assistant.ask(q.question, filters=question_filters(q, "on"),
                                   today=question_today(q, "on")).answer()
            text = "" if answer.abstained else answer.text
            rows[name].append((answer.kind, bool(contains_gold(text, q.answers)), answer.text))
        (kind, gold, text), (kind_b, gold_b, text_b) = (row[-1] for row in rows.values())
        print(f"[{i}/{len(questions)}] {q.question[:70]!r} gold {q.answers}",
              file=sys.stderr, flush=True)
        if text != text_b:
            print(f"   defaults: {kind} {gold} {text[:160]!r}\n   {changed}: {kind_b} "
                  f"{gold_b} {text_b[:160]!r}", file=sys.stderr, flush=True)
    report(table, rows, args.asking)


def report(table: Report, rows: dict[str, list], asking: str) -> None:
    for name, answers in rows.items():
        n = len(answers)
        table.add(name, f"questions ({asking})", n)
        table.add(name, "answer contains a gold answer", sum(g for _, g, _ in answers) / n)
        table.add(name, "abstained", sum(k == "abstained" for k, _, _ in answers) / n)
        table.add(name, "generated / extracted / abstained", " / ".join(
            str(sum(k == kind for k, _, _ in answers)) for kind in ("generated", "extracted",
                                                                   "abstained")))
    first, second = rows.values()
    table.add("both", "answers that differ", sum(a[2] != b[2] for a, b in zip(first, second)))
    table.finish()


if __name__ == "__main__":
    main()
