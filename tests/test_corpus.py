"""Tests for rag.corpus: formats, metadata, boilerplate, ids, sidecars, language."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rag.corpus import (
    SUPPORTED_SUFFIXES, Article, answer_language, article_from_text, article_id, clean_text,
    detect_language, load_articles,
)

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BUNDLED = CORPUS / "tesla-data-center.txt"
TITLE = "La rivalità tra Musk e Bezos potrebbe intensificarsi?"
BODY_EN = ("Tesla may soon have another business besides electric vehicles. "
           "A job listing spotted by Electrek asks for a data center program manager. ")
BODY_IT = ("Tesla potrebbe presto avere un altro segmento di attività oltre a quello dei veicoli elettrici. "
           "Un annuncio di lavoro individuato da Electrek richiede un responsabile per i centri dati. ")


def load_one(path: Path) -> Article:
    result = load_articles([path])
    assert result.skipped == ()
    assert len(result.articles) == 1
    return result.articles[0]


@pytest.fixture(scope="module")
def bundled() -> Article:
    return load_one(BUNDLED)


# --------------------------------------------------------------------------- bundled article

def test_bundled_article_metadata(bundled):
    assert bundled.title == TITLE
    assert bundled.lang == "it"
    assert bundled.path == str(BUNDLED)
    assert bundled.source == "" and bundled.date == ""  # the text does not say
    assert len(bundled.id) == 16


def test_bundled_article_boilerplate_removed(bundled):
    for gone in ("Ricevi una notifica", "3' di lettura", "Immagine di Blomst da Pixabay", "Pixabay"):
        assert gone not in bundled.text
    assert bundled.text.count(TITLE) == 1  # the repeated title line is gone
    assert bundled.text.startswith(TITLE)
    assert bundled.text.endswith("ha detto Chanos l’anno scorso.")
    for kept in ("Tesla Inc (NASDAQ:TSLA) potrebbe presto avere un altro segmento",
                 "“Sr. Engineering Program Manager, Data Center”",
                 "il settore dei data center ha un valore di oltre 250 miliardi di dollari",
                 "Amazon ha registrato un fatturato di 22,1 miliardi di dollari per AWS",
                 "Cosa è successo"):
        assert kept in bundled.text
    assert "\n\n\n" not in bundled.text


def test_bundled_file_is_byte_identical_to_seed():
    seed = Path("/work/shared/seeds/000_ab5c5f4113519406.txt")
    if not seed.exists():
        pytest.skip("seed file not available")
    assert BUNDLED.read_bytes() == seed.read_bytes()


def test_bundled_folder_ignores_sidecar_as_article():
    result = load_articles([CORPUS])
    assert result.skipped == ()
    assert [a.title for a in result.articles] == [TITLE]


# --------------------------------------------------------------------------- formats

def test_txt_front_matter(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(f"title: Front title\ndate: 2022/06/17\nsource: Benzinga\nurl: https://x.it/a\n"
                 f"author: Ann\nlang: en\n\nFirst line of body\n{BODY_EN}", encoding="utf-8")
    a = load_one(p)
    assert (a.title, a.date, a.source, a.url, a.author, a.lang) == (
        "Front title", "2022-06-17", "Benzinga", "https://x.it/a", "Ann", "en")
    assert a.text.startswith("First line of body") and "title:" not in a.text


def test_md_fenced_front_matter_and_heading_title(tmp_path):
    p = tmp_path / "a.md"
    p.write_text(f"---\ndate: 2023-01-02T10:00:00Z\nlang: it-IT\n---\n# Un titolo\n\n{BODY_IT}", encoding="utf-8")
    a = load_one(p)
    assert a.title == "Un titolo"
    assert a.date == "2023-01-02" and a.lang == "it"
    assert a.text.startswith("# Un titolo")


def test_txt_without_front_matter_keeps_colon_lines(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(f"Note: not metadata\n{BODY_EN}", encoding="utf-8")
    a = load_one(p)
    assert a.title == "Note: not metadata" and a.text.startswith("Note: not metadata")
    assert a.lang == "en"


def test_html_uses_trafilatura(tmp_path):
    p = tmp_path / "a.html"
    p.write_text(
        "<html><head><title>Tesla data centers</title><meta name='author' content='Jo Bloggs'>"
        "<meta property='og:site_name' content='Example News'>"
        "<meta property='og:url' content='https://example.com/tesla'>"
        "<meta property='article:published_time' content='2023-08-01T09:00:00Z'></head>"
        "<body><nav>Home | World</nav><article><h1>Tesla data centers</h1>"
        f"<p>{BODY_EN}</p><p>Amazon reported AWS revenue of 22.1 billion dollars last quarter.</p>"
        "</article></body></html>", encoding="utf-8")
    a = load_one(p)
    assert a.title == "Tesla data centers"
    assert (a.author, a.source, a.url, a.date) == ("Jo Bloggs", "Example News", "https://example.com/tesla", "2023-08-01")
    assert "AWS revenue of 22.1 billion" in a.text and "<p>" not in a.text
    assert a.lang == "en"


def test_json_object_and_list(tmp_path):
    one = {"id": "x1", "title": "Uno", "content": BODY_IT, "publish_date": "2022-06-17T08:30:00+02:00",
           "publisher": "Benzinga Italia", "authors": ["A. Rossi", "B. Bianchi"], "language": "it"}
    (tmp_path / "one.json").write_text(json.dumps(one), encoding="utf-8")
    (tmp_path / "many.json").write_text(json.dumps([{"title": "Due", "body": BODY_EN}, {"title": "Tre", "text": BODY_EN + "!"}]))
    result = load_articles([tmp_path])
    assert result.skipped == ()
    by_title = {a.title: a for a in result.articles}
    uno = by_title["Uno"]
    assert (uno.date, uno.source, uno.author, uno.lang) == ("2022-06-17", "Benzinga Italia", "A. Rossi, B. Bianchi", "it")
    assert uno.id != "x1" and uno.id == article_id("Uno", uno.text)
    assert by_title["Due"].path == f"{tmp_path / 'many.json'}#1"
    assert by_title["Tre"].path == f"{tmp_path / 'many.json'}#2"


def test_jsonl(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps({"title": f"T{i}", "text": f"{BODY_EN} Number {i}.", "date": "17 June 2022"})
                           for i in range(3)) + "\n\n", encoding="utf-8")
    result = load_articles([p])
    assert result.skipped == ()
    assert [a.path for a in result.articles] == [f"{p}#{n}" for n in (1, 2, 3)]
    assert {a.date for a in result.articles} == {"2022-06-17"}


def test_folder_walk_sorted_skips_hidden_and_ignores_unknown(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("Second\n" + BODY_EN)
    (tmp_path / "1.txt").write_text("First\n" + BODY_EN)
    (tmp_path / ".hidden.txt").write_text("Hidden\n" + BODY_EN)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("Git\n" + BODY_EN)
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    result = load_articles([tmp_path])
    assert [a.title for a in result.articles] == ["First", "Second"]
    assert result.skipped == ()


def test_explicit_unsupported_file_is_skipped(tmp_path):
    p = tmp_path / "notes.docx"
    p.write_bytes(b"PK\x03\x04")
    result = load_articles([p, tmp_path / "missing.txt"])
    assert result.articles == ()
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert "unsupported file type" in reasons["notes.docx"]
    assert "no such file" in reasons["missing.txt"]


def test_same_file_twice_is_loaded_once(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("A\n" + BODY_EN)
    assert len(load_articles([p, tmp_path, str(p)]).articles) == 1


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"}


# --------------------------------------------------------------------------- sidecar metadata

def test_sidecar_overrides_metadata(tmp_path):
    (tmp_path / "a.txt").write_text("Title in file\n" + BODY_EN)
    (tmp_path / "a.meta.json").write_text(json.dumps(
        {"title": "Sidecar title", "date": "2022-06-17", "source": "Electrek", "lang": "it", "extra": 1}))
    a = load_one(tmp_path)
    assert (a.title, a.date, a.source, a.lang) == ("Sidecar title", "2022-06-17", "Electrek", "it")


def test_bad_sidecar_is_skipped_but_article_loads(tmp_path):
    (tmp_path / "a.txt").write_text("Title\n" + BODY_EN)
    (tmp_path / "a.meta.json").write_text("{not json")
    result = load_articles([tmp_path])
    assert [a.title for a in result.articles] == ["Title"]
    assert [(Path(s.path).name, "malformed JSON" in s.reason) for s in result.skipped] == [("a.meta.json", True)]


# --------------------------------------------------------------------------- cleaning, ids, pasted text

@pytest.mark.parametrize("line", [
    "Ricevi una notifica con le ultime notizie, i nostri articoli e altro ancora!",
    "Sign up for our newsletter", "Iscriviti alla newsletter",
    "Immagine di Blomst da Pixabay", "Photo by Jane Doe on Unsplash", "Foto: Ansa", "Image credit: Reuters",
    "3' di lettura", "5 min read", "Tempo di lettura: 4 minuti", "Share this article", "Seguici su Facebook",
])
def test_boilerplate_lines_removed(line):
    assert clean_text(f"Title\n\nReal sentence one.\n{line}\nReal sentence two.", "Title") == \
        "Title\n\nReal sentence one.\nReal sentence two."


def test_content_that_looks_like_boilerplate_is_kept():
    text = "Title\nLa foto di gruppo è stata scattata da un turista.\nShare prices fell 5% on Monday."
    assert clean_text(text, "Title") == text


def test_ids_are_stable_and_content_based(tmp_path):
    assert article_id("A  title", "some\n text") == article_id("A title", "some text")
    assert article_id("A", "x") != article_id("B", "x")
    assert article_id("A", "x") == hashlib.sha256(b"A\nx").hexdigest()[:16]
    first = load_one(BUNDLED)
    assert load_one(BUNDLED).id == first.id == article_id(first.title, first.text)


def test_article_from_text():
    a = article_from_text(f"Pasted title\r\n3' di lettura\r\n{BODY_IT}", source="me")
    assert a.title == "Pasted title" and a.source == "me" and a.path == ""
    assert "di lettura" not in a.text and "\r" not in a.text
    assert a.lang == "it"
    b = article_from_text(BODY_EN, title="Given", date="2021-01-05T00:00:00")
    assert b.title == "Given" and b.date == "2021-01-05" and b.text == BODY_EN.strip()
    with pytest.raises(ValueError):
        article_from_text("5 min read\n\n")


# --------------------------------------------------------------------------- language

@pytest.mark.parametrize("text, lang", [
    ("Why might the Musk–Bezos rivalry grow?", "en"),
    ("Perché potrebbe crescere la rivalità tra Musk e Bezos?", "it"),
    ("What did Tesla's job listing ask for?", "en"),
    ("Quanto vale il settore dei data center?", "it"),
    ("", ""), ("12345 !!", ""),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("question, lang", [
    ("Chi è il CEO di Amazon Web Services?", "it"),       # English names, Italian question
    ("Quanti touchdown ha lanciato Manning nel gioco?", "it"),
    ("Cosa è Tesla Energy?", "it"),
    ("Who is the CEO of Amazon Web Services?", "en"),
    ("Qui est le PDG de Tesla?", "fr"),
    ("Tesla in Italia?", "it"),                            # "in" is both: the detector decides
    ("Qual è l'argomento dell'articolo?", "it"),           # "qual", "è" read Portuguese too
    ("Quelle est la capitale de la France?", "fr"),
    ("1234", "en"),
])
def test_a_question_is_answered_in_the_language_of_its_function_words(question, lang):
    assert answer_language(question) == lang


def test_short_question_falls_back_to_the_likelier_of_the_given_languages():
    assert detect_language("Chi è Chanos?", fallback=("en", "it")) == "it"
    assert detect_language("1234", fallback=("en", "it")) == "en"
