"""DRF authentication: our own tokens (simplejwt) first, then those of the configured identity providers.

With no provider configured the first class is simplejwt's exactly and the second returns at once.
A token simplejwt refuses goes on to the second class only when it names a configured issuer, so
our own tokens' path has no extra query, cache call or decoding.
"""

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.oidc.services import external_user_get_or_create
from accounts.oidc.tokens import provider_for_token, token_claims_verify


class LocalJWTAuthentication(JWTAuthentication):
    """simplejwt's; a token it refuses that names a configured provider is left to the next class."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken:
            if provider_for_token(self.get_raw_token(self.get_header(request))) is not None:
                return None
            raise


class ExternalJWTAuthentication(JWTAuthentication):
    """A configured identity provider's token (docs/sign-in.md); `request.auth` is its verified claims."""

    def authenticate(self, request):
        header = self.get_header(request)
        raw = self.get_raw_token(header) if header is not None else None
        provider = provider_for_token(raw) if raw is not None else None
        if provider is None:
            return None
        claims = token_claims_verify(raw, provider)
        return external_user_get_or_create(provider=provider, claims=claims), claims


def user_for_bearer_token(raw: str):
    """The active user of an access token of ours or of a configured provider, else None (the WebSocket's check).

    A provider whose keys cannot be fetched raises IdentityProviderUnavailable.
    """
    local = JWTAuthentication()
    try:
        return local.get_user(local.get_validated_token(raw))
    except (InvalidToken, AuthenticationFailed):
        provider = provider_for_token(raw)
    if provider is None:
        return None
    try:
        return external_user_get_or_create(provider=provider, claims=token_claims_verify(raw, provider))
    except AuthenticationFailed:
        return None
