"""`rag eval`: retrieval (and answer) quality on an external dataset, a thin layer over
`rag.evaluate`."""

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
              "(dev: 20220617:20220902). The corpus is always the whole corpus.jsonl.")
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
def eval_command(ctx, squad, articles, corpus_file, questions_file, realtimeqa, weeks, index_dir,
                 mode, dates, limit, depth, answers, as_json):
    """Measure retrieval (recall@1/5/10, MRR@10 per document) on an external dataset.

    Give one of --squad FILE, --corpus FILE --questions FILE, or --realtimeqa DIR. The
    corpus is indexed into its own index (default: RAG_HOME/eval/<dataset>), incrementally:
    a re-run embeds nothing. With --json, the top-level keys are the first run's
    (recall@1, recall@5, recall@10, mrr@10, n_questions, mode, timings) and "runs" lists all.
    Retrieval settings come from RAG_* variables as usual (e.g. RAG_FUSION=rrf
    RAG_DENSE_WEIGHT=0.5, or RAG_DATE_BOOST=0.3) to compare variants on one index.
    An index keeps the kind it was built with: to measure sentence vectors, give
    RAG_SENTENCE_VECTORS=1 and another --index (the report's index.sentences counts them).
    """
    from . import evaluate
    from .assistant import Assistant
    if sum(map(bool, (squad, corpus_file or questions_file, realtimeqa))) != 1:
        raise Problem("give exactly one of --squad, --corpus/--questions, --realtimeqa")
    if squad:
        dataset = evaluate.load_squad(squad, articles)
    elif realtimeqa:
        dataset = evaluate.load_realtimeqa(realtimeqa, weeks)
    else:
        if not (corpus_file and questions_file):
            raise Problem("--corpus and --questions go together")
        dataset = evaluate.load_jsonl(corpus_file, questions_file)
    settings = settings_from(ctx)
    index_dir = index_dir or settings.home / "eval" / dataset.name
    assistant = Assistant(settings.replace(index_dir=index_dir))
    modes = ["hybrid", "dense", "keyword"] if mode == "all" else [mode]
    report = evaluate.evaluate(assistant, dataset, modes=modes, dates=list(dates) or ["off"],
                               limit=limit, depth=depth, answers=answers,
                               progress=not as_json)
    if as_json:
        echo_json(report)
    else:
        click.echo(evaluate.format_table(report))

