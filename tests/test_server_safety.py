"""Bad input, concurrent use and uploads, with the fake models.

Bad articles: the cases test_bad_articles.py does not try (UTF-16 BE / no BOM /
truncated, broken BOMs, cp1252, JSON nested too deeply, odd JSONL records, FIFOs,
devices, broken and two-way symlinks, an unreadable folder), then the whole nasty
folder through `rag index`: exit code 3, the skips counted, the good articles indexed.

Concurrency: reader threads asking while writer threads add articles; every cited
chunk exists, and the index on disk equals the one in memory afterwards.

Uploads and serving: names cannot write outside corpus/uploads, types and sizes are
limited, same-name uploads at once keep every file; the server (page and HTTP API) binds
to loopback by default, refuses any other address without a login, asks the page and the
API for the login when one is set (user and password, or the API token), and refuses
oversized uploads and request bodies itself.
"""
from __future__ import annotations

import codecs
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.assistant import Assistant
from rag.corpus import load_articles
from rag.library import save_upload
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator

REPO = Path(__file__).resolve().parent.parent
GOOD_IT = "Perché la città di Austin è importante per Tesla? La società cerca spazio per i suoi dati.\n"
GOOD_EN = "Tesla may soon enter the data center business, a job listing suggests.\n"


def make_assistant(tmp: Path, **overrides) -> Assistant:
    settings = Settings.load({"index_dir": tmp / "index", "corpus_dir": tmp / "corpus",
                              **overrides}, environ={})
    return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())


# --------------------------------------------------------------------------- bad articles

# name -> words the skip reason must contain
BAD = {
    "utf16-nobom.txt": "binary",
    "utf16-truncated.txt": "cannot decode as utf-16",
    "bom-then-garbage.txt": "cannot decode as utf-8",
    "controls.txt": "non-printable",
    "nul.html": "binary",
    "deep.json": "malformed json",
    "deep.jsonl#2": "malformed json line",
    "records.jsonl#3": "expected a json object",
    "records.jsonl#4": "expected a json object",
    "records.jsonl#5": "not a string",
    "records.jsonl#6": "missing text",
    "list.json#2": "missing text",
    "script-only.html": "no article text",
    "fifo.txt": "not a regular file",
    "zero.txt": "not a regular file",
    "dangling.md": "broken symlink",
    "ping.txt": "symlink loop",
    "pong.txt": "symlink loop",
    "locked": "permission denied",
    "meta.meta.json": "malformed json",
}
GOOD = {  # name -> a phrase the decoded text must contain
    "utf16-be.txt": "Perché la città",
    "cp1252.txt": "“Tesla” costs 5 €",
    "deep.jsonl#1": "Tesla may soon",
    "deep.jsonl#3": "Perché la città",
    "records.jsonl#1": "Tesla may soon",
    "records.jsonl#2": "Perché la città",
    "list.json#1": "Tesla may soon",
    "meta.txt": "Tesla may soon",
}


@pytest.fixture
def nasty(tmp_path: Path) -> Path:
    d = tmp_path / "nasty"
    d.mkdir()
    it, en = "Città\n" + GOOD_IT, "Data\n" + GOOD_EN
    (d / "utf16-be.txt").write_bytes(codecs.BOM_UTF16_BE + it.encode("utf-16-be"))
    (d / "utf16-nobom.txt").write_bytes(it.encode("utf-16-le"))
    (d / "utf16-truncated.txt").write_bytes(it.encode("utf-16")[:-1])
    (d / "bom-then-garbage.txt").write_bytes(codecs.BOM_UTF8 + b"Title\n\xff\xfe\xfa broken")
    (d / "cp1252.txt").write_bytes("Prices\n\n“Tesla” costs 5 € today.\n".encode("cp1252"))
    (d / "controls.txt").write_text("Title\n" + "\x01\x02\x03\x04 text " * 50)
    (d / "nul.html").write_bytes(b"<html><body><p>" + GOOD_EN.encode() + b"\0</p></body></html>")
    (d / "deep.json").write_text("[" * 100_000)
    (d / "deep.jsonl").write_text("\n".join([
        json.dumps({"title": "Deep one", "text": GOOD_EN}), "[" * 100_000,
        json.dumps({"title": "Deep three", "text": GOOD_IT})]))
    (d / "records.jsonl").write_bytes(codecs.BOM_UTF8 + "\n".join([
        json.dumps({"headline": "One", "body": GOOD_EN}),
        json.dumps({"title": "Two", "content": GOOD_IT, "authors": ["A", "B"]}),
        "[1, 2]", "null", json.dumps({"title": "Five", "text": 5}), "{}", "", "   "]).encode())
    (d / "list.json").write_text(json.dumps([{"title": "Listed", "text": GOOD_EN}, {"title": "x"}]))
    (d / "script-only.html").write_text("<html><script>var a = 1;</script><style>p{}</style>")
    os.mkfifo(d / "fifo.txt")  # reading it would block forever
    (d / "zero.txt").symlink_to("/dev/zero")
    (d / "dangling.md").symlink_to(d / "gone.md")
    (d / "ping.txt").symlink_to(d / "pong.txt")
    (d / "pong.txt").symlink_to(d / "ping.txt")
    (d / "locked").mkdir()
    (d / "locked" / "inside.txt").write_text(en)
    (d / "meta.txt").write_text("Sidecar\n" + GOOD_EN)
    (d / "meta.meta.json").write_text("{broken")
    return d


@pytest.fixture
def locked_folder(monkeypatch):
    """Listing a folder called 'locked' fails as without permission (tests run as root)."""
    real_iterdir = Path.iterdir

    def iterdir(self: Path):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)
    monkeypatch.setattr(Path, "iterdir", iterdir)


def names(items, root: Path) -> dict:
    return {str(Path(i.path).relative_to(root)): i for i in items}


def test_more_nasty_files_are_skipped_with_reasons(nasty, locked_folder):
    started = time.perf_counter()
    result = load_articles([nasty])
    assert time.perf_counter() - started < 30  # nothing hangs (FIFO, /dev/zero)
    skipped, articles = names(result.skipped, nasty), names(result.articles, nasty)
    for name, words in BAD.items():
        assert name in skipped, f"{name} not skipped"
        assert words in skipped[name].reason.lower(), skipped[name]
    assert set(skipped) == set(BAD)
    assert set(articles) == set(GOOD)
    for name, phrase in GOOD.items():
        assert phrase in articles[name].text, name
    assert articles["utf16-be.txt"].title == "Città"
    assert articles["records.jsonl#1"].title == "One"        # a BOM before the first record
    assert articles["records.jsonl#2"].author == "A, B"


def test_rag_index_exit_code_and_summary(nasty, locked_folder, tmp_path, monkeypatch):
    from rag.cli import cli

    monkeypatch.setattr("rag.parts.build_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr("rag.parts.build_generator", lambda settings: FakeGenerator())
    index = tmp_path / "idx"
    result = CliRunner().invoke(cli, ["index", str(nasty), "--index", str(index)])
    assert result.exit_code == 3, result.output
    assert f"{len(GOOD)} added" in result.output and f"{len(BAD)} skipped" in result.output
    for name in BAD:
        assert f"skipped {nasty / name}:" in result.output
    stored = make_assistant(tmp_path, index_dir=index).articles()
    assert sorted(str(Path(a.path).relative_to(nasty)) for a in stored) == sorted(GOOD)
    again = CliRunner().invoke(cli, ["index", str(nasty), "--index", str(index), "--json"])
    assert again.exit_code == 3
    summary = json.loads(again.stdout if hasattr(again, "stdout") else again.output)
    assert (summary["added"], summary["unchanged"], summary["removed"]) == (0, len(GOOD), 0)
    assert len(summary["skipped"]) == len(BAD)
    assert all(s["reason"] for s in summary["skipped"])


# --------------------------------------------------------------------------- concurrency

TOWNS = ["Valdoria", "Mirtana", "Orvieto", "Castelbruno", "Sanvito", "Roccalta", "Pienzola",
         "Lunaria", "Zelindo", "Brumara"]


def town_article(town: str, n: int) -> str:
    return (f"---\ntitle: {town} opens its new bridge\nlang: en\n---\n"
            f"The town of {town} opened its new bridge costing {n} euros. "
            f"The mayor of {town} said the bridge took years to plan.\n")


def test_asking_while_indexing_from_threads(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, town in enumerate(TOWNS):
        (corpus / f"{town}.txt").write_text(town_article(town, 100 + n), encoding="utf-8")
    assistant = make_assistant(tmp_path)
    assistant.index_files([corpus])
    errors: list[BaseException] = []
    answers = []
    writes = 0
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k: int) -> None:
        nonlocal writes
        try:
            for i in range(6):
                if i % 2:
                    assistant.add_text(f"The village of Extra{k}x{i} built a pier costing "
                                       f"{k * 10 + i} euros.", title=f"Extra{k}x{i} pier")
                else:
                    path = tmp_path / "more" / f"w{k}-{i}.txt"
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(town_article(f"New{k}x{i}", 500 + i), encoding="utf-8")
                    assistant.index_files([path])
                with lock:
                    writes += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader(k: int) -> None:
        try:
            n = 0
            while not stop.is_set() or n < 4:
                town = TOWNS[(k + n) % len(TOWNS)]
                answer = assistant.ask(
                    f"How much did the town of {town} pay for its bridge?").answer()
                with lock:
                    answers.append((town, answer))
                n += 1
                time.sleep(0.02)  # leave the writers some CPU (2 shared cores)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    writers = [threading.Thread(target=writer, args=(k,)) for k in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    stop.set()
    for t in readers:
        t.join(timeout=120)
    assert errors == []
    assert writes == 12 and len(answers) >= 24
    entries = list(assistant.store.entries())
    chunks = {c.id: c for e in entries for c in e.chunks}
    articles = {e.article.id: e.article for e in entries}
    for town, answer in answers:  # nothing is removed, so every cited chunk must still exist
        assert not answer.abstained and answer.citations, (town, answer.text)
        passages = {h.chunk.id for h in answer.passages}
        for c in answer.citations:
            assert c.chunk.id in passages and chunks[c.chunk.id] == c.chunk
            article = articles[c.chunk.article_id]
            assert town in article.title
            assert all(article.text[q.start:q.end] == q.text for q in c.quotes)
    assert len(articles) == len(TOWNS) + 12
    on_disk = list(make_assistant(tmp_path).store.entries())  # a new reader of the folder
    assert {e.article.id for e in on_disk} == set(articles)
    assert sorted(c.id for e in on_disk for c in e.chunks) == sorted(chunks)
    print(f"\n{len(answers)} answers from 4 reader threads during {writes} writes: no errors")


# --------------------------------------------------------------------------- uploads

ODD_NAMES = [
    "..%2F..%2Fetc%2Fpasswd.txt", "..\\..\\etc\\x.txt", ".hidden.txt", "...txt", "-rf.txt",
    " spaced  name .md", "città.txt", "日本語の記事.txt", "e\u0301.txt", "\u202egnp.txt",
    "a" * 240 + ".txt", "SHOUT.TXT", "$(touch pwned).txt", "new\nline.txt", "..txt",
    "report.json", "page.html",
]


def test_upload_names_never_write_outside_uploads(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    files = []
    for n, name in enumerate(ODD_NAMES):
        path = src / name
        text = f"Title {n}\n\nThe harbour of Port{n} handled {n + 1} ships."
        if name.endswith(".json"):
            text = json.dumps({"title": f"Title {n}", "text": text})
        elif name.endswith(".html"):
            text = f"<html><body><article><p>{text}</p></article></body></html>"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    assistant = make_assistant(tmp_path)
    outside_before = sorted(p for p in tmp_path.rglob("*") if "corpus" not in p.parts)
    report = assistant.import_files(files)
    assert report.skipped == () and report.added == len(ODD_NAMES)
    uploads = assistant.library.uploads_dir.resolve()
    saved = [p for p in uploads.iterdir()]
    assert len(saved) == len(ODD_NAMES)
    for p in saved:
        assert p.parent == uploads and p.is_file() and not p.is_symlink()
        assert not p.name.startswith((".", "-"))
        assert len(p.name.encode()) <= 100 and p.name.isascii()
        assert p.suffix in {".txt", ".md", ".json", ".html"}
    for article in assistant.articles():
        assert Path(article.path).parent == uploads
    outside_after = sorted(p for p in tmp_path.rglob("*")
                           if "corpus" not in p.parts and "index" not in p.parts)
    assert outside_after == [p for p in outside_before if "index" not in p.parts]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_upload_types_and_sizes_are_limited(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    bad = {"tool.exe": "unsupported file type .exe", "doc.docx": "unsupported file type .docx",
           "README": "unsupported file type (none)", "x.txt.exe": "unsupported file type .exe",
           ".txt": "unsupported file type (none)", "a.jsonl.gz": "unsupported file type .gz"}
    for name in bad:
        (src / name).write_text("Title\n\nSome text about Genoa.")
    big = src / "big.txt"
    big.write_bytes(b"Big\n\n" + b"word " * (1024 * 1024 // 5 + 10))
    assistant = make_assistant(tmp_path, max_upload_mb=1)
    report = assistant.import_files([src / n for n in bad] + [big])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    for name, words in bad.items():
        assert words in reasons[name], reasons[name]
    assert "over the 1 MB limit" in reasons["big.txt"]
    assert report.added == 0
    assert not assistant.library.uploads_dir.exists() or not any(assistant.library.uploads_dir.iterdir())


def test_symlink_planted_in_uploads_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "report.txt").write_text("precious")
    uploads = tmp_path / "corpus" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "report.txt").symlink_to(outside / "report.txt")
    source = tmp_path / "src" / "report.txt"
    source.parent.mkdir()
    source.write_text("Report\n\nThe port of Bari reopened.")
    try:
        saved = save_upload(source, uploads, 20)
    except ValueError as exc:
        assert "outside" in str(exc)
    else:
        assert saved.parent == uploads and not saved.is_symlink()
    assert (outside / "report.txt").read_text() == "precious"


def test_same_name_uploads_at_once_keep_every_file(tmp_path):
    sources = []
    for k in range(8):
        path = tmp_path / f"src{k}" / "report.txt"
        path.parent.mkdir()
        path.write_text(f"Report {k}\n\nThe port of Town{k} moved {k + 1} ships.")
        sources.append(path)
    uploads = tmp_path / "corpus" / "uploads"
    barrier = threading.Barrier(len(sources))

    def upload(path: Path) -> Path:
        barrier.wait()
        return save_upload(path, uploads, 20)
    for _ in range(20):  # a race: several rounds
        with ThreadPoolExecutor(len(sources)) as pool:
            saved = list(pool.map(upload, sources))
        assert len(set(saved)) == len(sources)
        assert sorted(p.read_text() for p in saved) == sorted(s.read_text() for s in sources)
        assert sorted(uploads.iterdir()) == sorted(saved)  # no temporary files left
        for p in saved:
            p.unlink()


# --------------------------------------------------------------------------- serving

def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_binding_rules():
    from rag.login import Login
    from rag.server import check_binding, is_loopback, page_options, parse_auth

    default = Settings.load(environ={})
    assert default.host == "127.0.0.1"
    assert page_options(default, Login())["server_name"] == "127.0.0.1"
    assert page_options(default, Login())["auth"] is None
    for host in ("127.0.0.1", "127.8.8.8", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", ""):
        assert not is_loopback(host), host
    assert not check_binding(default, None)  # loopback: no login needed
    wide = default.replace(host="0.0.0.0")
    with pytest.raises(ValueError, match="without a login"):
        check_binding(wide, None)
    with pytest.raises(ValueError, match="without a login"):
        check_binding(wide.replace(api_token=""), None)
    assert check_binding(wide, "me:s3cret").credentials == ("me", "s3cret")
    assert check_binding(wide.replace(api_token="tok"), None).token == "tok"
    for bad in ("me", "me:", ":pw", ""):
        with pytest.raises(ValueError, match="USER:PASSWORD"):
            parse_auth(bad)
    assert parse_auth("me:pa:ss") == ("me", "pa:ss")
    assert "s3cr3t-t0ken" not in repr(wide.replace(api_token="s3cr3t-t0ken"))  # not in logs


def test_login_reads_headers_strictly():
    import base64
    from rag.login import Login

    def basic(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    login = Login(("me", "città"), "tok")
    assert Login().allows("") and not Login()
    assert login.allows("Bearer tok") and login.allows("bearer  tok ")
    assert login.allows(basic("me", "città"))
    for header in ("", "Bearer", "Bearer tok2", "Bearer me:città", basic("me", "citta"),
                   basic("you", "città"), "Basic !!!", "Basic " + "bWU=", "Token tok"):
        assert not login.allows(header), header
    assert login.page_accepts("me", "città") and login.page_accepts("anyone", "tok")
    assert not login.page_accepts("me", "tok2") and not login.page_accepts("you", "città")
    assert not Login(("me", "pw")).allows("Bearer pw")  # no token set: no bearer
    assert "città" not in repr(login) and "'tok'" not in repr(login)


def test_nothing_listens_beyond_loopback_without_a_login(tmp_path):
    from rag.cli import cli
    from rag.server import serve

    port = _free_port()
    assistant = make_assistant(tmp_path, host="0.0.0.0", port=port)
    with pytest.raises(ValueError, match="without a login"):
        serve(assistant.settings, assistant=assistant, block=False)
    assert _listening_addresses(port) == set()
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", str(port),
                                      "--index", str(tmp_path / "index")],
                                env={"RAG_API_TOKEN": ""})
    assert result.exit_code == 2 and "without a login" in result.output
    assert _listening_addresses(port) == set()


def test_ctrl_c_stops_the_server_quietly(tmp_path):
    """`python app.py` and `rag serve` block in `serve`; Ctrl-C used to end them with a
    KeyboardInterrupt traceback (uvicorn raises it again once it has shut down)."""
    port = _free_port()
    script = "\n".join([
        "import sys", "from pathlib import Path", "from rag.server import serve",
        "from tests.test_server_safety import make_assistant",
        "assistant = make_assistant(Path(sys.argv[1]), port=int(sys.argv[2]))",
        "serve(assistant.settings, assistant=assistant)", "print('returned')"])
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(port)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _listening_addresses(port) != {"0100007F"}:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and out.strip() == "returned", err
    assert "Traceback" not in err and err.strip().endswith("Stopped."), err


def test_login_is_asked_by_page_and_api_and_upload_limit_is_enforced(tmp_path):
    httpx = pytest.importorskip("httpx")
    openai = pytest.importorskip("openai")
    from rag.server import serve

    port = _free_port()
    assistant = make_assistant(tmp_path, port=port, max_upload_mb=1, api_token="t0ken")
    server = serve(assistant.settings, auth="me:s3cret", assistant=assistant, block=False)
    try:
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as anonymous:
            assert anonymous.get("/gradio_api/info").status_code == 401
            assert anonymous.post("/gradio_api/upload",
                                  files={"files": ("a.txt", b"hi")}).status_code == 401
            wrong = anonymous.post("/login", data={"username": "me", "password": "nope"})
            assert wrong.status_code >= 400
            for method, path in (("GET", "/v1/models"), ("GET", "/v1/articles"),
                                 ("POST", "/v1/chat/completions"), ("GET", "/v1/openapi.json"),
                                 ("GET", "/v1/conversations"), ("POST", "/v1/search")):
                refused = anonymous.request(method, path, json={})
                assert refused.status_code == 401, path
                assert refused.json()["error"]["code"] == "invalid_api_key"
                assert "WWW-Authenticate" in refused.headers
            assert anonymous.get("/v1/models", auth=("me", "nope")).status_code == 401
            assert anonymous.get("/v1/models", auth=("me", "s3cret")).status_code == 200
            assert anonymous.get("/v1/openapi.json", headers={
                "Authorization": "Bearer t0ken"}).status_code == 200
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{base}/v1", api_key="wrong").models.list()
        models = openai.OpenAI(base_url=f"{base}/v1", api_key="t0ken").models.list()
        assert [m.id for m in models.data] == ["rag"]
        for user, password in (("me", "s3cret"), ("anyone", "t0ken")):
            with httpx.Client(base_url=base, timeout=30) as page:
                assert page.post("/login", data={"username": user,
                                                 "password": password}).status_code == 200
                assert page.get("/gradio_api/info").status_code == 200
        with httpx.Client(base_url=base, timeout=30) as user:
            user.post("/login", data={"username": "me", "password": "s3cret"})
            small = user.post("/gradio_api/upload", files={"files": ("a.txt", b"Title\n\nhi")})
            assert small.status_code == 200
            big = user.post("/gradio_api/upload",
                            files={"files": ("b.txt", b"x" * (1024 * 1024 + 100))})
            assert big.status_code == 413
    finally:
        server.close()
    assert _listening_addresses(port) == set()


def test_ctrl_c_while_the_lifespan_waits_is_not_reported_as_an_error():
    import logging

    from rag.server import QuietCtrlC

    def record(message):
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, None, None)
    cancelled = ('Traceback (most recent call last):\n  File ".../starlette/routing.py", line '
                 '668, in lifespan\n    await receive()\nasyncio.exceptions.CancelledError')
    assert not QuietCtrlC().filter(record(cancelled))
    assert QuietCtrlC().filter(record("Exception in ASGI application\nValueError: bad"))


def test_the_apps_record_no_telemetry():
    """FastAPI 0.165+ traces every request into OpenTelemetry, exported when the
    environment asks for it; the project's apps turn that off."""
    import inspect

    from fastapi import FastAPI

    from rag.http_api import NO_TELEMETRY, private_app
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        pytest.skip("this FastAPI has no telemetry")
    app = private_app()
    assert all(app._telemetry[key] is False for key in NO_TELEMETRY)
