"""Forged, expired and wrong-type tokens are a 401 on every authenticated endpoint.

accounts/tests/test_auth_api.py checks each kind on `auth/me/`; this extends them to every
route and verb of the API, enumerated from the URL configuration.
"""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import UserFactory
from tests.security.test_object_scoping import METHODS, _walk

PUBLIC = {"/api/v1/auth/register/", "/api/v1/auth/login/", "/api/v1/auth/refresh/"}
SAMPLE = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000001"}


def _authenticated_cases():
    from django.urls import get_resolver

    cases = []
    for route, pattern in _walk(get_resolver().url_patterns):
        route = "/" + route
        if not route.startswith("/api/v1/") or route.rstrip("/") + "/" in PUBLIC:  # with or without the slash
            continue
        url = route
        for converter, value in SAMPLE.items():
            while f"<{converter}:" in url:
                start = url.index(f"<{converter}:")
                url = url[:start] + value + url[url.index(">", start) + 1 :]
        view = pattern.callback.view_class
        for method in METHODS:
            if method in view.http_method_names and hasattr(view, method):
                cases.append((method, url))
    return cases


CASES = _authenticated_cases()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(kind: str, user) -> str:
    token = str(AccessToken.for_user(user))
    _, payload, _ = token.split(".")
    if kind == "wrong_signature":
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        return jwt.encode(claims, "not-the-server-key-" + "x" * 40, algorithm="HS256")
    if kind == "alg_none":
        none_header = _b64(b'{"alg":"none","typ":"JWT"}')
        return f"{none_header}.{payload}."
    if kind == "expired":
        expired = AccessToken.for_user(user)
        expired.set_exp(lifetime=-timedelta(seconds=1))
        return str(expired)
    if kind == "refresh_as_access":
        return str(RefreshToken.for_user(user))
    if kind == "garbage":
        return "not.a.jwt"
    raise ValueError(kind)


KINDS = ["wrong_signature", "alg_none", "expired", "refresh_as_access", "garbage"]


def test_every_api_route_but_register_login_and_refresh_is_covered():
    urls = {url for _, url in CASES}
    assert "/api/v1/stats/" in urls and "/api/v1/auth/me/" in urls
    assert not urls & PUBLIC
    assert len(CASES) >= 25


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_token_is_a_401_on_every_authenticated_route_and_verb(api_client, kind):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forge(kind, user)}")
    for method, url in CASES:
        r = getattr(api_client, method)(url, {}, format="json") if method != "get" else api_client.get(url)
        assert r.status_code == 401, (kind, method, url, r.status_code, r.content)
        assert r["WWW-Authenticate"].startswith("Bearer"), (method, url)
        errors = r.json()["errors"]
        # One error with its code, not one per key of simplejwt's detail dict.
        assert [e["code"] for e in errors] == ["token_not_valid"], (method, url, errors)


@pytest.mark.django_db
def test_no_token_is_a_401_on_every_authenticated_route_and_verb(api_client):
    for method, url in CASES:
        r = getattr(api_client, method)(url)
        assert r.status_code == 401, (method, url, r.status_code)
        assert [e["code"] for e in r.json()["errors"]] == ["not_authenticated"]


@pytest.mark.django_db
def test_a_token_of_a_deactivated_user_is_a_401(api_client):
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api_client.get("/api/v1/analyses/")
    assert r.status_code == 401
    assert [e["code"] for e in r.json()["errors"]] == ["user_inactive"]
