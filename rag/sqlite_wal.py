"""SQLite in write-ahead-log mode, switched safely when many connections open at once.

Readers never wait for a writer in WAL mode. Switching a database file to it takes a lock
that SQLite's busy timeout does not wait for, so several threads or processes opening a new
file at once could fail with "database is locked". Once one switch succeeds the mode
persists in the file, and the others only need to see it.
"""

from __future__ import annotations

import sqlite3
import time

SWITCH_TRIES = 100
SWITCH_WAIT_S = 0.05


def use_wal(connection: sqlite3.Connection) -> None:
    """Put ``connection``'s database in WAL mode, waiting while another connection switches
    it; raises the last error if it stays locked for `SWITCH_TRIES` waits."""
    for attempt in range(SWITCH_TRIES):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == SWITCH_TRIES - 1:
                raise
            time.sleep(SWITCH_WAIT_S)
