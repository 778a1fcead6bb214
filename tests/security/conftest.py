import pytest

from bench.fake_idp import FakeIdentityProvider


@pytest.fixture(autouse=True)
def hosted_idp(settings):
    """The security suite runs with sign-in from a hosted identity provider on (a local one)."""
    with FakeIdentityProvider() as fake:
        settings.OIDC_PROVIDERS = [fake.provider()]
        yield fake
