"""Show: a response on the terminal, as it happens (used by `rag ask` and `rag chat`).

The best evidence is printed as soon as retrieval has it, the model's draft as it is
written, then the checked answer with each sentence's state and the quotes it rests on.
"""

from __future__ import annotations

import click

from .answer import Answer
from .events import Done, Draft, Sources, Stage
from .response import Response

LABELS = {"generated": "Answer", "extracted": "Answer (from the article)",
          "abstained": "No answer"}


def show_response(response: Response) -> Answer:
    """Print ``response`` as it runs; return its answer."""
    drafted = False
    for event in response.events():
        if isinstance(event, Stage):
            click.secho(f"[{event.name}…]", fg="bright_black", err=True)
        elif isinstance(event, Sources) and event.evidence:
            best = event.evidence[0]
            click.secho(f"Best evidence: “{' '.join(best.text.split())}” — {best.chunk.title}",
                        fg="cyan")
        elif isinstance(event, Draft):
            if not drafted:
                click.secho("Draft: ", fg="bright_black", nl=False)
                drafted = True
            click.secho(event.text, fg="bright_black", nl=False)
        elif isinstance(event, Done):
            if drafted:
                click.echo()
            show_answer(event.answer)
    return response.answer()


def show_answer(answer: Answer) -> None:
    if answer.standalone_question and answer.standalone_question != answer.question:
        click.secho(f"(understood as: {answer.standalone_question})", fg="bright_black")
    click.secho(f"\n{LABELS[answer.kind]}: ", bold=True, nl=False)
    click.echo(answer.text)
    for s in answer.sentences:
        if s.state != "verified":
            label = "left out" if s.state == "left_out" else "not verified"
            click.secho(f"  ({label}: {s.reason}) {s.text}", fg="yellow")
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        where = ", ".join(x for x in (c.chunk.date, c.chunk.source, c.url,
                                      f"p. {c.page}" if c.page else "") if x)
        click.echo(f"  [{c.marker}] {c.chunk.title}" + (f" ({where})" if where else ""))
        for q in c.quotes:
            click.echo(f"      “{' '.join(q.text.split())}” (chars {q.start}-{q.end})")
    t = answer.timings
    click.secho(f"\n{t.first_evidence_ms / 1000:.1f} s to evidence, "
                f"{t.first_token_ms / 1000:.1f} s to first word, "
                f"{t.total_ms / 1000:.1f} s in all", fg="bright_black", err=True)
