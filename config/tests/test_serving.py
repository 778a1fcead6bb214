"""HTTP serving (config/serving.py): bodies are bounded before a thread is taken, long-polls wait apart."""

import asyncio
import json
import threading

import pytest

from config.serving import WsgiThreadPool, is_long_poll

LIMIT = 1000
CHUNKED = (b"transfer-encoding", b"chunked")


def scope(method="POST", path="/api/v1/auth/login/", query=b"", headers=()):
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }


def hello_app(calls):
    def app(environ, start_response):
        calls.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    return app


async def call(app, scope, messages):
    sent, pending = [], list(messages)

    async def receive():
        if not pending:
            await asyncio.sleep(3600)  # a client that sends nothing more
        item = pending.pop(0)
        if isinstance(item, (int, float)):
            await asyncio.sleep(item)
            item = pending.pop(0)
        return item

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


def answer(sent):
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def pool(app, **kwargs):
    return WsgiThreadPool(
        app, **{"threads": 2, "long_poll_threads": 2, "body_limit": LIMIT, "body_timeout": 1.0, **kwargs}
    )


def test_it_refuses_a_declared_body_over_the_limit_before_reading_any_of_it():
    calls = []
    sent = asyncio.run(call(pool(hello_app(calls)), scope(headers=[(b"content-length", b"314572800")]), []))
    status, body = answer(sent)
    assert status == 413 and calls == []
    assert json.loads(body)["errors"][0]["code"] == "request_too_large"
    assert (b"connection", b"close") in sent[0]["headers"]


def test_it_refuses_a_chunked_body_as_soon_as_it_passes_the_limit():
    calls = []
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 2
    chunks.append({"type": "http.request", "body": b"never read", "more_body": False})
    status, _ = answer(asyncio.run(call(pool(hello_app(calls)), scope(headers=[CHUNKED]), chunks)))
    assert status == 413 and calls == []


def test_it_answers_408_to_a_body_slower_than_the_timeout_without_running_the_app():
    calls = []
    trickle = [{"type": "http.request", "body": b"{", "more_body": True}, 2.0]
    status, body = answer(
        asyncio.run(call(pool(hello_app(calls), body_timeout=0.2), scope(headers=[CHUNKED]), trickle))
    )
    assert status == 408 and calls == []
    assert json.loads(body)["errors"][0]["code"] == "request_timeout"


def test_it_hands_the_whole_body_to_the_app_once_it_has_arrived():
    calls = []
    parts = [{"type": "http.request", "body": b'{"a":', "more_body": True}, {"type": "http.request", "body": b"1}"}]
    status, body = answer(asyncio.run(call(pool(hello_app(calls)), scope(headers=[(b"content-length", b"7")]), parts)))
    assert (status, body, calls) == (200, b"hello", [b'{"a":1}'])


def test_it_reads_no_body_where_the_request_declares_none():
    calls = []
    status, _ = answer(
        asyncio.run(call(pool(hello_app(calls)), scope(method="GET", path="/healthz"), [{"type": "http.request"}]))
    )
    assert (status, calls) == (200, [b""])


def test_it_says_a_bad_content_length_is_a_400():
    status, body = answer(asyncio.run(call(pool(hello_app([])), scope(headers=[(b"content-length", b"lots")]), [])))
    assert status == 400 and json.loads(body)["errors"][0]["code"] == "invalid_content_length"


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/api/v1/analyses/0b6e3c1e-8a47-4a36-9d1b-6f2b8e0f4c11/", b"wait=20", True),
        ("/api/v1/analyses/0b6e3c1e-8a47-4a36-9d1b-6f2b8e0f4c11/", b"x=1&wait=0.5", True),
        ("/api/v1/analyses/0b6e3c1e-8a47-4a36-9d1b-6f2b8e0f4c11/", b"wait=0", False),
        ("/api/v1/analyses/0b6e3c1e-8a47-4a36-9d1b-6f2b8e0f4c11/", b"", False),
        ("/api/v1/analyses/", b"wait=20", False),
    ],
)
def test_it_tells_long_polls_from_other_requests(path, query, expected):
    assert is_long_poll(scope(method="GET", path=path, query=query)) is expected


def test_it_answers_other_requests_while_every_long_poll_thread_waits():
    release = threading.Event()

    def app(environ, start_response):
        if "wait=" in environ["QUERY_STRING"]:
            release.wait(10)
        start_response("200 OK", [])
        return [b"done"]

    server = pool(app, threads=1, long_poll_threads=2)
    long_poll = scope(method="GET", path="/api/v1/analyses/0b6e3c1e-8a47-4a36-9d1b-6f2b8e0f4c11/", query=b"wait=20")
    request = [{"type": "http.request", "body": b""}]

    async def scenario():
        polls = [asyncio.create_task(call(server, long_poll, list(request))) for _ in range(2)]
        await asyncio.sleep(0.1)
        healthz = await asyncio.wait_for(call(server, scope(method="GET", path="/healthz"), list(request)), 2)
        release.set()
        return answer(healthz), [answer(await poll) for poll in polls]

    healthz, polls = asyncio.run(scenario())
    assert healthz == (200, b"done")
    assert polls == [(200, b"done")] * 2
