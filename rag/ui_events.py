"""The page's events: each one makes one public call and returns what the page shows.

Asking streams the turn (`ChatSession.answer`): Ask is disabled and Stop shown while it
runs; Stop cancels the response. A bad date is said beside the question, in words, and
nothing is asked. Saved conversations are listed, reopened (after a reload too), exported
and deleted with a confirmation; so are articles in the Corpus tab, where web pages are
added by address and feeds followed, synced and unfollowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import gradio as gr

from .assistant import Assistant
from .ui_chat import ChatSession, parse_filters
from .ui_chats import chat_choices, conversation_link
from .ui_corpus import (CorpusActions, articles_html, error_html, library_status,
                        remove_choices)
from .ui_feeds import SourcesActions, feed_choices, feeds_html, unfollow_question
from .ui_render import chat_html, sources_panel_html
from .ui_words import short

if TYPE_CHECKING:
    from .ui import ChatsView, ChatView, CorpusView, SourcesView

PRIVATE = dict(api_visibility="private", show_progress="hidden")
CORPUS = dict(concurrency_id="corpus", concurrency_limit=1)  # one change of the library at a time
# The date pickers keep a typed date that does not parse to themselves; the question is
# sent with what the reader typed, so that a bad date is said, not silently dropped.
TYPED_DATES = """(...args) => {
  const typed = id => { const el = document.querySelector('#' + id + ' input'); return el ? el.value : null; };
  const from = typed('date-from'), to = typed('date-to');
  if (from !== null) args[2] = from;
  if (to !== null) args[3] = to;
  return args;
}"""


# --------------------------------------------------------------------------- asking

def wire_chat(view: "ChatView", concurrency: int) -> tuple:
    """Ask, Stop and New conversation; returns the ask and new events (to chain on)."""
    outputs = [view.question, view.chat, view.sources, view.ask, view.stop, view.message,
               view.filters]

    def respond(session: ChatSession, question: str, date_from: str | None,
                date_to: str | None, picked: list[str] | None, undated: bool, k: float,
                max_tokens: float) -> Iterator[tuple]:
        question = (question or "").strip()
        if not question or session.running:
            yield tuple(gr.update() for _ in outputs)
            return
        try:
            filters = parse_filters(date_from, date_to, picked, undated)
        except ValueError as error:  # said beside the question; the chat is left as it is
            yield (gr.update(), gr.update(), gr.update(), gr.update(), gr.update(),
                   error_html(str(error)), gr.update(open=True))
            return
        for change in session.answer(question, filters=filters, k=int(k),
                                     max_tokens=int(max_tokens)):
            yield chat_update(session, change)

    def stop(session: ChatSession):
        session.stop()
        return gr.update(value="Stopping…", interactive=False)

    def new_chat(session: ChatSession) -> tuple:
        """A new, empty conversation. The question box is left as it is: what the reader
        typed meanwhile (the reply may come after they start typing) is not wiped."""
        session.restart()
        return (*shown(session), gr.update(), "")

    inputs = [view.session, view.question, view.date_from, view.date_to, view.pick_sources,
              view.undated, view.k, view.max_tokens]
    ask = gr.on([view.question.submit, view.ask.click], respond, inputs=inputs,
                outputs=outputs, api_name="ask", concurrency_limit=concurrency,
                concurrency_id="chat", show_progress="hidden", js=TYPED_DATES)
    view.stop.click(stop, inputs=view.session, outputs=view.stop, **PRIVATE)
    new = view.new.click(new_chat, inputs=view.session,
                         outputs=[view.chat, view.sources, view.question, view.message],
                         **PRIVATE)
    return ask, new


def chat_update(session: ChatSession, change: str) -> tuple:
    """The chat tab's outputs after ``change`` to the turn being answered."""
    running = change != "done"
    sources = sources_panel_html(session.turns) if change in ("started", "sources", "done") \
        else gr.update()
    return ("" if change == "started" else gr.update(), chat_html(session.turns), sources,
            gr.update(interactive=not running),
            gr.update(visible=running, value="Stop", interactive=running),
            "" if change == "started" else gr.update(), gr.update())


def shown(session: ChatSession) -> tuple[str, str]:
    """The chat and its sources, as the session holds them."""
    return chat_html(session.turns), sources_panel_html(session.turns)


# --------------------------------------------------------------------------- conversations

def wire_chats(demo: gr.Blocks, view: "ChatsView", chat: "ChatView", events: tuple,
               assistant: Assistant) -> None:
    """The saved conversations: listed, reopened, exported, deleted, remembered."""
    def listing(session: ChatSession) -> tuple:
        chat_id = session.conversation.id if session.saved else ""
        return (chat_id, gr.update(choices=chat_choices(assistant), value=chat_id or None),
                conversation_link(session.conversation))

    def open_chat(session: ChatSession, chat_id: str | None) -> tuple:
        session.reopen(chat_id)
        return (*shown(session), *listing(session))

    def ask_delete(session: ChatSession) -> tuple:
        if not session.saved:
            return gr.update(visible=False), ""
        return gr.update(visible=True), (f"<p>Delete “{short(session.conversation.title)}” "
                                         "and its answers? This cannot be undone.</p>")

    def delete(session: ChatSession) -> tuple:
        if session.saved:
            assistant.chats.delete(session.conversation.id)
        session.restart()
        return (*shown(session), *listing(session), gr.update(visible=False))

    shown_outputs = [chat.chat, chat.sources]
    listed = [view.remembered, view.listed, view.export]
    for event in events:  # an answer, a new conversation
        event.then(listing, inputs=chat.session, outputs=listed, **PRIVATE)
    view.listed.input(open_chat, inputs=[chat.session, view.listed],
                      outputs=shown_outputs + listed, **PRIVATE)
    view.delete.click(ask_delete, inputs=chat.session,
                      outputs=[view.confirm, view.confirm_text], **PRIVATE)
    view.confirm_no.click(lambda: gr.update(visible=False), outputs=view.confirm, **PRIVATE)
    view.confirm_yes.click(delete, inputs=chat.session,
                           outputs=shown_outputs + listed + [view.confirm], **PRIVATE)

    def resume(session: ChatSession, chat_id: str | None) -> tuple:
        session.resume(chat_id)
        return (*shown(session), *listing(session))

    demo.load(resume, inputs=[chat.session, view.remembered],
              outputs=shown_outputs + listed, **PRIVATE)


# --------------------------------------------------------------------------- the corpus

def wire_corpus(demo: gr.Blocks, view: "CorpusView", web: "SourcesView", chat: "ChatView",
                assistant: Assistant) -> None:
    """Import, paste and remove (after a confirmation); web pages and feeds; the lists and
    the Sources filter are refreshed after each, and when the page opens."""
    actions, web_actions = CorpusActions(assistant), SourcesActions(assistant)

    def refresh():
        articles = assistant.articles()
        feeds, counts = web_actions.listing(articles)
        return (library_status(articles), articles_html(articles),
                gr.update(choices=remove_choices(articles), value=None),
                gr.update(choices=assistant.library.sources()),
                feeds_html(feeds, counts), gr.update(choices=feed_choices(feeds), value=None))

    def import_files(files, progress=gr.Progress(track_tqdm=True)):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        progress(0, desc="Importing…")
        return actions.import_files(paths), None

    def confirm(article_id: str | None):
        text = actions.confirm_text(article_id)
        if not text:
            return gr.update(visible=False), "", error_html("Choose an article to remove first.")
        return gr.update(visible=True), f"<p>{text}</p>", ""

    refreshed = [view.status, view.table, view.to_remove, chat.pick_sources, web.feeds,
                 web.feed_choice]
    for event in (
            view.import_button.click(import_files, inputs=view.upload,
                                     outputs=[view.message, view.upload], api_name="import",
                                     **CORPUS),
            view.paste_button.click(lambda t, x: (actions.add_text(t, x), "", ""),
                                    inputs=[view.paste_title, view.paste_text],
                                    outputs=[view.message, view.paste_title, view.paste_text],
                                    api_name="add_text", **CORPUS),
            view.confirm_yes.click(lambda i: (actions.remove(i), gr.update(visible=False)),
                                   inputs=view.to_remove, outputs=[view.message, view.confirm],
                                   api_name="remove", **CORPUS),
            *wire_sources(web, web_actions)):
        event.then(refresh, outputs=refreshed, **PRIVATE)
    view.remove_button.click(confirm, inputs=view.to_remove,
                             outputs=[view.confirm, view.confirm_text, view.message], **PRIVATE)
    for trigger in (view.confirm_no.click, view.to_remove.change):
        trigger(lambda: gr.update(visible=False), outputs=view.confirm, **PRIVATE)
    demo.load(refresh, outputs=refreshed, api_name="articles")


def wire_sources(view: "SourcesView", actions: SourcesActions) -> list:
    """Add pages by address, follow a feed (then sync it), sync all feeds, stop following
    one; returns the events after which the lists are refreshed. Progress is shown over the
    address box or the list of feeds while pages are fetched."""

    def add_urls(text: str, progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Fetching…")
        return actions.add_urls(text)  # the addresses skipped stay in the box

    def follow(url: str, remove_gone: bool, progress=gr.Progress()):
        progress(0, desc="Reading the feed…")
        message, feed = actions.follow(url, remove_gone)
        return message, feed, "" if feed else gr.update()

    def sync_followed(feed, progress=gr.Progress(track_tqdm=True)):
        if feed is None:  # following failed: its message stays
            return gr.update(), gr.update()
        progress(0, desc="Fetching its articles…")
        return actions.sync(feed), gr.update()

    def sync_all(progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Syncing…")
        return actions.sync(), gr.update()

    listed = [view.message, view.feeds]
    followed = view.follow.click(follow, inputs=[view.feed_url, view.remove_gone],
                                 outputs=[view.message, view.followed, view.feed_url],
                                 api_name="follow_feed", **CORPUS)
    return [view.add_urls.click(add_urls, inputs=view.urls, outputs=[view.message, view.urls],
                                api_name="add_urls", **CORPUS),
            followed.then(sync_followed, inputs=view.followed, outputs=listed,
                          api_visibility="private", **CORPUS),
            view.sync.click(sync_all, outputs=listed, api_name="sync_feeds", **CORPUS),
            wire_unfollow(view, actions)]


def wire_unfollow(view: "SourcesView", actions: SourcesActions):
    """Stop following a feed after a confirmation that asks whether to keep its articles;
    returns the event that does it."""
    def confirm(url: str | None):
        feed = actions.find(url)
        if feed is None:
            return (gr.update(visible=False), "", None,
                    error_html("Choose a feed to stop following first."))
        return gr.update(visible=True), unfollow_question(feed), feed, ""

    def unfollow(feed, keep: str):
        return actions.unfollow(feed, keep == "keep"), gr.update(visible=False)

    view.unfollow.click(confirm, inputs=view.feed_choice, outputs=[
        view.confirm, view.confirm_text, view.to_unfollow, view.message], **PRIVATE)
    for trigger in (view.confirm_no.click, view.feed_choice.change):
        trigger(lambda: gr.update(visible=False), outputs=view.confirm, **PRIVATE)
    return view.confirm_yes.click(unfollow, inputs=[view.to_unfollow, view.keep_articles],
                                  outputs=[view.message, view.confirm], api_name="unfollow_feed",
                                  **CORPUS)
