"""The browser UI: a thin Gradio layer over the `Assistant` API.

    from rag.ui import build_app
    build_app(assistant).launch(css=CSS, head=HEAD, theme=THEME)   # or mounted by rag.server

The page shows the sources as soon as retrieval has them, the answer as a draft being
checked, each sentence settled in place, and a Stop that really stops the model; saved
conversations are listed beside it. The Corpus tab lists the articles and adds them from
files, pasted text, web pages and feeds. This module lays the page out; `rag.ui_events`
wires each event to one public call; `rag.ui_render`, `rag.ui_sources`, `rag.ui_corpus`,
`rag.ui_feeds` and `rag.ui_chats` render HTML; `rag.ui_chat` keeps a tab's chat;
`rag.ui_assets` holds the stylesheet and script. Article text is untrusted: all of it is escaped.
"""

from __future__ import annotations

import os

# Privacy: no usage analytics, no calls to the Hugging Face Hub. Set before gradio loads.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

from dataclasses import dataclass  # noqa: E402

import gradio as gr  # noqa: E402

from . import ui_events  # noqa: E402
from .assistant import Assistant  # noqa: E402
from .corpus import SUPPORTED_SUFFIXES  # noqa: E402
from .ui_assets import CSS, HEAD, THEME  # noqa: E402,F401 - the server passes them on
from .ui_chat import ChatSession  # noqa: E402
from .ui_render import chat_html, sources_panel_html  # noqa: E402

CHAT_CONCURRENCY = 8  # chats in flight at once; the generator serializes its own calls


@dataclass
class ChatView:
    """The chat tab's components."""

    session: gr.State
    chat: gr.HTML
    sources: gr.HTML
    question: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    new: gr.Button
    message: gr.HTML
    filters: gr.Accordion
    date_from: gr.DateTime
    date_to: gr.DateTime
    undated: gr.Checkbox
    pick_sources: gr.Dropdown
    k: gr.Slider
    max_tokens: gr.Slider


@dataclass
class ChatsView:
    """The saved conversations' components (the sidebar)."""

    remembered: gr.BrowserState  # the conversation open in this browser, across reloads
    listed: gr.Radio
    export: gr.HTML
    delete: gr.Button
    confirm: gr.Column
    confirm_text: gr.HTML
    confirm_yes: gr.Button
    confirm_no: gr.Button


@dataclass
class CorpusView:
    """The corpus tab's components."""

    status: gr.HTML
    table: gr.HTML
    upload: gr.File
    import_button: gr.Button
    paste_title: gr.Textbox
    paste_text: gr.Textbox
    paste_button: gr.Button
    message: gr.HTML
    to_remove: gr.Dropdown
    remove_button: gr.Button
    confirm: gr.Column
    confirm_text: gr.HTML
    confirm_yes: gr.Button
    confirm_no: gr.Button


@dataclass
class SourcesView:
    """The corpus tab's web pages and feeds."""

    urls: gr.Textbox
    add_urls: gr.Button
    feed_url: gr.Textbox
    remove_gone: gr.Checkbox
    follow: gr.Button
    followed: gr.State      # the feed just followed, synced next (None if it failed)
    message: gr.HTML
    feeds: gr.HTML
    feed_choice: gr.Dropdown
    sync: gr.Button
    unfollow: gr.Button
    to_unfollow: gr.State   # the feed the confirmation asks about
    confirm: gr.Column
    confirm_text: gr.HTML
    keep_articles: gr.Radio
    confirm_yes: gr.Button
    confirm_no: gr.Button


def build_app(assistant: Assistant, *, save_chats: bool = True) -> gr.Blocks:
    """The Gradio app over ``assistant`` (shared by every browser session). With
    ``save_chats`` each conversation is kept in `Assistant.chats` and listed."""
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        chats = _chats_sidebar() if save_chats else None
        gr.Markdown("## News assistant\nAsk about your articles: every answer cites its "
                    "sources, and each sentence is checked against them. Everything runs "
                    "on this machine.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                chat = _chat_tab(assistant, save_chats)
            with gr.Tab("Corpus", id="corpus-tab"):
                corpus = _corpus_tab()
                web = _sources_section()
        events = ui_events.wire_chat(chat, CHAT_CONCURRENCY)
        if chats is not None:
            ui_events.wire_chats(demo, chats, chat, events, assistant)
        ui_events.wire_corpus(demo, corpus, web, chat, assistant)
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    return demo


def _chat_tab(assistant: Assistant, save_chats: bool) -> ChatView:
    settings = assistant.settings
    # Gradio gives each browser session a deep copy: a new, empty chat
    session = gr.State(ChatSession(assistant, save=save_chats))
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            chat = gr.HTML(chat_html([]), elem_id="chat", js_on_load=None, autoscroll=True)
            with gr.Row(equal_height=True):
                question = gr.Textbox(label="Your question", scale=5, min_width=180,
                                      placeholder="Ask about the articles…", elem_id="question",
                                      autofocus=True, lines=1, max_lines=4, submit_btn=False)
                ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, visible=False,
                                 elem_id="stop")
            message = gr.HTML("", elem_id="filter-message", js_on_load=None)
            new = gr.Button("New conversation", size="sm", elem_id="clear")
            filters = _filters(settings)
        with gr.Column(scale=2, min_width=280, elem_id="sources-column"):
            sources = gr.HTML(sources_panel_html([]), label="Sources", show_label=True,
                              container=True, padding=True, elem_id="sources", js_on_load=None)
    return ChatView(session, chat, sources, question, ask, stop, new, message, *filters)


def _filters(settings) -> tuple:
    with gr.Accordion("Filters and settings", open=False, elem_id="filters") as box:
        with gr.Row():
            date_from = gr.DateTime(label="From", include_time=False, type="string",
                                    elem_id="date-from", min_width=150,
                                    info="Articles published on or after this day")
            date_to = gr.DateTime(label="To", include_time=False, type="string",
                                  elem_id="date-to", min_width=150,
                                  info="Articles published on or before this day")
        undated = gr.Checkbox(True, label="Keep articles without a date", elem_id="undated")
        pick = gr.Dropdown(label="Sources", choices=[], value=[], multiselect=True,
                           info="All sources when none is chosen", elem_id="source")
        k = gr.Slider(1, 20, value=settings.top_k, step=1, elem_id="k",
                      label="Passages to search")
        max_tokens = gr.Slider(32, 1024, value=settings.max_answer_tokens, step=16,
                               label="Longest answer (tokens)", elem_id="max-tokens")
    return box, date_from, date_to, undated, pick, k, max_tokens


def _chats_sidebar() -> ChatsView:
    with gr.Sidebar(label="Conversations", open=False, width=300, elem_id="chats-sidebar"):
        # only the id of the open conversation is kept in the browser; it is not secret
        remembered = gr.BrowserState("", storage_key="rag-open-chat", secret="rag-open-chat")
        listed = gr.Radio(label="Saved conversations", choices=[], value=None,
                          elem_id="chats", info="The most recent first")
        export = gr.HTML(elem_id="chat-export", js_on_load=None)
        delete = gr.Button("Delete this conversation…", size="sm", elem_id="chat-delete")
        with gr.Column(visible=False, variant="panel", elem_id="confirm-delete") as confirm:
            confirm_text = gr.HTML(elem_id="confirm-delete-text", js_on_load=None)
            with gr.Row():
                yes = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete-yes")
                no = gr.Button("Keep it", elem_id="confirm-delete-no")
    return ChatsView(remembered, listed, export, delete, confirm, confirm_text, yes, no)


def _corpus_tab() -> CorpusView:
    status = gr.HTML(elem_id="corpus-status", js_on_load=None)
    table = gr.HTML(elem_id="articles", js_on_load=None)
    with gr.Row(equal_height=False):
        with gr.Column(min_width=280):
            upload = gr.File(label="Upload article files ("
                             + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                             file_count="multiple", type="filepath",
                             file_types=sorted(SUPPORTED_SUFFIXES), elem_id="upload")
            import_button = gr.Button("Import files", variant="primary", elem_id="import")
        with gr.Column(min_width=280):
            paste_title = gr.Textbox(label="Title of the pasted article", elem_id="paste-title")
            paste_text = gr.Textbox(label="Article text", lines=6, elem_id="paste-text")
            paste_button = gr.Button("Add pasted article", elem_id="paste")
    message = gr.HTML("", elem_id="corpus-message", js_on_load=None)
    with gr.Row(equal_height=True):
        to_remove = gr.Dropdown(label="Article to remove", choices=[], value=None, scale=4,
                                min_width=200, elem_id="remove-choice")
        remove_button = gr.Button("Remove…", scale=1, min_width=100, elem_id="remove")
    with gr.Column(visible=False, variant="panel", elem_id="confirm-remove") as confirm:
        confirm_text = gr.HTML(elem_id="confirm-text", js_on_load=None, padding=True)
        with gr.Row():
            confirm_yes = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-yes")
            confirm_no = gr.Button("Keep it", elem_id="confirm-no")
    return CorpusView(status, table, upload, import_button, paste_title, paste_text,
                      paste_button, message, to_remove, remove_button, confirm, confirm_text,
                      confirm_yes, confirm_no)


def _sources_section() -> SourcesView:
    gr.Markdown("### Web pages and feeds\nAdded pages and feeds are fetched only when you "
                "ask: adding, following, or Sync now.", elem_id="web-heading")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=280):
            urls = gr.Textbox(label="Web pages or PDFs, by address", lines=3, max_lines=10,
                              placeholder="https://example.org/news/story.html\n"
                                          "One address per line", elem_id="urls")
            add_urls = gr.Button("Add pages", variant="primary", elem_id="add-urls")
        with gr.Column(min_width=280):
            feed_url = gr.Textbox(label="Feed to follow (RSS or Atom, or a site that announces "
                                  "one)", placeholder="https://example.org/rss.xml",
                                  elem_id="feed-url")
            remove_gone = gr.Checkbox(False, label="Remove the articles of items that leave "
                                      "the feed", elem_id="remove-gone")
            follow = gr.Button("Follow feed", elem_id="follow")
    message = gr.HTML("", elem_id="web-message", js_on_load=None)
    feeds = gr.HTML(elem_id="feeds", js_on_load=None)
    with gr.Row():
        sync = gr.Button("Sync all feeds now", size="sm", scale=0, min_width=180, elem_id="sync")
    with gr.Row(equal_height=True):
        feed_choice = gr.Dropdown(label="Feed to stop following", choices=[], value=None,
                                  scale=4, min_width=200, elem_id="feed-choice")
        unfollow = gr.Button("Stop following…", scale=1, min_width=100, elem_id="unfollow")
    with gr.Column(visible=False, variant="panel", elem_id="confirm-unfollow") as confirm:
        confirm_text = gr.HTML(elem_id="confirm-unfollow-text", js_on_load=None, padding=True)
        keep = gr.Radio([("Remove its articles from the library", "remove"),
                         ("Keep its articles", "keep")], value="remove", label="Its articles",
                        elem_id="unfollow-articles")
        with gr.Row():
            yes = gr.Button("Yes, stop following it", variant="stop",
                            elem_id="confirm-unfollow-yes")
            no = gr.Button("Keep following it", elem_id="confirm-unfollow-no")
    return SourcesView(urls, add_urls, feed_url, remove_gone, follow, gr.State(None), message,
                       feeds, feed_choice, sync, unfollow, gr.State(None), confirm, confirm_text,
                       keep, yes, no)
