"""Test helper: a writer process for the PostgreSQL store's crash and concurrency tests.

    python tests/helpers/pg_writer.py URL hold
        start one write (a copy of three articles, one per batch), print "writing" once the
        rows of the first two are in the open transaction, then wait to be killed.

    python tests/helpers/pg_writer.py URL write PREFIX N
        N separate writes; write i adds article PREFIX-i and replaces the article
        "shared" (which every writer process writes); print "done".

Run with PYTHONPATH at the repository root (tests.* is imported from there).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from rag import pg_write
from rag.corpus import Article
from rag.pg_store import PostgresStore
from rag.store import Change
from tests.helpers.store_corpus import entry, manifest


def article(article_id: str, words: str) -> Article:
    return Article(id=article_id, title=article_id, lang="en", source="Writers",
                   text=f"Article {article_id} is about {words}. It says more about {words}.")


def hold(store: PostgresStore) -> None:
    def entries():
        for i in range(3):
            if i == 2:
                print("writing", flush=True)
                time.sleep(600)  # the test kills this process here, mid-transaction
            yield entry(article(f"held-{i}", "zeppelins"))

    store.copy_in(entries())


def write(store: PostgresStore, prefix: str, n: int) -> None:
    for i in range(n):
        shared = replace(article("shared", "teamwork"), title=f"{prefix}-{i}")
        store.apply(Change(added=(entry(article(f"{prefix}-{i}", f"topic {prefix}")),
                                  entry(shared))))
    print("done", flush=True)


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    pg_write.BATCH_ARTICLES = 1  # every article is its own COPY batch
    store = PostgresStore.open(url, manifest())
    if mode == "hold":
        hold(store)
    else:
        write(store, sys.argv[3], int(sys.argv[4]))
    store.close()


if __name__ == "__main__":
    main()
