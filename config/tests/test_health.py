import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_dependencies(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_is_200_when_everything_answers(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.content
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["cache"] == "ok"


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["database"] == "unavailable"
    assert [e["code"] for e in body["errors"]] == ["database_unavailable"]


def test_readyz_is_503_naming_the_cache_when_it_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"] == {**r.json()["checks"], "cache": "unavailable", "database": "ok"}
