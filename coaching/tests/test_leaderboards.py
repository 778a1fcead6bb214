"""GET /api/v1/videos/{id}/leaderboard/ and the personal bests in GET /api/v1/stats/."""

import types
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from analyses.models import Analysis
from analyses.stats import rounded
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory, VideoFactory
from coaching import leaderboards
from coaching.models import LeaderboardProfile
from coaching.services import leaderboard_dancer_hide

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def url(video, period=None):
    query = f"?period={period}" if period else ""
    return f"/api/v1/videos/{video.pk}/leaderboard/{query}"


def dancer(name=None, *, opt_in=True, **kwargs):
    user = UserFactory(**kwargs)
    if name:
        LeaderboardProfile.objects.create(user=user, display_name=name, opt_in=opt_in)
    return user


def session_with(user, video, scores, *, started_at=None):
    started_at = started_at or timezone.now()
    session = PracticeSessionFactory(user=user, video=video, started_at=started_at)
    for i, score in enumerate(scores):
        AnalysisFactory(user=user, session=session, timestamp=float(i), score=score, created_at=started_at)
    return session


def names(body):
    return [(row["rank"], row["display_name"], row["score"]) for row in body["results"]]


def test_dancers_are_ranked_by_their_best_session_average(auth_client):
    video = VideoFactory()
    aya, ken = dancer("Aya"), dancer("Ken")
    session_with(aya, video, [80] * 5)
    session_with(aya, video, [90] * 5)
    session_with(ken, video, [85, 85, 85, 85, 86])

    body = auth_client.get(url(video)).json()

    assert body["period"] == "week"
    assert names(body) == [(1, "Aya", 90.0), (2, "Ken", 85.2)]
    assert body["results"][0]["sessions"] == 2


def test_equal_scores_share_a_rank(auth_client):
    video = VideoFactory()
    for name, score in (("Aya", 90), ("Ken", 80), ("Mio", 90), ("Sora", 70)):
        session_with(dancer(name), video, [score] * 5)

    assert names(auth_client.get(url(video)).json()) == [
        (1, "Aya", 90.0),
        (1, "Mio", 90.0),
        (3, "Ken", 80.0),
        (4, "Sora", 70.0),
    ]


def test_a_session_needs_the_minimum_of_completed_analyses(auth_client, settings):
    settings.LEADERBOARD_MIN_ANALYSES = 5
    video = VideoFactory()
    lucky, steady = dancer("Lucky"), dancer("Steady")
    session = session_with(lucky, video, [100] * 4)  # one short of the minimum
    AnalysisFactory(user=lucky, session=session, status=Analysis.Status.FAILED, score=None)
    session_with(steady, video, [70] * 5)

    assert names(auth_client.get(url(video)).json()) == [(1, "Steady", 70.0)]


def test_the_week_starts_on_monday_in_the_configured_time_zone(auth_client, settings, monkeypatch):
    settings.STATS_DEFAULT_TIME_ZONE = "Asia/Tokyo"
    video = VideoFactory()
    last_week, this_week = dancer("Sunday"), dancer("Monday")
    # Monday 2026-11-30 00:00 in Tokyo is Sunday 15:00 UTC.
    session_with(last_week, video, [95] * 5, started_at=datetime(2026, 11, 29, 23, 59, tzinfo=TOKYO))
    session_with(this_week, video, [60] * 5, started_at=datetime(2026, 11, 30, 0, 1, tzinfo=TOKYO))

    monkeypatch.setattr(
        leaderboards, "timezone", types.SimpleNamespace(now=lambda: datetime(2026, 12, 2, 12, tzinfo=TOKYO))
    )
    week = auth_client.get(url(video, "week")).json()
    month = auth_client.get(url(video, "month")).json()
    all_time = auth_client.get(url(video, "all")).json()

    assert names(week) == [(1, "Monday", 60.0)]
    assert week["period_start"] == "2026-11-29T15:00:00Z"
    assert names(month) == []  # both sessions were in November
    assert names(all_time) == [(1, "Sunday", 95.0), (2, "Monday", 60.0)]


def test_nobody_appears_without_opting_in(auth_client):
    video = VideoFactory()
    session_with(dancer("Shy", opt_in=False), video, [99] * 5)
    session_with(dancer(), video, [98] * 5)  # no profile at all
    session_with(dancer("Gone", is_active=False), video, [97] * 5)  # a deactivated account
    session_with(dancer("Aya"), video, [70] * 5)

    assert names(auth_client.get(url(video)).json()) == [(1, "Aya", 70.0)]


def test_a_hidden_dancer_leaves_every_board(auth_client, django_capture_on_commit_callbacks):
    first, second = VideoFactory(), VideoFactory()
    troll, aya = dancer("Troll"), dancer("Aya")
    for video in (first, second):
        session_with(troll, video, [100] * 5)
        session_with(aya, video, [70] * 5)
    assert names(auth_client.get(url(first)).json())[0][1] == "Troll"  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        leaderboard_dancer_hide(user=troll)

    assert names(auth_client.get(url(first)).json()) == [(1, "Aya", 70.0)]
    assert names(auth_client.get(url(second, "all")).json()) == [(1, "Aya", 70.0)]


def test_me_is_shown_to_a_dancer_who_is_not_listed(auth_client):
    video = VideoFactory()
    session_with(dancer("Aya"), video, [90] * 5)
    session_with(dancer("Ken"), video, [60] * 5)
    session_with(auth_client.user, video, [75] * 5)

    body = auth_client.get(url(video)).json()

    assert names(body) == [(1, "Aya", 90.0), (2, "Ken", 60.0)]
    assert body["me"] == {"rank": 2, "score": 75.0, "listed": False}


def test_me_is_the_board_place_when_listed_and_null_without_a_record(auth_client, make_auth_client):
    video = VideoFactory()
    LeaderboardProfile.objects.create(user=auth_client.user, display_name="Me", opt_in=True)
    session_with(dancer("Aya"), video, [90] * 5)
    session_with(auth_client.user, video, [80] * 5)

    assert auth_client.get(url(video)).json()["me"] == {"rank": 2, "score": 80.0, "listed": True}
    assert make_auth_client().get(url(video)).json()["me"] is None


def test_the_board_shows_no_email_and_no_session(auth_client):
    video = VideoFactory()
    aya = dancer("Aya", email="aya.private@example.com")
    session_with(aya, video, [90] * 5)

    response = auth_client.get(url(video))

    assert "aya.private" not in response.content.decode()
    assert set(response.json()["results"][0]) == {"rank", "display_name", "score", "sessions"}


def test_a_changed_video_clears_its_cached_board(auth_client):
    video = VideoFactory()
    aya, ken = dancer("Aya"), dancer("Ken")
    session_with(aya, video, [80] * 5)
    assert names(auth_client.get(url(video)).json()) == [(1, "Aya", 80.0)]
    session_with(ken, video, [90] * 5)  # rows made directly: no pipeline, so the board is still cached
    assert names(auth_client.get(url(video)).json()) == [(1, "Aya", 80.0)]

    from coaching.invalidation import leaderboard_video_changed

    leaderboard_video_changed(video_id=video.pk)

    assert names(auth_client.get(url(video)).json()) == [(1, "Ken", 90.0), (2, "Aya", 80.0)]


def test_an_unknown_period_is_refused(auth_client):
    response = auth_client.get(url(VideoFactory(), "year"))

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("invalid_choice", "period")


def test_an_unknown_video_is_not_found(auth_client):
    assert auth_client.get("/api/v1/videos/999999/leaderboard/").status_code == 404


def test_personal_bests_are_in_the_stats(auth_client, settings):
    settings.LEADERBOARD_MIN_ANALYSES = 3
    user, first, second = auth_client.user, VideoFactory(), VideoFactory()
    session_with(user, first, [70, 70, 70], started_at=timezone.now() - timedelta(days=2))
    best = session_with(user, first, [88, 90, 92], started_at=timezone.now() - timedelta(days=1))
    session_with(user, first, [100, 100], started_at=timezone.now())  # too few
    newest = session_with(user, second, [60, 60, 60], started_at=timezone.now())
    session_with(dancer("Aya"), first, [99, 99, 99])  # someone else's

    bests = auth_client.get("/api/v1/stats/").json()["personal_bests"]

    assert [(b["video"]["id"], b["score"], b["session_id"]) for b in bests] == [
        (second.pk, 60.0, str(newest.pk)),
        (first.pk, 90.0, str(best.pk)),
    ]
    assert bests[1]["video"]["title"] == first.title
    assert bests[1]["achieved_at"]


def test_a_new_personal_best_shows_as_soon_as_its_analyses_complete(auth_client, settings):
    settings.LEADERBOARD_MIN_ANALYSES = 3
    user, video = auth_client.user, VideoFactory()
    session_with(user, video, [70, 70, 70], started_at=timezone.now() - timedelta(days=1))
    assert [b["score"] for b in auth_client.get("/api/v1/stats/").json()["personal_bests"]] == [70.0]

    better = session_with(user, video, [90, 90, 90], started_at=timezone.now())

    bests = auth_client.get("/api/v1/stats/").json()["personal_bests"]
    assert [(b["score"], b["session_id"]) for b in bests] == [(90.0, str(better.pk))]


def test_the_stats_reuse_the_personal_bests_while_the_scores_stay_the_same(auth_client, settings):
    settings.LEADERBOARD_MIN_ANALYSES = 3
    session_with(auth_client.user, VideoFactory(), [70, 70, 70])
    with CaptureQueriesContext(connection) as first:
        auth_client.get("/api/v1/stats/")
    with CaptureQueriesContext(connection) as again:
        auth_client.get("/api/v1/stats/")
    assert len(again.captured_queries) == len(first.captured_queries) - 2  # the bests and their videos


def test_a_promoted_score_changes_the_personal_best_at_once(auth_client, settings):
    settings.LEADERBOARD_MIN_ANALYSES = 3
    session = session_with(auth_client.user, VideoFactory(), [70, 70, 70])
    assert [b["score"] for b in auth_client.get("/api/v1/stats/").json()["personal_bests"]] == [70.0]

    Analysis.objects.filter(pk=session.analyses.first().pk).update(score=100)  # as a promotion writes it

    assert [b["score"] for b in auth_client.get("/api/v1/stats/").json()["personal_bests"]] == [80.0]


def test_period_start_of_all_time_is_none():
    assert leaderboards.period_start("all") is None


@pytest.mark.django_db(transaction=True)
def test_a_score_from_the_pipeline_clears_the_videos_board(make_auth_client, settings):
    from analyses.tests.factories import submission

    settings.LEADERBOARD_MIN_ANALYSES = 1
    client = make_auth_client()
    LeaderboardProfile.objects.create(user=client.user, display_name="Aya", opt_in=True)
    first = client.post("/api/v1/analyses/", submission(), format="json")
    assert first.status_code == 201, first.content
    video = Analysis.objects.get(pk=first.json()["id"]).video
    assert names(client.get(url(video)).json()) == [(1, "Aya", float(first.json()["score"]))]
    Analysis.objects.filter(pk=first.json()["id"]).update(score=1)  # so the next score moves the average

    second = client.post("/api/v1/analyses/", submission(timestamp=4.0), format="json")
    assert second.status_code == 201, second.content

    expected = rounded((1 + second.json()["score"]) / 2)
    assert names(client.get(url(video)).json()) == [(1, "Aya", expected)]


def test_opting_in_puts_a_dancer_on_a_cached_board(make_auth_client, django_capture_on_commit_callbacks):
    video = VideoFactory()
    client = make_auth_client()
    session_with(dancer("Aya"), video, [70] * 5)
    session_with(client.user, video, [90] * 5)
    assert names(client.get(url(video)).json()) == [(1, "Aya", 70.0)]  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        client.patch("/api/v1/auth/me/", {"leaderboard_opt_in": True, "display_name": "Ken"}, format="json")

    body = client.get(url(video)).json()
    assert names(body) == [(1, "Ken", 90.0), (2, "Aya", 70.0)]
    assert body["me"] == {"rank": 1, "score": 90.0, "listed": True}
