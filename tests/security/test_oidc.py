"""Attacks on the hosted sign-in path (accounts/oidc/): every authenticated route refuses them.

The suite's conftest turns the feature on with a local identity provider (`hosted_idp`).
"""

import jwt
import pytest

from accounts.models import ExternalIdentity, User
from accounts.tests.factories import UserFactory
from analyses.tests.factories import AnalysisFactory
from bench.fake_idp import FakeIdentityProvider, private_key
from tests.security.test_jwt import CASES

pytestmark = pytest.mark.django_db

FORGERIES = {
    "expired": lambda idp: idp.token(lifetime=-3600),
    "alg_none": lambda idp: idp.token_unsigned(),
    "hs256_with_the_public_key": lambda idp: idp.token_key_confusion(),
    "forged_kid": lambda idp: idp.token(kid="attacker"),
    "wrong_audience": lambda idp: idp.token(aud="another-api"),
    "tampered_subject": lambda idp: idp.tampered(idp.token("victim"), sub="admin"),
}


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_provider_token_is_a_401_on_every_authenticated_route_and_verb(api_client, hosted_idp, kind):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {FORGERIES[kind](hosted_idp)}")
    for method, url in CASES:
        r = getattr(api_client, method)(url, {}, format="json") if method != "get" else api_client.get(url)
        assert r.status_code == 401, (kind, method, url, r.status_code, r.content)
        assert r["WWW-Authenticate"].startswith("Bearer"), (method, url)
        assert [e["code"] for e in r.json()["errors"]] == ["token_not_valid"], (method, url)
    assert not User.objects.exists() and not ExternalIdentity.objects.exists()


def test_a_provider_token_never_reaches_a_local_user_through_our_claims(api_client, hosted_idp):
    local = UserFactory()
    token = hosted_idp.token(str(local.pk), user_id=local.pk, token_type="access", email=local.email)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = api_client.get("/api/v1/auth/me/").json()
    assert me["id"] != local.pk and me["email"] is None


def test_a_provider_user_sees_only_their_own_objects(api_client, hosted_idp):
    others = AnalysisFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {hosted_idp.token('user-1')}")
    assert api_client.get(f"/api/v1/analyses/{others.pk}/").status_code == 404
    assert api_client.get("/api/v1/analyses/").json()["count"] == 0


def test_keys_named_in_the_token_header_are_never_fetched(api_client, hosted_idp):
    with FakeIdentityProvider() as attacker:
        attacker.published = [("attacker-rsa", "RS256")]
        own_key = attacker.jwks()["keys"][0]
        headers = {"kid": "attacker-rsa", "jku": attacker.jwks_url, "x5u": attacker.jwks_url, "jwk": own_key}
        signer = private_key("attacker-rsa", "RS256")
        token = jwt.encode(hosted_idp.claims("admin"), signer, algorithm="RS256", headers=headers)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api_client.get("/api/v1/auth/me/").status_code == 401
        assert sum(attacker.hits.values()) == 0
    assert not User.objects.exists()
