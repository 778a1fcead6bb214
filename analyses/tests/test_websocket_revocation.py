"""A user's live-status sockets close when their tokens are revoked everywhere, and stay closed."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import PASSWORD, UserFactory
from analyses.tests.test_websocket import communicator

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_LOG_IN_AGAIN = {"type": "websocket.close", "code": 4401}


def signed_in(user) -> tuple[APIClient, str]:
    access = str(RefreshToken.for_user(user).access_token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client, access


def revoke_and_listen(revoke) -> tuple[list, dict]:
    """Two sockets of the dancer and one of someone else; `revoke(client)` runs while they are open."""
    dancer, other = UserFactory(), UserFactory()
    client, token = signed_in(dancer)
    other_token = signed_in(other)[1]

    async def scenario():
        sockets = [communicator(token=token), communicator(token=token), communicator(token=other_token)]
        for socket in sockets:
            assert (await socket.connect())[0]
        await sync_to_async(revoke)(client)
        closed = [await socket.receive_output(timeout=2) for socket in sockets[:2]]
        await sockets[2].send_to(text_data=json.dumps({"action": "ping"}))
        still_open = await sockets[2].receive_json_from()
        await sockets[2].disconnect()
        return closed, still_open

    return async_to_sync(scenario)()


def test_it_closes_the_users_sockets_when_they_log_out_everywhere():
    def log_out_everywhere(client):
        assert client.post("/api/v1/auth/logout/all/").status_code == 204

    closed, still_open = revoke_and_listen(log_out_everywhere)
    assert closed == [CLOSED_LOG_IN_AGAIN, CLOSED_LOG_IN_AGAIN]
    assert still_open == {"type": "pong"}


def test_it_closes_the_users_sockets_when_they_change_their_password():
    def change_password(client):
        body = {"old_password": PASSWORD, "new_password": "a-brand-new-pass-42"}
        assert client.post("/api/v1/auth/password/", body, format="json").status_code == 204

    closed, still_open = revoke_and_listen(change_password)
    assert closed == [CLOSED_LOG_IN_AGAIN, CLOSED_LOG_IN_AGAIN]
    assert still_open == {"type": "pong"}


def test_it_refuses_tokens_issued_before_a_password_change_on_the_api_and_the_socket():
    dancer = UserFactory()
    client, token = signed_in(dancer)
    body = {"old_password": PASSWORD, "new_password": "a-brand-new-pass-42"}
    assert client.post("/api/v1/auth/password/", body, format="json").status_code == 204
    refused = client.get("/api/v1/auth/me/")
    assert refused.status_code == 401
    assert [e["code"] for e in refused.json()["errors"]] == ["password_changed"]

    async def reconnect():
        socket = communicator(token=token)
        await socket.connect()
        return await socket.receive_output(timeout=2)

    assert async_to_sync(reconnect)() == CLOSED_LOG_IN_AGAIN


def test_it_revokes_every_refresh_token_when_logging_out_everywhere():
    dancer = UserFactory()
    refresh_tokens = [str(RefreshToken.for_user(dancer)) for _ in range(2)]
    client, _ = signed_in(dancer)
    assert client.post("/api/v1/auth/logout/all/").status_code == 204
    for refresh in refresh_tokens:
        assert client.post("/api/v1/auth/refresh/", {"refresh_token": refresh}, format="json").status_code == 401
