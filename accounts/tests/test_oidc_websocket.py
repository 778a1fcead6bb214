"""The live-status WebSocket (config/ws_auth.py) accepts a hosted identity provider's token like the REST API."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import ExternalIdentity
from analyses.live import analysis_changed_publish
from analyses.tests.factories import AnalysisFactory
from analyses.tests.test_websocket import communicator, receive_all, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_opens_the_socket_with_a_provider_token_and_sends_that_users_events(idp):
    token = idp.token("user_2abc", kid="ec-1", alg="ES256")

    async def scenario():
        # Timeouts of 10 s, not 1: the connect fetches the provider's keys, slow on a busy machine.
        comm = communicator(subprotocols=["bearer", token])
        connected, subprotocol = await comm.connect(timeout=10)
        assert connected and subprotocol == "bearer"
        await comm.send_json_to({"action": "ping"})
        assert await comm.receive_json_from(timeout=10) == {"type": "pong"}
        user = await sync_to_async(lambda: ExternalIdentity.objects.get(subject="user_2abc").user)()
        analysis = await sync_to_async(AnalysisFactory)(user=user)
        await sync_to_async(analysis_changed_publish)(analysis_id=analysis.pk)
        event = await comm.receive_json_from(timeout=10)
        assert event["analysis"]["id"] == str(analysis.pk)
        assert await receive_all(comm) == []
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("kind", ["expired", "wrong_audience", "key_confusion"])
def test_a_bad_provider_token_closes_the_socket_with_4401(idp, kind):
    token = {
        "expired": lambda: idp.token(lifetime=-3600),
        "wrong_audience": lambda: idp.token(aud="another-api"),
        "key_confusion": lambda: idp.token_key_confusion(),
    }[kind]()

    async def scenario():
        comm = communicator(token=token)
        assert (await comm.connect(timeout=10))[0]
        assert await comm.receive_output(timeout=10) == {"type": "websocket.close", "code": 4401}

    run(scenario)
    assert not ExternalIdentity.objects.exists()


def test_a_jwks_outage_closes_the_socket_with_4503_so_the_client_retries(idp, settings):
    settings.OIDC_JWKS_TIMEOUT_SECONDS = 0.3
    idp.mode = "down"

    async def scenario():
        comm = communicator(token=idp.token())
        assert (await comm.connect(timeout=10))[0]
        assert await comm.receive_output(timeout=10) == {"type": "websocket.close", "code": 4503}

    run(scenario)
