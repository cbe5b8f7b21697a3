"""What a reader waits for in the chat page: from pressing Enter to the first source shown,
the first word of the draft, and the checked answer, measured in Chromium.

The page is served by `rag.server` with the real default models over a copy of the bundled
corpus; each question is asked in a new conversation, with the models warm (the first
question after the start pays for loading them; `--cold` measures it too). Beside each
figure in the page, the same answer's own timings (`Answer.timings`: first evidence and
first token as the pipeline measured them, read back from the saved conversation) show
how much the page adds.

    .venv/bin/python benchmarks/ui_latency.py             # 4 questions, warm
    .venv/bin/python benchmarks/ui_latency.py --cold      # the first question included

Needs /usr/bin/chromium and the playwright package (never `playwright install`).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.ui_app import PAGE_TIMER  # noqa: E402

QUESTIONS = ["How much revenue did AWS report last quarter?",
             "Why might the Musk–Bezos rivalry grow?",
             "Quanto ha fatturato AWS nell'ultimo trimestre?",
             "Cosa ha detto Andy Jassy sulla crescita di AWS?"]

def serve(tmp: Path):
    from rag.assistant import Assistant
    from rag.server import serve as serve_page
    from rag.settings import Settings

    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("uploads"))
    with socket.socket() as s:  # a free local port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.load().replace(index_dir=tmp / "index", corpus_dir=corpus, port=port)
    assistant = Assistant(settings)
    assistant.index_files([corpus])
    return assistant, serve_page(settings, assistant=assistant, block=False)


def measure(page, question: str) -> dict[str, float]:
    page.locator("#clear").click()
    page.wait_for_function("() => !document.querySelector('#chat .rag-turn')")
    page.evaluate(PAGE_TIMER)
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("() => window.ragTimes.done", timeout=600_000)
    return page.evaluate("() => window.ragTimes")


def pipeline_timings(assistant) -> dict[str, float]:
    """The latest answer's own timings, from the saved conversation."""
    latest = assistant.chats.list()[0]
    timings = assistant.conversation(latest.id).turns[-1].answer.timings
    return {"sources": timings.first_evidence_ms, "token": timings.first_token_ms,
            "done": timings.total_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="measure the first question too")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        assistant, server = serve(Path(tmp))
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url)
        page.get_by_label("Your question").wait_for()
        if not args.cold:
            assistant.ready.wait(timeout=600)
        rows = []
        print(f"{'question':50} {'sources':>16} {'first token':>16} {'answer':>16}")
        print(f"{'':50} {'page / pipeline ms':>50}")
        for question in QUESTIONS[:args.questions]:
            seen, own = measure(page, question), pipeline_timings(assistant)
            rows.append((seen, own))
            print(f"{question[:50]:50} " + " ".join(
                f"{seen.get(k, float('nan')):8.0f}/{own[k]:<7.0f}" for k in ("sources", "token",
                                                                           "done")))
        print(f"{'median':50} " + " ".join(
            f"{statistics.median(r[0].get(k, float('nan')) for r in rows):8.0f}/"
            f"{statistics.median(r[1][k] for r in rows):<7.0f}"
            for k in ("sources", "token", "done")))
        browser.close()
        server.close()


if __name__ == "__main__":
    main()
