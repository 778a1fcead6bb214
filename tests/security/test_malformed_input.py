"""Malformed input is a 400 in the error shape wherever it can arrive, never a 500 or a traceback."""

import base64
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from playlists.tests.factories import PlaylistFactory, VideoFactory

pytestmark = pytest.mark.django_db

NESTED = b"[" * 100_000
MANY_PARAMETERS = "&".join(f"p{i}=1" for i in range(1001))


@pytest.fixture
def quiet_server(caplog):
    """Fails the test if anything was logged as an error (a 500 writes its traceback)."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, [record.getMessage() for record in errors]


def error_codes(response) -> list[str]:
    body = response.json()
    assert set(body) == {"type", "errors"}
    return [error["code"] for error in body["errors"]]


@pytest.fixture
def client(auth_client):
    auth_client.raise_request_exception = False
    return auth_client


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/auth/login/"),
        ("post", "/api/v1/auth/register/"),
        ("post", "/api/v1/auth/refresh/"),
        ("patch", "/api/v1/auth/me/"),
        ("post", "/api/v1/videos/"),
        ("post", "/api/v1/playlists/"),
        ("post", "/api/v1/playlists/{playlist}/reorder/"),
        ("post", "/api/v1/sessions/"),
        ("post", "/api/v1/analyses/"),
    ],
)
def test_it_refuses_a_body_of_100000_nested_brackets_with_a_400(client, quiet_server, method, url):
    url = url.format(playlist=PlaylistFactory(owner=client.user).pk)
    response = getattr(client, method)(url, data=NESTED, content_type="application/json")
    assert response.status_code == 400
    assert error_codes(response) == ["parse_error"]


def test_it_refuses_a_nested_reference_track_with_a_400(make_auth_client, quiet_server):
    staff = make_auth_client(is_staff=True)
    url = f"/api/v1/videos/{VideoFactory().pk}/reference/"
    response = staff.put(url, data=NESTED, content_type="application/json")
    assert response.status_code == 400
    assert error_codes(response) == ["invalid_json"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/videos/",
        "/api/v1/videos/{video}/",
        "/api/v1/playlists/",
        "/api/v1/analyses/",
        "/api/v1/sessions/",
        "/api/v1/stats/",
        "/api/v1/auth/me/",
        "/api/schema/",
    ],
)
def test_it_refuses_more_than_1000_query_parameters_with_a_400(client, quiet_server, url):
    response = client.get(url.format(video=VideoFactory().pk) + "?" + MANY_PARAMETERS, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert error_codes(response) == ["too_many_fields"]


@pytest.mark.parametrize("url", ["/api/docs/", "/admin/login/"])
def test_it_answers_pages_with_more_than_1000_query_parameters_400(client, quiet_server, url):
    assert client.get(url + "?" + MANY_PARAMETERS).status_code == 400


@pytest.mark.parametrize("part", [0, 1])
def test_it_refuses_a_token_whose_json_is_nested_past_the_recursion_limit(quiet_server, part):
    parts = ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "e30", "c2ln"]
    parts[part] = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION="Bearer " + ".".join(parts))
    response = client.get("/api/v1/auth/me/")
    assert response.status_code == 401
    refresh = client.post("/api/v1/auth/refresh/", {"refresh_token": ".".join(parts)}, format="json")
    assert refresh.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_nested_websocket_message_with_an_error_and_keeps_the_socket(user, quiet_server):
    from config.asgi import application

    async def scenario():
        url = f"/ws/analyses/?token={AccessToken.for_user(user)}"
        comm = WebsocketCommunicator(application, url, headers=[(b"origin", b"http://localhost:5173")])
        assert (await comm.connect())[0]
        await comm.send_to(text_data="[" * 4000)
        error = await comm.receive_json_from()
        await comm.send_to(text_data=json.dumps({"action": "ping"}))
        pong = await comm.receive_json_from()
        await comm.disconnect()
        return error, pong

    error, pong = async_to_sync(scenario)()
    assert error["code"] == "invalid_json"
    assert pong == {"type": "pong"}
