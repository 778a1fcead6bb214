"""Personal bests and per-video leaderboards.

A dancer's score on a video is the best average of one of their sessions on it with at least
LEADERBOARD_MIN_ANALYSES completed analyses (one lucky frame is no record). A session counts
in the period it started in: this week (from Monday 00:00) or this month (from the 1st) in
STATS_DEFAULT_TIME_ZONE, or all time. A board lists only dancers who opted in with a display
name and whom staff did not hide; ties (equal scores to 0.1) share a rank (1, 1, 3).

One grouped query per board (the video's sessions with their completed analyses' count and
average, HAVING the minimum), cached per (video, period) for LEADERBOARD_CACHE_SECONDS and
missed as soon as a session on that video or a dancer's settings change (coaching.invalidation).
`me` is the caller's own figure: from the board, or (not listed) from one query over the
caller's own sessions on the video, ranked against the board.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, F, Max, Q
from django.utils import timezone

from analyses.models import Analysis, PracticeSession
from analyses.stats import rounded, time_zone_get
from coaching import invalidation

PERIODS = ("week", "month", "all")
BOARD_SIZE = 50
_COMPLETED = Q(analyses__status=Analysis.Status.COMPLETED, analyses__score__isnull=False)


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """The first instant of this week or month in the stats time zone; None for all time."""
    if period == "all":
        return None
    tz = time_zone_get(None)
    today = (now or timezone.now()).astimezone(tz).date()
    first = today - timedelta(days=today.weekday()) if period == "week" else today.replace(day=1)
    return datetime.combine(first, time.min, tzinfo=tz)


def qualifying_sessions(sessions):
    """Sessions with at least the minimum of completed analyses, with their average and when it was set."""
    return (
        sessions.annotate(
            scored=Count("analyses", filter=_COMPLETED),
            average=Avg("analyses__score", filter=_COMPLETED),
            achieved_at=Max("analyses__created_at", filter=_COMPLETED),
        )
        .filter(scored__gte=settings.LEADERBOARD_MIN_ANALYSES)
        .order_by()
    )


def _bests(rows) -> dict:
    """Per key (user or video): the best session and the number of qualifying sessions."""
    best: dict = {}
    for row in rows:
        row["score"] = rounded(row["average"])
        current = best.get(row["key"])
        if current is None:
            best[row["key"]] = {**row, "sessions": 1}
            continue
        current["sessions"] += 1
        if (row["score"], -row["achieved_at"].timestamp()) > (current["score"], -current["achieved_at"].timestamp()):
            best[row["key"]] = {**row, "sessions": current["sessions"]}
    return best


def _ranked(entries: list[dict]) -> list[dict]:
    entries.sort(key=lambda e: (-e["score"], e["display_name"].casefold()))
    rank = 0
    for position, entry in enumerate(entries, start=1):
        if position == 1 or entry["score"] != entries[position - 2]["score"]:
            rank = position
        entry["rank"] = rank
    return entries


def _board_build(video_id: int, start: datetime | None) -> list[dict]:
    """Every listed dancer of a video in a period, ranked (the cached value)."""
    sessions = PracticeSession.objects.filter(
        video_id=video_id,
        user__leaderboard_profile__opt_in=True,
        user__leaderboard_profile__hidden=False,
        user__leaderboard_profile__display_name__isnull=False,
    )
    if start is not None:
        sessions = sessions.filter(started_at__gte=start)
    rows = qualifying_sessions(sessions).values(
        "average", "achieved_at", key=F("user_id"), display_name=F("user__leaderboard_profile__display_name")
    )
    best = _bests(list(rows))
    entries = [
        {"user_id": key, "display_name": row["display_name"], "score": row["score"], "sessions": row["sessions"]}
        for key, row in best.items()
    ]
    return _ranked(entries)


def _board(video_id: int, period: str, start: datetime | None) -> list[dict]:
    dancers, video = invalidation.versions(video_id)
    key = f"leaderboard:{video_id}:{period}:{start.isoformat() if start else 'all'}:{dancers}:{video}"
    board = cache.get(key)
    if board is None:
        board = _board_build(video_id, start)
        cache.set(key, board, timeout=settings.LEADERBOARD_CACHE_SECONDS)
    return board


def _own_score(user, video_id: int, start: datetime | None) -> float | None:
    sessions = PracticeSession.objects.filter(user=user, video_id=video_id)
    if start is not None:
        sessions = sessions.filter(started_at__gte=start)
    found = qualifying_sessions(sessions).aggregate(best=Max("average"))["best"]
    return rounded(found)


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
    """Per video the dancer's best qualifying session, the most recent record first."""
    rows = qualifying_sessions(PracticeSession.objects.filter(user=user)).values(
        "id", "average", "achieved_at", "video__youtube_id", "video__title", key=F("video_id")
    )
    best = _bests(list(rows))
    out = [
        {
            "video": {"id": video_id, "youtube_id": row["video__youtube_id"], "title": row["video__title"]},
            "score": row["score"],
            "session_id": row["id"],
            "achieved_at": row["achieved_at"],
        }
        for video_id, row in best.items()
    ]
    out.sort(key=lambda b: b["achieved_at"], reverse=True)
    return out


def staff_board(*, video_id: int, period: str) -> list[dict]:
    """For staff: every opted-in dancer of a video's board, hidden ones too (marked), uncached."""
    start = period_start(period)
    sessions = PracticeSession.objects.filter(
        video_id=video_id,
        user__leaderboard_profile__opt_in=True,
        user__leaderboard_profile__display_name__isnull=False,
    )
    if start is not None:
        sessions = sessions.filter(started_at__gte=start)
    rows = qualifying_sessions(sessions).values(
        "average",
        "achieved_at",
        key=F("user_id"),
        display_name=F("user__leaderboard_profile__display_name"),
        hidden=F("user__leaderboard_profile__hidden"),
        email=F("user__email"),
    )
    entries = [
        {"user_id": key, **{k: row[k] for k in ("display_name", "score", "sessions", "hidden", "email")}}
        for key, row in _bests(list(rows)).items()
    ]
    return _ranked(entries)
