"""Signing in with a hosted identity provider's token (accounts/oidc/), against a local JWKS server."""

import pytest
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import ExternalIdentity, User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.test_auth_api import assert_error
from bench.fake_idp import DISCOVERY_PATH, JWKS_PATH, FakeIdentityProvider

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


def test_it_creates_one_user_on_first_sight_and_reuses_it(idp, bearer_client):
    token = idp.token("user_2abc", email="Mai@Example.com", email_verified=True, preferred_username="mai")
    r = bearer_client(token).get(ME)
    assert r.status_code == 200, r.content
    assert r.json()["email"] == "mai@example.com" and r.json()["username"] == "mai"

    again = bearer_client(idp.token("user_2abc", kid="ec-1", alg="ES256")).get(ME)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert User.objects.count() == 1
    identity = ExternalIdentity.objects.get()
    assert (identity.issuer, identity.subject, identity.user_id) == (idp.issuer, "user_2abc", r.json()["id"])
    user = identity.user
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser


def test_it_fetches_the_key_set_once_for_many_requests(idp, bearer_client):
    for n in range(10):
        assert bearer_client(idp.token(f"user-{n % 3}")).get(ME).status_code == 200
    assert idp.hits[DISCOVERY_PATH] == 1 and idp.hits[JWKS_PATH] == 1


def test_it_stores_an_email_only_when_the_provider_verified_it(idp, bearer_client):
    for sub, verified in [("a", False), ("b", "yes"), ("c", None)]:
        token = idp.token(sub, email=f"{sub}@example.com", email_verified=verified)
        assert bearer_client(token).get(ME).json()["email"] is None
    assert User.objects.filter(email__isnull=True).count() == 3


def test_a_later_token_with_a_verified_email_gives_the_user_one_unless_taken(idp, bearer_client):
    assert bearer_client(idp.token("sub-1", email="mai@example.com")).get(ME).json()["email"] is None
    verified = idp.token("sub-1", email="mai@example.com", email_verified=True)
    assert bearer_client(verified).get(ME).json()["email"] == "mai@example.com"
    UserFactory(email="taken@example.com")
    bearer_client(idp.token("sub-2")).get(ME)
    taken = idp.token("sub-2", email="taken@example.com", email_verified=True)
    assert bearer_client(taken).get(ME).json()["email"] is None


def test_it_never_makes_the_email_or_a_nickname_derived_from_it_a_public_username(idp, bearer_client):
    cases = [
        {"preferred_username": "mai@example.com", "email": "mai@example.com"},
        {"nickname": "mai.sato", "email": "Mai.Sato@example.com", "email_verified": True},
        {"username": "sato@example.com", "nickname": "mai.sato", "email": "mai.sato@example.com"},
    ]
    for n, claims in enumerate(cases):
        username = bearer_client(idp.token(f"sub-{n}", **claims)).get(ME).json()["username"]
        assert "mai" not in username.lower() and "sato" not in username.lower(), (claims, username)
        assert username.startswith("dancer")
    assert User.objects.values("username").distinct().count() == 3
    chosen = idp.token("sub-9", preferred_username="Mai Sato!", email="mai@example.com")
    assert bearer_client(chosen).get(ME).json()["username"] == "MaiSato"


def test_it_makes_a_taken_username_unique(idp, bearer_client):
    UserFactory(username="Mai")
    username = bearer_client(idp.token("sub-1", preferred_username="mai")).get(ME).json()["username"]
    assert username.lower() != "mai" and username.startswith("mai-")


def test_it_grants_no_staff_rights_whatever_the_claims_say(idp, bearer_client):
    token = idp.token("boss", is_staff=True, is_superuser=True, roles=["admin"], groups=["staff"])
    assert bearer_client(token).get(ME).status_code == 200
    user = User.objects.get()
    assert not user.is_staff and not user.is_superuser and not user.groups.exists()


def test_it_does_not_link_a_local_account_by_email_by_default(idp, bearer_client):
    local = UserFactory(email="mai@example.com")
    r = bearer_client(idp.token("sub-1", email="mai@example.com", email_verified=True)).get(ME)
    assert r.status_code == 200 and r.json()["id"] != local.pk
    assert r.json()["email"] is None  # the address stays the local account's


def test_it_links_a_local_account_by_verified_email_when_allowed(idp, bearer_client, settings):
    settings.OIDC_LINK_BY_EMAIL = True
    local = UserFactory(email="mai@example.com")
    unverified = bearer_client(idp.token("sub-0", email="mai@example.com", email_verified=False)).get(ME)
    assert unverified.json()["id"] != local.pk
    r = bearer_client(idp.token("sub-1", email="MAI@example.com", email_verified=True)).get(ME)
    assert r.json()["id"] == local.pk
    assert local.external_identities.get().subject == "sub-1"


def test_it_never_links_a_staff_account_by_email(idp, bearer_client, settings):
    settings.OIDC_LINK_BY_EMAIL = True
    staff = UserFactory(email="boss@example.com", is_staff=True)
    r = bearer_client(idp.token("sub-1", email="boss@example.com", email_verified=True)).get(ME)
    assert r.status_code == 200 and r.json()["id"] != staff.pk
    assert not staff.external_identities.exists()


def test_it_refuses_the_token_of_a_deactivated_user(idp, bearer_client, settings):
    assert bearer_client(idp.token("sub-1")).get(ME).status_code == 200
    User.objects.update(is_active=False)
    assert_error(bearer_client(idp.token("sub-1")).get(ME), 401, "user_inactive")
    settings.OIDC_LINK_BY_EMAIL = True
    UserFactory(email="gone@example.com", is_active=False)
    assert_error(
        bearer_client(idp.token("sub-2", email="gone@example.com", email_verified=True)).get(ME), 401, "user_inactive"
    )
    assert ExternalIdentity.objects.count() == 1 and User.objects.count() == 2


def test_it_accepts_several_issuers_each_with_its_own_users(idp, bearer_client, settings):
    with FakeIdentityProvider(audience="other-api") as second:
        settings.OIDC_PROVIDERS = [idp.provider(), second.provider(jwks_url=second.jwks_url, prefix="OIDC_2_")]
        first_id = bearer_client(idp.token("same-sub")).get(ME).json()["id"]
        second_id = bearer_client(second.token("same-sub")).get(ME).json()["id"]
        assert first_id != second_id
        assert second.hits[DISCOVERY_PATH] == 0  # its JWKS URL is configured
        assert_error(bearer_client(second.token("same-sub", aud=idp.audience)).get(ME), 401, "token_not_valid")


def test_it_checks_the_authorized_party_when_configured(idp, bearer_client, settings):
    settings.OIDC_PROVIDERS = [idp.provider(audiences=[], authorized_parties=["https://app.example.com"])]
    ok = idp.token("sub-1", aud=None, azp="https://app.example.com")
    assert bearer_client(ok).get(ME).status_code == 200
    for azp in [None, "https://evil.example.com"]:
        assert_error(bearer_client(idp.token("sub-1", aud=None, azp=azp)).get(ME), 401, "token_not_valid")


def test_logout_and_password_change_answer_400_for_an_account_from_a_hosted_sign_in(idp, bearer_client):
    client = bearer_client(idp.token("sub-1"))
    r = client.post("/api/v1/auth/logout/", {"refresh_token": "x"}, format="json")
    assert_error(r, 400, "external_account")
    assert "identity provider" in r.json()["errors"][0]["detail"]
    r = client.post("/api/v1/auth/password/", {"old_password": "a", "new_password": PASSWORD}, format="json")
    assert_error(r, 400, "external_account")


def test_a_linked_local_account_keeps_its_password_change(idp, bearer_client, settings):
    settings.OIDC_LINK_BY_EMAIL = True
    UserFactory(email="mai@example.com")
    client = bearer_client(idp.token("sub-1", email="mai@example.com", email_verified=True))
    r = client.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": PASSWORD + "x"}, format="json")
    assert r.status_code == 204, r.content


def test_our_own_tokens_take_no_extra_query_cache_call_or_decoding_with_the_feature_on(
    idp, bearer_client, settings, monkeypatch
):
    from django.db import connection

    own = str(AccessToken.for_user(UserFactory()))

    def queries_for_me():
        with CaptureQueriesContext(connection) as ctx:
            assert bearer_client(own).get(ME).status_code == 200
        return len(ctx.captured_queries)

    settings.OIDC_PROVIDERS = []
    off = queries_for_me()
    settings.OIDC_PROVIDERS = [idp.provider()]

    def never(*args, **kwargs):
        raise AssertionError("the external path ran for one of our own tokens")

    monkeypatch.setattr("accounts.oidc.authentication.provider_for_token", never)
    monkeypatch.setattr("accounts.oidc.jwks.cache", None)
    assert queries_for_me() == off
    assert sum(idp.hits.values()) == 0


def test_our_own_tokens_work_the_same_with_the_feature_off(bearer_client, settings):
    settings.OIDC_PROVIDERS = []
    user = UserFactory()
    assert bearer_client(str(AccessToken.for_user(user))).get(ME).json()["id"] == user.pk
    with FakeIdentityProvider() as idp:
        assert_error(bearer_client(idp.token("sub-1")).get(ME), 401, "token_not_valid")
        assert sum(idp.hits.values()) == 0
    assert not ExternalIdentity.objects.exists()


def test_the_admin_user_page_lists_the_external_identities(idp, bearer_client, client):
    user_id = bearer_client(idp.token("user_2abc")).get(ME).json()["id"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/accounts/user/{user_id}/change/")
    assert page.status_code == 200
    assert b"user_2abc" in page.content and idp.issuer.encode() in page.content


def test_the_schema_documents_the_provider_outage_and_the_external_account_refusal(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    assert "identity_provider_unavailable" in components["ErrorCode503Enum"]["enum"]
    assert {"token_not_valid", "user_inactive"} <= set(components["ErrorCode401Enum"]["enum"])
    for operation in ["V1AuthLogoutCreate", "V1AuthPasswordCreate"]:
        codes = components[f"{operation}NonFieldErrorsErrorComponent"]["properties"]["code"]["enum"]
        assert "external_account" in codes, operation
    assert list(schema["components"]["securitySchemes"]) == ["jwtAuth"]
