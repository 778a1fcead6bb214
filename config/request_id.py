"""One request id per request, on every log line it causes: in the web process and in the tasks it enqueues.

- `RequestIdMiddleware` takes `X-Request-ID` from the request (when it looks like an id) or makes one,
  keeps it in a contextvar for the request, logs one line per request and echoes the header.
- A log record factory stamps every record with `request_id` (`-` outside a request), so any handler
  or formatter can use it, pytest's caplog included.
- Celery: `before_task_publish` puts the id in the task message's headers; `task_prerun` restores it in
  the worker for the task's duration, `task_postrun` clears it. In eager mode the task runs inside the
  request, which already holds the id.
"""

import contextvars
import logging
import logging.config
import re
import time
import uuid

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.conf import settings

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_NONE = "-"
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
logger = logging.getLogger("config.request")


def request_id_get() -> str | None:
    return request_id_var.get()


def request_id_clean(value) -> str | None:
    """A client-supplied id is kept only if it is short and plain (it ends up in logs and headers)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str) and _VALID.match(value):
        return value
    return None


def request_id_new() -> str:
    return uuid.uuid4().hex


# --- every log record carries the id ------------------------------------------------------

_previous_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs):
    record = _previous_factory(*args, **kwargs)
    record.request_id = request_id_var.get() or _NONE
    return record


if not getattr(_previous_factory, "_adds_request_id", False):
    _record_factory._adds_request_id = True
    logging.setLogRecordFactory(_record_factory)


class QueryStringFilter(logging.Filter):
    """The servers' own lines name paths without their query string: a WebSocket carries its access
    token in one (?token=), and uvicorn logs each handshake's path."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] if isinstance(arg, str) and arg.startswith("/") else arg for arg in record.args
            )
        return True


class RequestIdFilter(logging.Filter):
    """For handlers fed by records made before the factory was installed: never fails on a missing id."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or _NONE
        return True


# --- the web side ----------------------------------------------------------------------------


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_clean(request.headers.get(HEADER)) or request_id_new()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# --- the Celery side --------------------------------------------------------------------------


@before_task_publish.connect(weak=False)
def _request_id_into_task_headers(headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(weak=False)
def _request_id_from_task_headers(task_id=None, task=None, **kwargs):
    if task is None:
        return
    # A worker exposes message headers as request attributes; Task.apply(headers=...) under `headers`.
    headers = getattr(task.request, "headers", None) or {}
    request_id = request_id_clean(getattr(task.request, TASK_HEADER, None) or headers.get(TASK_HEADER))
    if request_id is None:
        # Eager mode runs inside the request that holds the id already; elsewhere the task has none.
        return
    _task_tokens[task_id] = request_id_var.set(request_id)


@task_postrun.connect(weak=False)
def _request_id_cleared_after_task(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (should not happen): just clear it
            request_id_var.set(None)


@setup_logging.connect(weak=False)
def _worker_logging_from_django_settings(loglevel=None, **kwargs):
    """The worker logs through settings.LOGGING (JSON in production, with the request id), not
    Celery's own format. The command line's --loglevel still sets the root level."""
    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
