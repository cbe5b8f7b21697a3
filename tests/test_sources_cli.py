"""`rag add`, `rag feeds`, `rag sync` (fake models, local server) and the periodic sync
that `rag serve` starts when `sync_minutes` is set."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from click.testing import CliRunner

from rag.cli import cli
from rag.corpus import Skipped
from rag.settings import Settings
from rag.sources.schedule import PeriodicSync
from rag.sources.sync import FeedSync, PagesSync, SyncReport
from tests.fakes import FakeEmbedder, FakeGenerator
from tests.helpers.news_site import STORIES, page, rss
from tests.helpers.web_server import LocalWeb, Route, local_web

PORT, WINE, CHESS = STORIES
COMMANDS = [["add"], ["feeds"], ["feeds", "list"], ["feeds", "add"], ["feeds", "remove"],
            ["sync"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.fixture
def web(monkeypatch):
    for server in local_web(monkeypatch):
        for story in STORIES:
            server.routes[f"/news/{story.slug}"] = Route(page(story))
        yield server


@pytest.fixture
def rag(monkeypatch, tmp_path):
    embedder, generator = FakeEmbedder(), FakeGenerator()
    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: embedder)
    monkeypatch.setattr("rag.parts.build_generator", lambda settings: generator)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, [*args, "--index", str(tmp_path / "index")])
        assert result.exit_code == code, result.output
        return result.stdout if "--json" in args else result.output  # JSON: stdout alone
    return run


def serve_feed(web: LocalWeb, stories) -> None:
    web.routes["/feed.xml"] = Route(rss([(s, web.url(f"/news/{s.slug}")) for s in stories]),
                                    content_type="application/rss+xml")


def test_add_urls(web, rag):
    out = rag("add", web.url("/news/port"), web.url("/missing"), "--json", code=3)
    report = json.loads(out)
    assert report["added"] == 1
    assert report["skipped"] == [{"path": web.url("/missing"), "reason": "HTTP 404 Not Found"}]
    [article] = json.loads(rag("articles", "--json"))
    assert (article["title"], article["url"]) == (PORT.title, web.url("/news/port"))


def test_add_bad_url_is_one_clear_line(rag):
    out = rag("add", "ftp://example.org/x", code=3)
    assert "skipped ftp://example.org/x: only http:// and https:// URLs can be fetched" in out


def test_feeds_add_list_sync_remove(web, rag):
    serve_feed(web, [PORT, WINE])
    out = rag("feeds", "add", web.url("/feed.xml"), "--remove-gone")
    assert "following" in out and "2 added" in out
    [feed] = json.loads(rag("feeds", "list", "--json"))
    assert (feed["url"], feed["title"], feed["policy"], feed["articles"]) == (
        web.url("/feed.xml"), "Daily Ledger", "remove", 2)
    assert "Daily Ledger  2 articles  synced" in rag("feeds", "list")
    serve_feed(web, [WINE, CHESS])
    synced = json.loads(rag("sync", "--json"))
    assert synced["pages"] == {"restored": 0, "skipped": []}
    [report] = synced["feeds"]
    assert (report["added"], report["removed"], report["unchanged"]) == (1, 1, 1)
    assert {a["title"] for a in json.loads(rag("articles", "--json"))} == {WINE.title,
                                                                           CHESS.title}
    removed = json.loads(rag("feeds", "remove", web.url("/feed.xml"), "--json"))
    assert removed["removed"] == 2 and removed["total_articles"] == 0
    assert "No feeds yet" in rag("feeds")


def test_removed_articles_stay_removed_and_a_rebuild_is_undone_by_sync(web, rag, tmp_path):
    serve_feed(web, [PORT, WINE])
    rag("add", web.url("/news/chess"))
    rag("feeds", "add", web.url("/feed.xml"))
    ids = {a["title"]: a["id"] for a in json.loads(rag("articles", "--json"))}
    rag("remove", ids[PORT.title], ids[CHESS.title])
    assert "0 added, 0 updated, 0 removed, 1 unchanged" in rag("sync")
    assert [f["articles"] for f in json.loads(rag("feeds", "list", "--json"))] == [1]
    assert {a["title"] for a in json.loads(rag("articles", "--json"))} == {WINE.title}
    rag("add", web.url("/news/chess"))            # added again by hand: it is back
    (tmp_path / "files").mkdir()
    rag("index", str(tmp_path / "files"), "--rebuild")
    assert json.loads(rag("articles", "--json")) == []
    out = rag("sync")
    assert "pages added by URL and missing from the index: 1 brought back, 0 skipped" in out
    assert "1 added, 0 updated, 0 removed, 0 unchanged" in out
    assert {a["title"] for a in json.loads(rag("articles", "--json"))} == {WINE.title,
                                                                           CHESS.title}


def test_sync_with_a_failing_feed_exits_3(web, rag):
    serve_feed(web, [PORT])
    rag("feeds", "add", web.url("/feed.xml"), "--no-sync")
    web.routes["/feed.xml"] = Route(b"down", status=503)
    out = rag("sync", code=3)
    assert f"{web.url('/feed.xml')}: not synced: HTTP 503 Service Unavailable" in out


def test_feeds_add_refuses_a_page_without_feed(web, rag):
    out = rag("feeds", "add", web.url("/news/port"), code=2)
    assert "announces no RSS or Atom feed" in out


def test_sync_settings_are_checked():
    assert Settings.load(environ={"RAG_SYNC_MINUTES": "15"}).sync_minutes == 15
    assert Settings.load(environ={}).sync_minutes == 0  # off by default


def test_periodic_sync_runs_at_once_then_again_until_stopped(caplog):
    caplog.set_level(logging.INFO, logger="rag.sources.schedule")
    calls, twice = [], threading.Event()

    def sync():
        calls.append(1)
        if len(calls) == 2:
            twice.set()
        if len(calls) == 1:
            raise OSError("a failure is logged and tried again")
        return SyncReport(PagesSync(1, (Skipped("http://h/p", "HTTP 404 Not Found"),)),
                          (FeedSync("http://h/f", error="timed out"), FeedSync("http://h/g")))
    job = PeriodicSync(sync, minutes=0.001).start()
    assert twice.wait(30)
    job.stop(timeout=30)
    count = len(calls)
    assert count >= 2 and not job._thread.is_alive()
    for said in ("feed sync failed: a failure is logged and tried again",
                 "pages added by URL brought back: 1",
                 "page not brought back: http://h/p: HTTP 404 Not Found",
                 "feed http://h/f not synced: timed out", "feed http://h/g: 0 added"):
        assert said in caplog.text


def test_periodic_sync_needs_an_interval():
    with pytest.raises(ValueError, match="must be above 0"):
        PeriodicSync(SyncReport, minutes=0)
