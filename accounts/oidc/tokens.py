"""Verifying a hosted identity provider's token with PyJWT: signature, issuer, audience or authorized party, times."""

import jwt
from django.conf import settings
from rest_framework import exceptions, status

from accounts.oidc import jwks
from config.oidc import OidcProvider

SUBJECT_MAX_LENGTH = 255

# The first matching class gives the sentence; every refusal has the code simplejwt uses for its own tokens.
_REFUSALS = [
    (jwt.ExpiredSignatureError, "The token has expired."),
    (jwt.ImmatureSignatureError, "The token is not valid yet."),
    (jwt.InvalidAudienceError, "The token was issued for another audience."),
    (jwt.InvalidIssuerError, "The token was issued by another issuer."),
    (jwt.MissingRequiredClaimError, "The token lacks a required claim."),
    (jwt.InvalidAlgorithmError, "The token's signing algorithm is not accepted."),
    (jwt.InvalidSignatureError, "The token's signature is not valid."),
]


class IdentityProviderUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The identity provider's signing keys cannot be fetched right now; try again shortly."
    default_code = "identity_provider_unavailable"


def refused(detail: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(detail, code="token_not_valid")


def provider_for_token(raw: str | bytes) -> OidcProvider | None:
    """The configured provider the token names as issuer. Unverified: it only chooses the keys to verify with."""
    if not settings.OIDC_PROVIDERS:
        return None
    try:
        issuer = jwt.decode(raw, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return next((p for p in settings.OIDC_PROVIDERS if p.issuer == issuer), None)


def _signing_key(raw: str | bytes, provider: OidcProvider) -> jwt.PyJWK:
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise refused("The token is not a valid JWT.") from exc
    # Checked before any fetch: `none` and HMAC (key confusion) never reach the key set.
    if header.get("alg") not in provider.algorithms:
        raise refused("The token's signing algorithm is not accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise refused("The token names no signing key (kid).")
    try:
        key = jwks.signing_key(provider, kid)
    except jwks.JwksUnavailable as exc:
        raise IdentityProviderUnavailable() from exc
    if key is None:
        raise refused("The token's signing key is not one its issuer publishes.")
    return key


def token_claims_verify(raw: str | bytes, provider: OidcProvider) -> dict:
    """The token's claims once everything checks out; else AuthenticationFailed (401) or a 503 for a JWKS outage."""
    key = _signing_key(raw, provider)
    try:
        claims = jwt.decode(
            raw,
            key=key,
            algorithms=list(provider.algorithms),
            issuer=provider.issuer,
            audience=list(provider.audiences) or None,
            leeway=settings.OIDC_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": bool(provider.audiences)},
        )
    except jwt.PyJWTError as exc:
        detail = next((text for kind, text in _REFUSALS if isinstance(exc, kind)), "The token is not valid.")
        raise refused(detail) from exc
    if provider.authorized_parties and claims.get("azp") not in provider.authorized_parties:
        raise refused("The token was issued to another client (azp).")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= SUBJECT_MAX_LENGTH:
        raise refused("The token's subject is not valid.")
    return claims
