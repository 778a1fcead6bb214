"""Personal bests and per-video leaderboards.

A dancer's score on a video is the best average of one of their sessions on it with at least
LEADERBOARD_MIN_ANALYSES completed analyses (one lucky frame is no record). A session counts
in the period it started in: this week (from Monday 00:00) or this month (from the 1st) in
STATS_DEFAULT_TIME_ZONE, or all time. A board lists only dancers who opted in with a display
name, whose account is active and whom staff did not hide; ties (equal scores to 0.1) share a rank (1, 1, 3).

One grouped query per board: the video's completed analyses grouped by session (COUNT, AVG,
MAX; HAVING the minimum), read from the covering index `analysis_video_session_cover` on
PostgreSQL (coaching migration 0002), cached per (video, period) for LEADERBOARD_CACHE_SECONDS
and missed as soon as a session on that video or a dancer's settings change
(coaching.invalidation). `me` is the caller's own figure: from the board, or (not listed) from
one query over the caller's own analyses of the video (`analysis_user_session_cover`), ranked
against the board. Personal bests group the dancer's analyses the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, F, Max, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import User
from analyses.models import Analysis
from analyses.stats import rounded, time_zone_get
from coaching import invalidation
from coaching.models import LeaderboardProfile
from playlists.models import Video

PERIODS = ("week", "month", "all")
BOARD_SIZE = 50


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """The first instant of this week or month in the stats time zone; None for all time."""
    if period == "all":
        return None
    tz = time_zone_get(None)
    today = (now or timezone.now()).astimezone(tz).date()
    first = today - timedelta(days=today.weekday()) if period == "week" else today.replace(day=1)
    return datetime.combine(first, time.min, tzinfo=tz)


def scored_analyses(start: datetime | None = None, **filters):
    """Completed analyses with a score (the covering indexes' rows), of sessions started since `start`."""
    analyses = Analysis.objects.filter(status=Analysis.Status.COMPLETED, score__isnull=False, **filters)
    if start is not None:
        # An analysis before `start` belongs to a session started before it: the first filter only
        # narrows the index range, the second is the definition.
        analyses = analyses.filter(created_at__gte=start, session__started_at__gte=start)
    return analyses


def qualifying_sessions(analyses, *fields, **expressions):
    """Per session (and `fields`): the count, average and time of its scored analyses, keeping
    sessions with at least LEADERBOARD_MIN_ANALYSES (COUNT(*): nothing outside the index)."""
    return (
        analyses.values("session_id", *fields, **expressions)
        .annotate(scored=Count("*"), average=Avg("score"), achieved_at=Max("created_at"))
        .filter(scored__gte=settings.LEADERBOARD_MIN_ANALYSES)
        .order_by()
    )


def _ranked(entries: list[dict]) -> list[dict]:
    entries.sort(key=lambda e: (-e["score"], e["display_name"].casefold()))
    rank = 0
    for position, entry in enumerate(entries, start=1):
        if position == 1 or entry["score"] != entries[position - 2]["score"]:
            rank = position
        entry["rank"] = rank
    return entries


def _entries(video_id: int, start: datetime | None, profiles) -> list[dict]:
    """Each dancer of `profiles` on a video with their best qualifying session's average and
    number of qualifying sessions, ranked: the sessions' grouping (the ORM's query) grouped again
    per dancer by the database, so a popular video returns one row per dancer, not per session."""
    analyses = scored_analyses(start, video_id=video_id, user_id__in=profiles.values("user_id"))
    inner, params = qualifying_sessions(analyses, dancer=F("user_id")).query.sql_with_params()
    profile, user = LeaderboardProfile._meta.db_table, User._meta.db_table
    sql = (
        'SELECT p.user_id, p.display_name, p.hidden, u.email, MAX(s."average"), COUNT(*) '  # noqa: S608 - table names
        f'FROM ({inner}) s JOIN {profile} p ON p.user_id = s."dancer" JOIN {user} u ON u.id = p.user_id '
        "GROUP BY p.user_id, p.display_name, p.hidden, u.email"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    entries = [
        {
            "user_id": user_id,
            "display_name": name,
            "hidden": hidden,
            "email": email,
            "score": rounded(best),
            "sessions": sessions,
        }
        for user_id, name, hidden, email, best, sessions in rows
    ]
    return _ranked(entries)


def _board_build(video_id: int, start: datetime | None) -> list[dict]:
    """Every listed dancer of a video in a period, ranked (the cached value: no email in it)."""
    listed = LeaderboardProfile.objects.filter(
        opt_in=True, hidden=False, display_name__isnull=False, user__is_active=True
    )
    return [
        {k: entry[k] for k in ("user_id", "display_name", "score", "sessions", "rank")}
        for entry in _entries(video_id, start, listed)
    ]


def _board(video_id: int, period: str, start: datetime | None) -> list[dict]:
    dancers, video = invalidation.versions(video_id)
    key = f"leaderboard:{video_id}:{period}:{start.isoformat() if start else 'all'}:{dancers}:{video}"
    board = cache.get(key)
    if board is None:
        board = _board_build(video_id, start)
        cache.set(key, board, timeout=settings.LEADERBOARD_CACHE_SECONDS)
    return board


def _own_score(user, video_id: int, start: datetime | None) -> float | None:
    rows = qualifying_sessions(scored_analyses(start, user_id=user.pk, video_id=video_id))
    return max((rounded(row["average"]) for row in rows), default=None)


def leaderboard(*, video_id: int, period: str, user) -> dict:
    """The top of a video's board in a period, and the caller's own place (listed or not)."""
    start = period_start(period)
    board = _board(video_id, period, start)
    mine = next((entry for entry in board if entry["user_id"] == user.pk), None)
    if mine is not None:
        me = {"rank": mine["rank"], "score": mine["score"], "listed": True}
    else:
        score = _own_score(user, video_id, start)
        me = None
        if score is not None:
            me = {"rank": 1 + sum(1 for entry in board if entry["score"] > score), "score": score, "listed": False}
    results = [
        {"rank": e["rank"], "display_name": e["display_name"], "score": e["score"], "sessions": e["sessions"]}
        for e in board[:BOARD_SIZE]
    ]
    return {"period": period, "period_start": start and start.astimezone(UTC), "results": results, "me": me}


def personal_bests(*, user) -> list[dict]:
    """Per video the dancer's best qualifying session (ties: the earlier record), the most recent
    record first. The database picks each video's best (a window over the sessions' grouping),
    so three videos return three rows, not one per session."""
    rows = (
        qualifying_sessions(scored_analyses(user_id=user.pk), key=F("video_id"))
        .annotate(
            place=Window(RowNumber(), partition_by=F("video_id"), order_by=[F("average").desc(), F("achieved_at")]),
        )
        .filter(place=1)
    )
    best = {row["key"]: row for row in rows}
    videos = {v.pk: v for v in Video.objects.filter(pk__in=list(best)).only("pk", "youtube_id", "title")}
    out = [
        {
            "video": {"id": video_id, "youtube_id": videos[video_id].youtube_id, "title": videos[video_id].title},
            "score": rounded(row["average"]),
            "session_id": row["session_id"],
            "achieved_at": row["achieved_at"],
        }
        for video_id, row in best.items()
    ]
    out.sort(key=lambda b: b["achieved_at"], reverse=True)
    return out


def staff_board(*, video_id: int, period: str) -> list[dict]:
    """For staff: every opted-in dancer of a video's board, hidden ones too (marked), uncached."""
    opted_in = LeaderboardProfile.objects.filter(opt_in=True, display_name__isnull=False)
    return _entries(video_id, period_start(period), opted_in)
