"""The Corpus tab: the articles as a readable list, and what importing, pasting and removing
did, said plainly ("Imported 1 article; 2 files skipped: …").

Each action makes one public call (`Assistant.import_files`, `add_text`, `remove`,
`articles`) and returns HTML; article titles and file names are escaped.
"""

from __future__ import annotations

import html
import logging
import os
from typing import Sequence

from .assistant import Assistant
from .corpus import Article
from .library import IndexReport
from .ui_words import one_line, plural, seconds, short

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "it": "Italian", "fr": "French", "de": "German",
             "es": "Spanish", "pt": "Portuguese"}
FLAG = ("contains text addressed to the assistant; that text is never used as evidence")


def articles_html(articles: Sequence[Article]) -> str:
    """The articles as a table (cards at phone width): title, date, source, language."""
    if not articles:
        return ('<p class="rag-note">No articles yet: upload files, paste one, or add web '
                "pages and feeds below.</p>")
    rows = []
    for a in articles:
        flag = (f'<span class="rag-flag" title="{FLAG}">instructions for the assistant</span>'
                if a.instructions else "")
        rows.append(f'<tr><td class="title">{title_html(a)}{flag}</td>'
                    f"<td>{html.escape(a.date)}</td><td>{html.escape(a.source)}</td>"
                    f"<td>{html.escape(LANGUAGES.get(a.lang, a.lang))}</td></tr>")
    return ('<table class="rag-articles"><thead><tr><th scope="col">Title</th>'
            '<th scope="col">Date</th><th scope="col">Source</th><th scope="col">Language'
            f'</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def title_html(article: Article) -> str:
    """The article's title, linked to its web address when it has one (http or https)."""
    title = html.escape(article.title or "Untitled")
    if not article.url.lower().startswith(("http://", "https://")):
        return title
    return (f'<a href="{html.escape(article.url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer" title="{html.escape(article.url, quote=True)}">{title}</a>')


def library_status(articles: Sequence[Article]) -> str:
    flagged = sum(1 for a in articles if a.instructions)
    text = f"{plural(len(articles), 'article')} in the library."
    if flagged:
        text += (f" {plural(flagged, 'article')} {'contains' if flagged == 1 else 'contain'} "
                 "instructions addressed to the assistant; they are never used as evidence.")
    return text


def remove_choices(articles: Sequence[Article]) -> list[tuple[str, str]]:
    """(label, id) for the remove list: the title, and the date or source to tell twins apart."""
    return [(short(a.title or "Untitled", 70) + (f" ({a.date or a.source})"
                                                  if a.date or a.source else ""), a.id)
            for a in articles]


def report_html(report: IndexReport, verb: str = "Imported", skipped: str = "file") -> str:
    """'Imported 1 article (3 passages in 0.4 s); 2 files skipped: …' and what the library
    holds now (``skipped`` names what was skipped: a file, a URL)."""
    done = [x for x in (report.added and f"{verb} {plural(report.added, 'article')}",
                        report.updated and f"updated {plural(report.updated, 'article')}",
                        report.unchanged and f"{plural(report.unchanged, 'article')} already "
                                             "in the library") if x]
    summary = "; ".join(done) or f"Nothing {verb.lower()}"
    if report.chunks_embedded:
        summary += (f" ({plural(report.chunks_embedded, 'passage')} in "
                    f"{seconds(report.seconds * 1000)})")
    summary = summary[0].upper() + summary[1:]
    if report.skipped:
        summary += f"; {plural(len(report.skipped), skipped)} skipped:"
    out = f"<p>{html.escape(summary if report.skipped else summary + '.')}</p>"
    if report.skipped:
        out += "<ul>" + "".join(f"<li>{html.escape(skipped_line(s.path, s.reason))}</li>"
                                for s in report.skipped) + "</ul>"
    notes = [f"{plural(len(report.flagged), 'article')} {FLAG}: {', '.join(report.flagged)}."
             ] if report.flagged else []
    notes.append(f"The library holds {plural(report.total_articles, 'article')}.")
    return f'<div class="rag-message ok">{out}<p>{html.escape(" ".join(notes))}</p></div>'


def skipped_line(path: str, reason: str) -> str:
    """'notes.bin: binary file (contains NUL bytes)'; the name is said once. A URL is said
    whole: 'https://example.org/a: HTTP 404 Not Found'."""
    if "://" in path:
        return f"{path}: {reason.removeprefix(f'{path}: ')}"
    name = os.path.basename(path.split("#")[0]) + (f"#{path.split('#')[1]}" if "#" in path else "")
    reason = reason.removeprefix(f"{os.path.basename(path.split('#')[0])}: ")
    return f"{name}: {reason}"


def error_html(text: str) -> str:
    return f'<div class="rag-message error" role="alert">{html.escape(text)}</div>'


class CorpusActions:
    """What the Corpus tab does, each through one public call of the assistant."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def import_files(self, paths: Sequence[str]) -> str:
        if not paths:
            return error_html("Choose one or more article files first.")
        try:
            return report_html(self.assistant.import_files(paths, progress=True))
        except Exception as error:  # noqa: BLE001 - said in the page, logged in full
            log.exception("import failed")
            return error_html(f"Import failed: {one_line(error)}")

    def add_text(self, title: str, text: str) -> str:
        if not (text or "").strip():
            return error_html("Paste the article's text first.")
        try:
            return report_html(self.assistant.add_text(text, title=(title or "").strip()),
                               "Added")
        except Exception as error:  # noqa: BLE001
            log.exception("adding pasted text failed")
            return error_html(f"Could not add the article: {one_line(error)}")

    def confirm_text(self, article_id: str | None) -> str:
        article = self.find(article_id)
        if article is None:
            return ""
        return (f"Remove “{html.escape(article.title or 'Untitled')}”? It will no longer be "
                "searched or cited, and a file uploaded here is deleted.")

    def remove(self, article_id: str | None) -> str:
        article = self.find(article_id)
        if article is None:
            return error_html("Choose an article to remove first.")
        try:
            report = self.assistant.remove([article.id])
        except Exception as error:  # noqa: BLE001
            return error_html(f"Could not remove it: {one_line(error)}")
        return (f'<div class="rag-message ok"><p>Removed “{html.escape(article.title)}”. '
                f"The library holds {plural(report.total_articles, 'article')}.</p></div>")

    def find(self, article_id: str | None) -> Article | None:
        return next((a for a in self.assistant.articles() if a.id == article_id), None)
