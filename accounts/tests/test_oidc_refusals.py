"""Bad provider tokens and a misbehaving JWKS endpoint: a 401 (or 503), never a 500, never a user created."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import ExternalIdentity, User
from accounts.oidc import jwks
from accounts.tests.factories import UserFactory
from accounts.tests.test_auth_api import assert_error
from bench.fake_idp import JWKS_PATH, FakeIdentityProvider
from config.memos import memos_clear
from config.oidc import distinct_issuers, oidc_provider

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
HOUR = 3600

BAD_TOKENS = {
    "expired": lambda idp: idp.token(lifetime=-HOUR),
    "not_yet_valid": lambda idp: idp.token(nbf=int(time.time()) + HOUR),
    "issued_in_the_future": lambda idp: idp.token(iat=int(time.time()) + HOUR, nbf=None),
    "wrong_issuer": lambda idp: idp.token(iss="https://login.example.com"),
    "wrong_audience": lambda idp: idp.token(aud="another-api"),
    "no_audience": lambda idp: idp.token(aud=None),
    "no_expiry": lambda idp: idp.token(exp=None),
    "no_subject": lambda idp: idp.token(sub=None),
    "subject_not_a_string": lambda idp: idp.token(sub=12345),
    "alg_none": lambda idp: idp.token_unsigned(),
    "hs256_signed_with_the_public_key": lambda idp: idp.token_key_confusion(),
    "unknown_kid": lambda idp: idp.token(kid="never-published"),
    "no_kid": lambda idp: idp.token_without_kid(),
    "rs512_not_accepted": lambda idp: idp.token(alg="RS512", kid="rsa-1"),
    "tampered_payload": lambda idp: idp.tampered(idp.token(), sub="someone-else"),
    "garbage_after_the_issuer": lambda idp: idp.token() + "garbage",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_it_refuses_each_bad_token_with_a_401_and_creates_no_user(idp, bearer_client, kind):
    r = bearer_client(BAD_TOKENS[kind](idp)).get(ME)
    assert_error(r, 401, "token_not_valid")
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert not User.objects.exists() and not ExternalIdentity.objects.exists()


def test_it_refuses_a_token_without_the_required_authorized_party(idp, bearer_client, settings):
    settings.OIDC_PROVIDERS = [idp.provider(authorized_parties=["https://app.example.com"])]
    assert_error(bearer_client(idp.token()).get(ME), 401, "token_not_valid")
    assert not User.objects.exists()


@pytest.mark.parametrize("mode", ["down", "garbage", "empty", "slow"])
def test_a_jwks_outage_is_a_503_for_provider_tokens_while_our_own_keep_working(idp, bearer_client, settings, mode):
    settings.OIDC_JWKS_TIMEOUT_SECONDS = 0.3
    idp.mode, idp.delay = mode, 1.0
    r = bearer_client(idp.token()).get(ME)
    assert_error(r, 503, "identity_provider_unavailable")
    assert r.json()["type"] == "server_error"
    assert not User.objects.exists()
    own = UserFactory()
    assert bearer_client(str(AccessToken.for_user(own))).get(ME).json()["id"] == own.pk


def test_a_provider_that_is_gone_is_a_503(bearer_client, settings):
    idp = FakeIdentityProvider().start()
    settings.OIDC_PROVIDERS = [idp.provider()]
    token = idp.token()
    idp.stop()
    assert_error(bearer_client(token).get(ME), 503, "identity_provider_unavailable")


def test_a_discovery_document_naming_another_issuer_is_an_outage(idp, bearer_client):
    idp.discovery_issuer = "https://login.example.com"
    assert_error(bearer_client(idp.token()).get(ME), 503, "identity_provider_unavailable")


def test_a_rotated_key_works_after_one_refresh(idp, bearer_client):
    assert bearer_client(idp.token("sub-1")).get(ME).status_code == 200
    idp.rotate("rsa-2")
    assert bearer_client(idp.token("sub-1", kid="rsa-2")).get(ME).status_code == 200
    assert idp.hits[JWKS_PATH] == 2
    for _ in range(3):  # a second refresh within the minute is not allowed
        assert_error(bearer_client(idp.token("sub-1", kid="rsa-3")).get(ME), 401, "token_not_valid")
    assert idp.hits[JWKS_PATH] == 2


def test_forged_kids_make_at_most_one_fetch_a_minute(idp, bearer_client):
    for n in range(20):
        assert_error(bearer_client(idp.token(kid=f"forged-{n}")).get(ME), 401, "token_not_valid")
    assert idp.hits[JWKS_PATH] == 2  # the first fetch, then one refresh
    assert not User.objects.exists()


def test_each_process_keeps_the_parsed_keys_a_minute_without_a_cache_round_trip(idp, bearer_client, monkeypatch):
    assert bearer_client(idp.token()).get(ME).status_code == 200
    monkeypatch.setattr(jwks, "cache", None)  # any cache call would fail
    assert bearer_client(idp.token("sub-2", kid="ec-1", alg="ES256")).get(ME).status_code == 200
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + jwks.MEMO_SECONDS)  # a minute later
    with pytest.raises(AttributeError):  # back to the shared cache
        jwks.signing_key(idp.provider(), "rsa-1")


def test_a_failed_refresh_keeps_the_cached_keys(idp, bearer_client):
    assert bearer_client(idp.token()).get(ME).status_code == 200
    idp.mode = "garbage"
    assert_error(bearer_client(idp.token(kid="rsa-9")).get(ME), 503, "identity_provider_unavailable")
    assert bearer_client(idp.token()).get(ME).status_code == 200


def test_one_process_fetches_while_the_others_wait_for_its_keys(idp, settings):
    from django.core.cache import cache

    provider = settings.OIDC_PROVIDERS[0]
    cache.add(jwks._cache_key(provider, "fetching"), 1, 5)  # another process is fetching
    cache.set(jwks._cache_key(provider, "jwks"), idp.jwks(), 60)
    assert jwks.signing_key(provider, "rsa-1") is not None
    assert idp.hits[JWKS_PATH] == 0
    cache.delete(jwks._cache_key(provider, "jwks"))
    cache.delete(jwks._cache_key(provider, "fetching"))
    memos_clear()  # as in another process
    cache.add(jwks._cache_key(provider, "fetching"), 1, 1)  # one that gives up without storing keys
    settings.OIDC_JWKS_TIMEOUT_SECONDS = 0.2
    with pytest.raises(jwks.JwksUnavailable):
        jwks.signing_key(provider, "rsa-1")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"algorithms": ["HS256"]}, "ALGORITHMS"),
        ({"algorithms": ["none"]}, "ALGORITHMS"),
        ({"algorithms": []}, "ALGORITHMS"),
        ({"audiences": [], "authorized_parties": []}, "AUDIENCE"),
        ({"issuer": "http://login.example.com"}, "ISSUER"),
        ({"jwks_url": "file:///etc/passwd"}, "JWKS_URL"),
    ],
)
def test_it_refuses_a_configuration_that_would_accept_foreign_or_forged_tokens(change, message):
    options = {
        "prefix": "OIDC_",
        "issuer": "https://login.example.com/",
        "audiences": ["api"],
        "authorized_parties": [],
        "jwks_url": "",
        "algorithms": ["RS256"],
        **change,
    }
    with pytest.raises(ImproperlyConfigured, match=message):
        oidc_provider(**options)


def test_it_refuses_the_same_issuer_twice():
    provider = oidc_provider(
        prefix="OIDC_", issuer="https://a.example.com", audiences=["api"], authorized_parties=[], jwks_url="",
        algorithms=["RS256"],
    )  # fmt: skip
    with pytest.raises(ImproperlyConfigured, match="once"):
        distinct_issuers([provider, provider])
