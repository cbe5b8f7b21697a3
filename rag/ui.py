"""The browser UI: a thin Gradio layer over the `Assistant` API.

    from rag.ui import serve
    serve(Settings.load())                       # http://127.0.0.1:7860, local only

Every event makes one public API call (``stream``, ``import_files``, ``add_text``,
``remove``, ``articles``); this module only validates input and renders results.
Article text is untrusted: everything taken from it is HTML-escaped before display.
"""

from __future__ import annotations

import os

# Privacy: no usage analytics, no calls to the Hugging Face Hub. Set before gradio loads.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

import datetime as dt  # noqa: E402
import html  # noqa: E402
import ipaddress  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
from typing import Any, Iterator, Sequence  # noqa: E402

import gradio as gr  # noqa: E402

from .answer import Answer, Citation  # noqa: E402
from .assistant import Assistant  # noqa: E402
from .corpus import SUPPORTED_SUFFIXES, Article  # noqa: E402
from .events import Done, Draft  # noqa: E402
from .filters import Filters  # noqa: E402
from .grounding import strip_markers  # noqa: E402
from .library import IndexReport  # noqa: E402
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

ALL_SOURCES = "All sources"
CHAT_CONCURRENCY = 8      # chats in flight at once; the generator serializes its own calls
NO_ARTICLES = "No articles yet — upload some in the **Corpus** tab (or paste one)."
UNVERIFIED_TIP = "No cited passage supports this sentence; check it against the sources."
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

CSS = """
.rag-answer .cite { font-weight: 600; text-decoration: none; padding: 0 .15em;
  border-radius: 4px; background: var(--color-accent-soft); color: var(--link-text-color); }
.rag-answer .cite:hover, .rag-answer .cite:focus { text-decoration: underline; }
.rag-answer .unverified { text-decoration: underline dotted #b45309; }
.rag-answer .badge { display: inline-block; font-size: .75em; padding: 0 .4em; margin-left: .3em;
  border-radius: 9px; background: #fef3c7; color: #92400e; border: 1px solid #f59e0b;
  cursor: help; white-space: nowrap; }
.rag-answer.abstained { font-style: italic; }
.rag-sources { font-size: .92em; overflow-wrap: anywhere; }
.rag-sources details { margin-bottom: .5em; }
.rag-sources summary { cursor: pointer; font-weight: 600; }
.rag-sources .src { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .5em .7em; margin: .5em 0; scroll-margin-top: 1em; }
.rag-sources .src.selected, .rag-sources .src:target { outline: 3px solid var(--color-accent);
  background: var(--color-accent-soft); }
.rag-sources .meta { color: var(--body-text-color-subdued); font-size: .9em; }
.rag-sources .passage { white-space: pre-wrap; margin: .4em 0 0; }
.rag-sources mark { background: #fde68a; color: #111; padding: 0 .1em; }
.rag-empty { color: var(--body-text-color-subdued); }
"""

# A click on a [n] marker in an answer selects that source: open its group, outline it,
# scroll to it. (Works for mouse and keyboard: the markers are links.)
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.cite, a[href^='#src-']");
  if (!link) return;
  var id = (link.getAttribute("href") || "").replace(/^#/, "");
  var target = id && document.getElementById(id);
  event.preventDefault();
  event.stopPropagation();
  if (!target) return;
  var group = target.closest("details");
  if (group) group.open = true;
  document.querySelectorAll(".rag-sources .src.selected").forEach(function (el) {
    el.classList.remove("selected");
  });
  target.classList.add("selected");
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.focus({preventScroll: true});
}, true);
</script>"""

THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


# --------------------------------------------------------------------------- rendering

def render_answer(answer: Answer, *, turn: int = 0, verify: bool = True,
                  filters: Filters | None = None) -> str:
    """The checked answer as HTML: [n] markers link to ``#src-{turn}-{n}``; unverified
    sentences carry a badge; an abstention says so (and names the filters, if any)."""
    if answer.abstained:
        if not answer.passages:
            why = (f" No article matches the filters ({html.escape(describe(filters))}); "
                   "widen or clear them." if filters else "")
            return (f'<div class="rag-answer abstained"><strong>Nothing found.</strong> '
                    f'{html.escape(answer.text)}{why}</div>')
        return (f'<div class="rag-answer abstained"><strong>No answer in the articles.</strong> '
                f'{_link_markers(answer, turn)}</div>')
    known = {c.marker for c in answer.citations}
    parts = []
    for s in answer.sentences or ():
        links = "".join(_marker_link(n, turn) if n in known else f"[{n}]" for n in s.citations)
        body = strip_markers(s.text)
        end = len(body.rstrip(".!?…"))  # markers go before the final punctuation: "x [1]."
        text = html.escape(body[:end]) + (f"\u00a0{links}" if links else "") + html.escape(body[end:])
        if verify and not s.verified:
            parts.append(f'<span class="unverified" title="{UNVERIFIED_TIP}">{text}</span>'
                         f'<span class="badge" title="{UNVERIFIED_TIP}" '
                         f'role="note">⚠ unverified</span>')
        else:
            parts.append(text)
    if not parts:  # no sentence breakdown: link the markers in the text itself
        parts.append(_link_markers(answer, turn))
    return f'<div class="rag-answer">{" ".join(parts)}</div>'


def _link_markers(answer: Answer, turn: int) -> str:
    """The answer's text as HTML, its [n] markers of cited passages linked."""
    known = {c.marker for c in answer.citations}
    return re.sub(r"\[(\d{1,3})\]", lambda m: _marker_link(int(m.group(1)), turn)
                  if int(m.group(1)) in known else m.group(0), html.escape(answer.text))


def describe(filters: Filters | None) -> str:
    """The filters in words: 'from 2024-01-01 to 2024-03-31, source Gazzetta'."""
    if not filters:
        return "none"
    dates = " ".join(x for x in (filters.date_from and f"from {filters.date_from}",
                                 filters.date_to and f"to {filters.date_to}") if x)
    source = "source " + ", ".join(filters.sources) if filters.sources else ""
    return ", ".join(x for x in (dates, source) if x)


def _marker_link(n: int, turn: int) -> str:
    return (f'<a class="cite" href="#src-{turn}-{n}" data-src="{turn}-{n}" '
            f'title="Show source {n}" aria-label="Source {n}">[{n}]</a>')


def highlight_quote(citation: Citation) -> str:
    """The cited passage, escaped, with each supporting quote inside <mark>."""
    text, offset = citation.chunk.text, citation.chunk.start
    spans = [(q.start, q.end) for q in citation.quotes]
    out, done = [], 0
    for start, end in sorted(spans):
        start = min(max(start - offset, done), len(text))
        end = min(max(end - offset, start), len(text))
        if end > start:  # a quote overlapping the previous one is marked from its end
            out += [html.escape(text[done:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
            done = end
    return "".join(out) + html.escape(text[done:])


def render_citation(citation: Citation, *, turn: int = 0) -> str:
    chunk = citation.chunk
    meta = " · ".join(html.escape(x) for x in (chunk.date or "undated", chunk.source) if x)
    return (f'<article class="src" id="src-{turn}-{citation.marker}" tabindex="-1" '
            f'aria-label="Source {citation.marker}">'
            f'<div><strong>[{citation.marker}] {html.escape(chunk.title or "Untitled")}</strong>'
            f'</div><div class="meta">{meta}</div>'
            f'<p class="passage">{highlight_quote(citation)}</p></article>')


def render_sources(turns: Sequence[tuple[str, Answer]]) -> str:
    """The sources of every answer so far; the latest one open, the earlier ones folded."""
    if not turns:
        return ('<div class="rag-sources"><p class="rag-empty">Sources of the answers appear '
                'here; click a [n] marker in an answer to select its source.</p></div>')
    groups = []
    for turn in range(len(turns) - 1, -1, -1):
        question, answer = turns[turn]
        body = "".join(render_citation(c, turn=turn) for c in answer.citations) or \
            '<p class="rag-empty">No sources cited.</p>'
        opened = " open" if turn == len(turns) - 1 else ""
        groups.append(f"<details{opened}><summary>{html.escape(_short(question))}</summary>"
                      f"{body}</details>")
    return f'<div class="rag-sources">{"".join(groups)}</div>'


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def render_report(report: IndexReport, verb: str = "Imported") -> str:
    lines = [f"**{verb}:** {report.added} added, {report.updated} updated, "
             f"{report.removed} removed, {report.unchanged} unchanged "
             f"({report.chunks_embedded} passages embedded in {report.seconds:.1f} s). "
             f"Index: {report.total_articles} articles."]
    if report.skipped:
        lines.append(f"**Skipped {len(report.skipped)}:**")
        lines += [f"- `{_basename(s.path)}` — {s.reason}" for s in report.skipped]
    return "\n".join(lines)


def _basename(path: str) -> str:
    return os.path.basename(path.split("#")[0]) + (f"#{path.split('#')[1]}" if "#" in path else "")


def article_rows(articles: Sequence[Article]) -> list[list[str]]:
    return [[a.title, a.date, a.source, a.lang, a.id] for a in articles]


def parse_filters(date_from: str, date_to: str, source: str | None) -> Filters | None:
    """Filters from the form; a bad date raises ValueError with a one-line message."""
    dates = []
    for label, value in (("Date from", date_from), ("Date to", date_to)):
        value = (value or "").strip()
        if value:
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{label}: {value!r} is not a date; use YYYY-MM-DD, "
                                 "e.g. 2024-03-31.") from None
        dates.append(value)
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise ValueError(f"Date from ({dates[0]}) is after date to ({dates[1]}).")
    sources = (source,) if source and source != ALL_SOURCES else ()
    filters = Filters(dates[0], dates[1], sources)
    return filters or None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# --------------------------------------------------------------------------- the app

def build_app(assistant: Assistant) -> gr.Blocks:
    """The Gradio app over ``assistant`` (shared by every browser session)."""
    settings = assistant.settings
    warm = assistant.ready  # set once the models are loaded

    def respond(question: str, chat: list[dict], turns: list[tuple[str, Answer]] | None,
                date_from: str, date_to: str, source: str | None, k: float,
                max_tokens: float) -> Iterator[tuple]:
        question = (question or "").strip()
        turns = list(turns or [])
        chat = list(chat or [])
        if not question:
            raise gr.Error("Type a question first.", print_exception=False)
        try:
            filters = parse_filters(date_from, date_to, source)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        chat.append({"role": "user", "content": html.escape(question)})
        if not assistant.store.stats().articles:
            chat.append({"role": "assistant", "content": NO_ARTICLES})
            yield "", chat, turns, render_sources(turns)
            return
        waiting = ("⏳ Loading models… (the first question takes a little longer)"
                   if not warm.is_set() else "⏳ Searching the articles…")
        chat.append({"role": "assistant", "content": waiting})
        yield "", chat, turns, gr.update()
        history = [(q, a.text) for q, a in turns]
        streamed = ""
        try:
            response = assistant.ask(question, history=history, filters=filters,
                                     k=int(k), max_tokens=int(max_tokens))
            for event in response.events():
                if isinstance(event, Done):
                    item = event.answer
                    turns.append((question, item))
                    chat[-1] = {"role": "assistant", "content": render_answer(
                        item, turn=len(turns) - 1, verify=settings.verify, filters=filters)}
                    yield "", chat, turns, render_sources(turns)
                    return
                if not isinstance(event, Draft):
                    continue
                streamed += event.text
                chat[-1] = {"role": "assistant", "content": html.escape(streamed) + " ▌"}
                yield "", chat, turns, gr.update()
        except Exception as error:  # shown as a one-line message in the page
            log.exception("answering %r failed", question)
            raise gr.Error(f"Could not answer: {_one_line(error)}", print_exception=False) \
                from None

    def clear() -> tuple:
        return [], [], render_sources([]), ""

    def refresh_corpus() -> tuple:
        articles = assistant.articles()
        sources = sorted({a.source for a in articles if a.source}, key=str.casefold)
        choices = [(f"{_short(a.title, 60)} ({a.date or 'undated'}) — {a.id}", a.id)
                   for a in articles]
        count = f"**{len(articles)} articles indexed.**" if articles else NO_ARTICLES
        return (article_rows(articles), gr.update(choices=choices, value=None),
                gr.update(choices=[ALL_SOURCES, *sources]), count)

    def import_uploads(files: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        if not paths:
            raise gr.Error("Choose one or more article files first.", print_exception=False)
        progress(0, desc="Importing…")
        try:
            report = assistant.import_files(paths, progress=True)
        except Exception as error:
            log.exception("import failed")
            raise gr.Error(f"Import failed: {_one_line(error)}", print_exception=False) \
                from None
        if report.skipped:
            gr.Warning(f"Skipped {len(report.skipped)} file(s); see the message below.")
        return render_report(report), None

    def add_pasted(title: str, text: str):
        if not (text or "").strip():
            raise gr.Error("Paste the article text first.", print_exception=False)
        try:
            report = assistant.add_text(text, title=(title or "").strip())
        except Exception as error:
            log.exception("adding pasted text failed")
            raise gr.Error(f"Could not add the article: {_one_line(error)}",
                           print_exception=False) from None
        return render_report(report, "Added"), "", ""

    def remove_article(article_id: str | None):
        if not article_id:
            raise gr.Error("Choose an article to remove first.", print_exception=False)
        try:
            report = assistant.remove([article_id])
        except Exception as error:
            raise gr.Error(f"Could not remove it: {_one_line(error)}", print_exception=False) \
                from None
        return f"**Removed** `{article_id}`. Index: {report.total_articles} articles."

    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.Markdown("## News assistant\nAsk about your articles; every answer cites its "
                    "sources. Everything runs on this machine.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chatbot = gr.Chatbot(label="Conversation", height=480,
                                             elem_id="chat", buttons=["copy"],
                                             feedback_options=None,
                                             placeholder="Ask a question about the articles.")
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(label="Your question", scale=5, min_width=200,
                                                  placeholder="Ask about the articles…",
                                                  elem_id="question", autofocus=True,
                                                  lines=1, max_lines=4, submit_btn=False)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                             elem_id="ask")
                        new_chat = gr.Button("New conversation", size="sm", elem_id="clear")
                        with gr.Accordion("Filters and settings", open=False,
                                          elem_id="filters"):
                            with gr.Row():
                                date_from = gr.Textbox(label="Date from (YYYY-MM-DD)",
                                                       placeholder="2024-01-01", min_width=140,
                                                       elem_id="date-from")
                                date_to = gr.Textbox(label="Date to (YYYY-MM-DD)",
                                                     placeholder="2024-12-31", min_width=140,
                                                     elem_id="date-to")
                            source = gr.Dropdown(label="Source", choices=[ALL_SOURCES],
                                                 value=ALL_SOURCES, elem_id="source")
                            k = gr.Slider(1, 20, value=settings.top_k, step=1,
                                          label="Passages to retrieve", elem_id="k")
                            max_tokens = gr.Slider(32, 1024, value=settings.max_answer_tokens,
                                                   step=16, label="Longest answer (tokens)",
                                                   elem_id="max-tokens")
                    with gr.Column(scale=2, min_width=280):
                        sources = gr.HTML(render_sources([]), label="Sources", show_label=True,
                                          container=True, padding=True, elem_id="sources",
                                          js_on_load=None)
            with gr.Tab("Corpus", id="corpus"):
                corpus_status = gr.Markdown(elem_id="corpus-status")
                table = gr.Dataframe(headers=["Title", "Date", "Source", "Language", "ID"],
                                     datatype="str", label="Indexed articles",
                                     interactive=False, wrap=True, elem_id="articles")
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=280):
                        upload = gr.File(label="Upload article files ("
                                         + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                                         file_count="multiple", type="filepath",
                                         file_types=sorted(SUPPORTED_SUFFIXES),
                                         elem_id="upload")
                        import_button = gr.Button("Import files", variant="primary",
                                                  elem_id="import")
                    with gr.Column(min_width=280):
                        paste_title = gr.Textbox(label="Title of the pasted article",
                                                 elem_id="paste-title")
                        paste_text = gr.Textbox(label="Article text", lines=6,
                                                elem_id="paste-text")
                        paste_button = gr.Button("Add pasted article", elem_id="paste")
                corpus_message = gr.Markdown(elem_id="corpus-message")
                with gr.Row(equal_height=True):
                    to_remove = gr.Dropdown(label="Article to remove", choices=[], value=None,
                                            scale=4, min_width=200, elem_id="remove-choice")
                    remove_button = gr.Button("Remove article", variant="stop", scale=1,
                                              min_width=100, elem_id="remove")

        corpus_outputs = [table, to_remove, source, corpus_status]
        gr.on([question.submit, send.click], respond,
              inputs=[question, chatbot, turns, date_from, date_to, source, k, max_tokens],
              outputs=[question, chatbot, turns, sources], api_name="ask",
              concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat")
        new_chat.click(clear, outputs=[chatbot, turns, sources, question], api_name=False)
        chatbot.clear(clear, outputs=[chatbot, turns, sources, question], api_name=False)
        for event in (import_button.click(import_uploads, inputs=upload,
                                          outputs=[corpus_message, upload], api_name="import",
                                          concurrency_id="corpus", concurrency_limit=1),
                      paste_button.click(add_pasted, inputs=[paste_title, paste_text],
                                         outputs=[corpus_message, paste_title, paste_text],
                                         api_name="add_text", concurrency_id="corpus",
                                         concurrency_limit=1),
                      remove_button.click(remove_article, inputs=to_remove,
                                          outputs=corpus_message, api_name="remove",
                                          concurrency_id="corpus", concurrency_limit=1)):
            event.success(refresh_corpus, outputs=corpus_outputs, api_name=False)
        demo.load(refresh_corpus, outputs=corpus_outputs, api_name="articles")
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    return demo


# --------------------------------------------------------------------------- serving

def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if auth is None:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like USER:PASSWORD (both non-empty)")
    return user, password


def check_binding(settings: Settings, auth: str | None) -> tuple[str, str] | None:
    """The login pair to require; refuse a non-loopback address without one."""
    credentials = parse_auth(auth)
    if not is_loopback(settings.host) and credentials is None:
        raise ValueError(f"refusing to serve on {settings.host} without a login: anyone on the "
                         "network could read your articles. Pass auth USER:PASSWORD "
                         "(rag serve --auth USER:PASSWORD) or bind 127.0.0.1.")
    return credentials


def launch_options(settings: Settings, credentials: tuple[str, str] | None) -> dict[str, Any]:
    return dict(server_name=settings.host, server_port=settings.port, auth=credentials,
                max_file_size=f"{settings.max_upload_mb}mb", share=False, inbrowser=False,
                ssr_mode=False, css=CSS, head=HEAD, theme=THEME, run_history=False,
                footer_links=["api", "settings"],
                show_error=True)


def serve(settings: Settings, *, auth: str | None = None, assistant: Assistant | None = None,
          prevent_thread_lock: bool = False) -> gr.Blocks:
    """Serve the app on ``settings.host:port``; blocks unless ``prevent_thread_lock``."""
    credentials = check_binding(settings, auth)
    assistant = assistant or Assistant(settings)
    demo = build_app(assistant)
    assistant.warm_up_in_background()  # the models load while the page opens
    if settings.sync_minutes:  # off by default
        from .sources.schedule import PeriodicSync
        PeriodicSync(assistant.sources.sync, settings.sync_minutes).start()
    demo.launch(prevent_thread_lock=prevent_thread_lock, **launch_options(settings, credentials))
    return demo
