"""Live analysis status over `ws://HOST/ws/analyses/` (analyses.consumers, config.ws_auth, analyses.live).

The first part drives the ASGI application in-process with Channels' WebsocketCommunicator (the
embedded default's in-memory channel layer, or Redis in the services run). The last part, marked
`services`, runs the production server (`make serve`'s command) and a real Celery worker and listens
with the `websockets` client.
"""

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import UserFactory
from analyses.failure_messages import failure_message
from analyses.live import analysis_changed_publish
from analyses.models import Analysis
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory, submission
from bench import harness
from config.asgi import application

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = (b"origin", b"http://localhost:5173")
pytestmark = pytest.mark.django_db(transaction=True)


def access_token(user) -> str:
    return str(AccessToken.for_user(user))  # no database write, so it can be made inside a scenario


def communicator(path="/ws/analyses/", *, token=None, subprotocols=None, origin=ORIGIN, query=""):
    params = [f"token={token}"] if token else []
    if query:
        params.append(query)
    url = path + ("?" + "&".join(params) if params else "")
    headers = [origin] if origin else []
    return WebsocketCommunicator(application, url, headers=headers, subprotocols=subprotocols)


def run(scenario):
    """Run an async scenario from a sync test; thread-sensitive sync code (the ORM) stays on this thread."""
    return async_to_sync(scenario)()


async def receive_all(comm, timeout=0.3) -> list[dict]:
    """Every message the server sends within `timeout` seconds of quiet."""
    messages = []
    # receive_nothing, not a timed-out receive: a receive that times out cancels the application.
    while not await comm.receive_nothing(timeout=timeout):
        messages.append(await comm.receive_json_from())
    return messages


async def set_status(analysis, status, **fields):
    """Change an analysis and publish it, as the services do after their commit."""

    def change():
        Analysis.objects.filter(pk=analysis.pk).update(status=status, **fields)
        analysis_changed_publish(analysis_id=analysis.pk)

    await sync_to_async(change)()


# --- authentication ------------------------------------------------------------------------------


def test_a_valid_access_token_in_the_query_string_opens_the_socket():
    user = UserFactory()

    async def scenario():
        comm = communicator(token=access_token(user))
        connected, _ = await comm.connect()
        assert connected
        await comm.send_json_to({"action": "ping"})
        assert await comm.receive_json_from() == {"type": "pong"}
        await comm.disconnect()

    run(scenario)


def test_the_token_can_come_as_a_bearer_subprotocol_and_only_bearer_is_answered():
    user = UserFactory()
    token = access_token(user)

    async def scenario():
        comm = communicator(subprotocols=["bearer", token])
        connected, subprotocol = await comm.connect()
        assert connected
        assert subprotocol == "bearer"  # the token is never echoed back
        await comm.send_json_to({"action": "ping"})
        assert await comm.receive_json_from() == {"type": "pong"}
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("token", [None, "not-a-jwt", "expired", "refresh", "signed-with-another-key", "inactive"])
def test_a_socket_without_a_valid_access_token_is_closed_with_4401(token):
    user = UserFactory()
    if token == "expired":
        expired = AccessToken.for_user(user)
        expired.set_exp(lifetime=-timedelta(seconds=1))
        token = str(expired)
    elif token == "refresh":
        token = str(RefreshToken.for_user(user))
    elif token == "signed-with-another-key":
        header_payload = access_token(user).rsplit(".", 1)[0]
        token = header_payload + ".c2lnbmVkLXdpdGgtYW5vdGhlci1rZXk"
    elif token == "inactive":
        token = access_token(user)
        user.is_active = False
        user.save(update_fields=["is_active"])

    async def scenario():
        comm = communicator(token=token)
        connected, _ = await comm.connect()
        assert connected  # accepted, then closed at once with a code the client can act on
        assert await comm.receive_output() == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_a_page_from_an_origin_that_is_neither_the_api_nor_the_front_end_is_refused():
    user = UserFactory()

    async def scenario():
        comm = communicator(token=access_token(user), origin=(b"origin", b"https://evil.example.net"))
        connected, _ = await comm.connect()
        assert not connected

    run(scenario)


# --- what a user receives -----------------------------------------------------------------------


def test_a_user_receives_each_status_of_their_own_analysis_with_the_rest_representation():
    user = UserFactory()
    analysis = AnalysisFactory(user=user, status=Analysis.Status.PENDING, score=None)

    async def scenario():
        comm = communicator(token=access_token(user))
        assert (await comm.connect())[0]
        await set_status(analysis, Analysis.Status.PENDING)
        await set_status(analysis, Analysis.Status.PROCESSING)
        await set_status(analysis, Analysis.Status.COMPLETED, score=91)
        messages = await receive_all(comm)
        await comm.disconnect()
        return messages

    messages = run(scenario)
    assert [m["type"] for m in messages] == ["analysis.updated"] * 3
    assert [m["analysis"]["status"] for m in messages] == ["pending", "processing", "completed"]
    last = messages[-1]["analysis"]
    assert last["id"] == str(analysis.pk)
    assert last["session_id"] == str(analysis.session_id)
    assert last["score"] == 91
    assert {"video", "timestamp", "good_points", "improvements", "advice", "error", "created_at"} <= last.keys()


def test_a_failed_analysis_arrives_with_its_error_code():
    user = UserFactory()
    analysis = AnalysisFactory(user=user, status=Analysis.Status.PROCESSING, score=None)

    async def scenario():
        comm = communicator(token=access_token(user))
        assert (await comm.connect())[0]
        await set_status(analysis, Analysis.Status.FAILED, error_code="blocked", error_message="Blocked.")
        messages = await receive_all(comm)
        await comm.disconnect()
        return messages

    [message] = run(scenario)
    assert message["analysis"]["status"] == "failed"
    assert message["analysis"]["error"] == {"code": "blocked", "message": failure_message("blocked", analysis.language)}


def test_a_user_receives_nothing_of_another_users_analysis():
    alice, bob = UserFactory(), UserFactory()
    alices = AnalysisFactory(user=alice, status=Analysis.Status.PENDING, score=None)
    bobs = AnalysisFactory(user=bob, status=Analysis.Status.PENDING, score=None)

    async def scenario():
        alice_socket = communicator(token=access_token(alice))
        bob_socket = communicator(token=access_token(bob))
        assert (await alice_socket.connect())[0]
        assert (await bob_socket.connect())[0]
        await set_status(alices, Analysis.Status.PROCESSING)
        await set_status(alices, Analysis.Status.COMPLETED)
        await set_status(bobs, Analysis.Status.PROCESSING)
        received = await receive_all(alice_socket), await receive_all(bob_socket)
        await alice_socket.disconnect()
        await bob_socket.disconnect()
        return received

    for_alice, for_bob = run(scenario)
    assert {m["analysis"]["id"] for m in for_alice} == {str(alices.pk)}
    assert len(for_alice) == 2
    assert [(m["analysis"]["id"], m["analysis"]["status"]) for m in for_bob] == [(str(bobs.pk), "processing")]


def test_subscribing_to_a_session_leaves_out_the_users_other_sessions():
    user = UserFactory()
    here, elsewhere = PracticeSessionFactory(user=user), PracticeSessionFactory(user=user)
    in_session = AnalysisFactory(user=user, session=here, status=Analysis.Status.PENDING, score=None)
    other = AnalysisFactory(user=user, session=elsewhere, status=Analysis.Status.PENDING, score=None)

    async def scenario():
        comm = communicator(token=access_token(user))
        assert (await comm.connect())[0]
        await comm.send_json_to({"action": "subscribe", "session_id": str(here.pk)})
        assert await comm.receive_json_from() == {"type": "subscribed", "session_id": str(here.pk)}
        await set_status(other, Analysis.Status.PROCESSING)
        await set_status(in_session, Analysis.Status.PROCESSING)
        subscribed = await receive_all(comm)
        await comm.send_json_to({"action": "unsubscribe"})
        assert await comm.receive_json_from() == {"type": "subscribed", "session_id": None}
        await set_status(other, Analysis.Status.COMPLETED)
        unsubscribed = await receive_all(comm)
        await comm.disconnect()
        return subscribed, unsubscribed

    subscribed, unsubscribed = run(scenario)
    assert [m["analysis"]["id"] for m in subscribed] == [str(in_session.pk)]
    assert [m["analysis"]["id"] for m in unsubscribed] == [str(other.pk)]


def test_a_session_in_the_url_filters_from_the_first_event():
    user = UserFactory()
    here, elsewhere = PracticeSessionFactory(user=user), PracticeSessionFactory(user=user)
    in_session = AnalysisFactory(user=user, session=here, status=Analysis.Status.PENDING, score=None)
    other = AnalysisFactory(user=user, session=elsewhere, status=Analysis.Status.PENDING, score=None)

    async def scenario():
        comm = communicator(token=access_token(user), query=f"session={here.pk}")
        assert (await comm.connect())[0]
        await set_status(other, Analysis.Status.PROCESSING)
        await set_status(in_session, Analysis.Status.PROCESSING)
        messages = await receive_all(comm)
        await comm.disconnect()
        return messages

    assert [m["analysis"]["id"] for m in run(scenario)] == [str(in_session.pk)]


def test_a_malformed_session_in_the_url_is_refused_with_4400():
    user = UserFactory()

    async def scenario():
        comm = communicator(token=access_token(user), query="session=not-a-uuid")
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from())["code"] == "invalid_session_id"
        assert await comm.receive_output() == {"type": "websocket.close", "code": 4400}

    run(scenario)


def test_messages_the_server_does_not_understand_answer_an_error_and_keep_the_socket_open():
    user = UserFactory()

    async def scenario():
        comm = communicator(token=access_token(user))
        assert (await comm.connect())[0]
        await comm.send_to(text_data="not json")
        first = await comm.receive_json_from()
        await comm.send_json_to({"action": "dance"})
        second = await comm.receive_json_from()
        await comm.send_json_to({"action": "subscribe", "session_id": "nope"})
        third = await comm.receive_json_from()
        await comm.send_json_to({"action": "ping"})
        fourth = await comm.receive_json_from()
        await comm.disconnect()
        return first, second, third, fourth

    first, second, third, fourth = run(scenario)
    assert (first["type"], first["code"]) == ("error", "invalid_json")
    assert second["code"] == "unknown_action"
    assert third["code"] == "invalid_session_id"
    assert fourth == {"type": "pong"}


def test_a_submission_over_rest_pushes_pending_processing_completed_in_eager_mode(settings, make_auth_client):
    # The embedded default: the task runs in the web process, after the request's commit.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = make_auth_client()

    async def scenario():
        comm = communicator(token=access_token(client.user))
        assert (await comm.connect())[0]
        response = await sync_to_async(client.post)("/api/v1/analyses/", submission(), format="json")
        messages = await receive_all(comm)
        await comm.disconnect()
        return response, messages

    response, messages = run(scenario)
    assert response.status_code == 201, response.json()
    assert [m["analysis"]["status"] for m in messages] == ["pending", "processing", "completed"]
    assert {m["analysis"]["id"] for m in messages} == {response.json()["id"]}
    assert messages[-1]["analysis"]["score"] == response.json()["score"]


# --- a real server, a real worker, a real client (services run) -------------------------------------


@pytest.fixture
def asgi_server(make_worker, settings, tmp_path):
    """`make serve`'s command (scripts/serve: gunicorn with uvicorn workers on config.asgi) on a free
    port and the test database, as compose's web service runs it."""
    from django.db import connection

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = harness.free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "PYTHON": sys.executable,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        ["sh", "scripts/serve"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        harness.wait_listening(proc, port, timeout=90)  # migrate and collectstatic first
        yield f"127.0.0.1:{port}"
    finally:
        harness.stop(proc, timeout=15)


@pytest.mark.services
def test_a_real_client_sees_pending_processing_completed_from_a_real_worker_and_nothing_of_another_user(
    asgi_server, make_worker, make_auth_client
):
    import websockets

    make_worker()
    dancer, other = make_auth_client(), make_auth_client()

    async def listen(user, ready: asyncio.Event, stop: asyncio.Event) -> list[dict]:
        url = f"ws://{asgi_server}/ws/analyses/?token={access_token(user)}"
        messages = []
        async with websockets.connect(url, origin="http://localhost:5173", open_timeout=10) as ws:
            ready.set()
            while not stop.is_set():
                try:
                    messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=0.2)))
                except TimeoutError:
                    continue
                if messages[-1]["analysis"]["status"] in ("completed", "failed"):
                    # keep listening briefly for anything that should not come
                    await asyncio.sleep(0.5)
                    stop.set()
        return messages

    async def scenario():
        stop = asyncio.Event()
        ready_dancer, ready_other = asyncio.Event(), asyncio.Event()
        listeners = asyncio.gather(listen(dancer.user, ready_dancer, stop), listen(other.user, ready_other, stop))
        await asyncio.wait_for(asyncio.gather(ready_dancer.wait(), ready_other.wait()), timeout=15)
        response = await sync_to_async(dancer.post)("/api/v1/analyses/", submission(), format="json")
        assert response.status_code == 202, response.json()
        try:
            return response.json(), await asyncio.wait_for(listeners, timeout=60)
        finally:
            stop.set()

    created, (for_dancer, for_other) = run(scenario)
    assert [m["analysis"]["status"] for m in for_dancer] == ["pending", "processing", "completed"]
    assert {m["analysis"]["id"] for m in for_dancer} == {created["id"]}
    assert for_dancer[-1]["analysis"]["score"] is not None
    assert for_other == []


@pytest.mark.services
def test_a_real_server_refuses_a_socket_without_a_token(asgi_server):
    import websockets

    async def scenario():
        async with websockets.connect(f"ws://{asgi_server}/ws/analyses/", origin="http://localhost:5173") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
            return closed.value.rcvd.code

    assert run(scenario) == 4401
