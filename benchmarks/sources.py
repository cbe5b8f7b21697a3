"""Indexing throughput of web pages and PDFs: articles per second, and how the time splits
between extraction (fetching from a local server + trafilatura, or pypdf) and indexing
(chunking, embedding, writing the store), with the time inside the embedder shown apart.

The articles are real news (the RealTimeQA corpus in shared/evaldata), served as HTML pages
on a local server and written as PDFs with reportlab (pip install reportlab), so both kinds
carry the same text and their figures compare side by side in one run.

    .venv/bin/python benchmarks/sources.py                  # 40 articles, the real embedder
    .venv/bin/python benchmarks/sources.py --articles 10 --fake-embedder   # a smoke run
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import EVALDATA, Report, ratio  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.corpus import load_articles  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.sources.fetch import Fetcher  # noqa: E402
from rag.sources.web import fetch_article  # noqa: E402
from tests.helpers.web_server import LocalWeb, Route  # noqa: E402

CORPUS = EVALDATA / "realtimeqa" / "corpus.jsonl"


class TimedEmbedder:
    """The embedder, with the seconds spent inside `embed` and `embed_passages` added up
    (the outermost call only: a fake's `embed_passages` calls its own `embed`)."""

    def __init__(self, embedder) -> None:
        self.inner, self.seconds, self.depth = embedder, 0.0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _timed(self, call, *args, **kwargs):
        started, self.depth = time.perf_counter(), self.depth + 1
        try:
            return call(*args, **kwargs)
        finally:
            self.depth -= 1
            if not self.depth:
                self.seconds += time.perf_counter() - started

    def embed(self, *args, **kwargs):
        return self._timed(self.inner.embed, *args, **kwargs)

    def embed_passages(self, *args, **kwargs):
        return self._timed(self.inner.embed_passages, *args, **kwargs)


def news(n: int) -> list[tuple[str, list[str]]]:
    """The first ``n`` articles of the corpus with some body: (title, paragraphs)."""
    found = []
    with open(CORPUS, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            text = record.get("text") or ""
            paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
            if len(paragraphs) >= 3 and record.get("title"):
                found.append((record["title"], paragraphs))
            if len(found) == n:
                break
    return found


def html_page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
            f"</title></head><body><nav><a href='/'>Home</a></nav><article><h1>{escape(title)}"
            f"</h1>{body}</article><footer>Footer</footer></body></html>").encode("utf-8")


def pdf_file(title: str, paragraphs: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    buffer, styles = io.BytesIO(), getSampleStyleSheet()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=title)
    doc.build([Paragraph(escape(title), styles["Title"])]
              + [Paragraph(escape(p), styles["BodyText"]) for p in paragraphs])
    return buffer.getvalue()


def warm_up(fetcher: Fetcher, web: LocalWeb, root: Path) -> None:
    """Load what the first article of each kind would load (trafilatura, pypdf, the language
    detector) and read the server's robots.txt, so no kind pays for the other."""
    title, paragraphs = news(1)[0]
    web.routes["/warm-up"] = Route(html_page(title, paragraphs))
    fetch_article(fetcher, web.url("/warm-up"))
    (root / "warm-up.pdf").write_bytes(pdf_file(title, paragraphs))
    load_articles([root / "warm-up.pdf"])


def index(settings: Settings, root: Path, name: str, embedder, articles) -> tuple[float, float]:
    """Seconds to index ``articles`` into a fresh store, and of it inside the embedder."""
    timed = TimedEmbedder(embedder)
    assistant = Assistant(settings.replace(index_dir=root / name, corpus_dir=root / "corpus"),
                          embedder=timed)
    started = time.perf_counter()
    assistant.library.sync(articles, lambda a: False)
    return time.perf_counter() - started, timed.seconds


def measure(report: Report, kind: str, n: int, extract_s: float, index_s: float,
            embed_s: float) -> None:
    total = extract_s + index_s
    report.add(kind, "articles/s (extract + index)", ratio(n, total))
    report.add(kind, "extraction s", extract_s, note=f"{100 * ratio(extract_s, total):.0f}% of total")
    report.add(kind, "indexing s (chunk + embed + write)", index_s,
               note=f"{100 * ratio(index_s, total):.0f}% of total")
    report.add(kind, "inside the embedder s", embed_s,
               note=f"{100 * ratio(embed_s, total):.0f}% of total")
    report.add(kind, "extraction articles/s", ratio(n, extract_s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--fake-embedder", action="store_true",
                        help="The tests' hashed bag of words instead of the real model.")
    args = parser.parse_args()
    stories = news(args.articles)
    settings = Settings.load()
    if args.fake_embedder:
        from tests.fakes import FakeEmbedder
        embedder = FakeEmbedder()
    else:
        from rag.embed import build_embedder
        # no vector cache: the PDFs hold the pages' text, and would reuse their vectors
        embedder = build_embedder(settings.replace(embed_cache_mb=0))
        embedder.embed(["warm-up"], kind="document")  # weights loaded before any timing
    report = Report("sources")
    report.extra.update(articles=len(stories), embedder=embedder.name)
    web = LocalWeb()
    with tempfile.TemporaryDirectory() as tmp, Fetcher() as fetcher:
        root = Path(tmp)
        for i, (title, paragraphs) in enumerate(stories):
            web.routes[f"/news/{i}"] = Route(html_page(title, paragraphs))
            (root / "pdf").mkdir(exist_ok=True)
            (root / "pdf" / f"{i:04d}.pdf").write_bytes(pdf_file(title, paragraphs))
        warm_up(fetcher, web, root)  # libraries loaded, robots.txt read: not timed
        started = time.perf_counter()
        pages = [fetch_article(fetcher, web.url(f"/news/{i}")) for i in range(len(stories))]
        page_extract = time.perf_counter() - started
        started = time.perf_counter()
        pdfs = load_articles([root / "pdf"])
        pdf_extract = time.perf_counter() - started
        assert not pdfs.skipped, pdfs.skipped
        page_index = index(settings, root, "pages", embedder, pages)
        pdf_index = index(settings, root, "pdfs", embedder, list(pdfs.articles))
    web.stop()
    measure(report, "web pages", len(pages), page_extract, *page_index)
    measure(report, "PDFs", len(pdfs.articles), pdf_extract, *pdf_index)
    report.add("PDFs vs pages", "articles/s ratio", ratio(
        len(pdfs.articles) / (pdf_extract + pdf_index[0]),
        len(pages) / (page_extract + page_index[0])))
    report.finish()


if __name__ == "__main__":
    main()
