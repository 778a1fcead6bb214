"""CORS answers only the configured front-end origins.

`manage.py check --deploy` under the production settings is checked in
config/tests/test_deployment.py::test_check_deploy_is_clean_under_production_settings.
"""

import pytest

pytestmark = pytest.mark.django_db

ALLOWED = "http://localhost:5173"
EVIL = "https://evil.example"


def preflight(client, origin, url="/api/v1/auth/login/"):
    return client.options(
        url,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_a_preflight_from_the_configured_origin_is_allowed(client):
    r = preflight(client, ALLOWED)
    assert r["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in r["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize(
    "origin",
    [EVIL, "http://localhost:5173.evil.example", "http://localhost:5174", "null", "https://localhost:5173"],
)
def test_a_preflight_from_any_other_origin_gets_no_cors_grant(client, origin):
    r = preflight(client, origin)
    assert "Access-Control-Allow-Origin" not in r
    assert "Access-Control-Allow-Credentials" not in r


def test_a_simple_request_from_another_origin_gets_no_cors_grant(auth_client):
    r = auth_client.get("/api/v1/auth/me/", HTTP_ORIGIN=EVIL)
    assert r.status_code == 200  # CORS is the browser's guard; the server just grants nothing
    assert "Access-Control-Allow-Origin" not in r


def test_the_allowed_origins_come_from_the_setting(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.dance.example"]
    assert preflight(client, "https://app.dance.example")["Access-Control-Allow-Origin"] == "https://app.dance.example"
    assert "Access-Control-Allow-Origin" not in preflight(client, ALLOWED)


def test_credentials_are_never_allowed_cross_origin(client):
    # Bearer tokens, not cookies: no cross-origin request needs credentials.
    assert "Access-Control-Allow-Credentials" not in preflight(client, ALLOWED)
