"""GET /api/v1/stats/ and the selectors behind it, on hand-built data."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from analyses import stats
from analyses.models import Analysis
from analyses.tests.factories import PracticeSessionFactory, VideoFactory
from analyses.tests.stats_factories import analysis_at, body_parts

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def tokyo(y, m, d, hh=12, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TOKYO)


# --- pure helpers ---------------------------------------------------------------------------


def test_streaks_count_consecutive_days_and_the_longest_run():
    days = [date(2025, 1, d) for d in (1, 2, 3, 5, 6)]
    assert stats.streaks(days, today=date(2025, 1, 6)) == (2, 3)


def test_the_current_streak_is_still_alive_on_a_day_without_practice_yet():
    days = [date(2025, 1, d) for d in (4, 5)]
    assert stats.streaks(days, today=date(2025, 1, 6)) == (2, 2)


def test_the_current_streak_is_zero_after_a_missed_day():
    days = [date(2025, 1, d) for d in (3, 4)]
    assert stats.streaks(days, today=date(2025, 1, 6)) == (0, 2)


def test_streaks_of_no_days_are_zero():
    assert stats.streaks([], today=date(2025, 1, 6)) == (0, 0)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(stats.InvalidTimeZone):
        stats.time_zone_get("Mars/Olympus")


# --- figures on hand-built data -------------------------------------------------------------


def test_a_new_dancer_gets_zeros_and_thirty_empty_days():
    figures = stats.user_stats(user=UserFactory(), now=tokyo(2025, 3, 2))
    assert figures["total_analyses"] == 0
    assert figures["total_sessions"] == 0
    assert figures["practice_days"] == 0
    assert (figures["current_streak"], figures["longest_streak"]) == (0, 0)
    assert figures["average_score"] is None and figures["best_score"] is None
    assert len(figures["daily"]) == 30
    assert all(day["analyses"] == 0 for day in figures["daily"])
    assert figures["daily"][-1]["date"] == date(2025, 3, 2)
    assert figures["daily"][0]["date"] == date(2025, 2, 1)
    assert figures["videos"] == [] and figures["weakest_body_parts"] == []


def test_totals_average_and_best_count_completed_analyses_only():
    user = UserFactory()
    session = PracticeSessionFactory(user=user)
    for score in (60, 70, 95):
        analysis_at(tokyo(2025, 3, 1), session=session, score=score)
    analysis_at(tokyo(2025, 3, 1), session=session, status=Analysis.Status.FAILED, error_code="timeout")
    analysis_at(tokyo(2025, 3, 1), session=session, status=Analysis.Status.PENDING)
    PracticeSessionFactory(user=user)  # a session without analyses still counts

    figures = stats.user_stats(user=user, now=tokyo(2025, 3, 2))
    assert figures["total_analyses"] == 5
    assert figures["completed_analyses"] == 3
    assert figures["failed_analyses"] == 1
    assert figures["total_sessions"] == 2
    assert figures["average_score"] == 75.0
    assert figures["best_score"] == 95


def test_streaks_run_across_a_month_boundary():
    user = UserFactory()
    for day in (date(2025, 1, 10), date(2025, 1, 11)):  # an older, shorter run
        analysis_at(tokyo(day.year, day.month, day.day), user=user)
    for day in (date(2025, 2, 26), date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 2)):
        analysis_at(tokyo(day.year, day.month, day.day, 20), user=user)
        analysis_at(tokyo(day.year, day.month, day.day, 21), user=user)  # two on a day is still one day

    figures = stats.user_stats(user=user, now=tokyo(2025, 3, 2, 22))
    assert figures["practice_days"] == 7
    assert figures["current_streak"] == 5
    assert figures["longest_streak"] == 5


def test_the_longest_streak_can_be_an_old_one():
    user = UserFactory()
    for d in range(1, 6):
        analysis_at(tokyo(2025, 1, d), user=user)
    analysis_at(tokyo(2025, 3, 1), user=user)
    figures = stats.user_stats(user=user, now=tokyo(2025, 3, 2))
    assert (figures["current_streak"], figures["longest_streak"]) == (1, 5)


def test_an_analysis_at_23_30_utc_is_the_next_day_in_tokyo():
    user = UserFactory()
    analysis_at(datetime(2025, 2, 28, 23, 30, tzinfo=UTC), user=user)  # 1 March 08:30 in Tokyo
    analysis_at(datetime(2025, 2, 27, 12, 0, tzinfo=UTC), user=user)  # 27 February in both
    now = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # 1 March 12:00 in Tokyo

    in_tokyo = stats.user_stats(user=user, now=now)
    assert in_tokyo["today"] == date(2025, 3, 1)
    assert in_tokyo["daily"][-1] == {
        "date": date(2025, 3, 1),
        "analyses": 1,
        "completed": 1,
        "average_score": 80.0,
        "best_score": 80,
    }
    assert in_tokyo["daily"][-2]["analyses"] == 0  # 28 February: nothing in Tokyo
    assert (in_tokyo["current_streak"], in_tokyo["longest_streak"]) == (1, 1)

    in_utc = stats.user_stats(user=user, tz=zoneinfo.ZoneInfo("UTC"), now=now)
    assert in_utc["today"] == date(2025, 3, 1)
    assert in_utc["daily"][-1]["analyses"] == 0
    assert in_utc["daily"][-2]["analyses"] == 1  # 28 February in UTC
    # 27 and 28 February are consecutive in UTC; yesterday keeps the streak alive.
    assert (in_utc["current_streak"], in_utc["longest_streak"]) == (2, 2)


def test_the_last_7_days_are_compared_with_the_7_before():
    user = UserFactory()
    now = tokyo(2025, 3, 14, 18)
    # Last 7 days: 8..14 March. Previous 7: 1..7 March.
    analysis_at(tokyo(2025, 3, 8, 0, 5), user=user, score=90)
    analysis_at(tokyo(2025, 3, 14), user=user, score=70)
    analysis_at(tokyo(2025, 3, 14), user=user, status=Analysis.Status.FAILED)
    analysis_at(tokyo(2025, 3, 7, 23, 55), user=user, score=60)
    analysis_at(tokyo(2025, 3, 1), user=user, score=50)
    analysis_at(tokyo(2025, 2, 28, 23, 59), user=user, score=10)  # outside both weeks

    figures = stats.user_stats(user=user, now=now)
    assert figures["last_7_days"] == {
        "start": date(2025, 3, 8),
        "end": date(2025, 3, 14),
        "analyses": 3,
        "practice_days": 2,
        "average_score": 80.0,
    }
    assert figures["previous_7_days"] == {
        "start": date(2025, 3, 1),
        "end": date(2025, 3, 7),
        "analyses": 2,
        "practice_days": 2,
        "average_score": 55.0,
    }
    assert figures["comparison"] == {"analyses_change": 1, "practice_days_change": 0, "average_score_change": 25.0}


def test_the_daily_series_has_thirty_days_with_the_days_without_practice_at_zero():
    user = UserFactory()
    now = tokyo(2025, 3, 2)
    analysis_at(tokyo(2025, 2, 1), user=user, score=40)  # first day of the window
    analysis_at(tokyo(2025, 1, 31), user=user, score=99)  # just before it
    analysis_at(tokyo(2025, 2, 15), user=user, score=60)
    analysis_at(tokyo(2025, 2, 15), user=user, score=90)

    daily = stats.user_stats(user=user, now=now)["daily"]
    assert [d["date"] for d in daily] == [date(2025, 2, 1) + timedelta(days=i) for i in range(30)]
    by_date = {d["date"]: d for d in daily}
    assert by_date[date(2025, 2, 1)]["analyses"] == 1
    assert by_date[date(2025, 2, 15)] == {
        "date": date(2025, 2, 15),
        "analyses": 2,
        "completed": 2,
        "average_score": 75.0,
        "best_score": 90,
    }
    assert sum(d["analyses"] for d in daily) == 3
    assert by_date[date(2025, 2, 2)] == {
        "date": date(2025, 2, 2),
        "analyses": 0,
        "completed": 0,
        "average_score": None,
        "best_score": None,
    }


def test_per_video_figures_give_best_latest_and_average():
    user = UserFactory()
    first, second = VideoFactory(title="Intro"), VideoFactory(title="Chorus")
    analysis_at(tokyo(2025, 3, 1, 10), user=user, video=first, score=90)
    analysis_at(tokyo(2025, 3, 1, 11), user=user, video=first, score=60)
    analysis_at(tokyo(2025, 3, 1, 12), user=user, video=first, status=Analysis.Status.FAILED)
    analysis_at(tokyo(2025, 2, 20), user=user, video=second, score=75)

    videos = stats.user_stats(user=user, now=tokyo(2025, 3, 2))["videos"]
    assert [v["title"] for v in videos] == ["Intro", "Chorus"]  # most recently practised first
    intro, chorus = videos
    assert intro["youtube_id"] == first.youtube_id
    assert (intro["analyses"], intro["best_score"], intro["latest_score"], intro["average_score"]) == (3, 90, 60, 75.0)
    assert (chorus["analyses"], chorus["best_score"], chorus["latest_score"]) == (1, 75, 75)


def test_the_three_weakest_body_parts_come_from_pose_details_of_the_last_30_days():
    user = UserFactory()
    now = tokyo(2025, 3, 2)
    analysis_at(tokyo(2025, 3, 1), user=user, details=body_parts(left_arm=40.0, right_leg=70.0, head=None))
    analysis_at(tokyo(2025, 2, 20), user=user, details=body_parts(left_arm=60.0, torso=50.0, head=75.0))
    analysis_at(tokyo(2025, 2, 20), user=user, provider="gemini", details={"prompt_version": "v1"})
    # Older than 30 days, and failed: both ignored.
    analysis_at(tokyo(2025, 1, 1), user=user, details=body_parts(right_arm=0.0))
    analysis_at(tokyo(2025, 3, 1), user=user, status=Analysis.Status.FAILED, details=body_parts(right_arm=0.0))

    weakest = stats.user_stats(user=user, now=now)["weakest_body_parts"]
    assert weakest == [
        {"part": "left_arm", "average_score": 50.0, "analyses": 2},
        {"part": "torso", "average_score": 70.0, "analyses": 2},
        {"part": "head", "average_score": 75.0, "analyses": 2},  # a null figure is left out of the average
    ]


def test_body_parts_follow_the_details_on_every_way_they_are_written():
    analysis = analysis_at(tokyo(2025, 3, 1), user=UserFactory(), details=body_parts(left_arm=40.0))
    analysis.refresh_from_db()
    assert analysis.body_parts["left_arm"] == 40.0
    Analysis.objects.filter(pk=analysis.pk).update(details=body_parts(left_arm=55.0))
    analysis.refresh_from_db()
    assert analysis.body_parts["left_arm"] == 55.0
    analysis.details = {"prompt_version": "v1"}  # a Gemini result has no body parts
    analysis.save()
    analysis.refresh_from_db()
    assert analysis.body_parts is None


# --- the endpoint -------------------------------------------------------------------------


def test_stats_need_a_signed_in_dancer(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_the_endpoint_answers_the_callers_figures_only(make_auth_client):
    client = make_auth_client()
    now = timezone.now()
    analysis_at(now - timedelta(minutes=5), user=client.user, score=70)
    analysis_at(now - timedelta(days=1), user=client.user, score=90)
    analysis_at(now - timedelta(minutes=5), score=10)  # someone else

    body = client.get(URL).json()
    assert body["total_analyses"] == 2
    assert body["best_score"] == 90
    assert body["average_score"] == 80.0
    assert body["time_zone"] == "Asia/Tokyo"
    assert len(body["daily"]) == 30
    assert sum(day["analyses"] for day in body["daily"]) == 2
    assert body["current_streak"] >= 1
    assert len(body["videos"]) == 2


def test_the_tz_parameter_sets_the_dancers_days(make_auth_client):
    client = make_auth_client()
    analysis_at(timezone.now(), user=client.user)
    body = client.get(URL, {"tz": "America/Los_Angeles"}).json()
    assert body["time_zone"] == "America/Los_Angeles"
    assert body["today"] == str(timezone.now().astimezone(zoneinfo.ZoneInfo("America/Los_Angeles")).date())


def test_the_response_is_what_the_documented_serializer_would_write(make_auth_client):
    from analyses.stats_api import StatsSerializer

    client = make_auth_client()
    now = timezone.now()
    analysis_at(now - timedelta(days=2), user=client.user, score=70, details=body_parts(left_arm=50.0))
    analysis_at(now, user=client.user, status=Analysis.Status.FAILED)
    body = client.get(URL).json()
    figures = stats.user_stats(user=client.user)
    import json

    from rest_framework.renderers import JSONRenderer

    assert body == json.loads(JSONRenderer().render(StatsSerializer(figures).data))


def test_an_unknown_tz_parameter_is_a_validation_error(auth_client):
    response = auth_client.get(URL, {"tz": "Mars/Olympus"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("invalid_time_zone", "tz")


def test_the_endpoint_runs_a_bounded_number_of_queries(make_auth_client, django_assert_max_num_queries):
    client = make_auth_client()
    now = timezone.now()
    for v in range(6):
        video = VideoFactory()
        for d in range(0, 40, 3):
            analysis_at(now - timedelta(days=d, hours=v), user=client.user, video=video, details=body_parts())
    # The JWT user look-up, the six stats queries and the personal bests, whatever the number of
    # days and videos.
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["total_analyses"] == 6 * 14
