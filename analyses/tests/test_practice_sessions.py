"""A dancer practising as the prototype does: a frame every few seconds, sessions that follow them."""

import types
from datetime import timedelta

import django_ratelimit.core
import pytest
from django.utils import timezone

from analyses.models import Analysis, PracticeSession
from analyses.services import sessions
from analyses.tests.factories import submission

pytestmark = pytest.mark.django_db(transaction=True)

ANALYSES = "/api/v1/analyses/"
SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def clock(monkeypatch):
    """django-ratelimit's clock, moved on by the test."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("analyses.services.pipeline.analysis_enqueue", lambda *, analysis_id: calls.append(analysis_id))
    return calls


def submit(client, **overrides):
    return client.post(ANALYSES, submission(**overrides), format="json")


def age(session_id, seconds: float) -> None:
    """Move a session and its analyses `seconds` into the past."""
    delta = timedelta(seconds=seconds)
    for analysis in Analysis.objects.filter(session_id=session_id):
        Analysis.objects.filter(pk=analysis.pk).update(created_at=analysis.created_at - delta)
    session = PracticeSession.objects.get(pk=session_id)
    PracticeSession.objects.filter(pk=session_id).update(started_at=session.started_at - delta)


def test_it_accepts_a_frame_every_two_seconds_with_the_default_limit(auth_client, enqueued, clock):
    statuses = []
    for i in range(20):  # 20 frames inside 40 seconds
        statuses.append(submit(auth_client, timestamp=float(i)).status_code)
        clock[0] += 2.0
    assert statuses == [202] * 20


def test_it_refuses_100_frames_a_minute_with_retry_after(auth_client, enqueued, clock):
    refused = []
    for i in range(100):
        r = submit(auth_client, timestamp=float(i))
        if r.status_code == 429:
            refused.append(r)
        clock[0] += 0.6
    assert refused
    assert all(int(r["Retry-After"]) >= 1 for r in refused)
    assert refused[0].json()["errors"][0]["code"] == "throttled"
    assert Analysis.objects.count() == 100 - len(refused)


def test_it_joins_the_open_session_of_a_frame_a_minute_earlier(auth_client, enqueued):
    first = submit(auth_client).json()
    age(first["session_id"], 60)
    second = submit(auth_client, timestamp=3.0).json()
    assert second["session_id"] == first["session_id"]
    assert PracticeSession.objects.count() == 1


def test_it_starts_a_new_session_after_the_dancer_ends_one(auth_client, enqueued):
    first = submit(auth_client).json()
    assert auth_client.post(f"{SESSIONS}{first['session_id']}/end/").status_code == 200
    second = submit(auth_client, timestamp=3.0).json()
    assert second["session_id"] != first["session_id"]


def test_it_starts_a_new_session_past_the_idle_time_and_ends_the_old_one_at_its_last_frame(auth_client, enqueued):
    first = submit(auth_client).json()
    age(first["session_id"], 11 * 60)
    last_frame = Analysis.objects.get(pk=first["id"]).created_at

    second = submit(auth_client, timestamp=3.0).json()

    assert second["session_id"] != first["session_id"]
    assert PracticeSession.objects.get(pk=first["session_id"]).ended_at == last_frame


def test_it_shows_an_idle_session_as_ended_at_its_last_frame_before_anything_stores_it(auth_client, enqueued):
    first = submit(auth_client).json()
    age(first["session_id"], 11 * 60)
    last_frame = Analysis.objects.get(pk=first["id"]).created_at
    body = auth_client.get(f"{SESSIONS}{first['session_id']}/").json()
    assert body["ended_at"] == last_frame.isoformat().replace("+00:00", "Z")
    assert PracticeSession.objects.get(pk=first["session_id"]).ended_at is None


def test_it_refuses_an_idle_session_named_by_its_id(auth_client, enqueued):
    first = submit(auth_client).json()
    age(first["session_id"], 11 * 60)
    r = submit(auth_client, timestamp=3.0, session_id=first["session_id"])
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "session_ended"


def test_it_keeps_the_idle_time_a_setting(auth_client, enqueued, settings):
    settings.PRACTICE_SESSION_IDLE_MINUTES = 1
    first = submit(auth_client).json()
    age(first["session_id"], 90)
    assert submit(auth_client, timestamp=3.0).json()["session_id"] != first["session_id"]


def test_it_keeps_a_session_per_video(auth_client, enqueued):
    first = submit(auth_client).json()
    other = submit(auth_client, youtube_url="https://youtu.be/aaaaaaaaaaa").json()
    assert other["session_id"] != first["session_id"]
    assert submit(auth_client, timestamp=4.0).json()["session_id"] == first["session_id"]


def test_it_counts_sessions_not_frames_in_the_stats(auth_client, enqueued):
    for i in range(5):
        submit(auth_client, timestamp=float(i))
    stats = auth_client.get("/api/v1/stats/").json()
    assert stats["total_analyses"] == 5
    assert stats["total_sessions"] == 1


def test_it_stores_the_end_of_idle_sessions_from_the_beat_job(auth_client, enqueued):
    from analyses.tasks import end_idle_sessions

    first = submit(auth_client).json()
    recent = submit(auth_client, youtube_url="https://youtu.be/aaaaaaaaaaa").json()
    age(first["session_id"], 11 * 60)

    assert end_idle_sessions() == 1

    assert PracticeSession.objects.get(pk=first["session_id"]).ended_at is not None
    assert PracticeSession.objects.get(pk=recent["session_id"]).ended_at is None


def test_it_ends_an_idle_session_at_its_last_frame_when_the_dancer_ends_it_later(auth_client, enqueued):
    first = submit(auth_client).json()
    age(first["session_id"], 30 * 60)
    last_frame = Analysis.objects.get(pk=first["id"]).created_at
    sessions.session_end(session=PracticeSession.objects.get(pk=first["session_id"]))
    assert PracticeSession.objects.get(pk=first["session_id"]).ended_at == last_frame
    assert last_frame < timezone.now() - timedelta(minutes=29)
