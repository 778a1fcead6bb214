"""Announce that an analysis changed: wake long-polls (Redis pub/sub, or in-process on the embedded
default) and send it to its owner's WebSocket connections (analyses.live).

Waiters hold no database connection while they wait; publishers call after the commit.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

_CHANNEL = "analysis-updated:{}"

# In-process fallback (eager Celery runs tasks in the web process).
_local_lock = threading.Lock()
_local_events: dict[str, set[threading.Event]] = {}


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def analysis_changed_publish(*, analysis_id, analysis=None, created: bool = False) -> None:
    """`analysis`: the row as just stored, when the caller has it (saves a query on the hot path).
    `created`: the row is new, so nobody can be long-polling it yet (its id is still on its way to
    the client): only the WebSocket event goes out."""
    if not created:
        _wake_waiters(str(analysis_id))
    try:
        from analyses.live import analysis_broadcast

        analysis_broadcast(analysis_id=analysis_id, analysis=analysis)  # WebSocket clients of the owner
    except Exception as exc:  # a missed live event: the client still sees the state on its next GET
        logger.warning("analysis live event not sent: %r", exc)


def _wake_waiters(key: str) -> None:
    with _local_lock:
        for event in _local_events.get(key, ()):
            event.set()
    try:
        client = _redis()
        if client is not None:
            client.publish(_CHANNEL.format(key), b"1")
    except Exception as exc:  # a missed wake-up only delays a poll until its timeout
        logger.warning("analysis notification not published: %r", exc)


class Subscription:
    """Subscribe first, then read the row, then wait: no change can slip in between."""

    def __init__(self, analysis_id):
        self.key = str(analysis_id)
        self.event = threading.Event()
        self.pubsub = None

    def __enter__(self):
        with _local_lock:
            _local_events.setdefault(self.key, set()).add(self.event)
        try:
            client = _redis()
            if client is not None:
                self.pubsub = client.pubsub(ignore_subscribe_messages=True)
                self.pubsub.subscribe(_CHANNEL.format(self.key))
        except Exception as exc:
            logger.warning("analysis subscription unavailable: %r", exc)
            self.pubsub = None
        return self

    def wait(self, timeout: float) -> bool:
        """True when a change was announced within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.event.is_set():
                return True
            if self.pubsub is None:
                return self.event.wait(remaining)
            try:
                # Short slices so an in-process event (eager mode) is also noticed.
                message = self.pubsub.get_message(timeout=min(remaining, 0.5))
            except Exception as exc:  # the in-process event still wakes this waiter
                logger.warning("analysis subscription lost: %r", exc)
                self.pubsub = None
                continue
            if message is not None:
                return True

    def __exit__(self, *exc):
        with _local_lock:
            events = _local_events.get(self.key)
            if events is not None:
                events.discard(self.event)
                if not events:
                    _local_events.pop(self.key, None)
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except Exception:
                logger.debug("pubsub close failed", exc_info=True)
        return False
