"""Live status: push an analysis to its owner's WebSocket connections through the channel layer.

Called by `notify.analysis_changed_publish` after each commit that changes an analysis, in whichever
process made the change (the worker, or the web process in eager mode).
"""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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


def analysis_broadcast(*, analysis_id) -> bool:
    """Send the analysis as it is now to its owner's group. False when there was nothing to send."""
    from analyses.models import Analysis

    layer = get_channel_layer()
    if layer is None:
        return False
    analysis = Analysis.objects.select_related("video").filter(pk=analysis_id).first()
    if analysis is None:
        return False
    async_to_sync(layer.group_send)(user_group(analysis.user_id), analysis_event(analysis))
    return True
