"""The AI budget in the pipeline, with the real google-genai client against the fake Gemini server."""

import json
import threading

import pytest

from analyses import caching
from analyses.models import Analysis
from analyses.tests.factories import GEMINI_ANSWER, submission
from budgets import selectors, services
from budgets.models import AiBudget

pytestmark = pytest.mark.django_db(transaction=True)

ANALYSES = "/api/v1/analyses/"
GOOD = {**GEMINI_ANSWER, "score": 77}
# What the fake answers GOOD with: 1290 tokens in, a quarter of the JSON text's length out.
CALL_USD = selectors.cost_micro_usd(1290, len(json.dumps(GOOD, ensure_ascii=False)) // 4) / 1e6


@pytest.fixture
def fake(gemini_server, settings):
    gemini_server.reset()
    gemini_server.default = ("ok", GOOD)
    settings.GEMINI_API_KEY = "AIzaFAKE-BUDGET-KEY-1234567890"
    settings.GEMINI_BASE_URL = gemini_server.base_url
    settings.GEMINI_MODEL = "gemini-test-flash"
    settings.GEMINI_TIMEOUT_SECONDS = 2.0
    settings.ANALYSIS_RETRY_BACKOFF_SECONDS = 0.01
    settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS = 0.02
    settings.ANALYSIS_MAX_ATTEMPTS = 3
    settings.AI_BUDGET_CALL_ESTIMATE_USD = CALL_USD
    # Every submission of these tests is in the 2-second bucket: its description is known, so each
    # analysis makes exactly one Gemini call of CALL_USD.
    for language in ("ja", "en"):
        caching.reference_context_set(
            youtube_id="dQw4w9WgXcQ", timestamp=2.0, language=language, description="Arms up."
        )
    return gemini_server


def submit(client, n: int, **overrides):
    # A different moment each time (0.1 s apart, same bucket): no result-cache hit.
    return client.post(ANALYSES, submission(timestamp=2.0 + n / 10, **overrides), format="json").json()


def test_it_lets_n_calls_worth_through_then_auto_falls_back_to_pose(auth_client, fake, settings):
    settings.AI_BUDGET_DAILY_USD = 3 * CALL_USD
    bodies = [submit(auth_client, n) for n in range(5)]
    assert [b["provider"] for b in bodies] == ["gemini"] * 3 + ["pose"] * 2
    assert all(b["status"] == "completed" for b in bodies)
    fallback = Analysis.objects.get(pk=bodies[3]["id"])
    assert fallback.details["fallback"] == "budget"
    assert fallback.details["fallback_reason"] == "daily_cap"
    assert fallback.score is not None and fallback.input_tokens == 0
    assert len(fake.requests) == 3


def test_an_explicit_gemini_request_over_the_cap_fails_with_ai_budget_exhausted_at_once(auth_client, fake, settings):
    settings.AI_BUDGET_MONTHLY_USD = 1 * CALL_USD
    assert submit(auth_client, 0, provider="gemini")["status"] == "completed"
    body = submit(auth_client, 1, provider="gemini")
    assert body["status"] == "failed"
    assert body["error"]["code"] == "ai_budget_exhausted"
    assert "利用上限" in body["error"]["message"]  # the dancer reads a sentence in their language
    analysis = Analysis.objects.get(pk=body["id"])
    assert analysis.attempts == 1  # not retried
    assert analysis.error_message == "ai_budget_exhausted: monthly_cap"
    assert len(fake.requests) == 1


def test_the_fallback_is_not_reused_for_the_same_submission_once_the_budget_allows(auth_client, fake, settings):
    settings.AI_BUDGET_DAILY_USD = 0
    assert submit(auth_client, 0)["provider"] == "pose"
    settings.AI_BUDGET_DAILY_USD = None
    again = submit(auth_client, 0)
    assert again["provider"] == "gemini" and again["status"] == "completed"


def test_the_per_dancer_cap_does_not_affect_another_dancer(auth_client, fake, settings, api_client):
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tests.factories import UserFactory

    settings.AI_BUDGET_USER_DAILY_CALLS = 2
    assert [submit(auth_client, n)["provider"] for n in range(3)] == ["gemini", "gemini", "pose"]
    assert Analysis.objects.filter(details__fallback_reason="user_daily_calls").count() == 1
    other = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(other).access_token}")
    assert [submit(api_client, n)["provider"] for n in range(3, 5)] == ["gemini", "gemini"]


def test_the_admin_value_wins_over_the_setting_and_applies_to_the_next_analysis(auth_client, fake, settings):
    settings.AI_BUDGET_DAILY_USD = None
    assert submit(auth_client, 0)["provider"] == "gemini"
    services.caps_set(daily_usd=0)
    assert submit(auth_client, 1)["provider"] == "pose"
    services.caps_set(daily_usd=None)  # back to the setting: no cap
    settings.AI_BUDGET_DAILY_USD = 100
    assert submit(auth_client, 2)["provider"] == "gemini"
    assert AiBudget.objects.count() == 1


def test_twenty_concurrent_reservations_against_a_cap_of_five_take_exactly_five(db, settings, monkeypatch):
    settings.AI_BUDGET_CALL_ESTIMATE_USD = 0.01
    monkeypatch.setattr(selectors, "user_calls_stored", lambda *args: 0)  # the threads touch no database
    monkeypatch.setattr(selectors, "spend_stored_micro_usd", lambda *args: 0)
    caps = selectors.Caps(daily_usd=0.05, monthly_usd=None, user_daily_calls=None)
    services.reserve(user_id=1, caps=caps).settle(input_tokens=0, output_tokens=0, charged=False)  # starts the counters
    granted = []
    barrier = threading.Barrier(20)

    def worker(i):
        barrier.wait()
        granted.append(services.reserve(user_id=100 + i, caps=caps).refusal is None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 5


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_a_quota_storm_opens_the_breaker_and_auto_keeps_completing_on_pose(auth_client, fake, settings, monkeypatch):
    from django.core.cache import cache

    clock = Clock()
    monkeypatch.setattr(services, "_clock", clock)
    settings.AI_BREAKER_OPEN_AFTER_SECONDS = 180
    fake.default = ("status", 429)
    first = submit(auth_client, 0)  # a storm younger than 3 minutes: retried, then failed as before
    assert first["status"] == "failed" and first["error"]["code"] == "gemini_rate_limited"
    assert services.breaker_is_open() is False

    clock.now += 200  # 429 for minutes
    probe = submit(auth_client, 1)  # this one probes Gemini, gets 429 and falls back at once
    assert services.breaker_is_open() is True
    assert probe["status"] == "completed" and probe["provider"] == "pose"
    assert Analysis.objects.get(pk=probe["id"]).details["fallback_reason"] == "gemini_quota_breaker"
    calls = len(fake.requests)
    later = [submit(auth_client, n) for n in (2, 3)]
    assert [(b["status"], b["provider"]) for b in later] == [("completed", "pose")] * 2
    assert len(fake.requests) == calls  # no call while open, between probes
    explicit = submit(auth_client, 4, provider="gemini")  # asked for Gemini: tries it, as before
    assert explicit["error"]["code"] == "gemini_rate_limited"

    fake.default = ("ok", GOOD)  # Gemini answers again
    cache.delete(services.BREAKER_PROBE)  # the probe interval has passed
    assert submit(auth_client, 5)["provider"] == "gemini"
    assert services.breaker_is_open() is False
    assert submit(auth_client, 6)["provider"] == "gemini"


def test_a_timeout_neither_opens_nor_closes_the_breaker(db, monkeypatch):
    monkeypatch.setattr(services, "_clock", Clock())
    services.breaker_record(error_code="gemini_rate_limited", transient=True)
    services.breaker_record(error_code="gemini_timeout", transient=True)
    assert services.cache.get(services.BREAKER_SINCE) is not None
    services.breaker_record(error_code="blocked_by_safety")  # Gemini answered
    assert services.cache.get(services.BREAKER_SINCE) is None
