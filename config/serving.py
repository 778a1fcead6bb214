"""HTTP for the ASGI server: bodies read in the event loop, Django's WSGI handler in fixed thread pools.

A request takes a thread only once its whole body has arrived, so slow or huge bodies hold no slot:
- a declared `Content-Length` above the limit is refused (413) before a byte of the body is read;
- a body without one (chunked) is refused as soon as it passes the limit;
- a body still incomplete after REQUEST_BODY_TIMEOUT_SECONDS is refused (408).
Bodies are kept in memory up to 1 MiB, then spooled to a temporary file no larger than the limit.

Django then runs its WSGI handler, not its ASGI one, in a pool of WEB_THREADS persistent threads:
no thread is made per request and each thread keeps its database connection (CONN_MAX_AGE).
Long-polls (`GET analyses/{id}/?wait=N`) run in a pool of their own (WEB_LONG_POLL_THREADS), so
waiting dancers never take the threads other requests need.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

from a2wsgi.wsgi import build_environ

from config.errors import error_body

_SPOOL_BYTES = 1 << 20
_LONG_POLL_PATH = re.compile(r"^/api/v1/analyses/[0-9a-fA-F-]{32,36}/$")
_LONG_POLL_QUERY = re.compile(rb"(^|&)wait=(?!0*(\.0*)?(&|$))")


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class ClientGone(Exception):
    """The client disconnected before its body was complete: nobody to answer."""


def declared_length(scope) -> int | None:
    """The body's declared length: 0 when the request has none, None when chunked."""
    length = 0
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise BodyRefused(400, "invalid_content_length", "Content-Length is not a number.") from None
        if name == b"transfer-encoding":
            length = None
    return length


async def body_read(scope, receive, *, limit: int, timeout: float):
    """The request body as a file (rewound), read within `limit` bytes and `timeout` seconds."""
    declared = declared_length(scope)
    if declared == 0:
        # Nothing to wait for: the server hands over the empty body with the headers.
        if (await receive())["type"] == "http.disconnect":
            raise ClientGone
        return io.BytesIO()
    if declared is not None and declared > limit:
        raise BodyRefused(413, "request_too_large", f"The request body is larger than {limit:,} bytes.")
    body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
    try:
        async with asyncio.timeout(timeout):
            await _body_copy(receive, body, limit)
    except TimeoutError:
        body.close()
        raise BodyRefused(408, "request_timeout", f"The request body did not arrive within {timeout:g} s.") from None
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body


async def _body_copy(receive, body, limit: int) -> None:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, "request_too_large", f"The request body is larger than {limit:,} bytes.")
        body.write(chunk)
        if not message.get("more_body", False):
            return


def is_long_poll(scope) -> bool:
    return (
        scope["method"] == "GET"
        and _LONG_POLL_QUERY.search(scope["query_string"]) is not None
        and _LONG_POLL_PATH.match(scope["path"]) is not None
    )


async def _refusal_send(send, refusal: BodyRefused) -> None:
    payload = json.dumps(error_body(status_code=refusal.status, code=refusal.code, detail=refusal.detail)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class WsgiResponse:
    """What the handler answered, gathered in its thread: status, headers and the whole body."""

    __slots__ = ("chunks", "headers", "status")

    def __init__(self):
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    def start_response(self, status: str, headers, exc_info=None):
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return self.chunks.append


def wsgi_call(app, environ) -> WsgiResponse:
    """Run the WSGI app to the end in this thread, closing its response here (Django's
    request_finished, which returns the thread's database connection, fires on close)."""
    response = WsgiResponse()
    iterable = app(environ, response.start_response)
    try:
        response.chunks.extend(chunk for chunk in iterable if chunk)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if not any(name == b"content-length" for name, _ in response.headers):
        # The whole body is known: a length spares the client chunked decoding.
        response.headers.append((b"content-length", str(sum(map(len, response.chunks))).encode()))
    return response


class WsgiThreadPool:
    """The ASGI app of HTTP requests: body first, then a thread of the right pool."""

    def __init__(self, app, *, threads: int, long_poll_threads: int, body_limit: int, body_timeout: float):
        self.app = app
        self.body_limit = body_limit
        self.body_timeout = body_timeout
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="http")
        self.long_poll_pool = ThreadPoolExecutor(max_workers=max(1, long_poll_threads), thread_name_prefix="long-poll")

    async def __call__(self, scope, receive, send):
        try:
            body = await body_read(scope, receive, limit=self.body_limit, timeout=self.body_timeout)
        except BodyRefused as refusal:
            await _refusal_send(send, refusal)
            return
        except ClientGone:
            return
        try:
            environ = build_environ(scope, body)
            pool = self.long_poll_pool if is_long_poll(scope) else self.pool
            context = contextvars.copy_context()
            response = await asyncio.get_running_loop().run_in_executor(pool, context.run, wsgi_call, self.app, environ)
        finally:
            body.close()
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        for chunk in response.chunks[:-1]:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": response.chunks[-1] if response.chunks else b""})
