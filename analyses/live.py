"""Live status: push an analysis to its owner's WebSocket connections through the channel layer.

Called by `notify.analysis_changed_publish` after each commit that changes an analysis, in whichever
process made the change (the worker, or the web process in eager mode).
"""

import asyncio
import json
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from rest_framework.renderers import JSONRenderer

logger = logging.getLogger(__name__)

EVENT_TYPE = "analysis.updated"


def user_group(user_id) -> str:
    return f"user-{user_id}"


def analysis_event(analysis) -> dict:
    """The message a client receives: the same analysis representation as `GET analyses/{id}/`."""
    from analyses.serializers import AnalysisSerializer

    # Through JSON so the layer carries plain types only (UUIDs, dates and decimals become strings).
    data = json.loads(JSONRenderer().render(AnalysisSerializer(analysis).data))
    return {"type": EVENT_TYPE, "analysis": data}


def analysis_broadcast(*, analysis_id, analysis=None) -> bool:
    """Send the analysis as it is now to its owner's group. False when there was nothing to send."""
    from analyses.models import Analysis

    layer = get_channel_layer()
    if layer is None:
        return False
    if analysis is None:
        analysis = Analysis.objects.select_related("video").filter(pk=analysis_id).first()
    if analysis is None:
        return False
    _group_send(layer, user_group(analysis.user_id), analysis_event(analysis))
    return True


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
