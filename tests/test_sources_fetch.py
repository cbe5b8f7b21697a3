"""Polite fetching against a local server: errors name the URL and the problem, limits
hold without reading everything, robots.txt and conditional requests are honoured."""

from __future__ import annotations

import threading

import pytest

from rag.sources.fetch import USER_AGENT, Fetcher, FetchError, Limits, Validators
from tests.helpers.web_server import Route, guard_network, local_web

PAGE = b"<html><head><title>T</title></head><body><p>Hello.</p></body></html>"


@pytest.fixture
def web(monkeypatch):
    yield from local_web(monkeypatch)


@pytest.fixture
def fetcher():
    with Fetcher(Limits(timeout=1.0, max_bytes=1_000_000, max_redirects=3)) as f:
        yield f


def test_page_is_fetched_with_our_user_agent(web, fetcher):
    web.routes["/a"] = Route(PAGE)
    response = fetcher.fetch(web.url("/a#top"), ("html",))
    assert (response.kind, response.body, response.charset) == ("html", PAGE, "utf-8")
    assert response.url == web.url("/a")  # the fragment is not part of the request
    assert web.hits("/a")[0].headers["User-Agent"] == USER_AGENT
    assert "rag-news" in USER_AGENT


def test_http_error_names_url_and_status(web, fetcher):
    with pytest.raises(FetchError) as err:
        fetcher.fetch(web.url("/missing"), ("html",))
    assert str(err.value) == f"{web.url('/missing')}: HTTP 404 Not Found"


def test_server_error(web, fetcher):
    web.routes["/boom"] = Route(b"oops", status=503)
    with pytest.raises(FetchError, match="HTTP 503"):
        fetcher.fetch(web.url("/boom"), ("html",))


def test_slow_answer_times_out(web, fetcher):
    web.routes["/slow"] = Route(PAGE, delay=3.0)
    with pytest.raises(FetchError, match=r"/slow: timed out after 1 s"):
        fetcher.fetch(web.url("/slow"), ("html",))


def test_trickling_answer_times_out_as_a_whole(web, fetcher):
    # each byte arrives well within the read timeout; the whole body does not
    web.routes["/trickle"] = Route(PAGE * 4, trickle=0.05)
    with pytest.raises(FetchError, match=r"/trickle: timed out.*too slowly"):
        fetcher.fetch(web.url("/trickle"), ("html",))


def test_closed_port_is_unreachable(web, fetcher):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(FetchError, match=r"cannot reach host 127\.0\.0\.1"):
            fetcher.fetch(f"http://127.0.0.1:{port}/a", ("html",))


def test_unknown_host_is_unreachable(monkeypatch, fetcher):
    blocked = guard_network(monkeypatch)  # the name lookup is refused here, never sent
    with pytest.raises(FetchError, match=r"news\.example\.invalid.*cannot reach host"):
        fetcher.fetch("http://news.example.invalid/a", ("html",))
    assert blocked and all("news.example.invalid" in b for b in blocked)


def test_only_http_urls(fetcher):
    for url in ("file:///etc/passwd", "ftp://example.org/a", "javascript:alert(1)"):
        with pytest.raises(FetchError, match="only http:// and https://"):
            fetcher.fetch(url, ("html",))


def test_redirects_are_followed(web, fetcher):
    web.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    web.routes["/new"] = Route(PAGE)
    response = fetcher.fetch(web.url("/old"), ("html",))
    assert (response.url, response.final_url, response.body) == (
        web.url("/old"), web.url("/new"), PAGE)


def test_redirect_loop_is_reported(web, fetcher):
    web.routes["/a"] = Route(status=302, headers={"Location": "/b"})
    web.routes["/b"] = Route(status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError) as err:
        fetcher.fetch(web.url("/a"), ("html",))
    assert "redirect loop" in str(err.value)
    assert str(err.value).startswith(web.url("/a"))
    assert len(web.hits("/a")) == 1  # the loop is seen, not run to the limit


def test_too_many_redirects(web, fetcher):
    for n in range(6):
        web.routes[f"/r{n}"] = Route(status=302, headers={"Location": f"/r{n + 1}"})
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)"):
        fetcher.fetch(web.url("/r0"), ("html",))


def test_redirect_to_another_scheme_is_refused(web, fetcher):
    web.routes["/a"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError, match="redirected to 'file:///etc/passwd'"):
        fetcher.fetch(web.url("/a"), ("html",))


def test_non_html_content_is_refused_before_reading(web, fetcher):
    web.routes["/video"] = Route(b"\0" * 500_000, content_type="video/mp4")
    with pytest.raises(FetchError) as err:
        fetcher.fetch(web.url("/video"), ("html", "pdf"))
    assert err.value.problem == ("not an HTML page or a PDF: the server sent content of "
                                 "type 'video/mp4'")


def test_unlabelled_pdf_is_recognized(web, fetcher):
    web.routes["/doc"] = Route(b"%PDF-1.4\n...", content_type="application/octet-stream")
    assert fetcher.fetch(web.url("/doc"), ("html", "pdf")).kind == "pdf"


def test_declared_huge_page_is_refused_unread(web, fetcher):
    web.routes["/huge"] = Route(endless=True, declare=50 * 1024 * 1024)
    with pytest.raises(FetchError, match=r"too large: 52,428,800 bytes \(limit 1,000,000\)"):
        fetcher.fetch(web.url("/huge"), ("html",))


def test_undeclared_huge_page_is_cut_at_the_limit(web, fetcher):
    web.routes["/endless"] = Route(endless=True)
    with pytest.raises(FetchError, match="too large: over the limit of 1,000,000 bytes"):
        fetcher.fetch(web.url("/endless"), ("html",))
    web.stop()  # the server notices the hang-up; it sent nowhere near 50 MB
    assert web.sent["/endless"] < 20 * 1024 * 1024


def test_broken_response(web, fetcher):
    web.routes["/cut"] = Route(PAGE, declare=10_000)  # promises more than it sends
    with pytest.raises(FetchError, match=r"/cut: broken response"):
        fetcher.fetch(web.url("/cut"), ("html",))


def test_garbage_response(web, fetcher):
    web.routes["/junk"] = Route(garbage=True)
    with pytest.raises(FetchError, match=r"/junk: broken response"):
        fetcher.fetch(web.url("/junk"), ("html",))


def test_robots_txt_disallow_is_respected(web, fetcher):
    web.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n",
                                      content_type="text/plain")
    web.routes["/private/a"] = Route(PAGE)
    web.routes["/public"] = Route(PAGE)
    with pytest.raises(FetchError, match="robots.txt does not allow"):
        fetcher.fetch(web.url("/private/a"), ("html",))
    assert web.hits("/private/a") == []
    assert fetcher.fetch(web.url("/public"), ("html",)).body == PAGE
    assert len(web.hits("/robots.txt")) == 1  # read once per host


def test_robots_txt_rules_for_our_agent(web, fetcher):
    web.routes["/robots.txt"] = Route(b"User-agent: rag-news\nDisallow: /\n\n"
                                      b"User-agent: *\nAllow: /\n", content_type="text/plain")
    web.routes["/a"] = Route(PAGE)
    with pytest.raises(FetchError, match="robots.txt does not allow"):
        fetcher.fetch(web.url("/a"), ("html",))


def test_robots_txt_unavailable_means_not_now(web, fetcher):
    web.routes["/robots.txt"] = Route(b"down", status=503, content_type="text/plain")
    web.routes["/a"] = Route(PAGE)
    with pytest.raises(FetchError, match=r"/a: HTTP 503.*robots.txt"):
        fetcher.fetch(web.url("/a"), ("html",))
    assert web.hits("/a") == []


def test_conditional_request_answered_304(web, fetcher):
    web.routes["/feed"] = Route(b"<rss/>", content_type="application/rss+xml", etag='"v1"',
                                headers={"Last-Modified": "Mon, 01 Jun 2026 10:00:00 GMT"})
    first = fetcher.fetch(web.url("/feed"), ("feed",))
    assert first.validators == Validators('"v1"', "Mon, 01 Jun 2026 10:00:00 GMT")
    again = fetcher.fetch(web.url("/feed"), ("feed",), validators=first.validators)
    assert again.not_modified and again.body == b""
    sent = web.hits("/feed")[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Mon, 01 Jun 2026 10:00:00 GMT"


def test_one_request_at_a_time_per_host(web, fetcher):
    web.routes["/a"] = Route(PAGE, delay=0.2)
    bodies: list[bytes] = []
    threads = [threading.Thread(target=lambda: bodies.append(
        fetcher.fetch(web.url("/a"), ("html",)).body)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bodies == [PAGE] * 4
    assert web.max_in_flight == 1
