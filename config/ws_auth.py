"""WebSocket authentication with the API's JWT access token.

Browsers cannot set an Authorization header on a WebSocket, so the token comes either
- in the query string: `ws://HOST/ws/analyses/?token=<access_token>`, or
- as a subprotocol pair: `new WebSocket(url, ["bearer", accessToken])`; the server then answers
  with the subprotocol `bearer` (the token itself is never echoed).

The same rules as the REST API apply: our own tokens (simplejwt: signature, expiry, token type, active
user) or a configured identity provider's (docs/sign-in.md); when that provider's keys cannot be fetched,
scope["auth_unavailable"] is set so the consumer can say "try again" rather than "sign in again".
The token is checked when the socket opens; an open socket stays open after the token expires.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from accounts.oidc.authentication import user_for_bearer_token
from accounts.oidc.tokens import IdentityProviderUnavailable

SUBPROTOCOL = "bearer"


def token_from_scope(scope) -> tuple[str | None, str | None]:
    """(token, subprotocol to answer with)."""
    subprotocols = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL in subprotocols:
        index = subprotocols.index(SUBPROTOCOL)
        if index + 1 < len(subprotocols):
            return subprotocols[index + 1], SUBPROTOCOL
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return (tokens[0] if tokens else None), None


@database_sync_to_async
def user_for_token(raw: str):
    return user_for_bearer_token(raw)


class JwtAuthMiddleware:
    """Sets scope["user"] (AnonymousUser without a valid token) and scope["subprotocol"]."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        raw, subprotocol = token_from_scope(scope)
        unavailable = False
        try:
            user = await user_for_token(raw) if raw else None
        except IdentityProviderUnavailable:
            user, unavailable = None, True
        scope = {**scope, "user": user or AnonymousUser(), "subprotocol": subprotocol, "auth_unavailable": unavailable}
        return await self.app(scope, receive, send)
