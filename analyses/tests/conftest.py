import pytest

from analyses.analyzers import gemini
from bench.fake_gemini import FakeGemini


@pytest.fixture(scope="module")
def gemini_server():
    # One server (so one cached client) per module: building a client costs a TLS set-up.
    with FakeGemini() as server:
        yield server
    gemini.close_clients()
