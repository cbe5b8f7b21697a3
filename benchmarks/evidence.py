"""How far the choice of evidence can take quote accuracy: SQuAD-it questions, retrieval
only (no LLM), scored against each question's gold answer span.

For each question the passages are retrieved as `Assistant.ask` retrieves them, and every
usable sentence of them is ranked by `rag.evidence.select_evidence`. Reported:

* the ceiling — questions for which some sentence of the retrieved passages covers a gold
  answer span (SQuAD's `answer_start`): no choice of evidence, and no model citing it, can
  quote the gold for the others;
* for the default weights and each weighting of ``--lexical`` × ``--rank``
  (`evidence_lexical_weight`, `evidence_rank_weight`): how often the first item covers the
  gold (a small model answers from the first items it reads), and how often one of the first
  ``--items`` does (the evidence the model is given, `evidence_sentences`).

    .venv/bin/python benchmarks/evidence.py --squad ../shared/evaldata/squad_it/SQuAD_it-test.json \\
        --articles 0:24 --n 400 --index ~/.cache/rag/eval/grounding-dev
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Report  # noqa: E402
from grounding import evidence_covers, load_squad, sample, write_corpus  # noqa: E402


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", required=True, type=Path, help="SQuAD-it JSON file")
    parser.add_argument("--articles", default="0:24", help="slice of data[] (dev 0:24)")
    parser.add_argument("--n", type=int, default=400, help="questions to sample")
    parser.add_argument("--index", type=Path, required=True,
                        help="index folder of the split (built if missing, as grounding.py does)")
    parser.add_argument("--items", type=int, default=None,
                        help="evidence items the model reads (default: evidence_sentences)")
    parser.add_argument("--lexical", type=floats, default=[0.0, 0.15, 0.3, 0.5, 0.8],
                        help="evidence_lexical_weight values to try, comma-separated")
    parser.add_argument("--rank", type=floats, default=[0.0, 0.02, 0.1],
                        help="evidence_rank_weight values to try, comma-separated")
    args = parser.parse_args(argv)

    from rag import Assistant, Settings
    from rag.corpus import answer_language
    from rag.evidence import select_evidence
    from rag.names import subject_names

    paragraphs, questions = load_squad(args.squad, args.articles)
    corpus = args.index.parent / f"{args.index.name}-corpus"
    write_corpus(paragraphs, corpus)
    settings = Settings.load({"index_dir": args.index, "corpus_dir": corpus})
    assistant = Assistant(settings)
    assistant.index_files([corpus], progress=True)
    store, embedder = assistant.store, assistant.parts.query_embedder
    items = args.items or settings.evidence_sentences
    default = (settings.evidence_lexical_weight, settings.evidence_rank_weight)
    weights = [default] + [w for w in itertools.product(args.lexical, args.rank) if w != default]
    report = Report("evidence")
    asked = sample(questions, args.n)
    first = {w: 0 for w in weights}
    among = {w: 0 for w in weights}
    ceiling = 0
    for i, q in enumerate(asked, 1):
        query = embedder.embed([q.text], kind="query")[0]
        hits = assistant.search(q.text)
        subject = subject_names(q.text) if settings.check_subject else frozenset()
        lang = answer_language(q.text)
        covers = {}
        for w in weights:
            chosen = select_evidence(q.text, query, hits, store, embedder, n=10_000,
                                     lexical_weight=w[0], rank_weight=w[1],
                                     subject=subject, lang=lang)
            covers[w] = evidence_covers(chosen.items, q, paragraphs)
            first[w] += covers[w][:1] == [True]
            among[w] += any(covers[w][:items])
        ceiling += any(covers[default])  # all the sentences, whatever the weights
        if i % 50 == 0:
            print(f"[{i}/{len(asked)}]", file=sys.stderr, flush=True)
    n = len(asked)
    report.add("ceiling", "a sentence of the retrieved passages covers the gold", ceiling / n,
               note=f"{ceiling}/{n} questions")
    for w in sorted(weights, key=lambda w: (-first[w], -among[w])):
        report.add("weights", f"lexical {w[0]}, rank {w[1]}: first item / one of {items}",
                   first[w] / n, among[w] / n, note="the defaults" if w == default else "")
    report.extra = {"questions": n, "items": items,
                    "first": {str(w): first[w] for w in weights},
                    "among": {str(w): among[w] for w in weights}, "ceiling": ceiling}
    report.finish()


if __name__ == "__main__":
    main()
