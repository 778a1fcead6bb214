"""Failed logins are limited per (email, IP), per IP and per email, without locking the owner out."""

import pytest

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def limits(settings):
    def set_limits(*, email_ip="3/5m", ip="100/10m", email="100/5m"):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_email_ip": email_ip,
            "login_ip": ip,
            "login_email": email,
        }

    set_limits()
    return set_limits


def login(client, email, password, ip):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_it_refuses_a_source_that_keeps_guessing_one_account_even_the_right_password(api_client, user, limits):
    for _ in range(3):
        assert login(api_client, user.email, "wrong", ATTACKER).status_code == 401
    refused = login(api_client, user.email.upper(), PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 300


def test_it_lets_the_owner_in_from_their_own_ip_while_someone_else_is_refused(api_client, user, limits):
    for _ in range(3):
        login(api_client, user.email, "wrong", ATTACKER)
    assert login(api_client, user.email, "wrong", ATTACKER).status_code == 429
    assert login(api_client, user.email, PASSWORD, OWNER).status_code == 200


def test_it_counts_failures_only_so_signing_in_often_is_never_limited(api_client, user, limits):
    limits(email_ip="2/5m", ip="2/10m", email="2/5m")
    for _ in range(5):
        assert login(api_client, user.email, PASSWORD, OWNER).status_code == 200


def test_it_limits_one_source_trying_many_accounts(api_client, user, limits):
    limits(ip="4/10m")
    for i in range(4):
        assert login(api_client, f"someone{i}@example.com", "guess", ATTACKER).status_code == 401
    assert login(api_client, user.email, PASSWORD, ATTACKER).status_code == 429
    assert login(api_client, user.email, PASSWORD, OWNER).status_code == 200


def test_it_stops_many_sources_at_the_per_email_ceiling_for_a_short_cool_down(api_client, user, limits):
    limits(email="6/5m")
    for i in range(6):
        assert login(api_client, user.email, "guess", f"192.0.2.{i + 1}").status_code == 401
    refused = login(api_client, user.email, PASSWORD, OWNER)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 300
    assert login(api_client, "another@example.com", "x", OWNER).status_code == 401


def test_it_reads_the_client_ip_from_the_configured_proxy_header(api_client, user, limits, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    for _ in range(3):
        api_client.post(LOGIN, {"email": user.email, "password": "wrong"}, format="json", HTTP_X_REAL_IP=ATTACKER)
    same_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    refused = api_client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, format="json", HTTP_X_REAL_IP=ATTACKER, **same_proxy
    )
    allowed = api_client.post(
        LOGIN, {"email": user.email, "password": PASSWORD}, format="json", HTTP_X_REAL_IP=OWNER, **same_proxy
    )
    assert (refused.status_code, allowed.status_code) == (429, 200)


def test_it_limits_anonymous_requests_per_client_ip_behind_a_proxy(api_client, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default_anon": "2/m"}
    body = {"refresh_token": "not-a-token"}
    for _ in range(2):
        assert api_client.post("/api/v1/auth/refresh/", body, format="json", HTTP_X_REAL_IP=ATTACKER).status_code == 401
    assert api_client.post("/api/v1/auth/refresh/", body, format="json", HTTP_X_REAL_IP=ATTACKER).status_code == 429
    assert api_client.post("/api/v1/auth/refresh/", body, format="json", HTTP_X_REAL_IP=OWNER).status_code == 401
