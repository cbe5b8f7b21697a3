"""Shared helpers for the benchmarks: machine facts, memory bandwidth, timers, the report.

Every benchmark prints its figures as a Markdown table (and writes them as JSON under
``benchmarks/results/``), with the machine, its load before and after the run, and the
command line, so a table can be pasted into BENCHMARKS.md as it is.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
EVALDATA = Path(os.environ.get("RAG_EVALDATA", REPO.parent / "shared" / "evaldata"))
RAG_HOME = Path(os.environ.get("RAG_HOME", Path.home() / ".cache" / "rag"))
MODELS = RAG_HOME / "models"
EMBEDDER_DIR = MODELS / "embeddinggemma-300m"
LLM_FILE = MODELS / "qwen2.5-coder-1.5b" / "model.gguf"
SHARED_EVAL = RAG_HOME / "eval"          # other people's eval indexes: opened read-only
SQUAD_FILE = EVALDATA / "squad_it" / "SQuAD_it-test.json"
SQUAD_DEV = "0:24"                        # the dev split (never tune on 24:48)
RTQA_DIR = EVALDATA / "realtimeqa"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --------------------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return {"cpu": model or platform.processor(), "cores": cores, "ram_gb": round(mem_gb, 1),
            "python": platform.python_version(), "load": load()}


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
    except OSError:
        return "?"


def memory_bandwidth(threads: int = 2, megabytes: int = 512, repeats: int = 5) -> dict[str, float]:
    """Read (sum) and copy bandwidth in GB/s with ``threads`` threads, best of ``repeats``.

    numpy releases the GIL in large reductions and copies, so each thread streams its
    own slice of an array much larger than the caches. Read bandwidth is what bounds
    token generation (every weight is read once per token); copy counts read + write.
    """
    n = megabytes * 2**20 // 8
    src = np.ones(n, dtype=np.float64)
    dst = np.empty_like(src)
    parts = np.array_split(np.arange(n), threads)
    bounds = [(int(p[0]), int(p[-1]) + 1) for p in parts]

    def run(work: Callable[[int, int], None]) -> float:
        best = float("inf")
        for _ in range(repeats):
            pool = [threading.Thread(target=work, args=b) for b in bounds]
            started = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            best = min(best, time.perf_counter() - started)
        return best

    read_s = run(lambda a, b: float(np.add.reduce(src[a:b])))
    copy_s = run(lambda a, b: np.copyto(dst[a:b], src[a:b]))
    nbytes = src.nbytes
    return {"read_gb_s": nbytes / read_s / 1e9, "copy_gb_s": 2 * nbytes / copy_s / 1e9,
            "threads": threads, "array_mb": megabytes}


# --------------------------------------------------------------------------- memory

def rss_mb() -> dict[str, float]:
    """Current and peak resident set size of this process (VmRSS, VmHWM), in MB."""
    out = {"rss_mb": 0.0, "peak_mb": 0.0}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                out["peak_mb"] = int(line.split()[1]) / 1024
    except OSError:
        import resource
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# --------------------------------------------------------------------------- stats

def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def summary(values: Sequence[float]) -> dict[str, float]:
    values = list(values)
    return {"n": len(values), "mean": statistics.fmean(values) if values else float("nan"),
            "p50": pct(values, 50), "p95": pct(values, 95)}


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        """Seconds since start."""
        return time.perf_counter() - self.start


def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return "–"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


# --------------------------------------------------------------------------- report

@dataclass
class Row:
    section: str
    metric: str
    ours: Any
    reference: Any = ""
    ratio: Any = ""
    goal: str = ""
    met: Any = ""
    note: str = ""


@dataclass
class Report:
    name: str
    argv: list[str] = field(default_factory=lambda: list(sys.argv))
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.machine = machine()
        self.started = time.time()
        self.load_before = load()

    def add(self, section: str, metric: str, ours: Any, reference: Any = "", ratio: Any = "",
            goal: str = "", met: Any = "", note: str = "") -> None:
        row = Row(section, metric, ours, reference, ratio, goal, met, note)
        self.rows.append(row)
        print(f"  [{section}] {metric}: {fmt(ours)}"
              + (f"  ref {fmt(reference)}" if reference != "" else "")
              + (f"  ratio {fmt(ratio)}" if ratio != "" else "")
              + (f"  goal {goal} -> {fmt(met)}" if goal else "")
              + (f"  ({note})" if note else ""), flush=True)

    def markdown(self) -> str:
        m = self.machine
        lines = [f"### {self.name}",
                 "",
                 f"- machine: {m['cpu']}, {m['cores']} usable cores, {m['ram_gb']} GB RAM, "
                 f"Python {m['python']}",
                 f"- load average (1/5/15 min) before: {self.load_before}; after: {load()}",
                 f"- wall time: {time.time() - self.started:.0f} s",
                 f"- command: `{' '.join(self.argv)}`",
                 "",
                 "| section | metric | ours | reference | ratio | goal | met | note |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append("| " + " | ".join(fmt(x) for x in (
                r.section, r.metric, r.ours, r.reference, r.ratio, r.goal, r.met, r.note)) + " |")
        return "\n".join(lines)

    def checkpoint(self) -> None:
        """Save what is measured so far (a killed run keeps its finished sections)."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.started))
        (RESULTS / f"{self.name}-{stamp}.partial.md").write_text(self.markdown() + "\n")

    def finish(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        partial = RESULTS / (f"{self.name}-"
                             f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(self.started))}"
                             ".partial.md")
        partial.unlink(missing_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"{self.name}-{stamp}.json"
        data = {"name": self.name, "argv": self.argv, "machine": self.machine,
                "load_before": self.load_before, "load_after": load(),
                "seconds": time.time() - self.started,
                "rows": [vars(r) for r in self.rows], "extra": self.extra}
        path.write_text(json.dumps(data, indent=1, default=str))
        (RESULTS / f"{self.name}-{stamp}.md").write_text(self.markdown() + "\n")
        print()
        print(self.markdown())
        print(f"\n(saved {path})")
        return path


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")
