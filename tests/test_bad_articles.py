"""Bad input never raises: every nasty file becomes a `Skipped` with a clear reason.

Cases tried: a folder of 17 entries (11 bad files or folders, a JSONL with one bad
line between two good ones, 4 good files in odd encodings or truncated HTML, and
the bundled article), an unreadable file (simulated, since tests run as root), a
folder named explicitly like a file, a symlinked folder plus a self-looping file
symlink, and a hypothesis test loading 600 random byte strings or texts, each
written with one of the 6 supported suffixes: about 620 cases in all.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rag.corpus import SUPPORTED_SUFFIXES, Article, Skipped, load_articles
from rag.formats import MAX_FILE_BYTES

BUNDLED = Path(__file__).resolve().parent.parent / "corpus" / "tesla-data-center.txt"
GOOD_IT = "Perché la città di Austin è importante per Tesla? La società cerca spazio per i suoi dati.\n"
GOOD_EN = "Tesla may soon enter the data center business, a job listing suggests.\n"

# name -> words the skip reason must contain
BAD = {
    "empty.txt": "empty",
    "binary.txt": "binary",
    "huge.txt": "too large",
    "broken.json": "malformed json",
    "notalist.json": "expected a json object",
    "notext.json": "missing text",
    "only-boilerplate.txt": "boilerplate",
    "whitespace.md": "only whitespace",
    "empty-tags.html": "no article text",
    "dir.txt": "directory",
    "loop": "symlink loop",
    "lines.jsonl#2": "malformed json line",
}
GOOD = {  # name -> a phrase the decoded text must contain
    "latin1.txt": "Perché la città",
    "utf16.txt": "Perché la città",
    "utf8bom.md": "Tesla may soon",
    "truncated.html": "Tesla may soon enter",
    "lines.jsonl#1": "Tesla may soon",
    "lines.jsonl#3": "Perché la città",
}


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    d = tmp_path / "nasty"
    d.mkdir()
    rng = random.Random(7)
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\0\0")
    with open(d / "huge.txt", "wb") as f:  # sparse: cheap to create
        f.truncate(MAX_FILE_BYTES + 1)
    (d / "latin1.txt").write_bytes(("Città\n" + GOOD_IT).encode("latin-1"))
    (d / "utf16.txt").write_bytes(("Città\n" + GOOD_IT).encode("utf-16"))  # with BOM
    (d / "utf8bom.md").write_bytes(("# Data centers\n" + GOOD_EN).encode("utf-8-sig"))
    (d / "truncated.html").write_text(f"<html><body><article><h1>Data</h1><p>{GOOD_EN * 3}</p><p>More <b>bold", encoding="utf-8")
    (d / "empty-tags.html").write_text("<html><body><div><span></span></div><p", encoding="utf-8")
    (d / "broken.json").write_text('{"title": "x", "text": "unterminated', encoding="utf-8")
    (d / "notalist.json").write_text('"just a string"', encoding="utf-8")
    (d / "notext.json").write_text(json.dumps({"title": "No body"}), encoding="utf-8")
    (d / "lines.jsonl").write_text("\n".join([
        json.dumps({"title": "One", "text": GOOD_EN}), '{"title": "Two", "text": ', json.dumps({"title": "Three", "text": GOOD_IT}),
    ]), encoding="utf-8")
    (d / "dir.txt").mkdir()
    (d / "dir.txt" / "inside.txt").write_text("Hidden inside\n" + GOOD_EN)
    (d / "loop").symlink_to(d, target_is_directory=True)
    (d / "only-boilerplate.txt").write_text("3' di lettura\nIscriviti alla newsletter\n\nImmagine di Blomst da Pixabay", encoding="utf-8")
    (d / "whitespace.md").write_text(" \n\t\n", encoding="utf-8")
    shutil.copy(BUNDLED, d / "bundled.txt")
    return d


def by_name(items, root: Path) -> dict[str, Article | Skipped]:
    return {str(Path(i.path).relative_to(root)): i for i in items}


def test_nasty_folder(nasty, caplog):
    result = load_articles([nasty])
    skipped = by_name(result.skipped, nasty)
    articles = by_name(result.articles, nasty)
    for name, words in BAD.items():
        assert name in skipped, f"{name} not skipped"
        assert words in skipped[name].reason.lower(), skipped[name]
    assert set(skipped) == set(BAD)
    assert set(articles) == set(GOOD) | {"bundled.txt"}
    for name, phrase in GOOD.items():
        assert phrase in articles[name].text, name
    assert articles["utf8bom.md"].title == "Data centers"
    assert not articles["utf8bom.md"].text.startswith("\ufeff")
    assert articles["latin1.txt"].title == articles["utf16.txt"].title == "Città"
    assert articles["latin1.txt"].lang == "it"
    assert articles["bundled.txt"].lang == "it"
    warned = {r.getMessage() for r in caplog.records if r.levelname == "WARNING"}
    assert all(any(str(nasty / name) in w for w in warned) for name in BAD)


def test_unreadable_file_is_skipped_even_as_root(nasty, monkeypatch):
    secret = nasty / "secret.txt"
    secret.write_text("Secret\n" + GOOD_EN)
    if os.geteuid() != 0:
        secret.chmod(0)
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = load_articles([secret, BUNDLED])
    assert [s.reason for s in result.skipped] == ["permission denied"]
    assert len(result.articles) == 1


def test_directory_named_explicitly_like_a_file_is_walked(nasty):
    result = load_articles([nasty / "dir.txt"])
    assert [a.title for a in result.articles] == ["Hidden inside"]


def test_symlinked_folder_is_read_once(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("A\n" + GOOD_EN)
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    result = load_articles([tmp_path])
    assert len(result.articles) == 1
    assert [(Path(s.path).name, "loop" in s.reason) for s in result.skipped] == [("self.txt", True)]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000) | st.text(max_size=500).map(str.encode),
       suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_arbitrary_bytes_never_raise(tmp_path, data, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    result = load_articles([path])
    assert len(result.articles) + len(result.skipped) >= 1
    assert all(s.reason for s in result.skipped)
    assert all(a.text.strip() and len(a.id) == 16 for a in result.articles)
