"""`rag add`, `rag feeds` and `rag sync`: web pages, PDFs and feeds, over `Assistant.sources`.

    rag add https://example.org/news/story.html https://example.org/report.pdf
    rag feeds add https://example.org/rss.xml --remove-gone
    rag feeds list           rag feeds remove URL           rag sync
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import click

from .cli import (EXIT_SKIPPED, assistant_for, cli, echo_json, friendly_errors, index_option,
                  json_option, report_json, report_line)


@cli.command("add")
@click.argument("urls", nargs=-1, required=True)
@index_option
@json_option
@click.pass_context
@friendly_errors
def add_command(ctx, urls, index_dir, as_json):
    """Fetch the web pages or PDFs at URLS and index them.

    A page added before is fetched again only if it changed (its article is replaced).
    URLs that cannot be fetched or hold no article are skipped with the reason; the exit
    code is 3 when any were skipped.
    """
    report = assistant_for(ctx, index_dir=index_dir).sources.add_urls(
        urls, progress=not as_json)
    if as_json:
        echo_json(report_json(report))
    else:
        for s in report.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
        click.echo(report_line(report))
    if report.skipped:
        ctx.exit(EXIT_SKIPPED)


@cli.group("feeds", invoke_without_command=True)
@index_option
@json_option
@click.pass_context
def feeds_group(ctx, index_dir, as_json):
    """The RSS and Atom feeds kept in sync (`rag sync`): list (the default), add, remove."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(feeds_list, index_dir=index_dir, as_json=as_json)


@feeds_group.command("list")
@index_option
@json_option
@click.pass_context
@friendly_errors
def feeds_list(ctx, index_dir=None, as_json=False):
    """Each feed: its policy for gone items, its articles in the library, last sync and
    last error."""
    feeds = assistant_for(ctx, index_dir=index_dir).sources.feeds()
    if as_json:
        echo_json([dataclasses.asdict(f) for f in feeds])
        return
    if not feeds:
        click.echo("No feeds yet: add one with `rag feeds add URL`.")
    for f in feeds:
        synced = _when(f.last_sync) if f.last_sync else "never synced"
        error = f"  error: {f.last_error}" if f.last_error else ""
        click.echo(f"{f.url}  [{f.policy} gone items]  {f.title or '(untitled)'}  "
                   f"{f.articles} articles  {synced}{error}")


@feeds_group.command("add")
@click.argument("url")
@click.option("--remove-gone/--keep-gone", default=False,
              help="Remove the articles of items that leave the feed [default: keep them].")
@click.option("--no-sync", is_flag=True, help="Only follow the feed; index it at the next sync.")
@index_option
@json_option
@click.pass_context
@friendly_errors
def feeds_add(ctx, url, remove_gone, no_sync, index_dir, as_json):
    """Follow the feed at URL (or the feed a web page there announces) and sync it.

    Adding a feed already followed changes its policy for gone items.
    """
    sources = assistant_for(ctx, index_dir=index_dir).sources
    feed = sources.add_feed(url, policy="remove" if remove_gone else "keep")
    reports = () if no_sync else sources.sync([feed.url], progress=not as_json).feeds
    if as_json:
        echo_json({"feed": dataclasses.asdict(feed), "sync": [_sync_json(r) for r in reports]})
        return
    click.echo(f"following {feed.url} ({feed.title or 'untitled'}; {feed.policy} gone items)")
    _echo_syncs(reports)


@feeds_group.command("remove")
@click.argument("url")
@click.option("--keep-articles", is_flag=True, help="Keep the articles it brought in.")
@index_option
@json_option
@click.pass_context
@friendly_errors
def feeds_remove(ctx, url, keep_articles, index_dir, as_json):
    """Stop following the feed at URL and remove its articles (those no other feed or
    added page also brought in)."""
    report = assistant_for(ctx, index_dir=index_dir).sources.remove_feed(
        url, keep_articles=keep_articles)
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(f"stopped following {url}; {report.removed} articles removed; "
                   f"index: {report.total_articles} articles.")


@cli.command("sync")
@click.argument("urls", nargs=-1)
@index_option
@json_option
@click.pass_context
@friendly_errors
def sync_command(ctx, urls, index_dir, as_json):
    """Sync the feeds (all, or those at URLS): index new and changed items; remove gone
    ones from feeds with the remove policy. Without URLS, first fetch again the pages added
    by URL whose articles the index lost (`rag index --rebuild`). A feed or page that fails
    changes nothing; the exit code is 3 when any failed."""
    report = assistant_for(ctx, index_dir=index_dir).sources.sync(urls, progress=not as_json)
    if as_json:
        echo_json({"pages": {"restored": report.pages.restored,
                             "skipped": _skipped_json(report.pages.skipped)},
                   "feeds": [_sync_json(r) for r in report.feeds]})
    else:
        _echo_pages(report.pages)
        if not report.feeds:
            click.echo("No feeds to sync: add one with `rag feeds add URL`.")
        _echo_syncs(report.feeds)
    if report.failed:
        ctx.exit(EXIT_SKIPPED)


def _echo_pages(pages) -> None:
    for s in pages.skipped:
        click.echo(f"skipped {s.path}: {s.reason}", err=True)
    if pages.restored or pages.skipped:
        click.echo(f"pages added by URL and missing from the index: {pages.restored} "
                   f"brought back, {len(pages.skipped)} skipped")


def _echo_syncs(reports) -> None:
    for r in reports:
        for s in r.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
        if r.error:
            click.echo(f"{r.feed}: not synced: {r.error}", err=True)
            continue
        state = "unchanged (304)" if r.not_modified else (
            f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} "
            f"unchanged, {r.kept} gone but kept, {len(r.skipped)} skipped")
        warning = f" (warning: {r.warning}; nothing removed)" if r.warning else ""
        click.echo(f"{r.feed}: {state}{warning}")


def _sync_json(report) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["skipped"] = _skipped_json(report.skipped)
    return data


def _skipped_json(skipped) -> list[dict[str, str]]:
    return [{"url": s.path, "reason": s.reason} for s in skipped]


def _when(timestamp: float) -> str:
    return "synced " + dt.datetime.fromtimestamp(timestamp).isoformat(" ", "seconds")
