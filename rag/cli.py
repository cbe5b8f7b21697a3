"""CLI: a thin layer over the public Python API; each command makes one public call.

    rag index corpus/            rag search "Jim Chanos"      rag ask "..." --json
    rag chat                     rag serve                    rag models

Every command has --help and --json. Known failures (a missing model, a bad index, a bad
setting or filter) print one line naming the problem and exit 2.
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


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return Settings.load({**ctx.obj, **overrides})
    except SettingsError as exc:
        raise Problem(str(exc)) from None


def friendly_errors(func: Callable) -> Callable:
    """Known failures (missing model, bad index, bad setting) become one clear line."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import RagError
        try:
            return func(*args, **kwargs)
        except (RagError, ValueError, KeyError) as exc:
            raise Problem(str(exc).strip("'\"")) from None
    return wrapper


def index_option(func: Callable) -> Callable:
    return click.option("--index", "index_dir", type=click.Path(path_type=Path),
                        help="Index directory [default: index/, or RAG_INDEX_DIR].")(func)


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def filter_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only articles from this date."),
        click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only articles up to this date."),
        click.option("--dated-only", is_flag=True,
                     help="With --from/--to, leave out articles without a date."),
        click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable)."),
        click.option("-k", "--top-k", "top_k", type=click.IntRange(1, 50), help="Passages to retrieve."),
        click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), help="Retrieval mode."),
    ]):
        func = option(func)
    return func


def make_filters(date_from: str | None, date_to: str | None, dated_only: bool,
                 sources: tuple[str, ...]):
    """The `Filters` of the command line (a bad date is a clear error)."""
    from .filters import Filters
    return Filters(date_from or "", date_to or "", tuple(sources), undated=not dated_only)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show debug logging.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """rag: a private, local assistant over your news articles."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    ctx.obj = {}


def assistant_for(ctx: click.Context, **overrides: Any):
    from .assistant import Assistant
    return Assistant(settings_from(ctx, **overrides))


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True,
              help="Start from an empty index (e.g. after changing the embedder); only PATHS "
                   "are indexed again: pages and feed items come back with `rag sync`.")
@json_option
@click.pass_context
@friendly_errors
def index_command(ctx, paths, index_dir, rebuild, as_json):
    """Add, update and remove the articles under PATHS (files or folders).

    Unchanged articles are not embedded again. Files that cannot be read are skipped
    with a warning; the exit code is 3 when any were skipped.
    """
    report = assistant_for(ctx, index_dir=index_dir).index_files(
        paths, rebuild=rebuild, progress=not as_json)
    if as_json:
        echo_json(report_json(report))
    else:
        for s in report.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
        for title in report.flagged:
            click.echo(f"flagged: “{title}” has text addressing the assistant; it is never "
                       "used as evidence", err=True)
        click.echo(report_line(report))
    if report.skipped:
        ctx.exit(EXIT_SKIPPED)


def report_json(report) -> dict[str, Any]:
    import dataclasses
    data = dataclasses.asdict(report)
    data["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
    data["flagged"] = list(report.flagged)
    return data


def report_line(report) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"
    return (f"{report.added} added, {report.updated} updated, {report.removed} removed, "
            f"{report.unchanged} unchanged, {len(report.skipped)} skipped; "
            f"{count(report.chunks_embedded, 'passage')} embedded in {report.seconds:.1f} s; "
            f"index: {count(report.total_articles, 'article')}, "
            f"{count(report.total_chunks, 'passage')}.")


@cli.command("search")
@click.argument("query")
@index_option
@filter_options
@json_option
@click.pass_context
@friendly_errors
def search_command(ctx, query, index_dir, date_from, date_to, dated_only, sources, top_k, mode,
                   as_json):
    """Retrieve the passages most relevant to QUERY (no answer generation)."""
    from .answer import hit_json
    hits = assistant_for(ctx, index_dir=index_dir).search(
        query, k=top_k, mode=mode, filters=make_filters(date_from, date_to, dated_only, sources))
    if as_json:
        echo_json({"query": query, "passages": [hit_json(h) for h in hits]})
        return
    for h in hits:
        click.echo(f"[{h.rank}] {h.chunk.title}" + (f" ({h.chunk.date})" if h.chunk.date else "")
                   + f" score={h.score:.4f} sim={h.similarity:.3f}\n    {h.chunk.text[:300]}\n")
    if not hits:
        click.echo("Nothing found.")


@cli.command("ask")
@click.argument("question")
@index_option
@filter_options
@click.option("--no-verify", is_flag=True, help="Skip the per-sentence grounding checks.")
@click.option("--max-tokens", type=click.IntRange(8, 4096), help="Longest answer, in tokens.")
@json_option
@click.pass_context
@friendly_errors
def ask_command(ctx, question, index_dir, date_from, date_to, dated_only, sources, top_k, mode,
                no_verify, max_tokens, as_json):
    """Answer QUESTION from the indexed articles, with citations."""
    from .show import show_response
    response = assistant_for(ctx, index_dir=index_dir).ask(
        question, filters=make_filters(date_from, date_to, dated_only, sources), k=top_k,
        mode=mode, max_tokens=max_tokens, verify=False if no_verify else None)
    if as_json:
        echo_json(response.answer().to_json())
        return
    show_response(response)


@cli.command("chat")
@index_option
@json_option
@click.pass_context
@friendly_errors
def chat_command(ctx, index_dir, as_json):
    """Chat interactively; follow-up questions use the conversation so far.

    The chat is saved (see `rag chats`). With --json, each answer is one JSON line.
    """
    from .show import show_response
    assistant = assistant_for(ctx, index_dir=index_dir)
    assistant.library.require_articles()  # an empty index is reported before the first question
    assistant.warm_up_in_background()  # while the user types
    conversation = assistant.conversation(save=True)  # listed by `rag chats`
    if not as_json:
        click.echo("Ask about your articles (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("" if as_json else "\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        response = conversation.ask(question)
        if as_json:
            click.echo(json.dumps(response.answer().to_json(), ensure_ascii=False))
        else:
            show_response(response)


@cli.command("serve")
@index_option
@click.option("--host", help="Address to bind [default: 127.0.0.1]. Any other needs --auth.")
@click.option("--port", type=int, help="Port [default: 7860].")
@click.option("--auth", metavar="USER:PASSWORD", help="Require this login (needed off localhost).")
@json_option
@click.pass_context
@friendly_errors
def serve_command(ctx, index_dir, host, port, auth, as_json):
    """Serve the chat page and the OpenAI-compatible HTTP API (/v1), local only by default.

    Beyond loopback, a login is required: --auth USER:PASSWORD and/or a token in
    RAG_API_TOKEN (sent by API clients as `Authorization: Bearer TOKEN`).
    """
    from .server import serve
    settings = settings_from(ctx, index_dir=index_dir, host=host, port=port)
    if as_json:
        url = f"http://{settings.host}:{settings.port}/"
        click.echo(json.dumps({"url": url, "api": f"{url}v1"}))
    serve(settings, auth=auth)


@cli.command("articles")
@index_option
@json_option
@click.pass_context
@friendly_errors
def articles_command(ctx, index_dir, as_json):
    """List the indexed articles."""
    articles = assistant_for(ctx, index_dir=index_dir).articles()
    if as_json:
        echo_json([{k: v for k, v in vars(a).items() if k != "text"} for a in articles])
        return
    for a in articles:
        flag = "  [has instructions: not used as evidence]" if a.instructions else ""
        click.echo(f"{a.id}  {a.date or '----------'}  {a.lang or '--'}  {a.title}{flag}")


@cli.command("remove")
@click.argument("article_ids", nargs=-1, required=True)
@index_option
@json_option
@click.pass_context
@friendly_errors
def remove_command(ctx, article_ids, index_dir, as_json):
    """Remove articles from the index by id (see `rag articles`)."""
    report = assistant_for(ctx, index_dir=index_dir).remove(article_ids)
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(f"{report.removed} removed; index: {report.total_articles} articles.")


from . import cli_eval, cli_models, cli_sources, cli_store  # noqa: E402,F401 - they add their commands to `cli`
from . import cli_chats  # noqa: E402,F401 - `rag chats`


def main() -> None:
    cli(prog_name="rag")


if __name__ == "__main__":
    sys.exit(main())
