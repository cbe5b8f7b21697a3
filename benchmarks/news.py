"""Answers on news the project does not ship: the questions of ``benchmarks/questions/news.tsv``
over the bundled article and the sixteen of ``tests/data/news`` (Italian and English: a port, a
bakery strike, floods, a central bank, a bankruptcy trial, a heatwave, a football derby, a
chip plant, hospital waiting lists, a city election, a new antibiotic, a transport strike,
Venice's access fee, an airline's results, inflation figures, a wildfire),
asked as a user asks them (`Assistant.ask`, default models and settings).

Reported: answerable questions answered with a right answer (`rag.evalmetrics.contains_gold`
on the answer's text), answered without one, and abstained; questions the articles do not
answer that abstain; time to the first token and to the whole answer (p50). With ``--records``
every answer is saved (its draft, sentences and reasons) for reading.

    .venv/bin/python benchmarks/news.py
    .venv/bin/python benchmarks/news.py --settings check_asked_kind=false --records out.json
    .venv/bin/python benchmarks/news.py --replay out.json   # the same drafts, the current checks

The questions were written with the articles, before any answer was seen, and then used to
find the failures the rules of this version mend: read the figures as a dev set's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Report, pct  # noqa: E402
from grounding import replaying, settings_pairs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "benchmarks" / "questions" / "news.tsv"


@dataclass(frozen=True)
class NewsQuestion:
    question: str
    answers: tuple[str, ...]  # empty: the articles do not hold the answer


def load_questions(path: Path) -> list[NewsQuestion]:
    """``question<TAB>answer|answer`` lines ("-": not in the articles); "#" starts a comment."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        question, sep, answers = line.partition("\t")
        if not sep or not answers.strip():
            raise SystemExit(f"{path}:{number}: expected question<TAB>answers, got {line!r}")
        gold = () if answers.strip() == "-" else tuple(a.strip() for a in answers.split("|"))
        found.append(NewsQuestion(question.strip(), gold))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="question file (TSV)")
    parser.add_argument("--settings", type=settings_pairs, default={}, metavar="KEY=VALUE,…",
                        help="settings to change from the defaults")
    parser.add_argument("--records", type=Path, help="save every answer here (JSON)")
    parser.add_argument("--replay", type=Path, metavar="RECORDS",
                        help="answer with the drafts of this --records file, not the model "
                             "(the checks, fallback and confirmation run as they are now)")
    args = parser.parse_args(argv)

    table = Report("news")
    from rag import Assistant, Settings
    from rag.evalmetrics import contains_gold

    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(REPO / "corpus", corpus)
        shutil.copytree(REPO / "tests" / "data" / "news", corpus, dirs_exist_ok=True)
        settings = Settings.load({**args.settings, "index_dir": Path(tmp) / "index",
                                  "corpus_dir": corpus})
        assistant = Assistant(settings, generator=replaying(args.replay, settings))
        assistant.index_files([corpus])
        records = []
        for i, q in enumerate(questions, 1):
            answer = assistant.ask(q.question).answer()
            right = bool(q.answers) and not answer.abstained and bool(
                contains_gold(answer.text, q.answers))
            records.append({"question": q.question, "answers": list(q.answers), "right": right,
                            **answer.to_json()})
            print(f"[{i}/{len(questions)}] {answer.kind:9} {'right' if right else '':5} "
                  f"{q.question[:60]!r} -> {answer.text[:100]!r}", file=sys.stderr, flush=True)
    if args.records:
        args.records.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    report(table, records, args.settings)


def report(table: Report, records: list[dict], settings: dict) -> None:
    answerable = [r for r in records if r["answers"]]
    off = [r for r in records if not r["answers"]]
    label = ",".join(f"{k}={v}" for k, v in settings.items()) or "defaults"
    table.add(label, "answerable questions", len(answerable))
    table.add(label, "answered right", sum(r["right"] for r in answerable) / len(answerable))
    table.add(label, "answered without a right answer",
              sum(not r["right"] and not r["abstained"] for r in answerable) / len(answerable))
    table.add(label, "abstained", sum(r["abstained"] for r in answerable) / len(answerable))
    table.add(label, "questions the articles do not answer", len(off))
    if off:
        table.add(label, "… abstained", sum(r["abstained"] for r in off) / len(off))
    table.add(label, "generated / extracted / abstained", " / ".join(
        str(sum(r["kind"] == kind for r in records))
        for kind in ("generated", "extracted", "abstained")))
    for stage in ("first_token_ms", "total_ms"):
        times = [r["timings"][stage] / 1000 for r in records if r["timings"].get(stage)]
        table.add(label, f"{stage.removesuffix('_ms')} p50 (s)", pct(times, 50) if times else "")
    table.extra["records"] = [{k: r[k] for k in ("question", "kind", "right", "answer")}
                              for r in records]
    table.finish()


if __name__ == "__main__":
    main()
