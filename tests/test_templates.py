"""Template lines: found per origin group, blanked for keywords, never a title."""
from __future__ import annotations

from rag.corpus import Article
from rag.templates import (MIN_DOCUMENTS, TitleChoice, better_titles, line_key, origin,
                           repeated_lines, template_lines, without_lines)

HEADER = "Anno Accademico 2024/2025"
FOOTER = "Università degli Studi di Bari Aldo Moro - Piazza Umberto I"
PROGRAMMES = ["Laurea magistrale in SPATIAL PLANNING", "Laurea in Fisica",
              "Laurea magistrale in TRANSNATIONAL GERMAN STUDIES", "Laurea in Chimica",
              "Laurea in INGEGNERIA EDILE, INNOVAZIONE E RECUPERO DEL COSTRUITO"]


def _page(n: int, name: str, *, source: str = "", path: str = "") -> Article:
    text = f"{HEADER}\n\n# {name}\nIl corso dura {n + 2} anni.\n{FOOTER}"
    return Article(id=f"a{n}", title=HEADER, text=text, lang="it", source=source,
                   path=path or f"/corsi/{n}.txt")


def test_line_key_normalizes_case_spaces_and_heading_marks():
    assert line_key("  ## Anno   Accademico 2024/2025 ") == "anno accademico 2024/2025"
    assert line_key("") == ""


def test_origin_groups_by_source_then_site_then_file_or_folder():
    assert origin("UniBa", "https://www.uniba.it/x", "/a/b.txt") == "source:uniba"
    assert origin("", "https://www.uniba.it/corsi/1", "") == "site:uniba.it"
    assert origin("", "", "/data/pages.jsonl#4") == origin("", "", "/data/pages.jsonl#9")
    assert origin("", "", "/corsi/1.txt") == origin("", "", "/corsi/2.txt") != \
        origin("", "", "/news/1.txt")
    assert origin("", "not a url", "") == "pasted"


def test_repeated_lines_are_those_most_documents_hold():
    texts = [_page(n, name).text for n, name in enumerate(PROGRAMMES)]
    found = repeated_lines(texts)
    assert found == {line_key(HEADER), line_key(FOOTER)}
    assert repeated_lines(texts[:MIN_DOCUMENTS - 1]) == frozenset()  # too few to tell
    # a line in only half of the documents is not "most"
    half = texts[:2] + ["Altro testo\nsenza intestazione"] * 2
    assert repeated_lines(half, min_documents=4) == frozenset()


def test_template_lines_are_found_within_each_origin_group():
    corsi = [_page(n, name, source="UniBa") for n, name in enumerate(PROGRAMMES)]
    news = [Article(id=f"n{n}", title=f"Notizia {n}", text=f"{HEADER}\nNotizia numero {n}.",
                    source="Giornale") for n in range(3)]
    assert template_lines(corsi + news) == {line_key(HEADER), line_key(FOOTER)}
    # the news source alone is too small a group, and its pages only share the header
    assert template_lines(news) == frozenset()


def test_without_lines_blanks_template_lines_and_keeps_line_breaks():
    text = _page(0, PROGRAMMES[0]).text
    cleaned = without_lines(text, {line_key(HEADER), line_key(FOOTER)})
    assert HEADER not in cleaned and FOOTER not in cleaned
    assert PROGRAMMES[0] in cleaned and cleaned.count("\n") == text.count("\n")
    assert without_lines(text, ()) == text


def test_a_template_title_gives_way_to_the_first_other_line():
    pages = [_page(n, name) for n, name in enumerate(PROGRAMMES)]
    pages.append(Article(id="own", title="Orari di ricevimento", text=f"{HEADER}\nOrari."))
    choices = better_titles(pages)
    assert choices[0] == TitleChoice("a0", HEADER, "Laurea magistrale in SPATIAL PLANNING")
    assert [c.better for c in choices] == PROGRAMMES  # the page with its own title is kept
    only_template = Article(id="t", title=HEADER, text=f"{HEADER}\n{FOOTER}")
    assert better_titles([only_template], {line_key(HEADER), line_key(FOOTER)}) == \
        [TitleChoice("t", HEADER, "")]
    long = Article(id="l", title=HEADER, text=f"{HEADER}\n{'parola ' * 60}")
    assert len(better_titles([long], {line_key(HEADER)})[0].better) <= 150
