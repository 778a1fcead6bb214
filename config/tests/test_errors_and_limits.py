import pytest
from django.test import override_settings

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def errors_of(response):
    body = response.json()
    assert set(body) == {"type", "errors"}
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
    return [e["code"] for e in body["errors"]]


def test_unknown_api_url_is_a_404_in_the_error_shape(auth_client):
    r = auth_client.get("/api/v1/nothing-here/")
    assert r.status_code == 404
    assert errors_of(r) == ["not_found"]


def test_wrong_method_is_a_405_in_the_error_shape(auth_client):
    r = auth_client.put("/api/v1/auth/me/")  # DELETE deletes the account (issue 18)
    assert r.status_code == 405
    assert errors_of(r) == ["method_not_allowed"]


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = api_client.post(LOGIN, {"email": "a@example.com", "password": "x" * 5000}, format="json")
    assert r.status_code == 413
    assert errors_of(r) == ["request_too_large"]


def test_register_is_limited_per_ip(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register_ip": "1/h"}
    ok = api_client.post(
        "/api/v1/auth/register/", {"email": "a@example.com", "username": "a", "password": PASSWORD}, format="json"
    )
    assert ok.status_code == 201
    r = api_client.post(
        "/api/v1/auth/register/", {"email": "b@example.com", "username": "b", "password": PASSWORD}, format="json"
    )
    assert r.status_code == 429
    # django-ratelimit's windows are fixed (aligned to the clock), so any time left within the hour.
    assert 1 <= int(r["Retry-After"]) <= 3600


def test_authenticated_endpoints_have_a_default_limit_per_user(auth_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default_user": "2/m"}
    assert auth_client.get("/api/v1/auth/me/").status_code == 200
    assert auth_client.get("/api/v1/auth/me/").status_code == 200
    r = auth_client.get("/api/v1/auth/me/")
    assert r.status_code == 429
    assert errors_of(r) == ["throttled"]


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
    }
}


def test_login_still_works_when_the_cache_is_down(api_client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_email_ip": "1/m", "login_email": "1/m", "login_ip": "1/m"}
    with override_settings(CACHES=UNREACHABLE_REDIS):
        for _ in range(3):
            assert api_client.post(LOGIN, {"email": user.email, "password": "wrong"}, format="json").status_code == 401
            r = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")
            assert r.status_code == 200, r.content
