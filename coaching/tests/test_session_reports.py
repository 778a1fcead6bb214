"""GET /api/v1/sessions/{id}/report/: timeline, worst moments, body parts, previous, summary."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from analyses.models import Analysis
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory, VideoFactory
from analyses.tests.stats_factories import body_parts

pytestmark = pytest.mark.django_db


def url(session):
    return f"/api/v1/sessions/{session.pk}/report/"


def scored(session, timestamp, score, **parts):
    return AnalysisFactory(
        user=session.user, session=session, timestamp=timestamp, score=score, details=body_parts(**parts)
    )


def steady_session(user, *, seconds=range(0, 30), score=92, video=None, started_at=None):
    session = PracticeSessionFactory(user=user, video=video or VideoFactory(), started_at=started_at or timezone.now())
    for t in seconds:
        scored(session, float(t), score, left_arm=score, right_arm=score)
    return session


def test_it_finds_the_stretch_where_the_left_arm_went_wrong(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    for t in range(0, 30):
        if 10 <= t <= 14:
            scored(session, float(t), 52, left_arm=30.0, torso=70.0)
        else:
            scored(session, float(t), 92, left_arm=95.0)

    body = auth_client.get(url(session)).json()

    assert len(body["worst_moments"]) == 1
    moment = body["worst_moments"][0]
    assert (moment["start"], moment["end"]) == (10.0, 14.0)
    assert moment["average_score"] == 52.0
    assert [p["part"] for p in moment["body_parts"]] == ["left_arm", "torso"]
    assert body["timeline"][12]["weakest_part"] == "left_arm"
    assert body["timeline"][0]["weakest_part"] != "left_arm"


def test_it_gives_three_separated_stretches_worst_first(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    dips = {range(5, 8): 60, range(20, 23): 40, range(40, 43): 50, range(60, 63): 70}
    for t in range(0, 70):
        score = next((s for span, s in dips.items() if t in span), 95)
        scored(session, float(t), score, right_leg=float(score))

    moments = auth_client.get(url(session)).json()["worst_moments"]

    assert [(m["start"], m["end"], m["average_score"]) for m in moments] == [
        (20.0, 22.0, 40.0),
        (40.0, 42.0, 50.0),
        (5.0, 7.0, 60.0),
    ]
    assert all(m["body_parts"][0]["part"] == "right_leg" for m in moments)
    spans = sorted((m["start"], m["end"]) for m in moments)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))  # never overlapping


def test_a_perfect_session_has_no_worst_moment(auth_client):
    session = steady_session(auth_client.user, score=100)

    body = auth_client.get(url(session)).json()

    assert body["worst_moments"] == []
    assert len(body["timeline"]) == 30


def test_one_bad_frame_alone_is_not_a_moment(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    for t in range(0, 20):
        scored(session, float(t), 30 if t == 9 else 90)

    assert auth_client.get(url(session)).json()["worst_moments"] == []


def test_the_timeline_follows_video_time_and_skips_unfinished_analyses(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    scored(session, 5.0, 70)
    scored(session, 1.0, 80)
    AnalysisFactory(user=session.user, session=session, timestamp=3.0, status=Analysis.Status.PENDING, score=None)
    AnalysisFactory(user=session.user, session=session, timestamp=4.0, status=Analysis.Status.FAILED, score=None)

    timeline = auth_client.get(url(session)).json()["timeline"]

    assert [(row["timestamp"], row["score"]) for row in timeline] == [(1.0, 80), (5.0, 70)]
    assert set(timeline[0]) == {"analysis_id", "timestamp", "score", "weakest_part"}


def test_body_parts_average_the_session_and_leave_absent_parts_out(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    scored(session, 1.0, 80, left_arm=60.0, head=None)
    scored(session, 2.0, 80, left_arm=80.0, head=None)
    AnalysisFactory(user=session.user, session=session, timestamp=3.0, score=70, details={})  # Gemini: no parts

    parts = auth_client.get(url(session)).json()["body_parts"]

    assert parts["left_arm"] == 70.0
    assert "head" not in parts
    assert set(parts) == {"left_arm", "right_arm", "left_leg", "right_leg", "torso"}


def test_previous_is_the_last_session_on_the_same_video_with_the_change(auth_client):
    user = auth_client.user
    video = VideoFactory()
    now = timezone.now()
    steady_session(user, video=video, score=70, seconds=range(3), started_at=now - timedelta(days=3))
    before = steady_session(user, video=video, score=74, seconds=range(3), started_at=now - timedelta(days=2))
    steady_session(user, score=99, seconds=range(3), started_at=now - timedelta(days=1))  # another video
    PracticeSessionFactory(user=user, video=video, started_at=now - timedelta(hours=5))  # nothing scored
    current = steady_session(user, video=video, score=80, seconds=range(3), started_at=now)

    previous = auth_client.get(url(current)).json()["previous"]

    assert previous == {"session_id": str(before.pk), "average_score": 74.0, "delta": 6.0}


def test_the_first_session_on_a_video_has_no_previous(auth_client):
    video = VideoFactory()
    steady_session(auth_client.user, score=99, seconds=range(3))  # another video, earlier
    current = steady_session(auth_client.user, video=video, seconds=range(3))

    assert auth_client.get(url(current)).json()["previous"] is None


def test_a_session_without_completed_analyses_is_an_empty_report(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    AnalysisFactory(user=session.user, session=session, status=Analysis.Status.PENDING, score=None)

    response = auth_client.get(url(session))

    assert response.status_code == 200
    body = response.json()
    assert (body["timeline"], body["worst_moments"], body["body_parts"], body["previous"]) == ([], [], {}, None)
    assert body["average_score"] is None
    assert body["summary"] == "まだ採点された動きがありません。"


def test_another_dancers_session_is_not_found(auth_client, make_auth_client):
    other = make_auth_client()
    session = steady_session(other.user, seconds=range(3))

    response = auth_client.get(url(session))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert auth_client.get("/api/v1/sessions/00000000-0000-0000-0000-000000000000/report/").status_code == 404


def test_the_summary_speaks_the_dancers_language(auth_client):
    video = VideoFactory()
    steady_session(auth_client.user, video=video, score=70, seconds=range(3), started_at=timezone.now() - timedelta(1))
    session = PracticeSessionFactory(user=auth_client.user, video=video)
    for t in range(0, 30):
        scored(session, float(t), 50 if 10 <= t <= 14 else 82, left_arm=30.0 if 10 <= t <= 14 else 90.0)

    ja = auth_client.get(url(session)).json()["summary"]
    en = auth_client.get(url(session), {"lang": "en"}).json()["summary"]

    assert "0:10〜0:14" in ja and "左腕" in ja and "前回より+6.7点" in ja
    assert en == (
        "Average 77 over 30 scored moves, +6.7 since last time. Loop 0:10–0:14 first: "
        "the left arm lost the most points there."
    )


def test_an_unknown_language_is_refused(auth_client):
    session = steady_session(auth_client.user, seconds=range(3))

    response = auth_client.get(url(session), {"lang": "fr"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "lang"


def test_a_report_needs_a_signed_in_dancer(api_client):
    assert api_client.get("/api/v1/sessions/00000000-0000-0000-0000-000000000000/report/").status_code == 401
