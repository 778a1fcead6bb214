"""One background thread per process, for what follows a response rather than holding it up.

Used after a submission's commit: the live event and the broker publish run here, in order, while
the request thread answers. Work keeps the submitting request's context (its request id reaches
the task). The queue is drained when the process exits normally; if the process dies first, what
was queued is lost, and its owner must be able to recover (a submission: the recovery job
requeues rows whose task never ran).
"""

import contextvars
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: tuple[int, ThreadPoolExecutor] | None = None


def _executor_get() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None or _executor[0] != os.getpid():  # a forked child needs its own thread
            _executor = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-response"))
        return _executor[1]


def background_run(fn) -> Future:
    """Run fn() on the process's background thread, after whatever was queued before it."""
    return _executor_get().submit(_run, contextvars.copy_context(), fn)


def background_wait(timeout: float = 10.0) -> None:
    """Block until everything queued so far has run (tests, and anything that must see it done)."""
    _executor_get().submit(lambda: None).result(timeout=timeout)


def _run(context: contextvars.Context, fn) -> None:
    try:
        context.run(fn)
    except Exception:
        logger.exception("background work failed")
    finally:
        connections.close_all()  # this thread's own connections, if the work opened any
