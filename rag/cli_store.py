"""`rag migrate`: copy an index into another store (a PostgreSQL database, or back)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from .cli import cli, echo_json, friendly_errors, json_option, settings_from


@cli.command("migrate")
@click.option("--to", "target", required=True, metavar="URL|FOLDER",
              help="Where to copy: postgresql://user[:password]@host[:port]/db, or a folder.")
@click.option("--from", "source", metavar="FOLDER|URL",
              help="What to copy [default: the index folder, --index or RAG_INDEX_DIR].")
@click.option("--index", "index_dir", type=click.Path(path_type=Path),
              help="The index folder to copy (same as --from FOLDER).")
@click.option("--fresh", is_flag=True,
              help="Replace whatever the target holds (even one built with another embedder).")
@json_option
@click.pass_context
@friendly_errors
def migrate_command(ctx, target, source, index_dir, fresh, as_json):
    """Copy every article, with its passages and vectors, into another store, without
    re-embedding: e.g. the local index into PostgreSQL for a team. Then point the
    assistant at it with RAG_STORE=URL.

    The copy is one write: an interrupted copy leaves the target as it was. Articles
    already in the target are replaced by id; others stay (unless --fresh).
    """
    from .assistant import Assistant
    from .migrate import migrate
    from .store import open_store
    settings = settings_from(ctx)
    source = source or str(index_dir or settings.index_dir)
    reader = Assistant(settings.replace(store=source)).store  # any dimension: read only
    writer = open_store(target, reader.manifest(), fresh=fresh)
    try:
        report = migrate(reader, writer, progress=not as_json)
    finally:
        reader.close()
        writer.close()
    if as_json:
        echo_json(dataclasses.asdict(report))
    else:
        click.echo(f"copied {report.articles} articles ({report.chunks} passages, "
                   f"{report.sentences} sentence vectors) from {report.source} to "
                   f"{report.target} in {report.seconds:.1f} s")
