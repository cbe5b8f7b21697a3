"""Crash safety of the on-disk index: SIGKILL during writes, corruption, leftovers.

The kill test runs a real indexer process (tests/helpers/indexer.py, fake embedder)
that forks one child per write; each child is killed with SIGKILL at a seeded random
delay after it starts writing (every write step is slowed down in the helper so
kills land inside it). After each kill the index on disk must load, hold exactly
the old or exactly the new article set, and answer. Summary printed with ``-s``.
"""
from __future__ import annotations

import collections
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.assistant import Assistant
from rag.corpus import load_articles
from rag.settings import Settings
from rag.local_store import LocalStore, current_generation
from rag.store import StoreError
from tests.helpers.stores import manifest
from tests.fakes import FakeEmbedder, FakeGenerator

REPO = Path(__file__).resolve().parent.parent
HELPER = REPO / "tests" / "helpers" / "indexer.py"
KILLS = 32
STEP_SLEEP = 0.012  # seconds before and after each of the 7 write steps (in the helper)
SEED = 20240617
TOWNS = ["Valdoria", "Mirtana", "Orvieto", "Castelbruno", "Sanvito", "Roccalta", "Pienzola",
         "Lunaria", "Zelindo", "Brumara", "Quarzana", "Fiorenzo", "Montegallo", "Serravalle"]


def article_text(i: int) -> str:
    town = f"{TOWNS[i % len(TOWNS)]}{i}"
    return (f"---\ntitle: {town} opens bridge number {i}\nlang: en\ndate: 2024-01-{i % 28 + 1:02d}\n"
            f"---\nThe town of {town} opened bridge number {i}, costing {1000 + i} euros. "
            f"The mayor of {town} said the bridge took {i % 9 + 2} years to plan.\n")


def write_variant(folder: Path, numbers: range) -> set[str]:
    """Make ``folder`` hold exactly the articles ``numbers``; their ids."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i in numbers:
        (folder / f"article-{i:03d}.txt").write_text(article_text(i), encoding="utf-8")
    return {a.id for a in load_articles([folder]).articles}


def on_disk(index_dir: Path) -> set[str]:
    return {a.id for a in LocalStore.open(index_dir, manifest(0)).articles()}


def make_assistant(tmp: Path, index_dir: Path | None = None, **overrides) -> Assistant:
    settings = Settings.load({"index_dir": index_dir or tmp / "index",
                              "corpus_dir": tmp / "corpus", **overrides}, environ={})
    return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())


def helper_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **extra}


# --------------------------------------------------------------------------- SIGKILL

def test_sigkill_during_writes_leaves_old_or_new_index(tmp_path):
    index_dir, folder = tmp_path / "index", tmp_path / "corpus"
    variants = [range(0, 48), range(24, 72)]  # 24 articles change between them
    ids = [write_variant(folder, v) for v in variants]
    assert len(ids[0]) == len(ids[1]) == 48 and ids[0] != ids[1]
    write_variant(folder, variants[0])
    make_assistant(tmp_path, index_dir).index_files([folder])
    assert on_disk(index_dir) == ids[0]

    zygote = subprocess.Popen(
        [sys.executable, str(HELPER), "zygote", str(index_dir)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env=helper_env(RAG_TEST_STEP_SLEEP=str(STEP_SLEEP)))

    def write(target: int, delay: float) -> dict:
        write_variant(folder, variants[target])
        zygote.stdin.write(f"{folder} {delay}\n")
        zygote.stdin.flush()
        line = zygote.stdout.readline()
        assert line, "the indexer helper died"
        return json.loads(line)

    reader = make_assistant(tmp_path, index_dir)
    outcomes: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    try:
        # calibrate: one uninterrupted write to the other variant and back
        calibration = write(1, -1.0)
        assert (calibration["killed"], calibration["code"], calibration["step"]) == \
            (False, 0, "saved")
        window = calibration["seconds_after_saving"]
        assert on_disk(index_dir) == ids[1]
        assert write(0, -1.0)["code"] == 0
        rng = random.Random(SEED)
        delays = sorted(rng.uniform(0, window * 1.1) for _ in range(KILLS))
        for n, delay in enumerate(delays):
            old = on_disk(index_dir)
            target = 1 if old == ids[0] else 0
            result = write(target, delay)
            assert result["code"] in (0, -1), result
            now = {a.id for a in reader.articles()}   # loads (checksums verified)...
            assert now in (old, ids[target]), f"kill {n} at {delay:.3f}s: mixed index"
            kind = "old" if now == old else "new"
            outcomes[f"{'killed' if result['killed'] else 'finished'}, {kind} index"] += 1
            steps[result["step"]] += 1
            some = next(iter(now))             # ...and answers from its own articles
            title = reader.store.article(some).title
            answer = reader.ask(f"How much did {title.split()[0]} pay for bridge number "
                                f"{title.split()[-1]}?").answer()
            assert not answer.abstained and answer.citations
            assert {c.chunk.article_id for c in answer.citations} <= now
            leftovers = [p.name for p in index_dir.iterdir()
                         if p.name.startswith(".tmp-gen-") or
                         (p.name.startswith("gen-") and p != current_generation(index_dir))]
            if leftovers:
                outcomes["left stale or partial generation folders"] += 1
        # a complete write after all that leaves exactly one generation and no leftovers
        target = 1 if on_disk(index_dir) == ids[0] else 0
        assert write(target, -1.0)["code"] == 0
        assert on_disk(index_dir) == ids[target]
        names = sorted(p.name for p in index_dir.iterdir())
        assert [n for n in names if "gen-" in n] == [current_generation(index_dir).name], names
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
    print(f"\n{KILLS} kills over a {window:.2f}s write window: {dict(outcomes)}")
    print(f"killed at step: {dict(sorted(steps.items()))}")
    killed = sum(v for k, v in outcomes.items() if k.startswith("killed"))
    assert killed >= KILLS * 0.7  # most kills landed inside the write
    assert outcomes["killed, old index"] and outcomes["killed, new index"]


def test_two_processes_indexing_one_index_both_land(tmp_path):
    index_dir = tmp_path / "index"
    a, b = tmp_path / "a", tmp_path / "b"
    ids_a, ids_b = write_variant(a, range(0, 30)), write_variant(b, range(100, 130))
    env = helper_env(RAG_TEST_STEP_SLEEP="0.06")  # each write takes ~1 s
    procs = [subprocess.Popen([sys.executable, str(HELPER), "once", str(index_dir), str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for f in (a, b)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    assert all(r["added"] == 30 for r in reports)
    # they really ran at the same time: each started before the other had finished
    assert max(r["started"] for r in reports) < min(r["finished"] for r in reports)
    # write_lock serialized them: the second writer started from the first one's index
    assert sorted(r["total_articles"] for r in reports) == [30, 60]
    assert on_disk(index_dir) == ids_a | ids_b
    assert make_assistant(tmp_path, index_dir).search("Valdoria0 bridge", k=1)


# --------------------------------------------------------------------------- corruption

@pytest.fixture
def built(tmp_path) -> Assistant:
    folder = tmp_path / "corpus"
    write_variant(folder, range(6))
    assistant = make_assistant(tmp_path)
    assistant.index_files([folder])
    return assistant


def fresh(assistant: Assistant) -> Assistant:
    return Assistant(assistant.settings, embedder=FakeEmbedder(), generator=FakeGenerator())


def test_truncated_dense_index_is_refused_with_the_fix(built):
    gen = current_generation(built.settings.index_dir)
    dense = gen / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 2])
    with pytest.raises(StoreError) as error:
        fresh(built).search("bridge")
    message = str(error.value)
    assert "dense.faiss" in message and "corrupt" in message
    assert "rag index --rebuild" in message


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"null", b"[]", b'{"files": 5}',
                                     b"\x00\xff" * 10, b'{"embedder": "fake-embedder"}'])
def test_garbage_manifest_is_refused_with_the_fix(built, garbage):
    manifest = current_generation(built.settings.index_dir) / "manifest.json"
    manifest.write_bytes(garbage)
    with pytest.raises(StoreError) as error:
        fresh(built).search("bridge")
    assert "manifest.json" in str(error.value) and "rag index --rebuild" in str(error.value)


def test_corrupt_index_through_the_cli_is_one_clear_line(built, monkeypatch):
    from rag.cli import cli

    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr("rag.parts.build_generator", lambda settings: FakeGenerator())
    chunks = current_generation(built.settings.index_dir) / "chunks.jsonl"
    data = bytearray(chunks.read_bytes())
    data[len(data) // 2] ^= 0x20  # one flipped bit, same size
    chunks.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["search", "bridge", "--index",
                                      str(built.settings.index_dir)])
    assert result.exit_code == 2, result.output
    assert "chunks.jsonl" in result.output and "rag index --rebuild" in result.output
    assert "Traceback" not in result.output


def test_leftovers_of_a_killed_writer_do_not_break_loads_or_writes(built, tmp_path):
    index_dir = built.settings.index_dir
    before = {a.id for a in built.articles()}
    # what a writer killed at different points leaves behind
    staging = index_dir / ".tmp-gen-20240101000000-1-1"
    staging.mkdir()
    (staging / "articles.jsonl").write_text('{"id": "half', encoding="utf-8")
    orphan = index_dir / "gen-20240101000000-2-2"  # renamed, but CURRENT never switched
    shutil.copytree(current_generation(index_dir), orphan)
    (orphan / "chunks.jsonl").write_text("", encoding="utf-8")
    (index_dir / "CURRENT.tmp").write_text("gen-does-not-exist")
    assert {a.id for a in fresh(built).articles()} == before
    assert fresh(built).search("Valdoria0 bridge", k=1)
    write_variant(tmp_path / "corpus", range(3, 9))
    report = fresh(built).index_files([tmp_path / "corpus"])
    assert (report.added, report.removed) == (3, 3)
    names = {p.name for p in index_dir.iterdir()}
    assert not staging.exists() and not orphan.exists()
    assert {n for n in names if "gen-" in n} == {current_generation(index_dir).name}
    assert len(on_disk(index_dir)) == 6


def test_concurrent_reader_never_sees_a_half_swapped_index(built, tmp_path):
    """A reader in another process (say `rag ask` during `rag index`) may open a
    generation that the writer deletes right after swapping CURRENT: it must retry
    on the new one instead of failing with a missing file or a false 'corrupt'."""
    import threading

    index_dir = built.settings.index_dir
    stop, errors, loads = threading.Event(), [], [0]

    def read() -> None:
        while not stop.is_set():
            try:
                LocalStore.open(index_dir, manifest(0)).articles()
                loads[0] += 1
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=read)
    thread.start()
    writer = fresh(built)
    try:
        for i in range(25):
            writer.add_text(f"The town of Extra{i} opened a new pier costing {i} euros.",
                            title=f"Extra{i} pier")
    finally:
        stop.set()
        thread.join()
    assert loads[0] > 0
    assert errors == []
