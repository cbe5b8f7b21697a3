"""Switching a new SQLite file to WAL from many connections at once."""

import sqlite3
import threading

from rag.sqlite_wal import use_wal


def test_many_connections_switching_a_new_file_at_once_all_succeed(tmp_path):
    """The switch takes a lock the busy timeout does not wait for: without waiting on it,
    about one such race in ten failed with "database is locked"; here, twenty races."""
    for n in range(20):
        _race(tmp_path / f"new{n}.sqlite")


def _race(path):
    errors, start = [], threading.Barrier(16)

    def open_and_switch():
        connection = sqlite3.connect(path, timeout=30)
        try:
            start.wait()
            use_wal(connection)
            connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
        except sqlite3.Error as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_and_switch) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
