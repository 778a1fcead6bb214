"""While the database is unreachable the API answers 503 service_unavailable, never 500.

`make faults` checks the same against a real PostgreSQL restart (bench/faults.py).
"""

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client():
    # A 5xx sends got_request_exception (for error monitoring); the test client would re-raise it.
    return APIClient(raise_request_exception=False)


@pytest.fixture
def token():
    return str(AccessToken.for_user(UserFactory()))


@pytest.fixture
def database_down(monkeypatch):
    def down(error):
        def refuse(self, *args, **kwargs):
            raise error("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

        monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
        monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)

    return down


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/v1/auth/me/"),
        ("get", "/api/v1/analyses/"),
        ("get", "/api/v1/stats/"),
        ("get", "/api/v1/playlists/"),
        ("post", "/api/v1/auth/login/"),
        ("post", "/api/v1/sessions/"),
    ],
)
def test_the_api_answers_503_in_the_error_shape_while_the_database_is_down(
    api_client, token, database_down, error, method, url
):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    database_down(error)
    body = {"email": "a@example.com", "password": "x", "youtube_url": "https://youtu.be/dQw4w9WgXcQ"}
    r = getattr(api_client, method)(url, body, format="json") if method == "post" else api_client.get(url)
    assert r.status_code == 503, r.content
    body = r.json()
    assert body["type"] == "server_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("service_unavailable", None)]


def test_healthz_still_answers_and_readyz_names_the_database(client, database_down):
    database_down(OperationalError)
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503


def test_every_operation_documents_the_503(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], (method, path)


def test_it_logs_the_database_error_with_its_message_and_the_request_id(api_client, token, database_down, caplog):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    database_down(OperationalError)
    with caplog.at_level("WARNING"):
        r = api_client.get("/api/v1/analyses/", HTTP_X_REQUEST_ID="req-db-down-1")
    assert r.status_code == 503
    lines = [record for record in caplog.records if "Database unavailable" in record.getMessage()]
    assert lines, [record.getMessage() for record in caplog.records]
    assert "Connection refused" in lines[0].getMessage()
    assert lines[0].request_id == "req-db-down-1"


def test_it_logs_why_readyz_found_the_database_down(client, database_down, caplog):
    database_down(OperationalError)
    with caplog.at_level("WARNING"):
        client.get("/readyz")
    assert any("Connection refused" in record.getMessage() for record in caplog.records)
