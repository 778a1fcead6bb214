"""An identity provider's signing keys: fetched with PyJWT's JWKS client, shared by every process through the cache.

The key set is fetched when the cache has none (by one process, the others wait for it), then kept
OIDC_JWKS_CACHE_SECONDS. A token signed with a key the cached set lacks (the provider rotated its
keys) makes one fetch, at most one a minute per issuer across all processes, so forged `kid`s
cannot turn the API into a flood of fetches.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientError, PyJWTError

from config.memos import Memo
from config.oidc import OidcProvider, url_check

logger = logging.getLogger(__name__)

REFRESH_INTERVAL_SECONDS = 60
# Each process also keeps the parsed keys this long: no cache round trip or key parsing per request.
MEMO_SECONDS = 60
_keys_by_issuer = Memo(
    "identity provider keys",
    seconds=lambda: min(MEMO_SECONDS, settings.OIDC_JWKS_CACHE_SECONDS),
    max_entries=64,
)


class JwksUnavailable(Exception):
    """The provider's keys cannot be had: it is down, too slow, or answers something that is no key set."""


def _cache_key(provider: OidcProvider, what: str) -> str:
    return f"oidc:{what}:{hashlib.sha256(provider.issuer.encode()).hexdigest()[:32]}"


def _fetch_json(url: str) -> dict:
    # PyJWT's client: a timeout, no redirects, http(s) only; its own in-process cache is off (ours is shared).
    client = PyJWKClient(url, cache_jwk_set=False, timeout=settings.OIDC_JWKS_TIMEOUT_SECONDS)
    try:
        return client.fetch_data()
    except (PyJWKClientError, ValueError, OSError) as exc:  # ValueError: a body that is not JSON
        raise JwksUnavailable(f"{url}: {exc.__class__.__name__}: {exc}") from exc


def _jwks_url(provider: OidcProvider) -> str:
    if provider.jwks_url:
        return provider.jwks_url
    document = _fetch_json(provider.discovery_url)
    if document.get("issuer") != provider.issuer:
        raise JwksUnavailable(f"{provider.discovery_url} names another issuer: {document.get('issuer')!r}")
    url = document.get("jwks_uri")
    try:
        url_check("jwks_uri", url if isinstance(url, str) else "")
    except ImproperlyConfigured as exc:
        raise JwksUnavailable(str(exc)) from exc
    return url


def _signing_keys(data: dict) -> dict[str, PyJWK]:
    """The set's signature keys by `kid` (PyJWT skips keys it cannot use)."""
    try:
        key_set = PyJWKSet.from_dict(data)
    except PyJWTError:
        return {}
    return {key.key_id: key for key in key_set.keys if key.key_id and key.public_key_use in ("sig", None)}


def _fetch_and_store(provider: OidcProvider) -> dict:
    try:
        data = _fetch_json(_jwks_url(provider))
        if not _signing_keys(data):
            raise JwksUnavailable(f"the JWKS of {provider.issuer} holds no usable signing key")
    except JwksUnavailable as exc:
        logger.warning("JWKS of %s unavailable: %s", provider.issuer, exc)
        raise
    cache.set(_cache_key(provider, "jwks"), data, settings.OIDC_JWKS_CACHE_SECONDS)
    return data


def _fetch_once_for_all(provider: OidcProvider) -> dict:
    """With no key set cached, one process fetches it while the others wait for it in the cache."""
    budget = 2 * settings.OIDC_JWKS_TIMEOUT_SECONDS + 1  # discovery, then the key set
    lock = _cache_key(provider, "fetching")
    # None (not False): django-redis could not reach Redis, so nobody else can be waited for either.
    if cache.add(lock, 1, math.ceil(budget)) is not False:
        try:
            return _fetch_and_store(provider)
        finally:
            cache.delete(lock)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        time.sleep(0.02)
        data = cache.get(_cache_key(provider, "jwks"))
        if data is not None:
            return data
        if cache.get(lock) is None:
            break  # the fetching process gave up
    raise JwksUnavailable(f"another process could not fetch the JWKS of {provider.issuer}")


def _memo_keys(provider: OidcProvider, data: dict) -> dict[str, PyJWK]:
    return _keys_by_issuer.set(provider.issuer, _signing_keys(data))


def signing_key(provider: OidcProvider, kid: str) -> PyJWK | None:
    """The provider's key named `kid`, or None when the provider does not publish it. Raises JwksUnavailable."""
    keys = _keys_by_issuer.get(provider.issuer, {})
    if kid in keys:
        return keys[kid]
    data = cache.get(_cache_key(provider, "jwks"))
    if data is None:
        data = _fetch_once_for_all(provider)
    key = _memo_keys(provider, data).get(kid)
    if key is None and cache.add(_cache_key(provider, "refresh"), 1, REFRESH_INTERVAL_SECONDS):
        key = _memo_keys(provider, _fetch_and_store(provider)).get(kid)
    return key
