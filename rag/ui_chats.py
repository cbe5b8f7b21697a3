"""Saved conversations in the page: the list, and Markdown downloads of a chat or an answer.

Conversations are saved by `rag.chats` after every turn (`Assistant.conversation(save=True)`)
and listed by title; the page reopens one by its id (`Assistant.conversation(chat_id)`),
after a reload too. Downloads are `data:` links made from `rag.export`, so nothing leaves the
page and no file is written.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from .answer import Answer
from .assistant import Assistant
from .conversation import Conversation, Turn
from .export import chat_markdown, turn_markdown
from .ui_words import plural, short


def chat_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(label, id) of every saved chat, the most recently answered first."""
    return [(f"{short(c.title, 60)} ({plural(c.turns, 'question')})", c.id)
            for c in assistant.chats.list()]


def markdown_link(markdown: str, name: str, label: str, css: str = "rag-save") -> str:
    """A link that downloads ``markdown`` as ``name``.md, made in the page."""
    href = "data:text/markdown;charset=utf-8," + quote(markdown)
    return (f'<a class="{css}" download="{html.escape(slug(name))}.md" '
            f'href="{html.escape(href)}">{html.escape(label)}</a>')


def answer_links(question: str, answer: Answer) -> str:
    """'Copy' and 'Save as Markdown' for one answer, with its numbered sources and quotes."""
    markdown = turn_markdown(Turn(question, answer))
    return (f'<button type="button" class="rag-copy" data-md="{html.escape(markdown)}">Copy'
            f"</button>{markdown_link(markdown, question, 'Save as Markdown')}")


def conversation_link(conversation: Conversation) -> str:
    """The whole conversation as a Markdown download, or a note while it is empty."""
    if not conversation.turns:
        return '<p class="rag-note">Ask a question: the conversation is saved as you go.</p>'
    title = conversation.title or conversation.turns[0].question
    return markdown_link(chat_markdown(conversation), title,
                         "Download this conversation (Markdown)", "rag-save rag-export")


def slug(text: str) -> str:
    """A file name from a title: 'Why might the rivalry grow?' -> 'why-might-the-rivalry-grow'."""
    words = re.findall(r"\w+", text.casefold())
    return "-".join(words)[:60].strip("-") or "answer"
