"""PDFs generated here (reportlab): text page by page, where each page starts, metadata;
scans, encrypted and broken PDFs refused with a reason; `rag index` reads .pdf files."""

from __future__ import annotations

import io
import json

import pytest
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from rag.corpus import BadArticle, load_articles
from rag.sources.pdf import page_of, read_pdf

SENTENCES = [
    "The regional council approved the new budget for public transport on Tuesday.",
    "Funding for night buses rises by twelve percent compared with last year.",
    "The opposition criticised the delay of the tram extension to the airport.",
    "A public consultation on the cycling network will open in the autumn.",
]


def make_pdf(pages: list[list[str]], *, title: str = "", author: str = "",
             encrypt: pdfencrypt.StandardEncryption | None = None,
             header: str = "", numbers: bool = False) -> bytes:
    """A PDF with one line of text per string, page by page."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    for number, lines in enumerate(pages, start=1):
        y = 800
        if header:
            pdf.drawString(72, y, header)
            y -= 28
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 14
        if numbers:
            pdf.drawString(300, 40, str(number))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def wrapped(text: str, width: int = 60) -> list[str]:
    """``text`` broken into lines as a layout would."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return lines + [line]


def test_pages_are_read_in_order_with_their_offsets():
    pages = [wrapped(" ".join(SENTENCES[:2])), wrapped(" ".join(SENTENCES[2:]))]
    article = read_pdf(make_pdf(pages, title="Transport budget", author="Anna Bianchi"),
                       path="budget.pdf")
    assert (article.title, article.author, article.lang) == ("Transport budget",
                                                             "Anna Bianchi", "en")
    assert len(article.pages) == 2 and article.pages[0] == 0
    second = article.text[article.pages[1]:]
    assert second.startswith("The opposition criticised")
    # wrapped lines are joined back into sentences
    assert SENTENCES[0] + " " + SENTENCES[1] in article.text
    assert page_of(article, article.text.index("night buses")) == 1
    assert page_of(article, article.text.index("cycling network")) == 2


def test_page_numbers_and_running_headers_are_dropped():
    pages = [[s] for s in SENTENCES]
    article = read_pdf(make_pdf(pages, header="City News Weekly", numbers=True),
                       path="weekly.pdf", title="Weekly")
    assert "City News Weekly" not in article.text
    assert [article.text[start:].split("\n")[0] for start in article.pages] == SENTENCES


def test_hyphenated_words_are_joined():
    lines = ["The council said the new timetable improves the connec-",
             "tions between the suburbs and the centre of the city a lot.",
             "Short line."]
    article = read_pdf(make_pdf([lines]), path="x.pdf", title="Timetable")
    assert "improves the connections between the suburbs" in article.text


def test_empty_page_keeps_page_numbers_right():
    article = read_pdf(make_pdf([[SENTENCES[0]], [], [SENTENCES[1]]]), path="x.pdf")
    assert len(article.pages) == 3
    assert page_of(article, article.text.index("night buses")) == 3


def test_title_from_first_line_when_metadata_has_none():
    article = read_pdf(make_pdf([["Budget approved"] + wrapped(SENTENCES[0])]), path="x.pdf")
    assert article.title == "Budget approved"


def test_filename_like_title_is_ignored():
    pdf = make_pdf([["Budget approved", SENTENCES[0]]], title="Microsoft Word - draft3.docx")
    assert read_pdf(pdf, path="x.pdf").title == "Budget approved"


def test_scanned_pdf_is_refused_as_such():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for _ in range(2):
        pdf.rect(72, 72, 400, 600, fill=1)  # an image of a page, no text layer
        pdf.showPage()
    pdf.save()
    with pytest.raises(BadArticle, match=r"no text layer on any of its 2 page\(s\): a scanned"):
        read_pdf(buffer.getvalue(), path="scan.pdf")


def test_password_protected_pdf_is_refused():
    secret = pdfencrypt.StandardEncryption("reader-password", ownerPassword="owner")
    with pytest.raises(BadArticle, match="encrypted PDF: it needs a password"):
        read_pdf(make_pdf([[SENTENCES[0]]], encrypt=secret), path="secret.pdf")


def test_pdf_encrypted_only_against_editing_is_read():
    restricted = pdfencrypt.StandardEncryption("", ownerPassword="owner", canModify=0)
    article = read_pdf(make_pdf([[SENTENCES[0]]], encrypt=restricted), path="locked.pdf")
    assert SENTENCES[0] in article.text


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.4\n garbage", "broken PDF"),
    (b"<html>not a pdf</html>", "not a PDF"),
])
def test_broken_pdf_is_refused(data, reason):
    with pytest.raises(BadArticle, match=reason):
        read_pdf(data, path="bad.pdf")


def test_truncated_pdf_is_refused_or_read_never_crashes():
    data = make_pdf([[s] for s in SENTENCES])
    for cut in (len(data) // 4, len(data) // 2, len(data) - 40):
        try:
            article = read_pdf(data[:cut], path="cut.pdf")
        except BadArticle as exc:
            assert str(exc)
        else:
            assert article.text


def test_rag_index_reads_pdf_files(tmp_path):
    (tmp_path / "budget.pdf").write_bytes(make_pdf([[s] for s in SENTENCES], title="Budget"))
    (tmp_path / "budget.meta.json").write_text(json.dumps({"source": "Comune", "date": "2026-03-02"}))
    (tmp_path / "scan.pdf").write_bytes(make_pdf([[]]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 nothing else")
    loaded = load_articles([tmp_path])
    [article] = loaded.articles
    assert (article.title, article.source, article.date) == ("Budget", "Comune", "2026-03-02")
    assert article.path == str(tmp_path / "budget.pdf") and len(article.pages) == 4
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in loaded.skipped}
    assert reasons["scan.pdf"].startswith("no text layer")
    assert reasons["broken.pdf"].startswith("broken PDF")


def test_citation_of_a_pdf_names_its_page(tmp_path):
    from rag.assistant import Assistant
    from rag.settings import Settings
    from tests.fakes import FakeEmbedder, FakeGenerator

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "budget.pdf").write_bytes(
        make_pdf([wrapped(s) for s in SENTENCES], title="Transport budget"))
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": tmp_path / "c"})
    assistant = Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())
    assistant.index_files([tmp_path / "docs"])
    answer = assistant.ask("When will the consultation on the cycling network open?").answer()
    cited = [c for c in answer.citations if "cycling network" in c.quote.text]
    assert cited and all(c.page == 4 for c in cited), answer.to_json()
