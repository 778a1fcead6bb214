import pytest
from rest_framework.test import APIClient

from bench.fake_idp import FakeIdentityProvider


@pytest.fixture
def idp(settings):
    """A local identity provider whose tokens the API accepts (the feature on)."""
    with FakeIdentityProvider() as fake:
        settings.OIDC_PROVIDERS = [fake.provider()]
        yield fake


@pytest.fixture
def bearer_client():
    # A 503 is reported like a server error (drf-standardized-errors): see the response, not the signal.
    client = APIClient(raise_request_exception=False)

    def make(token):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make
