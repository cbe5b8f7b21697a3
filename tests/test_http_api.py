"""The HTTP API against the real app on 127.0.0.1 (uvicorn in a thread), driven by the
official `openai` client and by httpx: answers keep their [n] markers and carry the
citations of `rag ask --json`, streamed and not; follow-ups; saved conversations; search;
articles; every error case in the OpenAI shape; 8 clients at once; a client that goes away
stops its answer. Fake models, except the tests marked e2e (the real default models on
the bundled corpus)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Sequence

import pytest

from rag.assistant import Assistant
from rag.generate import Message
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator, extractive_reply

openai = pytest.importorskip("openai")
httpx = pytest.importorskip("httpx")

REPO = Path(__file__).resolve().parent.parent
TOWNS = ["Valdoria", "Mirtana", "Orvieto", "Castelbruno", "Sanvito", "Roccalta", "Pienzola",
         "Lunaria"]
SLOW = "filibuster"  # a question with this word gets a long, slow draft
BROKEN = "kaboom"  # a question with this word breaks the model while it writes


def town_article(town: str, n: int) -> str:
    return (f"---\ntitle: {town} opens its new bridge\nsource: Gazzetta {town}\n"
            f"date: 2024-0{1 + n % 9}-15\nlang: en\n---\n"
            f"The town of {town} opened its new bridge costing {100 + n} euros. "
            f"The mayor of {town} said the bridge took years to plan.\n")


def serving_reply(messages: Sequence[Message]) -> str:
    """Condensing: the question, about the town the history last names. Answering: the
    evidence sentence that best matches the question (tests/fakes.py)."""
    prompt = messages[-1].content
    if "Standalone question:" in prompt:
        named = [t for t in TOWNS if t in prompt]
        return f"What did the mayor of {named[-1]} say about the bridge?" if named else "?"
    if SLOW in prompt:
        return " ".join(["word"] * 300) + " [1]."
    return extractive_reply(messages)


class ServingGenerator(FakeGenerator):
    """Like the real generator, one generation at a time (a lock held while it streams);
    counts the generations stopped before their end."""

    def __init__(self) -> None:
        super().__init__(serving_reply)
        self.lock = threading.Lock()
        self.stopped = 0

    def generate(self, messages, **options):
        with self.lock:
            try:
                for n, word in enumerate(super().generate(messages, **options)):
                    if SLOW in messages[-1].content:
                        time.sleep(0.05)
                    if BROKEN in messages[-1].content and n == 3:
                        raise RuntimeError("the model ran out of memory")
                    yield word
            except GeneratorExit:
                self.stopped += 1
                raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp: Path, assistant: Assistant):
    from rag.server import serve
    return serve(assistant.settings, assistant=assistant, block=False)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("http")
    corpus = tmp / "articles"
    corpus.mkdir()
    for n, town in enumerate(TOWNS):
        (corpus / f"{town}.md").write_text(town_article(town, n), encoding="utf-8")
    settings = Settings.load({"index_dir": tmp / "index", "corpus_dir": tmp / "corpus",
                              "port": free_port(), "max_upload_mb": 1}, environ={})
    assistant = Assistant(settings, embedder=FakeEmbedder(), generator=ServingGenerator())
    assistant.index_files([corpus])
    server = start(tmp, assistant)
    yield server.url.rstrip("/"), assistant
    server.close()


@pytest.fixture
def client(app):
    return openai.OpenAI(base_url=f"{app[0]}/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.fixture
def http(app):
    with httpx.Client(base_url=app[0], timeout=60) as http:
        yield http


def ask_town(town: str) -> list[dict]:
    return [{"role": "user", "content": f"How much did the town of {town} pay for its bridge?"}]


def check_citations(extra: dict, assistant: Assistant, town: str) -> None:
    """Citations as `rag ask --json` has them, each quote exact, all from ``town``."""
    assert extra["citations"] and extra["sentences"]
    for c in extra["citations"]:
        article = assistant.store.article(c["article_id"])
        assert town in article.title
        assert article.text[c["quote_start"]:c["quote_end"]] == c["quote"]
        for q in c["quotes"]:
            assert article.text[q["quote_start"]:q["quote_end"]] == q["quote"]
    markers = {c["marker"] for c in extra["citations"]}
    assert {n for s in extra["sentences"] for n in s["citations"]} <= markers


# --------------------------------------------------------------------------- answers

def test_models_and_a_plain_answer_with_citations(client, app):
    from rag.http_schema import ChatCompletion

    assert [m.id for m in client.models.list().data] == ["rag"]
    assert client.models.retrieve("rag").id == "rag"
    completion = client.chat.completions.create(model="rag", messages=ask_town("Mirtana"))
    text = completion.choices[0].message.content
    assert "Mirtana" in text and "101 euros" in text and re.search(r"\[1\]", text)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    extra = completion.model_extra
    check_citations(extra, app[1], "Mirtana")
    assert extra["kind"] == "generated" and extra["abstained"] is False
    ChatCompletion.model_validate(completion.model_dump())  # as the OpenAPI document says
    expected = app[1].ask(ask_town("Mirtana")[0]["content"]).answer().to_json()
    assert extra["citations"] == expected["citations"]  # the same objects as rag ask --json
    assert extra["sentences"] == expected["sentences"]
    assert text == expected["answer"]
    # every field of rag ask --json but the text, which is the message's content
    assert set(expected) - {"answer"} <= set(extra), set(expected) - set(extra)


def test_streamed_answer_sends_sources_first_and_citations_in_the_final_event(client, app):
    chunks = list(client.chat.completions.create(model="rag", messages=ask_town("Orvieto"),
                                                 stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    extras = [c.model_extra or {} for c in chunks]
    first_sources = next(i for i, e in enumerate(extras) if "passages" in e)
    drafted = [i for i, c in enumerate(chunks)
               if (c.choices[0].delta.model_extra or {}).get("reasoning_content")]
    written = [i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content]
    assert first_sources < drafted[0] < written[0]  # the sources before the draft
    assert extras[first_sources]["evidence"][0]["number"] == 1
    assert any(e.get("stage") == "searching" for e in extras)
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    text = "".join(chunks[i].choices[0].delta.content for i in written)
    assert "Orvieto" in text and "[1]" in text
    check_citations(extras[-1], app[1], "Orvieto")
    assert final.usage.total_tokens > 0
    whole = client.chat.completions.create(model="rag", messages=ask_town("Orvieto"))
    assert whole.choices[0].message.content == text
    assert whole.model_extra["citations"] == extras[-1]["citations"]


def test_stream_without_draft_and_with_usage_chunk(client):
    chunks = list(client.chat.completions.create(
        model="rag", messages=ask_town("Sanvito"), stream=True,
        stream_options={"include_usage": True}, extra_body={"draft": False}))
    assert not any((c.choices[0].delta.model_extra or {}).get("reasoning_content")
                   for c in chunks if c.choices)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-2].model_extra["citations"]


def test_follow_up_is_condensed_with_the_earlier_messages(client, app):
    first = client.chat.completions.create(model="rag", messages=ask_town("Roccalta"))
    messages = ask_town("Roccalta") + [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And what did the mayor say?"}]
    for stream in (False, True):
        if stream:
            chunks = list(client.chat.completions.create(model="rag", messages=messages,
                                                         stream=True))
            extra = chunks[-1].model_extra
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            follow = client.chat.completions.create(model="rag", messages=messages)
            extra, text = follow.model_extra, follow.choices[0].message.content
        assert extra["standalone_question"] == \
            "What did the mayor of Roccalta say about the bridge?"
        assert "mayor of Roccalta said" in text
        check_citations(extra, app[1], "Roccalta")


def test_system_messages_and_text_parts_are_accepted(client):
    completion = client.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": [{"type": "text", "text": "How much did the town of"},
                                     {"type": "text", "text": "Lunaria pay for its bridge?"}]}],
        temperature=0.3, top_p=0.9, user="someone", max_tokens=100000)
    assert "Lunaria" in completion.choices[0].message.content


def test_options_in_the_body_are_used(client):
    nothing = client.chat.completions.create(
        model="rag", messages=ask_town("Pienzola"),
        extra_body={"filters": {"sources": ["Gazzetta Valdoria"]}, "k": 2, "mode": "keyword"})
    assert "Pienzola" not in nothing.choices[0].message.content
    assert all("Valdoria" in p["title"] for p in nothing.model_extra["passages"])
    assert len(nothing.model_extra["passages"]) <= 2
    dated = client.chat.completions.create(
        model="rag", messages=ask_town("Pienzola"), extra_body={
            "filters": {"date_from": "2024-07-01", "date_to": "2024-07-31"},
            "today": "2024-08-01"})
    assert "Pienzola" in dated.choices[0].message.content  # dated 2024-07-15


# --------------------------------------------------------------------------- conversations

def test_saved_conversation_over_http(client, http, app):
    first = client.chat.completions.create(model="rag", messages=ask_town("Castelbruno"),
                                           extra_body={"conversation_id": "new"})
    chat_id = first.model_extra["conversation_id"]
    follow = client.chat.completions.create(  # only the question: the history is saved
        model="rag", messages=[{"role": "user", "content": "And what did the mayor say?"}],
        extra_body={"conversation_id": chat_id})
    assert follow.model_extra["conversation_id"] == chat_id
    assert "mayor of Castelbruno" in follow.model_extra["standalone_question"]
    listed = {c["id"]: c for c in http.get("/v1/conversations").json()["data"]}
    assert listed[chat_id]["turns"] == 2
    assert listed[chat_id]["title"] == ask_town("Castelbruno")[0]["content"]
    saved = http.get(f"/v1/conversations/{chat_id}").json()
    assert [t["answer"]["answer"] for t in saved["turns"]] == [
        first.choices[0].message.content, follow.choices[0].message.content]
    assert saved["turns"][0]["answer"]["citations"] == first.model_extra["citations"]
    markdown = http.get(f"/v1/conversations/{chat_id}/markdown")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "attachment" in markdown.headers["content-disposition"]
    quote = first.model_extra["citations"][0]["quote"]
    assert f"> “{quote}”" in markdown.text and "## How much did the town" in markdown.text
    one = http.get(f"/v1/conversations/{chat_id}/markdown", params={"turn": 2}).text
    assert "mayor" in one and "How much" not in one
    assert http.get(f"/v1/conversations/{chat_id}/markdown",
                    params={"turn": 3}).status_code == 404
    renamed = http.patch(f"/v1/conversations/{chat_id}", json={"title": "Bridges"}).json()
    assert renamed["title"] == "Bridges" and renamed["turns"] == 2
    assert app[1].conversation(chat_id).title == "Bridges"  # what the page lists
    assert http.delete(f"/v1/conversations/{chat_id}").json()["deleted"] is True
    for gone in (http.get(f"/v1/conversations/{chat_id}"),
                 http.delete(f"/v1/conversations/{chat_id}")):
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "conversation_not_found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="rag", messages=ask_town("Castelbruno"),
                                       extra_body={"conversation_id": chat_id})


# --------------------------------------------------------------------------- search, articles

def test_search(http):
    found = http.post("/v1/search", json={"query": "Valdoria bridge", "k": 3}).json()
    assert found["object"] == "list" and len(found["passages"]) == 3
    assert "Valdoria" in found["passages"][0]["title"] and found["passages"][0]["rank"] == 1
    none = http.post("/v1/search", json={"query": "Valdoria bridge",
                                         "filters": {"sources": ["Nobody"]}}).json()
    assert none["passages"] == []


def test_articles_list_add_get_remove(http, tmp_path):
    listed = http.get("/v1/articles").json()["data"]
    assert {a["title"] for a in listed} >= {f"{t} opens its new bridge" for t in TOWNS}
    assert all("text" not in a for a in listed)
    added = http.post("/v1/articles", json={
        "title": "Harbour news", "text": "The harbour of Portavento reopened in May.",
        "date": "2024-05-02", "source": "Gazzetta"}).json()
    assert added["added"] == 1
    good = tmp_path / "pier.txt"
    good.write_text("Pier news\n\nThe pier of Scogliera was rebuilt with 40 new piles.")
    with good.open("rb") as handle:
        uploaded = http.post("/v1/articles", files=[
            ("files", ("pier.txt", handle, "text/plain")),
            ("files", ("../../evil.exe", b"MZ", "application/octet-stream"))]).json()
    assert uploaded["added"] == 1 and len(uploaded["skipped"]) == 1
    assert "unsupported file type .exe" in uploaded["skipped"][0]["reason"]
    by_title = {a["title"]: a for a in http.get("/v1/articles").json()["data"]}
    harbour = http.get(f"/v1/articles/{by_title['Harbour news']['id']}").json()
    assert harbour["text"].startswith("The harbour of Portavento") and harbour["date"] == \
        "2024-05-02"
    for title in ("Harbour news", "Pier news"):
        removed = http.delete(f"/v1/articles/{by_title[title]['id']}").json()
        assert removed["removed"] == 1
    missing = http.delete(f"/v1/articles/{by_title['Harbour news']['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == \
        "article_not_found"
    assert http.get("/v1/articles/nope").status_code == 404


def test_openapi_describes_every_route(http):
    document = http.get("/v1/openapi.json").json()
    paths = document["paths"]
    assert document["servers"] == [{"url": "/v1"}]
    assert {"/chat/completions", "/models", "/search", "/articles", "/articles/{article_id}",
            "/conversations", "/conversations/{conversation_id}",
            "/conversations/{conversation_id}/markdown"} <= set(paths)
    chat = paths["/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ChatRequest")
    responses = chat["responses"]
    assert {"200", "400", "401", "404", "409", "413"} <= set(responses)
    assert "text/event-stream" in responses["200"]["content"]
    assert set(paths["/articles"]["post"]["requestBody"]["content"]) == {
        "application/json", "multipart/form-data"}
    schemas = document["components"]["schemas"]
    for name in ("ChatCompletion", "ChatCompletionChunk", "CitationOut", "SentenceOut",
                 "ErrorBody", "NewArticle", "ConversationOut", "SearchResult"):
        assert name in schemas
    assert {"citations", "sentences"} <= set(schemas["ChatCompletion"]["properties"])
    assert set(document["components"]["securitySchemes"]) == {"bearer", "basic"}
    for path, methods in paths.items():
        for method, operation in methods.items():
            assert "200" in operation["responses"], (method, path)


# --------------------------------------------------------------------------- errors

def error_of(response, status: int, code: str | None = None, param: str | None = None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and error["type"]
    if code:
        assert error["code"] == code, error
    if param:
        assert error["param"] == param, error
    return error


QUESTION = [{"role": "user", "content": "How much did the town of Valdoria pay?"}]


@pytest.mark.parametrize("body, status, code, param, words", [
    ('{"model": "rag", "messages": [', 400, "invalid_json", None, "not valid JSON"),
    ("", 400, None, None, "JSON body"),
    ({"model": "gpt-4o", "messages": QUESTION}, 404, "model_not_found", "model", "gpt-4o"),
    ({"messages": QUESTION}, 400, None, "model", "required"),
    ({"model": "rag", "messages": []}, 400, None, "messages", "empty"),
    ({"model": "rag"}, 400, None, "messages", "required"),
    ({"model": "rag", "messages": [{"role": "assistant", "content": "Hi"}]}, 400, None,
     "messages", "user's question"),
    ({"model": "rag", "messages": [{"role": "user", "content": "  "}]}, 400, None,
     "messages", "user's question"),
    ({"model": "rag", "messages": [{"role": "wizard", "content": "Hi"}]}, 400, None,
     "messages.0.role", ""),
    ({"model": "rag", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, None, "messages",
     "only text"),
    ({"model": "rag", "messages": QUESTION, "filters": {"date_from": "2024/01/01"}}, 400,
     None, "filters", "date_from"),
    ({"model": "rag", "messages": QUESTION, "filters": {"date_from": "2024-05-01",
                                                        "date_to": "2024-01-01"}}, 400,
     None, "filters", "after"),
    ({"model": "rag", "messages": QUESTION, "filters": {"source": ["x"]}}, 400, None,
     "filters.source", ""),
    ({"model": "rag", "messages": QUESTION, "k": 0}, 400, None, "k", ""),
    ({"model": "rag", "messages": QUESTION, "k": "many"}, 400, None, "k", ""),
    ({"model": "rag", "messages": QUESTION, "mode": "psychic"}, 400, None, "mode", ""),
    ({"model": "rag", "messages": QUESTION, "today": "yesterday"}, 400, None, "today", ""),
    ({"model": "rag", "messages": QUESTION, "n": 2}, 400, None, "n", ""),
    ({"model": "rag", "messages": QUESTION, "conversation_id": "nope"}, 404,
     "conversation_not_found", "conversation_id", "nope"),
])
def test_chat_errors(http, body, status, code, param, words):
    content = body if isinstance(body, str) else json.dumps(body)
    response = http.post("/v1/chat/completions", content=content,
                         headers={"Content-Type": "application/json"})
    error = error_of(response, status, code, param)
    assert words in error["message"]


def test_errors_reach_the_openai_client_as_its_exceptions(client):
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model="rag", messages=[])
    assert empty.value.param == "messages"
    with pytest.raises(openai.BadRequestError, match="date_from"):
        client.chat.completions.create(model="rag", messages=QUESTION, stream=True,
                                       extra_body={"filters": {"date_from": "soon"}})


def test_other_errors(http):
    error_of(http.post("/v1/search", json={"query": ""}), 400, param="query")
    error_of(http.post("/v1/search", json={"query": "x", "filters": {"date_to": "31/12"}}),
             400, param="filters")
    error_of(http.post("/v1/articles", json={"text": ""}), 400, param="text")
    error_of(http.post("/v1/articles", json={"text": "x", "color": "red"}), 400,
             param="color")
    error_of(http.post("/v1/articles", content=b"{oops",
                       headers={"Content-Type": "application/json"}), 400, "invalid_json")
    error_of(http.post("/v1/articles", files=[("other", ("a.txt", b"x"))]), 400,
             param="files")
    error_of(http.get("/v1/models/gpt-4o"), 404, "model_not_found")
    error_of(http.patch("/v1/conversations/nope", json={"title": "x"}), 404,
             "conversation_not_found")
    error_of(http.put("/v1/models"), 405)
    error_of(http.get("/v1/nothing/here"), 404)


def test_bodies_over_the_limit_are_refused(http):
    big = json.dumps({"model": "rag", "messages": [
        {"role": "user", "content": "x" * (1024 * 1024 + 10)}]}).encode()
    error_of(http.post("/v1/chat/completions", content=big,
                       headers={"Content-Type": "application/json"}), 413,
             "request_too_large")

    def chunked():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * 65536
        yield big
    error_of(http.post("/v1/chat/completions", content=chunked(),
                       headers={"Content-Type": "application/json"}), 413)
    error_of(http.post("/v1/articles", files={"files": ("big.txt", b"x" * (1024 * 1024 + 10))}),
             413)


def test_empty_index_is_a_conflict(tmp_path):
    settings = Settings.load({"index_dir": tmp_path / "index", "corpus_dir": tmp_path / "c",
                              "port": free_port()}, environ={})
    server = start(tmp_path, Assistant(settings, embedder=FakeEmbedder(),
                                       generator=FakeGenerator()))
    try:
        client = openai.OpenAI(base_url=f"{server.url}v1", api_key="x", max_retries=0)
        for stream in (False, True):
            with pytest.raises(openai.ConflictError, match="rag index"):
                client.chat.completions.create(model="rag", messages=QUESTION, stream=stream)
        with httpx.Client(base_url=server.url) as http:
            error_of(http.post("/v1/search", json={"query": "x"}), 409, "empty_index")
            assert http.get("/v1/articles").json()["data"] == []
    finally:
        server.close()


def test_a_failure_while_answering_is_an_error_streamed_or_not(client):
    question = f"How much did the town of Valdoria pay for its {BROKEN} bridge?"
    messages = [{"role": "user", "content": question}]
    with pytest.raises(openai.APIError, match="ran out of memory"):
        for _ in client.chat.completions.create(model="rag", messages=messages, stream=True):
            pass
    with pytest.raises(openai.InternalServerError, match="ran out of memory"):
        client.chat.completions.create(model="rag", messages=messages)
    assert client.chat.completions.create(model="rag", messages=ask_town("Valdoria"))


# --------------------------------------------------------------------------- concurrency

def test_eight_clients_at_once_get_their_own_answers(app):
    barrier = threading.Barrier(8)
    results: dict[str, tuple[str, dict]] = {}
    errors: list[BaseException] = []

    def ask(n: int, town: str) -> None:
        try:
            client = openai.OpenAI(base_url=f"{app[0]}/v1", api_key="x", max_retries=0,
                                   timeout=120)
            barrier.wait()
            if n % 2:
                done = client.chat.completions.create(model="rag", messages=ask_town(town))
                results[town] = (done.choices[0].message.content, done.model_extra)
            else:
                chunks = list(client.chat.completions.create(
                    model="rag", messages=ask_town(town), stream=True))
                text = "".join(c.choices[0].delta.content or "" for c in chunks)
                results[town] = (text, chunks[-1].model_extra)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=ask, args=(n, town)) for n, town in enumerate(TOWNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and set(results) == set(TOWNS)
    for n, town in enumerate(TOWNS):
        text, extra = results[town]
        assert f"town of {town} opened its new bridge costing {100 + n} euros" in text
        assert not any(other in text for other in TOWNS if other != town)
        check_citations(extra, app[1], town)


def test_a_client_that_goes_away_stops_its_answer(app, client):
    generator = app[1].generator
    before = generator.stopped
    with httpx.Client(base_url=app[0], timeout=60) as http:
        with http.stream("POST", "/v1/chat/completions", json={
                "model": "rag", "stream": True, "messages": [
                    {"role": "user", "content": f"A {SLOW} about the Valdoria bridge?"}]}) as r:
            for line in r.iter_lines():
                if "reasoning_content" in line:
                    break  # hang up while the model is writing
    deadline = time.monotonic() + 60
    while generator.stopped == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert generator.stopped == before + 1
    assert "Valdoria" in client.chat.completions.create(
        model="rag", messages=ask_town("Valdoria")).choices[0].message.content


# --------------------------------------------------------------------------- real models

@pytest.fixture(scope="module")
def real_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("http-e2e")
    corpus = tmp / "corpus"
    shutil.copytree(REPO / "corpus", corpus, ignore=shutil.ignore_patterns("uploads"))
    settings = Settings.load().replace(index_dir=tmp / "index", corpus_dir=corpus,
                                       port=free_port())
    assistant = Assistant(settings)
    assistant.index_files([corpus])
    server = start(tmp, assistant)
    yield server.url.rstrip("/"), assistant
    server.close()


@pytest.mark.e2e
def test_real_models_answer_and_follow_up_with_citations(real_app):
    client = openai.OpenAI(base_url=f"{real_app[0]}/v1", api_key="x", max_retries=0,
                           timeout=600)
    question = "Quanto ha registrato Amazon di fatturato per AWS nell'ultimo trimestre?"
    first = client.chat.completions.create(model="rag", messages=[
        {"role": "user", "content": question}])
    text = first.choices[0].message.content
    assert "22,1" in text and re.search(r"\[\d\]", text)
    check_citations_real(first.model_extra, real_app[1])
    chunks = list(client.chat.completions.create(model="rag", stream=True, messages=[
        {"role": "user", "content": question}, {"role": "assistant", "content": text},
        {"role": "user", "content": "E di quanto è cresciuto rispetto all'anno prima?"}]))
    final = chunks[-1].model_extra
    follow = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert final["standalone_question"] != final["question"]  # condensed with the history
    assert re.search(r"\[\d\]", follow)
    check_citations_real(final, real_app[1])


def check_citations_real(extra: dict, assistant: Assistant) -> None:
    assert extra["citations"] and not extra["abstained"]
    for c in extra["citations"]:
        article = assistant.store.article(c["article_id"])
        assert article.text[c["quote_start"]:c["quote_end"]] == c["quote"]
