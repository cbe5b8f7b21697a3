"""Answer speed: how soon a reader sees evidence, the first word and the whole answer.

Each code version runs in its own process (its checkout first on PYTHONPATH), so this code
and another checkout (``--baseline``: e.g. a `git worktree` of the commit before the
evidence-first redesign) are measured side by side, in one run, on the same machine, with
the same questions, in the order A, B, B, A (each p50 is over both passes):

* warm — one process asks the bundled article's questions and SQuAD-it dev questions (over
  the grounding benchmark's index of all dev paragraphs) after one warm-up question:
  p50/p95 of time to first evidence, first token, whole answer, and the checks;
* cold — `rag ask QUESTION --json` in a new process, from its start to its exit.

    git worktree add /tmp/old-rag <commit before the redesign>
    .venv/bin/python benchmarks/perf.py --baseline /tmp/old-rag --questions 20
    .venv/bin/python benchmarks/perf.py --baseline /tmp/old-rag --portable   # the AVX2 build
    .venv/bin/python benchmarks/perf.py --baseline-settings evidence_sentences=5

``--baseline-settings`` measures this checkout against itself under other settings (given
as ``RAG_*`` variables to the baseline's processes; with ``--baseline``, that checkout under
them) and reports how many answers came out
word for word the same.

``--portable`` runs every process with the portable (AVX2) llama.cpp build of
`.llama-portable/` first on the path (`scripts/setup.sh --test` makes it). Indexing speed
per embedding backend is in `embedding.py`, generation speed against raw llama.cpp in
`generation.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SQUAD = Path("/work/shared/evaldata/squad_it/SQuAD_it-test.json")
SEED_QUESTIONS = [
    "Why might the Musk–Bezos rivalry grow?",
    "Perché la rivalità tra Musk e Bezos potrebbe crescere?",
    "How much revenue did Amazon report for AWS last quarter?",
    "Quanto vale il settore dei data center secondo Electrek?",
    "What did The Information report about a Twitter data center?",
    "Chi è Jim Chanos e contro cosa ha scommesso?",
    "Where is the job in Tesla's data center announcement based?",
    "What is the capital of Australia?",
]
STAGES = ("first_evidence_ms", "first_token_ms", "verify_ms", "total_ms")


def worker(index: Path, corpus: Path, questions: list[str]) -> dict:
    """Answer ``questions`` over the index (after one warm-up); timings per question."""
    sys.path.insert(0, str(HERE))
    from grounding import final_answer

    from rag import Assistant, Settings
    assistant = Assistant(Settings.load({"index_dir": index, "corpus_dir": corpus}))
    assistant.index_files([corpus])
    final_answer(assistant.ask("Quanto ha fatturato AWS?"))  # loads the models, warms caches
    rows = []
    for question in questions:
        started = time.perf_counter()
        answer = final_answer(assistant.ask(question))
        wall = (time.perf_counter() - started) * 1000
        t = answer.timings
        rows.append({"question": question, "answer": answer.text,
                     "abstained": answer.abstained, "wall_ms": wall,
                     "first_evidence_ms": getattr(t, "first_evidence_ms", None)
                     or getattr(t, "retrieve_ms", 0.0) + getattr(t, "language_ms", 0.0),
                     "first_token_ms": t.first_token_ms, "verify_ms": t.verify_ms,
                     "total_ms": t.total_ms})
    return {"rows": rows}


def paths(root: Path) -> str:
    """PYTHONPATH for a checkout: the portable llama.cpp build first when asked."""
    portable = [str(REPO / ".llama-portable")] if os.environ.get("BENCH_PORTABLE") else []
    return os.pathsep.join([*portable, str(root), str(REPO)])


def run_version(root: Path, args: list[str], overrides: dict[str, str]) -> dict:
    env = {**os.environ, **overrides, "PYTHONPATH": paths(root)}
    done = subprocess.run([sys.executable, str(Path(__file__)), "--worker", *args], env=env,
                          text=True, capture_output=True, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(f"worker for {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold(root: Path, index: Path, corpus: Path, question: str,
         overrides: dict[str, str]) -> float:
    """Seconds from a new `rag ask --json` process's start to its exit."""
    env = {**os.environ, **overrides, "PYTHONPATH": paths(root), "RAG_INDEX_DIR": str(index),
           "RAG_CORPUS_DIR": str(corpus)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag", "ask", question, "--json"], env=env,
                          text=True, capture_output=True, timeout=900, cwd=root)
    if done.returncode != 0:
        raise SystemExit(f"rag ask in {root} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def percentiles(rows: list[dict], key: str) -> tuple[float, float]:
    values = sorted(r[key] for r in rows if r[key])
    if not values:
        return 0.0, 0.0
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return statistics.median(values), p95


def squad_questions(n: int) -> list[str]:
    sys.path.insert(0, str(HERE))
    from grounding import load_squad, sample
    _, questions = load_squad(SQUAD, "0:24")
    return [q.text for q in sample(questions, n)]


def report(results: dict[str, dict], colds: dict[str, list[float]]) -> None:
    names = list(results)
    print(f"{'warm, p50 / p95 (s)':34}" + "".join(f"{n:>22}" for n in names)
          + ("  ratio" if len(names) == 2 else ""))
    for key in STAGES:
        cells, p50s = [], []
        for name in names:
            p50, p95 = percentiles(results[name]["rows"], key)
            cells.append(f"{p50 / 1000:9.2f} / {p95 / 1000:6.2f}")
            p50s.append(p50)
        ratio = f"  {p50s[0] / p50s[1]:.2f}x" if len(names) == 2 and p50s[1] else ""
        print(f"{key:34}" + "".join(f"{c:>22}" for c in cells) + ratio)
    for name in names:
        values = colds[name]
        print(f"cold start to answer, {name}: " + ", ".join(f"{v:.1f} s" for v in values))


def setting_overrides(settings: dict[str, str]) -> dict[str, str]:
    """Settings as the ``RAG_*`` variables that set them."""
    return {f"RAG_{key.upper()}": value for key, value in settings.items()}


def measure(name: str, root: Path, overrides: dict[str, str], questions: list[str],
            args, tmp: Path) -> tuple[list[dict], list[float]]:
    """One version's warm rows (the seed article's questions, then SQuAD-it's) and colds."""
    corpus = tmp / f"{name}-corpus"
    shutil.copytree(REPO / "corpus", corpus)
    grounding = args.squad_index / ("grounding-dev" if root == REPO else "grounding-dev-old")
    seed = tmp / f"{name}-index"
    rows = run_version(root, [str(seed), str(corpus), json.dumps(SEED_QUESTIONS)],
                       overrides)["rows"]
    rows += run_version(root, [str(grounding), str(grounding.parent / f"{grounding.name}-corpus"),
                               json.dumps(questions)], overrides)["rows"]
    colds = [cold(root, seed, corpus, SEED_QUESTIONS[0], overrides) for _ in range(args.cold)]
    return rows, colds


def same_answers(results: dict[str, dict]) -> str:
    """How many questions two versions answered word for word alike."""
    first, second = (results[name]["rows"] for name in results)
    same = sum(a.get("answer") == b.get("answer") for a, b in zip(first, second))
    steady = sum(a.get("answer") == b.get("answer")
                 for rows in (first, second) for a, b in zip(rows, rows[len(rows) // 2:]))
    return (f"same answer text: {same}/{len(first)} across versions; "
            f"{steady}/{len(first)} within a version's two passes")


def main() -> None:
    sys.path.insert(0, str(HERE))
    from grounding import settings_pairs
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--baseline-settings", metavar="KEY=VALUE,…", type=settings_pairs,
                        default={},
                        help="settings of the baseline (this checkout unless --baseline)")
    parser.add_argument("--questions", type=int, default=20, help="SQuAD-it dev questions")
    parser.add_argument("--squad-index", type=Path, default=Path.home() / ".cache/rag/eval",
                        help="folder of the grounding benchmark's indexes")
    parser.add_argument("--cold", type=int, default=2, help="cold starts per version")
    parser.add_argument("--portable", action="store_true",
                        help="use the portable (AVX2) llama.cpp build in .llama-portable/")
    parser.add_argument("--worker", nargs=3, metavar=("INDEX", "CORPUS", "QUESTIONS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        index, corpus, questions = args.worker
        print(json.dumps(worker(Path(index), Path(corpus), json.loads(questions))))
        return
    if args.portable:
        os.environ["BENCH_PORTABLE"] = "1"
    versions = {"this checkout": (REPO, {})}
    if args.baseline or args.baseline_settings:  # another checkout, these settings, or both
        versions["baseline"] = (args.baseline or REPO,
                                setting_overrides(args.baseline_settings))
    questions = squad_questions(args.questions)
    tmp = Path(tempfile.mkdtemp(prefix="answer-speed-"))
    results = {name: {"rows": []} for name in versions}
    colds: dict[str, list[float]] = {name: [] for name in versions}
    names = list(versions)
    # two versions in the order A, B, B, A: a drift of the machine weighs on both alike
    for turn, name in enumerate(names + names[::-1] if len(names) == 2 else names):
        root, overrides = versions[name]
        rows, values = measure(f"{name}-{turn}", root, overrides, questions, args, tmp)
        results[name]["rows"] += rows
        colds[name] += values
    report(results, colds)
    if len(results) == 2:
        print(same_answers(results))
    build = "portable" if args.portable else "native"
    out = HERE / "results" / f"perf-{build}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "cold": colds,
                               "baseline_settings": args.baseline_settings}, indent=1))
    print(f"\nsaved {out}")


if __name__ == "__main__":
    main()
