"""A DEBUG instance (the `make run` default) left reachable: no forgeable tokens, no secrets, no frames."""

import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from django.conf import settings as django_settings
from django.urls import Resolver404, clear_url_caches, get_resolver

from accounts.tests.factories import UserFactory
from config.dev_secret import dev_secret_key

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_DEV_KEY = "dev-insecure-secret-key-do-not-use-in-production-0123456789abcdef"
BROKER = "redis://:hunter2-broker-secret@10.0.0.5:6379/0"


def test_it_makes_a_random_key_once_and_keeps_it_private(tmp_path):
    path = tmp_path / ".dev-secret-key"
    first = dev_secret_key(path)
    assert len(first) >= 64
    assert dev_secret_key(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secret_key(tmp_path / "other") != first


def test_it_falls_back_to_a_key_for_the_process_when_the_checkout_is_read_only(tmp_path):
    tmp_path.chmod(0o500)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("root ignores the directory's mode")
        with pytest.warns(UserWarning):
            assert len(dev_secret_key(tmp_path / ".dev-secret-key")) >= 64
    finally:
        tmp_path.chmod(0o700)


def test_settings_use_the_checkouts_key_with_debug_on_and_no_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "JWT_SIGNING_KEY"}} | {"DEBUG": "true"}
    code = "from django.conf import settings; print(settings.SECRET_KEY); print(settings.SIMPLE_JWT['SIGNING_KEY'])"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == out[1] == (ROOT / ".dev-secret-key").read_text().strip()
    assert PUBLISHED_DEV_KEY not in out


@pytest.mark.django_db
def test_it_refuses_a_token_signed_with_the_once_published_dev_key(api_client):
    user = UserFactory()
    claims = {"token_type": "access", "user_id": str(user.pk), "exp": 4_000_000_000, "jti": "x" * 32}
    api_client.credentials(HTTP_AUTHORIZATION="Bearer " + jwt.encode(claims, PUBLISHED_DEV_KEY, algorithm="HS256"))
    assert api_client.get("/api/v1/auth/me/").status_code == 401


@pytest.mark.django_db
def test_the_debug_page_shows_no_password_inside_a_url(client, settings):
    settings.DEBUG = True
    settings.CELERY_BROKER_URL = BROKER
    settings.CACHES = {**settings.CACHES, "broker": {"BACKEND": "x", "LOCATION": [BROKER]}}
    page = client.get("/healthz", HTTP_HOST="attacker.example", HTTP_X_UPSTREAM="postgres://app:db-pass-123@db/app")
    assert page.status_code == 400
    assert b"DisallowedHost" in page.content  # the debug page itself
    assert b"hunter2-broker-secret" not in page.content
    assert b"db-pass-123" not in page.content
    assert b"redis://:********************@10.0.0.5:6379/0" in page.content


def test_the_filter_hides_passwords_in_urls_and_their_queries_and_keeps_the_rest():
    from config.error_reports import UrlPasswordSafeFilter

    hide = UrlPasswordSafeFilter().cleanse_setting
    assert (
        hide("DATABASE_URL", "postgres://app:s3cret@db:5432/app") == "postgres://app:********************@db:5432/app"
    )
    assert hide("X", {"hosts": ["redis://:pw@h/0"]}) == {"hosts": ["redis://:********************@h/0"]}
    assert (
        hide("X", "https://api.example/v1?token=abc&page=2")
        == "https://api.example/v1?token=********************&page=2"
    )
    assert hide("X", "redis://cache:6379/0") == "redis://cache:6379/0"


def test_media_is_not_served_even_with_debug_on(settings):
    settings.DEBUG = True
    import config.urls

    try:
        importlib.reload(config.urls)
        clear_url_caches()
        with pytest.raises(Resolver404):
            get_resolver().resolve(f"/{django_settings.MEDIA_URL}frames/2026/01/01/frame.jpg")
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()
