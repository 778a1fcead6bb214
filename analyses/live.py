"""Announce that an analysis changed, over two transports, after the commit that changed it.

- Long polls (`GET analyses/{id}/?wait=N`): a `Subscription` wakes when its analysis changes, through
  Redis pub/sub, or in-process on the embedded default (where tasks run in the web process).
  Waiters hold no database connection while they wait.
- WebSockets: the analysis as `GET analyses/{id}/` shows it goes to its owner's group on the channel
  layer (channels-redis, or in memory), for analyses.consumers to pass on.

`analysis_changed_publish` does both, in whichever process made the change (a worker, or the web
process in eager mode). Per-process state, each piece created when first used and kept for the
process's life (a forked child makes its own): the in-process waiters and the sender's event loop.
"""

import asyncio
import json
import logging
import os
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.renderers import JSONRenderer

from analyses.models import Analysis
from analyses.serializers import AnalysisSerializer

logger = logging.getLogger(__name__)

# --- long polls --------------------------------------------------------------------------------

_CHANNEL = "analysis-updated:{}"

# In-process fallback (eager Celery runs tasks in the web process).
_local_lock = threading.Lock()
_local_events: dict[str, set[threading.Event]] = {}


def _redis():
    return get_redis_connection("default") if settings.REDIS_URL else None


def analysis_changed_publish(*, analysis_id, analysis=None, created: bool = False) -> None:
    """`analysis`: the row as just stored, when the caller has it (saves a query on the hot path).
    `created`: the row is new, so nobody can be long-polling it yet (its id is still on its way to
    the client): only the WebSocket event goes out."""
    if not created:
        _wake_waiters(str(analysis_id))
    try:
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


# --- WebSockets --------------------------------------------------------------------------------

EVENT_TYPE = "analysis.updated"


def user_group(user_id) -> str:
    return f"user-{user_id}"


def analysis_event(analysis) -> dict:
    """The message a client receives: the same analysis representation as `GET analyses/{id}/`."""
    # Through JSON so the layer carries plain types only (UUIDs, dates and decimals become strings).
    data = json.loads(JSONRenderer().render(AnalysisSerializer(analysis).data))
    return {"type": EVENT_TYPE, "analysis": data}


def analysis_broadcast(*, analysis_id, analysis=None) -> bool:
    """Send the analysis as it is now to its owner's group. False when there was nothing to send."""
    layer = get_channel_layer()
    if layer is None:
        return False
    if analysis is None:
        analysis = Analysis.objects.select_related("video").filter(pk=analysis_id).first()
    if analysis is None:
        return False
    _group_send(layer, user_group(analysis.user_id), analysis_event(analysis))
    return True


def user_sockets_close(*, user_id) -> None:
    """Close every live-status socket of the user (logged out everywhere, or a new password)."""
    layer = get_channel_layer()
    if layer is not None:
        _group_send(layer, user_group(user_id), {"type": "sockets.close"})


_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, kept for the process's life."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():  # a forked child needs its own
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-sender", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def _group_send(layer, group: str, message: dict) -> None:
    if isinstance(layer, InMemoryChannelLayer):
        # One process: send on the caller's (or the server's) loop, where the consumers listen.
        async_to_sync(layer.group_send)(group, message)
        return
    # channels-redis keeps its connections per event loop, and async_to_sync from a plain thread
    # makes a new loop (so a new connection) per call: a kept loop reuses them, and waiting for
    # the send keeps the events in order.
    asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _sender_loop()).result(timeout=5)
