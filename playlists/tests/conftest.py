import pytest

from playlists.selectors import reference_frames_cache_clear


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    # Track ids and timestamps repeat across tests' databases: start every test cold.
    reference_frames_cache_clear()
    yield
    reference_frames_cache_clear()


@pytest.fixture
def staff_client(make_auth_client):
    return make_auth_client(is_staff=True)
