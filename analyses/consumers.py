"""`ws://HOST/ws/analyses/`: the caller's analyses as they change status.

Protocol (JSON text frames):
- connect with the access token (`?token=` or the subprotocols `["bearer", token]`, config/ws_auth.py);
  without a valid one the server accepts and closes at once with code 4401, so the client can tell
  "log in again" from a network failure (4503 when an identity provider's keys cannot be fetched: retry).
  Open sockets are closed with 4401 too when the user logs out everywhere or changes their password.
- server → client: `{"type": "analysis.updated", "analysis": {...}}` (the `GET analyses/{id}/` shape) at
  every status change of one of the caller's analyses: pending, processing, completed or failed.
- client → server: `{"action": "subscribe", "session_id": "<uuid>"}` limits the events to one practice
  session (also `?session=<uuid>` when connecting), `{"action": "unsubscribe"}` lifts the limit,
  `{"action": "ping"}` answers `{"type": "pong"}`. Subscribing answers `{"type": "subscribed", "session_id"}`;
  a message the server does not understand answers `{"type": "error", "code", "detail"}`.
"""

import json
import uuid
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from analyses.live import user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_AUTH_UNAVAILABLE = 4503  # the identity provider's keys cannot be fetched: retry, no new sign-in needed
CLOSE_BAD_REQUEST = 4400
MAX_MESSAGE_BYTES = 4096


def _session_id(value) -> str | None:
    """The canonical text of a UUID, or None when `value` is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


class AnalysisUpdatesConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    session_id: str | None = None

    async def connect(self):
        subprotocol = self.scope.get("subprotocol")
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept(subprotocol)
            unavailable = self.scope.get("auth_unavailable")
            await self.close(code=CLOSE_AUTH_UNAVAILABLE if unavailable else CLOSE_UNAUTHENTICATED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if "session" in query:
            self.session_id = _session_id(query["session"][0])
            if self.session_id is None:
                await self.accept(subprotocol)
                await self._error("invalid_session_id", "session must be a practice session's UUID.")
                await self.close(code=CLOSE_BAD_REQUEST)
                return
        # Join the group before accepting: once the client sees the socket open, no event is missed.
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(subprotocol)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            await self._error("invalid_message", "Send JSON text messages of at most 4 KiB.")
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # nested past the recursion limit: still not our JSON
            await self._error("invalid_json", "The message is not JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        if action == "subscribe":
            session_id = _session_id(content.get("session_id"))
            if session_id is None:
                await self._error("invalid_session_id", "session_id must be a practice session's UUID.")
                return
            self.session_id = session_id
            await self.send_json({"type": "subscribed", "session_id": session_id})
        elif action == "unsubscribe":
            self.session_id = None
            await self.send_json({"type": "subscribed", "session_id": None})
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("unknown_action", "action must be subscribe, unsubscribe or ping.")

    async def analysis_updated(self, event):
        """Channel layer message {"type": "analysis.updated", "analysis": {...}} from analyses.live."""
        analysis = event["analysis"]
        if self.session_id is not None and analysis.get("session_id") != self.session_id:
            return
        await self.send_json({"type": "analysis.updated", "analysis": analysis})

    async def sockets_close(self, event):
        """Channel layer message {"type": "sockets.close"} from analyses.live: the user's tokens were revoked."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _error(self, code: str, detail: str):
        await self.send_json({"type": "error", "code": code, "detail": detail})
