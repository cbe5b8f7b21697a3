"""Test helper: index folders with the fake embedder in a separate process.

    python tests/helpers/indexer.py once INDEX_DIR FOLDER...
        index the folders once; print the report as one JSON line.

    python tests/helpers/indexer.py zygote INDEX_DIR
        import everything once, then for each stdin line ``FOLDER DELAY`` fork a child
        that indexes FOLDER. When the child enters ``save_generation`` the zygote waits DELAY
        seconds and sends it SIGKILL (DELAY < 0: never); it prints one JSON line per
        child: {"killed": bool, "code": exit code, "step": last step the child reached}.
        The zygote kills only its own un-reaped children, so no other process can be hit.

RAG_TEST_STEP_SLEEP (seconds, default 0) sleeps before and after every step of a
write (this process only, by wrapping the store's functions; product code is not
changed), so that kills land while files are being written.

Run with PYTHONPATH at the repository root (tests.fakes is imported from there).
"""

from __future__ import annotations

import functools
import json
import os
import select
import signal
import sys
import time
from pathlib import Path

import rag.local_store as store
from rag.assistant import Assistant
from rag.keyword_index import KeywordIndex
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator

STEP_SLEEP = float(os.environ.get("RAG_TEST_STEP_SLEEP", "0"))
_report_fd: int | None = None  # where a forked child reports the steps it reaches


def _step(name: str) -> None:
    if _report_fd is not None:
        os.write(_report_fd, f"{name}\n".encode())


def _slow(name: str, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _step(f"before {name}")
        time.sleep(STEP_SLEEP)
        result = func(*args, **kwargs)
        _step(f"after {name}")
        time.sleep(STEP_SLEEP)
        return result
    return wrapper


def _instrument() -> None:
    store._write_lines = _slow("write_lines", store._write_lines)
    store.faiss.write_index = _slow("faiss.write_index", store.faiss.write_index)
    KeywordIndex.save = _slow("keyword.save", KeywordIndex.save)
    store._fsync_tree = _slow("fsync_tree", store._fsync_tree)
    store._replace_file = _slow("replace CURRENT", store._replace_file)
    store._remove_old_generations = _slow("remove old generations",
                                          store._remove_old_generations)
    save = store.save_generation

    @functools.wraps(save)
    def announced_save(snapshot, directory):
        _step("saving")
        result = save(snapshot, directory)
        _step("saved")
        return result
    store.save_generation = announced_save


def _assistant(index_dir: str) -> Assistant:
    settings = Settings.load({"index_dir": index_dir, "corpus_dir": str(Path(index_dir).parent)},
                             environ={})
    return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())


def once(index_dir: str, folders: list[str]) -> int:
    started = time.time()
    report = _assistant(index_dir).index_files(folders)
    print(json.dumps({"added": report.added, "removed": report.removed,
                      "total_articles": report.total_articles, "started": started,
                      "finished": time.time()}), flush=True)
    return 0


def zygote(index_dir: str) -> int:
    global _report_fd
    for line in sys.stdin:
        folder, delay = line.split()
        delay = float(delay)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: index, then leave without running any cleanup
            os.close(read_fd)
            _report_fd = write_fd
            code = 0
            try:
                _assistant(index_dir).index_files([folder])
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                os.write(2, f"child failed: {exc!r}\n".encode())
                code = 1
            os._exit(code)
        os.close(write_fd)
        raw, saving_at = _run_child(pid, read_fd, delay)
        _, status = os.waitpid(pid, 0)
        elapsed = time.monotonic() - saving_at
        raw += _drain(read_fd)
        os.close(read_fd)
        steps = [x for x in raw.decode().split("\n") if x]
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        print(json.dumps({"killed": killed, "code": code, "step": steps[-1] if steps else "",
                          "seconds_after_saving": round(elapsed, 4)}), flush=True)
    return 0


def _run_child(pid: int, fd: int, delay: float) -> tuple[bytes, float]:
    """Wait for the child to start saving, then kill it ``delay`` seconds later."""
    raw = b""
    deadline = time.monotonic() + 60
    while b"saving\n" not in raw and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            data = os.read(fd, 4096)
            if not data:  # the child ended without saving
                return raw, time.monotonic()
            raw += data
    saving_at = time.monotonic()
    if delay >= 0:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)  # our own child, not yet reaped: its pid is still ours
    return raw, saving_at


def _drain(fd: int) -> bytes:
    chunks = []
    while data := os.read(fd, 4096):
        chunks.append(data)
    return b"".join(chunks)


def main(argv: list[str]) -> int:
    _instrument()
    mode, index_dir, *rest = argv
    return once(index_dir, rest) if mode == "once" else zygote(index_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
