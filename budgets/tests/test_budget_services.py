"""The AI budget across processes: PostgreSQL, Redis and real Celery workers (services half)."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from analyses import caching
from analyses.analyzers import gemini
from analyses.models import Analysis
from analyses.tests.factories import analysis_wait_final, frame_b64, submission
from bench.fake_gemini import FakeGemini
from budgets import services
from budgets.tests.test_budget_pipeline import CALL_USD, GOOD

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANALYSES = "/api/v1/analyses/"
KEY = "AIzaFAKE-BUDGET-SERVICES-KEY"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def fake(settings):
    with FakeGemini() as server:
        server.default = ("ok", GOOD)
        settings.GEMINI_API_KEY = KEY  # this (web) process resolves auto to Gemini
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analysis_user": "1000/m"}
        for language in ("ja", "en"):  # one Gemini call per analysis, in the 2-second bucket
            caching.reference_context_set(youtube_id="dQw4w9WgXcQ", timestamp=2.0, language=language, description="Up.")
        yield server
    gemini.close_clients()


def worker_env(fake, **extra):
    return {
        "GEMINI_API_KEY": KEY,
        "GEMINI_BASE_URL": fake.base_url,
        "GEMINI_MODEL": "gemini-test-flash",
        "AI_BUDGET_CALL_ESTIMATE_USD": str(CALL_USD),
        **extra,
    }


def submit_and_wait(client, n: int) -> Analysis:
    r = client.post(ANALYSES, submission(timestamp=2.0 + n / 10), format="json")
    assert r.status_code == 202, r.content
    return analysis_wait_final(r.json()["id"])


def test_a_cap_changed_in_the_admin_applies_to_the_next_analysis_in_a_worker_process(make_worker, fake, admin_client):
    make_worker(concurrency=1, **worker_env(fake))
    dancer = client_for(UserFactory())
    assert submit_and_wait(dancer, 0).provider == "gemini"

    change = "/admin/budgets/aibudget/1/change/"
    r = admin_client.post(change, {"daily_usd": "0", "monthly_usd": "", "user_daily_calls": ""})
    assert r.status_code == 302, r.content
    capped = submit_and_wait(dancer, 1)
    assert capped.status == "completed" and capped.provider == "pose"
    assert capped.details["fallback"] == "budget"

    r = admin_client.post(change, {"daily_usd": "", "monthly_usd": "", "user_daily_calls": ""})
    assert r.status_code == 302, r.content
    assert submit_and_wait(dancer, 2).provider == "gemini"


def test_twenty_concurrent_submissions_overshoot_a_cap_of_five_by_at_most_the_worker_concurrency(make_worker, fake):
    concurrency = 4
    fake.delay = 0.5  # calls stay in flight together
    # Reserved at a tenth of the real cost: the counters learn the real cost only at settlement.
    make_worker(concurrency=concurrency, **worker_env(fake, AI_BUDGET_CALL_ESTIMATE_USD=str(CALL_USD / 10)))
    services.caps_set(daily_usd=round(5 * CALL_USD, 4))  # 5 calls' worth, not 6
    clients = [client_for(UserFactory()) for _ in range(20)]
    bodies = [submission(timestamp=2.0 + n % 10 / 10, user_frame=frame_b64(shade=n + 1)) for n in range(20)]
    ids = [c.post(ANALYSES, body, format="json").json()["id"] for c, body in zip(clients, bodies, strict=True)]
    analyses = [analysis_wait_final(i, timeout=120) for i in ids]
    assert all(a.status == "completed" for a in analyses), [(a.status, a.error_code) for a in analyses]
    on_gemini = sum(a.provider == "gemini" for a in analyses)
    assert 5 <= on_gemini <= 5 + concurrency
    assert sum(a.details.get("fallback") == "budget" for a in analyses) == 20 - on_gemini
