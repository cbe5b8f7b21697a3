"""PostgreSQL store: crash safety, concurrent writers and readers, passwords, HNSW, analyzer.

Against a real PostgreSQL + pgvector server started on 127.0.0.1 (tests/helpers/postgres.py);
writer processes are tests/helpers/pg_writer.py.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import numpy as np
import psycopg
import pytest

from rag import pg_store
from rag.filters import Filters
from rag.keyword_index import KeywordIndex
from rag.pg_store import PostgresStore
from rag.store import Change, StoreError, open_store
from tests.fakes import FakeEmbedder
from tests.helpers import postgres
from tests.helpers.store_corpus import ARTICLES, entries, manifest
from tests.test_store_contract import database_url

ROOT = Path(__file__).resolve().parent.parent
WRITER = [sys.executable, str(ROOT / "tests" / "helpers" / "pg_writer.py")]
PASSWORD = "pa55-w0rd-never-shown"


@pytest.fixture
def url():
    return database_url()


@pytest.fixture
def store(url):
    store = PostgresStore.open(url, manifest())
    store.apply(Change(added=entries()))
    yield store
    store.close()


def writer(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*WRITER, *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------- crashes

def test_a_writer_killed_mid_transaction_leaves_the_previous_state(store, url):
    before = (store.stats(), store.search_keyword("cranes", 5).ids)
    child = writer(url, "hold")
    assert child.stdout.readline().strip() == "writing"
    # its rows are in the database, uncommitted: invisible to everyone else
    assert count(url, "SELECT count(*) FROM pg_stat_activity WHERE state = "
                      "'idle in transaction' AND application_name = 'rag'") >= 1
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert (store.stats(), store.search_keyword("cranes", 5).ids) == before
    assert store.search_keyword("zeppelins", 5).ids == ()
    assert count(url, "SELECT count(*) FROM rag.chunks WHERE id LIKE 'held-%'") == 0
    assert count(url, "SELECT count(*) FROM rag.postings WHERE token = 'zeppelin'") == 0
    store.apply(Change(removed=frozenset({"a-harbour"})))  # the lock died with the writer
    assert store.stats().articles == len(ARTICLES) - 1


# --------------------------------------------------------------------------- concurrency

def test_two_writer_processes_lose_and_duplicate_nothing(store, url):
    children = [writer(url, "write", name, "6") for name in ("left", "right")]
    for child in children:
        assert child.communicate(timeout=300)[0].strip() == "done" and child.returncode == 0
    ids = {a.id for a in store.articles()}
    assert {f"{side}-{i}" for side in ("left", "right") for i in range(6)} | {"shared"} <= ids
    assert len(ids) == len(ARTICLES) + 13
    assert count(url, "SELECT count(*) FROM rag.chunks WHERE article_id = 'shared'") == 1
    assert count(url, "SELECT count(*) - count(DISTINCT id) FROM rag.chunks") == 0
    stats = store.stats()
    assert stats.chunks == count(url, "SELECT count(*) FROM rag.chunks")
    assert stats.sentences == count(url, "SELECT count(*) FROM rag.sentences")
    chunks = [c for e in store.entries() for c in e.chunks]
    index = KeywordIndex.build([c.text for c in chunks], [c.lang for c in chunks])
    np.testing.assert_allclose(store.keyword_scores("teamwork topic left", [c.id for c in chunks]),
                               index.scores("teamwork topic left"), rtol=1e-4, atol=1e-6)


def test_readers_during_writes_see_each_change_whole(store, url):
    """A reader thread searches while the writer adds and removes a three-article change;
    it sees all three or none, and no errors."""
    from tests.helpers.pg_writer import article
    from tests.helpers.store_corpus import entry
    batch = tuple(entry(article(f"wave-{i}", "tsunami warnings")) for i in range(3))
    seen, errors, stop = set(), [], threading.Event()

    def read():
        reader = PostgresStore.open(url, manifest())
        try:
            while not stop.is_set():
                seen.add(len(reader.search_keyword("tsunami warnings", 10)))
                reader.search_dense(FakeEmbedder().embed(["tsunami"])[0], 5)
                reader.stats()
        except Exception:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())
        finally:
            reader.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(8):
        store.apply(Change(added=batch))
        store.apply(Change(removed=frozenset(e.article.id for e in batch)))
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert seen <= {0, 3}


# --------------------------------------------------------------------------- passwords

@pytest.fixture
def secret_url(url):
    srv = postgres.server()
    srv.sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{postgres.SECRET_ROLE}') THEN CREATE ROLE {postgres.SECRET_ROLE} LOGIN "
            f"SUPERUSER PASSWORD '{PASSWORD}'; END IF; END $$")
    return url.replace("postgres@", f"{postgres.SECRET_ROLE}:{PASSWORD}@")


def test_the_password_is_masked_in_the_location(secret_url, caplog):
    caplog.set_level(logging.DEBUG)
    store = open_store(secret_url + "?application_name=x", manifest())
    store.apply(Change(added=entries()[:1]))
    assert PASSWORD not in store.location
    assert store.location.startswith(f"postgresql://{postgres.SECRET_ROLE}:***@127.0.0.1:")
    store.close()
    assert PASSWORD not in caplog.text
    assert pg_store.masked_url("postgresql://u@h/db?password=x&sslmode=require") == \
        "postgresql://u@h/db?password=***&sslmode=require"


def test_a_wrong_password_is_refused_without_showing_it(secret_url, caplog):
    wrong = secret_url.replace(PASSWORD, "not-" + PASSWORD)
    with pytest.raises(StoreError) as refused:
        PostgresStore.open(wrong, manifest())
    shown = "".join(traceback.format_exception(refused.value))
    assert "password authentication failed" in shown
    assert PASSWORD not in shown and PASSWORD not in caplog.text
    assert "***@127.0.0.1" in str(refused.value)


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(StoreError, match=r"postgresql://u:\*\*\*@127.0.0.1:1/db.*(refused|failed)"):
        PostgresStore.open(f"postgresql://u:{PASSWORD}@127.0.0.1:1/db", manifest())


# --------------------------------------------------------------------------- HNSW, analyzer

def test_the_hnsw_index_finds_what_exact_search_finds(store, url, monkeypatch):
    vector = FakeEmbedder().embed(["the telescope galaxy cranes harbour"])[0]
    exact = store.search_dense(vector, 5)
    filters = Filters(sources=("gusto",))
    exact_filtered = store.search_dense(vector, 3, filters)
    monkeypatch.setattr(pg_store, "EXACT_SEARCH_LIMIT", 0)
    assert count(url, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'rag' "
                      "AND indexname IN ('chunks_vectors', 'sentences_vectors')") == 2
    assert store.search_dense(vector, 5).ids == exact.ids
    assert store.search_dense(vector, 3, filters).ids == exact_filtered.ids  # fewer than k
    assert len(store.search_sentences(vector, 3, Filters(sources=("Port Gazette",)))) == 2


def test_a_new_analyzer_version_reanalyzes_at_open(store, url, caplog):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE rag.meta SET value = '0' WHERE key = 'analyzer'")
        conn.execute("DELETE FROM rag.postings")
    assert store.search_keyword("cranes", 3).ids == ()
    with caplog.at_level(logging.WARNING):
        again = PostgresStore.open(url, manifest())
    assert "re-analyzing" in caplog.text
    assert again.search_keyword("cranes", 3).ids == ("a-harbour:0",)
    again.close()


# --------------------------------------------------------------------------- assistant, CLI

@pytest.fixture
def fake_models(monkeypatch):
    from tests.fakes import FakeGenerator
    embedder = FakeEmbedder()
    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: embedder)
    monkeypatch.setattr("rag.parts.build_generator", lambda settings: FakeGenerator())
    return embedder


def test_the_assistant_indexes_and_answers_from_postgresql(fake_models, url, tmp_path):
    import json

    from click.testing import CliRunner

    from rag.cli import cli
    runner, env = CliRunner(), {"RAG_STORE": url}
    local = tmp_path / "unused"
    result = runner.invoke(cli, ["index", str(ROOT / "corpus"), "--index", str(local),
                                 "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total_articles"] >= 1 and not local.exists()
    result = runner.invoke(cli, ["ask", "Quale fatturato ha registrato Amazon per AWS?",
                                 "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["citations"] and not answer["abstained"]


def test_migrate_copies_a_local_index_without_embedding(fake_models, url, tmp_path):
    import json

    from click.testing import CliRunner

    from rag.cli import cli
    runner, index = CliRunner(), str(tmp_path / "idx")
    assert runner.invoke(cli, ["index", str(ROOT / "corpus"), "--index", index]).exit_code == 0
    embedded = len(fake_models.calls)
    result = runner.invoke(cli, ["migrate", "--index", index, "--to", url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(fake_models.calls) == embedded  # nothing embedded again
    assert report["articles"] >= 1 and report["target"] == url
    searches = [runner.invoke(cli, ["search", "fatturato di AWS", "--json"], env=env)
                for env in ({"RAG_INDEX_DIR": index}, {"RAG_STORE": url})]
    assert all(r.exit_code == 0 for r in searches), [r.output for r in searches]
    passages = [[p["chunk_id"] for p in json.loads(r.output)["passages"]] for r in searches]
    assert passages[0] == passages[1] and passages[0]
    again = runner.invoke(cli, ["migrate", "--index", index, "--to", url])  # idempotent
    assert again.exit_code == 0 and f"copied {report['articles']} articles" in again.output


def test_migrate_refuses_an_empty_source(fake_models, url, tmp_path):
    from click.testing import CliRunner

    from rag.cli import cli
    result = CliRunner().invoke(cli, ["migrate", "--index", str(tmp_path / "none"), "--to", url])
    assert result.exit_code == 2 and "nothing to copy" in result.output


# --------------------------------------------------------------------------- real models

@pytest.fixture(scope="module")
def both_stores(tmp_path_factory):
    """The bundled corpus indexed with the real models, and copied into PostgreSQL."""
    from rag import Assistant
    from rag.migrate import migrate
    from tests.helpers.real_models import bundled_corpus_assistant
    local = bundled_corpus_assistant(tmp_path_factory.mktemp("e2e-pg"))
    url = database_url()
    target = open_store(url, local.store.manifest())
    migrate(local.store, target)
    target.close()
    pg = Assistant(local.settings.replace(store=url), embedder=local.embedder,
                   generator=local.generator)
    return local, pg


@pytest.mark.e2e
@pytest.mark.parametrize("question,phrase", [
    ("Why might the Musk–Bezos rivalry grow?", "archiviazione dati per altre aziende"),
    ("Quanto ha fatturato AWS nell'ultimo trimestre?", "22,1 miliardi"),
    ("What is the capital of Australia?", None),
])
def test_the_real_models_answer_alike_from_both_stores(both_stores, question, phrase):
    """The same passages in every mode; the answer (generated once more, so its wording
    may vary) abstains alike and cites the passage that holds the answer."""
    local, pg = both_stores
    for mode in ("hybrid", "dense", "keyword"):
        assert [h.chunk.id for h in pg.search(question, k=4, mode=mode)] == \
            [h.chunk.id for h in local.search(question, k=4, mode=mode)]
    answer = pg.ask(question).answer()
    assert answer.abstained == (phrase is None), answer.to_json()
    if phrase:
        assert any(phrase in c.chunk.text for c in answer.citations), answer.to_json()["citations"]
