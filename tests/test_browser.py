"""End to end in a real browser: the app with the real default models, driven by Playwright.

Needs /usr/bin/chromium, the `playwright` package (never `playwright install`: we use
Debian's Chromium) and the default models (`rag models fetch`). Each real answer takes
~10-30 s on a small CPU, so the flow asks only three questions that need the LLM.
Screenshots of the main states go to $SCREENSHOTS_DIR when it is set (the README's come from
`SCREENSHOTS_DIR=docs/screenshots`), else to a temp folder, so a test run leaves the checkout
as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from rag.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "rag-screenshots")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 300_000  # a real answer on a shared 2-core CPU, model loading included

ARTICLE = """---
title: Valdoria inaugura il nuovo ponte sul fiume Serra
date: 2024-03-04
source: Cronaca di Valdoria
lang: it
---
Il comune di Valdoria ha inaugurato un ponte lungo 412 metri il 3 marzo 2024. Il ponte \
collega i due quartieri divisi dal fiume Serra ed è costato 18 milioni di euro.

Il sindaco di Valdoria ha detto che il nuovo ponte ridurrà il traffico nel centro storico.
"""


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install playwright)"
    from rag import models

    settings = Settings.load()
    states = {s.name: s.state for s in models.status(settings.home)}
    bad = [f"{name}: {states.get(name, 'unknown')}" for name in (settings.embedder, settings.llm)
           if states.get(name) != "ok"]
    if bad:
        return f"the default models are not prepared ({', '.join(bad)}); run `rag models fetch`"
    return None


_reason = _missing()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from rag import ui  # noqa: E402
from rag.assistant import Assistant  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The real app over a copy of the bundled corpus, served from a background thread."""
    tmp = tmp_path_factory.mktemp("browser")
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("uploads"))
    settings = Settings.load().replace(index_dir=tmp / "index", corpus_dir=corpus,
                                       port=_free_port())
    assistant = Assistant(settings)
    assistant.index_files([corpus])
    demo = ui.serve(settings, assistant=assistant, prevent_thread_lock=True)
    yield f"http://127.0.0.1:{settings.port}/", assistant, tmp
    demo.close()


@pytest.fixture(scope="module")
def page(app):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []  # privacy: the page must load nothing from elsewhere
        page.on("request", lambda r: None if r.url.startswith((app[0], "data:", "blob:"))
                else outside.append(r.url))
        page.goto(app[0])
        page.get_by_label("Your question").wait_for()
        yield page
        browser.close()
        assert not outside, f"the page requested outside resources: {outside[:5]}"


def ask(page, question: str) -> None:
    """Type the question and press Enter (keyboard only), then wait for the checked answer."""
    before = page.locator("#chat .rag-answer").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat .rag-answer")).to_have_count(before + 1,
                                                            timeout=ANSWER_TIMEOUT_MS)


def latest_answer(page):
    return page.locator("#chat .rag-answer").last


def test_answer_streams_with_citations_and_a_click_highlights_the_quote(page):
    box = page.get_by_label("Your question")
    box.fill("How much revenue did AWS report last quarter?")
    box.press("Enter")
    bot = page.locator("#chat [data-testid='bot']").last
    expect(bot).to_contain_text("Loading models", timeout=30_000)
    # raw tokens stream in (with a cursor) before the checked answer replaces them
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"#chat [data-testid='bot']\")]"
        ".some(el => el.textContent.includes('▌'))", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#chat .rag-answer")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    answer = latest_answer(page)
    assert answer.locator("a.cite").count() >= 1, answer.inner_html()
    assert re.search(r"22[.,]1", answer.inner_text()), answer.inner_text()
    page.screenshot(path=str(SHOTS / "chat-answer.png"))

    marker = answer.locator("a.cite").first
    target = marker.get_attribute("href").lstrip("#")
    marker.click()
    selected = page.locator(f"#sources #{target}")
    expect(selected).to_have_class(re.compile(r"\bselected\b"))
    quote = selected.locator("mark")
    expect(quote).to_be_visible()
    assert quote.inner_text().strip()
    expect(selected).to_contain_text("Musk e Bezos")  # the bundled article's title
    assert len(page.context.pages) == 1  # the marker did not open a tab
    page.screenshot(path=str(SHOTS / "citation-highlight.png"))


def test_uploaded_article_is_indexed_and_cited(page, app):
    _, assistant, tmp = app
    article = tmp / "valdoria-ponte.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.locator("#import").click()
    expect(page.locator("#corpus-message")).to_contain_text("1 added", timeout=120_000)
    expect(page.locator("#articles")).to_contain_text("Valdoria inaugura il nuovo ponte")
    expect(page.locator("#corpus-status")).to_contain_text("2 articles indexed")
    page.screenshot(path=str(SHOTS / "corpus-upload.png"), full_page=True)
    assert len(assistant.articles()) == 2

    page.get_by_role("tab", name="Chat").click()
    page.locator("#clear").click()  # a new conversation: no follow-up rewriting
    expect(page.locator("#chat .rag-answer")).to_have_count(0)
    ask(page, "Quanto è lungo il ponte inaugurato dal comune di Valdoria?")
    answer = latest_answer(page)
    assert answer.locator("a.cite").count() >= 1, answer.inner_html()
    assert "412" in answer.inner_text()
    expect(page.locator("#sources details[open]")).to_contain_text("Valdoria inaugura")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390 + 1, f"the page scrolls sideways at phone width ({overflow}px)"
    page.screenshot(path=str(SHOTS / "phone-width.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_bad_date_and_a_filter_that_excludes_everything(page):
    page.locator("#clear").click()
    page.get_by_text("Filters and settings").click()
    date_from, date_to = page.get_by_label("Date from (YYYY-MM-DD)"), \
        page.get_by_label("Date to (YYYY-MM-DD)")
    date_from.fill("2024-13-01")
    page.get_by_label("Your question").fill("How much revenue did AWS report?")
    page.get_by_label("Your question").press("Enter")
    expect(page.get_by_text("is not a date; use YYYY-MM-DD").first).to_be_visible(
        timeout=30_000)
    date_from.fill("1990-01-01")
    date_to.fill("1990-12-31")
    ask(page, "How much revenue did AWS report last quarter?")
    answer = latest_answer(page)
    expect(answer).to_contain_text("Nothing found")
    assert answer.locator("a.cite").count() == 0
    page.screenshot(path=str(SHOTS / "filters.png"), full_page=True)
    date_from.fill("")
    date_to.fill("")
