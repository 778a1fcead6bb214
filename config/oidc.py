"""The hosted identity providers whose tokens the API accepts (docs/sign-in.md), checked at start-up.

settings.py reads the environment and builds one `OidcProvider` per configured issuer with
`oidc_provider()`, which refuses a configuration that would accept forgeable or foreign tokens.
"""

from dataclasses import dataclass
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

# Asymmetric only: an HMAC "key" published in a JWKS would let anyone sign tokens.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class OidcProvider:
    issuer: str  # the exact `iss` its tokens carry
    audiences: tuple[str, ...]  # accepted `aud` values; empty: `aud` is not checked
    authorized_parties: tuple[str, ...]  # accepted `azp` values; empty: `azp` is not checked
    jwks_url: str  # empty: found through the issuer's /.well-known/openid-configuration
    algorithms: tuple[str, ...]
    claim_namespace: str = ""  # prefix of custom claims (Auth0's namespaced claims), tried after the plain name

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def url_check(name: str, url: str) -> None:
    """Keys must come over HTTPS; plain HTTP only on loopback (tests, a local provider)."""
    parts = urlparse(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ImproperlyConfigured(f"{name} must be an https:// URL (http:// only on loopback), got {url!r}.")


def oidc_provider(
    *,
    prefix: str,
    issuer: str,
    audiences: list[str],
    authorized_parties: list[str],
    jwks_url: str,
    algorithms: list[str],
    claim_namespace: str = "",
) -> OidcProvider:
    url_check(f"{prefix}ISSUER", issuer)
    if jwks_url:
        url_check(f"{prefix}JWKS_URL", jwks_url)
    refused = sorted(set(algorithms) - ALLOWED_ALGORITHMS)
    if refused or not algorithms:
        raise ImproperlyConfigured(
            f"{prefix}ALGORITHMS accepts only {', '.join(sorted(ALLOWED_ALGORITHMS))}; "
            f"refused: {refused or 'none given'}."
        )
    if not audiences and not authorized_parties:
        # Without either, a token the provider issued to any other application would be accepted.
        raise ImproperlyConfigured(f"Set {prefix}AUDIENCE, or {prefix}AUTHORIZED_PARTIES for providers without `aud`.")
    return OidcProvider(
        issuer=issuer,
        audiences=tuple(audiences),
        authorized_parties=tuple(authorized_parties),
        jwks_url=jwks_url,
        algorithms=tuple(algorithms),
        claim_namespace=claim_namespace,
    )


def distinct_issuers(providers: list[OidcProvider]) -> list[OidcProvider]:
    issuers = [p.issuer for p in providers]
    if len(set(issuers)) != len(issuers):
        raise ImproperlyConfigured(f"Each OIDC issuer may be configured once, got {issuers}.")
    return providers
