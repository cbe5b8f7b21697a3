"""`rag eval`: retrieval (and answer) quality on external datasets, one at a time or
mixed in one index, a thin layer over `rag.evaluate`."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import Problem, cli, echo_json, friendly_errors, index_option, settings_from


@cli.command("eval")
@click.option("--squad", "squad", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A SQuAD v1.1 JSON file: each paragraph is a document, id \"{i}-{j}\".")
@click.option("--articles", metavar="A:B", help="With --squad: take data[A:B] (dev: 0:24).")
@click.option("--corpus", "corpus_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL corpus: {id, text, title?, date?, source?, author?, lang?} a line.")
@click.option("--questions", "questions_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL questions for --corpus: {question, gold: [ids], answers?, date?} a line.")
@click.option("--realtimeqa", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A RealTime QA folder (corpus.jsonl + questions.jsonl): url = id, "
                   "question_sentence, gold_doc_urls, answer_text, question_date.")
@click.option("--weeks", metavar="A:B", help="With --realtimeqa: weeks A..B inclusive "
              "(dev: 20220617:20220902). The corpus is the whole corpus.jsonl, unless "
              "--rtqa-articles.")
@click.option("--rtqa-articles", "rtqa_articles", type=click.IntRange(min=1), metavar="N",
              help="With --realtimeqa: only N articles, the gold articles of the questions "
                   "of --weeks first, then others in a fixed pseudo-random order.")
@click.option("--mixed", is_flag=True,
              help="Give two or more datasets (e.g. --squad and --realtimeqa): each is "
                   "measured on its own index and on one index of all their documents "
                   "together, side by side.")
@index_option
@click.option("--mode", "mode", type=click.Choice([*("hybrid", "dense", "keyword"), "all"]),
              default="hybrid", show_default=True, help="Retrieval mode; all = the three side by side.")
@click.option("--dates", "dates", multiple=True, type=click.Choice(["off", "hint", "filter", "on"]),
              help="Use each question's date: hint = reference date for time expressions "
                   "(\"last week\"), filter = no article after it, on = both. Repeatable "
                   "[default: off].")
@click.option("--limit", type=int, help="Only the first N questions.")
@click.option("--depth", type=int, default=50, show_default=True,
              help="Chunks retrieved per question (mapped to distinct documents).")
@click.option("--answers", is_flag=True, help="Also generate answers (slow): contains-gold, F1, abstention.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@friendly_errors
def eval_command(ctx, squad, articles, corpus_file, questions_file, realtimeqa, weeks,
                 rtqa_articles, mixed, index_dir, mode, dates, limit, depth, answers, as_json):
    """Measure retrieval (recall@1/5/10, MRR@10 per document) on an external dataset.

    Give one of --squad FILE, --corpus FILE --questions FILE, or --realtimeqa DIR (with
    --mixed, two or more). The corpus is indexed into its own index (default:
    RAG_HOME/eval/<dataset>; with --mixed, --index is the folder of the indexes),
    incrementally: a re-run embeds nothing. With --json, the top-level keys are the first
    run's (recall@1, recall@5, recall@10, mrr@10, n_questions, mode, timings) and "runs"
    lists all; with --mixed, "datasets" pairs each dataset's "single" and "mixed" reports.
    Retrieval settings come from RAG_* variables as usual (e.g. RAG_FUSION=rrf
    RAG_DENSE_WEIGHT=0.5, or RAG_DATE_BOOST=0.3) to compare variants on one index.
    An index keeps the kind it was built with: to measure sentence vectors, give
    RAG_SENTENCE_VECTORS=1 and another --index (the report's index.sentences counts them).
    """
    from . import evaluate
    from .assistant import Assistant
    datasets = _datasets(squad, articles, corpus_file, questions_file, realtimeqa, weeks,
                         rtqa_articles)
    if len(datasets) != 1 and not mixed:
        raise Problem("give exactly one of --squad, --corpus/--questions, --realtimeqa "
                      "(or two or more with --mixed)")
    if mixed and (len(datasets) < 2 or answers):
        raise Problem("--mixed takes two or more datasets, and no --answers")
    settings = settings_from(ctx)
    options = dict(modes=["hybrid", "dense", "keyword"] if mode == "all" else [mode],
                   dates=list(dates) or ["off"], limit=limit, depth=depth,
                   progress=not as_json)
    if mixed:
        report = evaluate.evaluate_mixed(
            lambda folder: Assistant(settings.replace(index_dir=folder)), datasets,
            index_dir or settings.home / "eval", **options)
        table = evaluate.format_mixed_table
    else:
        folder = index_dir or settings.home / "eval" / datasets[0].name
        report = evaluate.evaluate(Assistant(settings.replace(index_dir=folder)), datasets[0],
                                   answers=answers, **options)
        table = evaluate.format_table
    if as_json:
        echo_json(report)
    else:
        click.echo(table(report))


def _datasets(squad, articles, corpus_file, questions_file, realtimeqa, weeks,
              rtqa_articles) -> list:
    """The datasets the options name, in the order SQuAD, JSONL pair, RealTime QA."""
    from . import evaldata
    if bool(corpus_file) != bool(questions_file):
        raise Problem("--corpus and --questions go together")
    if rtqa_articles and not realtimeqa:
        raise Problem("--rtqa-articles goes with --realtimeqa")
    datasets = []
    if squad:
        datasets.append(evaldata.load_squad(squad, articles))
    if corpus_file:
        datasets.append(evaldata.load_jsonl(corpus_file, questions_file))
    if realtimeqa:
        datasets.append(evaldata.load_realtimeqa(realtimeqa, weeks, articles=rtqa_articles))
    return datasets
