"""The chat page in a real browser (Debian's Chromium, driven by Playwright): one test for
each problem a new user met (the numbers of the issue "A chat that feels fast and honest").

Most tests use the fake models (a scripted LLM that writes slowly, so the draft can be
watched and stopped); those marked `e2e` use the real default models and take 10-60 s per
answer on a small CPU. Never `playwright install`: /usr/bin/chromium is used. Screenshots
go to $SCREENSHOTS_DIR when it is set (the README's come from
`SCREENSHOTS_DIR=docs/screenshots`), else to a temp folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "rag-screenshots")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ANSWER_MS = 60_000        # a fake answer, on a loaded machine
REAL_ANSWER_MS = 300_000  # a real answer on a shared 2-core CPU, model loading included
PHONE = {"width": 390, "height": 844}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="the playwright package is missing")
expect, sync_playwright = playwright_api.expect, playwright_api.sync_playwright

from rag.settings import Settings  # noqa: E402
from tests.helpers.ui_app import (  # noqa: E402
    MIRTANA, PAGE_TIMER, SCRIPT, ScriptedGenerator, make_assistant, serve_page)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def fake_app(tmp_path_factory):
    """The page over three small articles and the scripted fake LLM."""
    tmp = tmp_path_factory.mktemp("browser")
    generator = ScriptedGenerator(SCRIPT, delay=0.03)
    assistant = make_assistant(tmp, generator)
    url, close = serve_page(assistant)
    yield url, assistant, generator, tmp
    close()


def open_page(browser, url: str, viewport=None):
    """A new tab on the page; it must request nothing from elsewhere."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:"))
            else outside.append(r.url))
    page.goto(url)
    page.get_by_label("Your question").wait_for()
    return context, page, outside


@pytest.fixture
def page(browser, fake_app):
    context, page, outside = open_page(browser, fake_app[0])
    yield page
    context.close()
    assert not outside, f"the page requested outside resources: {outside[:5]}"


def submit(page, question: str) -> None:
    expect(page.locator("#ask")).to_be_enabled(timeout=ANSWER_MS)  # an Enter before is lost
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def ask(page, question: str, timeout: int = ANSWER_MS):
    """Ask with the keyboard and wait for the turn to settle; its answer bubble."""
    before = page.locator("#chat .rag-turn").count()
    submit(page, question)
    turn = page.locator("#chat .rag-turn").nth(before)
    expect(turn.locator(".rag-a")).not_to_have_class(re.compile(r"\bpending\b"),
                                                     timeout=timeout)
    expect(page.locator("#ask")).to_be_enabled(timeout=10_000)
    return turn.locator(".rag-a")


def fill(box, value: str, shown_by=None) -> None:
    """Type ``value`` into ``box`` (pressing Enter) until ``shown_by`` (the box itself by
    default) shows it: a value typed while the filters panel is still opening is sometimes
    dropped, and the input keeps its old one."""
    shown_by = shown_by or box
    for _ in range(5):
        box.fill(value)
        box.press("Enter")
        try:
            expect(shown_by).to_have_value(value, timeout=1000)
            return
        except AssertionError:  # dropped: type it again
            continue
    expect(shown_by).to_have_value(value)


def shot(page, name: str, **options) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), **options)


def open_filters(page) -> None:
    if not page.locator("#date-from").is_visible():
        page.get_by_text("Filters and settings").click()
    expect(page.locator("#date-from")).to_be_visible()


# --------------------------------------------------------------------------- 1. the wait

def test_1_sources_first_then_a_named_stage_elapsed_time_and_ask_disabled(page, fake_app):
    generator = fake_app[2]
    generator.delay = 0.4
    try:
        submit(page, "What did the mayor of Mirtana say about the harbour?")
        # the sources are shown while the answer is still pending and before any draft
        page.wait_for_function(
            "() => document.querySelector('#chat .rag-a.pending') &&"
            " document.querySelectorAll('#sources .src').length > 0 &&"
            " !document.querySelector('#chat .rag-draft')", timeout=ANSWER_MS)
        expect(page.locator("#ask")).to_be_disabled()
        expect(page.locator("#stop")).to_be_visible()
        status = page.locator("#chat .rag-a.pending .rag-status")
        expect(status).to_contain_text(re.compile(r"Searching|Reading|Writing"))
        expect(status.locator(".rag-elapsed")).to_have_text(re.compile(r"^\d+ s$"))
        expect(page.locator("#chat .rag-steps li")).to_have_text(
            ["Understand", "Search", "Read", "Write", "Check"][1:])
        draft = page.locator("#chat .rag-a.pending .rag-draft")
        expect(draft).to_contain_text("Draft, being checked against the sources",
                                      timeout=ANSWER_MS)
        expect(page.locator("#chat .rag-steps li.current")).to_have_text("Write")
        assert page.locator("#chat .rag-a.pending button").count() == 0  # nothing to copy yet
    finally:
        generator.delay = 0.03
    answer = page.locator("#chat .rag-a").last
    expect(answer).to_have_class(re.compile(r"\bgenerated\b"), timeout=ANSWER_MS)
    expect(page.locator("#ask")).to_be_enabled()
    expect(page.locator("#stop")).to_be_hidden()
    expect(answer.locator(".rag-foot")).to_contain_text(re.compile(r"Answered in [\d.]+ s"))


def test_1_stop_really_stops_the_model(page, fake_app):
    generator = fake_app[2]
    generator.delay = 0.3
    try:
        submit(page, "What is the history of the harbour of Mirtana?")
        expect(page.locator("#chat .rag-draft")).to_be_visible(timeout=ANSWER_MS)
        page.locator("#stop").click()
        answer = page.locator("#chat .rag-a").last
        expect(answer).to_have_class(re.compile(r"\bstopped\b"), timeout=10_000)
        expect(answer).to_contain_text("Stopped after")
        words = generator.words
        time.sleep(1.5)
        assert generator.words == words, "the model went on writing after Stop"
        expect(page.locator("#ask")).to_be_enabled()
        expect(page.locator("#stop")).to_be_hidden()
    finally:
        generator.delay = 0.03
    assert "eleven years" not in answer.inner_text()
    second = ask(page, MIRTANA)  # the model is free for the next question
    expect(second).to_contain_text("7300 euros")


# --------------------------------------------------------------------------- 2. no retraction

def test_2_a_draft_that_fails_its_check_settles_as_a_labelled_quote(page):
    answer = ask(page, MIRTANA)
    expect(answer).to_have_class(re.compile(r"\bextracted\b"))
    expect(answer.locator(".rag-kind").first).to_have_text(
        "Quoted from the article: the draft could not be verified")
    expect(answer.locator("blockquote")).to_contain_text("7300 euros per metre")
    expect(answer.locator("blockquote a.cite")).to_have_text("[1]")
    expect(answer.locator(".s.unverified")).to_contain_text("9900 euros")
    expect(answer.locator(".s.unverified .rag-why")).to_contain_text("Not verified:")
    assert "No answer in the articles" not in answer.inner_text()


def test_2_an_abstention_never_shows_a_quote(page):
    answer = ask(page, "What is the capital of Australia?")
    expect(answer).to_contain_text("No answer in the articles.")
    for element in ("mark", "blockquote", "a.cite"):
        assert answer.locator(f".rag-answer {element}").count() == 0, element
    assert "Sydney" not in answer.inner_text()  # the planted instruction is not evidence


# --------------------------------------------------------------------------- 3. states, 8. citations

def test_3_8_states_look_distinct_and_a_marker_highlights_its_own_quote(page):
    answer = ask(page, "What did the mayor say about the new harbour of Mirtana, and its "
                       "price in euros per metre?")
    sentences = answer.locator(".rag-answer .s")
    expect(sentences).to_have_count(3)
    assert [c.split()[1] for c in sentences.evaluate_all("els => els.map(e => e.className)")] \
        == ["verified", "verified", "unverified"]
    expect(sentences.nth(2).locator(".rag-why")).to_contain_text("Not verified")
    markers = answer.locator(".rag-answer a.cite")
    expect(markers).to_have_text(["[1]", "[2]"])  # numbered in order of appearance
    color = sentences.nth(2).evaluate("e => getComputedStyle(e).color")
    assert color != sentences.nth(0).evaluate("e => getComputedStyle(e).color")

    markers.nth(1).click()
    card = page.locator("#sources .src.selected")
    expect(card).to_have_count(1)
    active = card.locator("mark.active")
    expect(active).to_have_count(1)
    expect(active).to_have_text(re.compile("opened its new harbour"))
    markers.nth(0).click()
    expect(page.locator("#sources mark.active")).to_have_text(re.compile("eleven years"))
    expect(page.locator("#sources mark.active")).to_have_count(1)
    # the passage does not repeat its title as its first line, and "undated" is never said
    expect(card.locator(".passage")).not_to_contain_text("Mirtana opens its new harbour")
    assert "undated" not in page.locator("#sources").inner_text().lower()


# --------------------------------------------------------------------------- 4. filters

def test_4_a_bad_date_is_said_inline_and_the_chat_stays(page):
    first = ask(page, MIRTANA)
    open_filters(page)
    expect(page.locator("#date-from input")).to_have_attribute("placeholder", "YYYY-MM-DD")
    fill(page.locator("#date-from input"), "01/03/2024")
    submit(page, "Who uses the harbour of Mirtana?")
    message = page.locator("#filter-message")
    expect(message).to_contain_text("“From” date: '01/03/2024' is not a date")
    expect(page.get_by_label("Your question")).to_have_value("Who uses the harbour of Mirtana?")
    expect(page.locator("#chat .rag-turn")).to_have_count(1)
    expect(first).to_contain_text("7300 euros")
    assert page.get_by_text("Error", exact=True).count() == 0
    shot(page, "filters.png")
    fill(page.locator("#date-from input"), "2024-01-01")
    ask(page, "Who uses the harbour of Mirtana?")
    expect(message).to_be_hidden()


def test_4_a_date_filter_keeps_undated_articles_unless_asked(page):
    open_filters(page)
    expect(page.locator("#source")).to_be_visible()
    page.locator("#source input").click()
    options = page.get_by_role("option")
    expect(options).to_have_text([re.compile(r"Courier$"), re.compile(r"Cronaca di Valdoria$")])
    page.keyboard.press("Escape")
    fill(page.locator("#date-from input"), "2024-01-01")
    answer = ask(page, MIRTANA)  # Mirtana's article has no date: it is kept
    expect(answer).to_contain_text("7300 euros")
    page.get_by_label("Keep articles without a date").uncheck()
    answer = ask(page, "Who uses the harbour of Mirtana?")
    expect(answer).not_to_contain_text("7300 euros")
    expect(answer).not_to_contain_text("fishing boats")


# --------------------------------------------------------------------------- 5. uploads

def test_5_uploads_are_reported_plainly_rejects_not_kept_removal_confirmed(page, fake_app,
                                                                         tmp_path):
    _, assistant, _, _ = fake_app
    good = tmp_path / "lumetta.txt"
    good.write_text("---\ntitle: Lumetta Ceramiche chiude il 2024 con ricavi record\n"
                    "date: 2025-02-10\n---\nLumetta Ceramiche ha chiuso il 2024 con ricavi "
                    "di 48,7 milioni di euro, in crescita del 9%.\n", encoding="utf-8")
    empty, binary = tmp_path / "empty.txt", tmp_path / "photo.txt"
    empty.write_text("")
    binary.write_bytes(b"\x89PNG\x00\x00\x00\rIHDR" * 20)
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files([str(good), str(empty),
                                                              str(binary)])
    page.locator("#import").click()
    message = page.locator("#corpus-message")
    expect(message).to_contain_text("Imported 1 article", timeout=ANSWER_MS)
    expect(message).to_contain_text("2 files skipped:")
    expect(message).to_contain_text("empty.txt: empty file")
    expect(message).to_contain_text("photo.txt: binary file")
    uploads = assistant.settings.corpus_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["lumetta.txt"]

    table = page.locator("#articles table")
    expect(table).to_contain_text("Lumetta Ceramiche chiude il 2024 con ricavi record")
    assert not re.search(r"\b[0-9a-f]{16}\b", table.inner_text())  # titles, not hash ids
    font = table.evaluate("e => getComputedStyle(e.querySelector('td')).fontFamily")
    assert "mono" not in font.lower()
    expect(table.locator("tr", has_text="Harbour fees notice")).to_contain_text(
        "instructions for the assistant")
    expect(page.locator("#corpus-status")).to_contain_text("4 articles in the library")
    shot(page, "corpus-upload.png", full_page=True)

    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=re.compile("Lumetta")).click()
    page.locator("#remove").click()
    expect(page.locator("#confirm-text")).to_contain_text("Remove “Lumetta Ceramiche")
    page.locator("#confirm-no").click()
    expect(page.locator("#confirm-remove")).to_be_hidden()
    assert len(assistant.articles()) == 4
    page.locator("#remove").click()
    page.locator("#confirm-yes").click()
    expect(message).to_contain_text("Removed “Lumetta Ceramiche")
    expect(table).not_to_contain_text("Lumetta")
    assert len(assistant.articles()) == 3 and not any(uploads.iterdir())


# --------------------------------------------------------------------------- 6. length

def test_6_an_answer_cut_at_the_length_limit_is_marked(page):
    open_filters(page)
    # 32, on the slider's steps: "40" showed in the box while the slider snapped to 48, and
    # whichever reached the server decided whether the 46-word reply was cut (flaky)
    fill(page.locator("#max-tokens input[type=number]"), "32",
         shown_by=page.locator("#max-tokens input[type=range]"))
    answer = ask(page, "How long did the harbour of Mirtana take to plan?")
    cut = answer.locator(".s.cut")
    expect(cut).to_have_count(1)
    expect(cut).to_contain_text("Cut off: the answer reached its length limit")
    expect(answer.locator(".s.verified").first).to_contain_text("eleven years")


# --------------------------------------------------------------------------- 7. phone

def test_7_phone_layout(browser, fake_app):
    context, page, outside = open_page(browser, fake_app[0], PHONE)
    try:
        for question in (MIRTANA, "What did the mayor of Mirtana say about the harbour?"):
            answer = ask(page, question)
        chat = page.locator("#chat").bounding_box()
        assert chat["height"] < PHONE["height"] - 150, chat  # room for the question box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
        # the newest answer is in view inside the chat
        box = answer.bounding_box()
        assert box["y"] < chat["y"] + chat["height"] and box["y"] + box["height"] > chat["y"]
        expect(page.locator("#sources")).to_be_hidden()
        answer.locator(".rag-answer a.cite").first.click()
        card = answer.locator(".rag-inline-sources .src.selected")
        expect(card).to_be_visible()
        expect(card.locator("mark.active")).to_be_in_viewport()
        shot(page, "phone-width.png")
        page.get_by_role("tab", name="Corpus").click()
        rows = page.locator("#articles tbody tr")
        expect(rows.first).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
        title = rows.first.locator("td.title").bounding_box()
        assert title["width"] > 200  # a title gets the width of the screen, not a column
        shot(page, "phone-corpus.png", full_page=True)
    finally:
        context.close()
    assert not outside


# --------------------------------------------------------------------------- 9. wording

def test_9_wording_plurals_and_no_glyph_without_a_font(page, fake_app):
    page.get_by_role("tab", name="Corpus").click()
    status = page.locator("#corpus-status")
    expect(status).to_contain_text(re.compile(r"\b\d+ articles? in the library"))
    assert not re.search(r"\b1 articles\b", status.inner_text())
    page.get_by_role("tab", name="Chat").click()
    submit(page, MIRTANA)
    expect(page.locator("#chat .rag-status")).to_be_visible()
    text = page.locator("body").inner_text()
    assert "⏳" not in text and "Warning" not in text and "embedded" not in text
    ask_done = page.locator("#chat .rag-a").last
    expect(ask_done).not_to_have_class(re.compile(r"\bpending\b"), timeout=ANSWER_MS)
    expect(ask_done.locator(".rag-foot")).to_contain_text("1 source cited")


def test_article_text_is_shown_as_text_never_run(browser, tmp_path):
    hostile = ("---\ntitle: Zorblax ${7*7} {{value}} <img src=x onerror=alert(1)>\n---\n"
               "The Zorblax reactor produces ${7*7} megawatts, {{value}} and `ticks` "
               "</div><b>bold</b><script>alert(2)</script>.\n")
    assistant = make_assistant(tmp_path, articles={"zorblax.txt": hostile})
    url, close = serve_page(assistant)
    context, page, outside = open_page(browser, url)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        answer = ask(page, "How many megawatts does the Zorblax reactor produce?")
        expect(answer).to_contain_text("${7*7} megawatts")
        expect(page.locator("#sources .src").first).to_contain_text("Zorblax ${7*7} {{value}}")
        assert page.locator("#chat b, #sources b, #chat img, #sources img").count() == 0
        assert not dialogs
    finally:
        context.close()
        close()
    assert not outside


# --------------------------------------------------------------------------- conversations

def test_conversations_are_listed_reopened_after_a_reload_exported_and_deleted(page, fake_app):
    from urllib.parse import unquote

    assistant = fake_app[1]
    page.locator("#clear").click()
    expect(page.locator("#chat .rag-turn")).to_have_count(0)  # else `ask` counts old turns
    answer = ask(page, MIRTANA)
    save = answer.locator("a.rag-save")
    assert save.get_attribute("download").endswith(".md")
    markdown = unquote(save.get_attribute("href").split(",", 1)[1])
    assert markdown.startswith(f"## {MIRTANA}") and "[1] **Mirtana opens its new harbour**" \
        in markdown and "7300 euros per metre" in markdown
    page.locator("#chats-sidebar button[aria-label='Toggle Sidebar']").click()
    expect(page.locator("#chats")).to_be_in_viewport()
    listed = page.locator("#chats label", has_text=MIRTANA).first
    expect(listed).to_contain_text("(1 question)")
    expect(listed.locator("input")).to_be_checked()
    export = page.locator("#chat-export a")
    expect(export).to_have_text("Download this conversation (Markdown)")
    assert unquote(export.get_attribute("href")).count("## ") == 1
    page.wait_for_timeout(500)  # the sidebar slides in
    shot(page, "conversations.png")

    page.reload()  # the conversation open in this browser comes back
    page.get_by_label("Your question").wait_for()
    expect(page.locator("#chat .rag-turn")).to_have_count(1)
    expect(page.locator("#chat .rag-answer")).to_contain_text("7300 euros")
    expect(page.locator("#sources .src").first).to_be_visible()
    chat_id = next(c.id for c in assistant.chats.list() if c.title == MIRTANA)

    box = page.get_by_label("Your question")
    box.fill("And what did the harbour cost?")  # typed as the new conversation starts: kept
    page.locator("#clear").click()
    expect(page.locator("#chat .rag-turn")).to_have_count(0)
    expect(box).to_have_value("And what did the harbour cost?")
    box.fill("")
    page.locator("#chats-sidebar button[aria-label='Toggle Sidebar']").click()
    page.locator("#chats label", has_text=MIRTANA).first.click()
    expect(page.locator("#chat .rag-turn")).to_have_count(1)
    page.locator("#chat-delete").click()
    expect(page.locator("#confirm-delete-text")).to_contain_text(f"Delete “{MIRTANA}”")
    page.locator("#confirm-delete-yes").click()
    expect(page.locator("#chat .rag-turn")).to_have_count(0)
    expect(page.locator(f"#chats input[value='{chat_id}']")).to_have_count(0)
    assert chat_id not in {c.id for c in assistant.chats.list()}


# --------------------------------------------------------------------------- the real models

def _models_missing() -> str | None:
    from rag import models

    settings = Settings.load()
    states = {s.name: s.state for s in models.status(settings.home)}
    bad = [f"{name}: {states.get(name, 'unknown')}" for name in (settings.embedder, settings.llm)
           if states.get(name) != "ok"]
    return f"the default models are not prepared ({', '.join(bad)})" if bad else None


LUMETTA = """---
title: Lumetta Ceramiche chiude il 2024 con ricavi record
source: Gazzetta di Faenza
lang: it
---
Lumetta Ceramiche chiude il 2024 con ricavi record

Lumetta Ceramiche, azienda di Faenza fondata nel 1987, ha chiuso il 2024 con ricavi di 48,7 \
milioni di euro, in crescita del 9% rispetto all'anno precedente.

L'amministratrice delegata Giulia Ferraresi ha annunciato l'apertura di un nuovo stabilimento \
a Lugo entro il 2026, con 120 nuove assunzioni.

"Il mercato tedesco è stato il nostro motore di crescita", ha detto Ferraresi.
"""


@pytest.fixture(scope="module")
def real_app(tmp_path_factory):
    reason = _models_missing()
    if reason:
        pytest.skip(reason)
    from rag.assistant import Assistant

    tmp = tmp_path_factory.mktemp("real")
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("uploads"))
    (corpus / "lumetta.txt").write_text(LUMETTA, encoding="utf-8")
    settings = Settings.load().replace(index_dir=tmp / "index", corpus_dir=corpus,
                                       port=_free_port())
    assistant = Assistant(settings)
    assistant.index_files([corpus])
    url, close = serve_page(assistant)  # the models load while the page opens
    yield url, assistant
    close()


def _free_port() -> int:
    from tests.helpers.ui_app import free_port
    return free_port()


@pytest.mark.e2e
def test_real_answer_streams_after_its_sources_and_is_measured(browser, real_app):
    url, assistant = real_app
    context, page, outside = open_page(browser, url)
    try:
        assistant.ready.wait(timeout=REAL_ANSWER_MS / 1000)  # measured warm, as a user would
        page.evaluate(PAGE_TIMER)
        submit(page, "How much revenue did AWS report last quarter?")
        expect(page.locator("#chat .rag-draft .text")).not_to_be_empty(timeout=REAL_ANSWER_MS)
        expect(page.locator("#sources .src").first).to_be_visible()
        expect(page.locator("#chat .rag-status")).to_contain_text(re.compile("Writing|Checking"))
        shot(page, "chat-streaming.png")
        answer = page.locator("#chat .rag-a").last
        expect(answer).not_to_have_class(re.compile(r"\bpending\b"), timeout=REAL_ANSWER_MS)
        shot(page, "chat-answer.png")
        assert re.search(r"22[.,]1", answer.inner_text()), answer.inner_text()
        answer.locator("a.cite").first.click()
        expect(page.locator("#sources .src.selected mark.active")).to_be_visible()
        shot(page, "citation-highlight.png")
        times = page.evaluate("() => window.ragTimes")
        report = {k: round(v) for k, v in times.items()}
        Path(tempfile.gettempdir(), "rag-ui-timings.json").write_text(json.dumps(report))
        print(f"\nbrowser timings (ms from Enter): {report}")
        assert times["sources"] < times["token"] < times["done"]
    finally:
        context.close()
    assert not outside


@pytest.mark.e2e
def test_real_uploaded_article_answer_is_not_taken_back(browser, real_app):
    url, _ = real_app
    context, page, outside = open_page(browser, url)
    try:
        answer = ask(page, "What were Lumetta Ceramiche's revenues in 2024?",
                     timeout=REAL_ANSWER_MS)
        shot(page, "chat-uploaded-article.png")
        body = answer.locator(".rag-answer")
        assert "No answer in the articles" not in body.inner_text()
        if "extracted" in body.get_attribute("class"):  # it says where it comes from
            expect(body.locator(".rag-kind").first).to_contain_text(
                re.compile("^(Quoted|Translated) from the article"))
        for why in body.locator(".s:not(.verified) .rag-why").all():
            expect(why).to_contain_text(re.compile(r"(Not verified|Left out|Cut off): \w"))
        body.locator("a.cite").first.click()
        expect(page.locator("#sources .src.selected mark.active")).to_be_visible()
        kept = " ".join(s.inner_text() for s in body.locator(".s.verified").all())
        if not re.search(r"48[.,]7", kept):
            pytest.xfail(f"the checks kept no sentence with the revenue: {kept!r} (issue 17)")
    finally:
        context.close()
    assert not outside


@pytest.mark.e2e
def test_real_follow_up_states_are_shown_with_reasons(browser, real_app):
    url, _ = real_app
    context, page, outside = open_page(browser, url)
    try:
        ask(page, "Why might the Musk–Bezos rivalry grow?", timeout=REAL_ANSWER_MS)
        answer = ask(page, "And what did Andy Jassy say?", timeout=REAL_ANSWER_MS)
        for sentence in answer.locator(".rag-answer .s").all():
            state = sentence.get_attribute("class").split()[1]
            if state != "verified":  # anything not verified says why
                expect(sentence.locator(".rag-why")).not_to_be_empty()
        cites = answer.locator(".rag-answer a.cite")
        if cites.count():
            cites.first.click()
            active = page.locator("#sources .src.selected mark.active")
            expect(active).to_have_count(1)
        shot(page, "chat-follow-up.png")
    finally:
        context.close()
    assert not outside
