"""`rag chats`: the saved conversations — list, show, export to Markdown, delete.

Chats are saved by the chat page and by the HTTP API (``conversation_id``), beside the
index (`rag.chats`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import click

from .cli import assistant_for, cli, echo_json, friendly_errors, index_option, json_option


@cli.group("chats", invoke_without_command=True)
@click.pass_context
def chats_group(ctx):
    """List, show, export (Markdown) and delete the saved conversations."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(chats_list)


@chats_group.command("list")
@index_option
@json_option
@click.pass_context
@friendly_errors
def chats_list(ctx, index_dir=None, as_json=False):
    """The saved chats, the most recently answered first."""
    chats = assistant_for(ctx, index_dir=index_dir).chats.list()
    if as_json:
        echo_json([dataclasses.asdict(c) for c in chats])
        return
    for c in chats:
        when = dt.datetime.fromtimestamp(c.updated).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{c.id}  {when}  {c.turns:>3} turn{'' if c.turns == 1 else 's'}  {c.title}")
    if not chats:
        click.echo("No saved chats.")


@chats_group.command("show")
@click.argument("chat_id")
@index_option
@json_option
@click.pass_context
@friendly_errors
def chats_show(ctx, chat_id, index_dir, as_json):
    """Each question of chat CHAT_ID and its answer, with the sources and quotes."""
    from .show import show_answer
    chat = assistant_for(ctx, index_dir=index_dir).conversation(chat_id)
    if as_json:
        echo_json({"id": chat.id, "title": chat.title,
                   "turns": [{"question": t.question, "answer": t.answer.to_json()}
                             for t in chat.turns]})
        return
    click.secho(chat.title, bold=True)
    for turn in chat.turns:
        click.secho(f"\n> {turn.question}", fg="cyan")
        show_answer(turn.answer)


@chats_group.command("export")
@click.argument("chat_id")
@click.option("--turn", type=click.IntRange(1), help="Only this answer (1 = the first).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown to this file [default: print it].")
@index_option
@json_option
@click.pass_context
@friendly_errors
def chats_export(ctx, chat_id, turn, output, index_dir, as_json):
    """Chat CHAT_ID (or one answer) as Markdown, with numbered sources and quotes."""
    from .export import chat_markdown, turn_markdown
    chat = assistant_for(ctx, index_dir=index_dir).conversation(chat_id)
    if turn is not None and turn > len(chat.turns):
        raise click.BadParameter(f"the chat has {len(chat.turns)} turns", param_hint="--turn")
    markdown = chat_markdown(chat) if turn is None else turn_markdown(chat.turns[turn - 1])
    if output:
        output.write_text(markdown, encoding="utf-8")
    if as_json:
        echo_json({"id": chat.id, "turn": turn, "path": str(output) if output else None,
                   "markdown": markdown})
    elif output:
        click.echo(f"wrote {output}")
    else:
        click.echo(markdown, nl=False)


@chats_group.command("delete")
@click.argument("chat_ids", nargs=-1, required=True)
@index_option
@json_option
@click.pass_context
@friendly_errors
def chats_delete(ctx, chat_ids, index_dir, as_json):
    """Delete the chats CHAT_IDS (see `rag chats list`)."""
    chats = assistant_for(ctx, index_dir=index_dir).chats
    for chat_id in chat_ids:  # all or none: an unknown id deletes nothing
        chats.summary(chat_id)
    for chat_id in chat_ids:
        chats.delete(chat_id)
    if as_json:
        echo_json({"deleted": list(chat_ids)})
    else:
        click.echo(f"{len(chat_ids)} deleted.")
