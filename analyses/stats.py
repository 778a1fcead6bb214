"""Selectors for a dancer's progress (`GET /api/v1/stats/`).

The database aggregates; Python adds up what it returns. Six queries, whatever the
history's size: the whole history grouped by (day in the dancer's time zone, video) with
counts, score sums and maxima (TruncDate with tzinfo); each video's latest analysis times;
the body parts averaged over the last 30 days; the number of sessions; each video's latest
completed score; the videos' titles. On PostgreSQL the first three read only covering
indexes (`analysis_user_stats_cover`; `analysis_user_parts_cover` for the body parts).
Totals, days, streaks, weeks and per-video figures are exact sums and maxima of the first
query's rows (at most one per video practised per day).

Definitions:
- a practice day is a day (in the dancer's time zone) with at least one analysis, whatever
  its outcome: a failed analysis was still practice;
- scores (average, best, per video, per day) count completed analyses only;
- the current streak ends today, or yesterday when today has no analysis yet (the streak
  is still alive until the day is over); otherwise it is 0;
- "last 7 days" is today and the six days before; "previous 7 days" the seven before those;
- weakest body parts: the lowest average of the pose analyzer's `details.body_parts`
  over the last 30 days (completed analyses that have those figures).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, FloatField, Max, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, NullIf, TruncDate
from django.utils import timezone

from analyses.models import Analysis, PracticeSession
from playlists.models import Video

BODY_PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")
SERIES_DAYS = 30
WEAKEST_COUNT = 3
VIDEOS_MAX = 100
# A safety net: a change the count and the sum miss (scores swapped by one promotion) lasts this long.
PERSONAL_BESTS_CACHE_SECONDS = 300


class InvalidTimeZone(ValueError):
    pass


def time_zone_get(name: str | None) -> tzinfo:
    """The zone of an IANA name (e.g. `Europe/Paris`), or the stats default when none is given."""
    name = (name or settings.STATS_DEFAULT_TIME_ZONE).strip()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimeZone(f"Unknown time zone {name!r}; use an IANA name such as Asia/Tokyo.") from exc


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant of a calendar day in a zone."""
    return datetime.combine(day, time.min, tzinfo=tz)


def streaks(days: list[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days in an ascending list of distinct days."""
    longest = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if days and days[-1] in (today, today - timedelta(days=1)) else 0
    return current, longest


def part_score(part: str):
    """The pose score of one body part from `body_parts` (details.body_parts, kept by the
    database and in the stats' covering index), SQL NULL when absent or null.

    On SQLite Django's KT turns a JSON null into the text 'null' (which casts to 0): NullIf
    keeps it NULL so averages skip it, as PostgreSQL's ->> already does.
    """
    return Cast(NullIf(KT(f"body_parts__{part}"), Value("null")), FloatField())


def rounded(value, digits: int = 1):
    """A figure rounded for display (None stays None)."""
    return None if value is None else round(float(value), digits)


def _sum(rows, key):
    return sum(row[key] for row in rows)


def _average(rows):
    completed = _sum(rows, "completed")
    return rounded(_sum(rows, "score_sum") / completed) if completed else None


def _best(rows):
    return max((row["best"] for row in rows if row["best"] is not None), default=None)


def _history_cells(analyses, tz: tzinfo) -> list[dict]:
    """The whole history grouped by (day in the dancer's zone, video): at most one row per video
    practised on a day. Counts, score sums and maxima add up exactly, so the totals, the days, the
    weeks and the per-video figures all come from this one scan."""
    completed = Q(status=Analysis.Status.COMPLETED)
    cells = list(
        analyses.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "video")
        .annotate(
            analyses=Count("pk"),
            completed=Count("pk", filter=completed),
            failed=Count("pk", filter=Q(status=Analysis.Status.FAILED)),
            score_sum=Sum("score", filter=completed),
            best=Max("score", filter=completed),
        )
        .order_by()
    )
    for cell in cells:
        cell["score_sum"] = cell["score_sum"] or 0
    return cells


def _weakest_parts(analyses, since: datetime) -> list[dict]:
    """The body parts by their average pose score since `since`, weakest first."""
    window = Q(created_at__gte=since, body_parts__isnull=False, status=Analysis.Status.COMPLETED)
    row = analyses.filter(window).aggregate(
        **{f"part_{p}": Avg(part_score(p)) for p in BODY_PARTS}, pose_analyses=Count("*")
    )
    parts = [
        {"part": part, "average_score": rounded(row[f"part_{part}"]), "analyses": row["pose_analyses"]}
        for part in BODY_PARTS
        if row[f"part_{part}"] is not None
    ]
    parts.sort(key=lambda p: (p["average_score"], BODY_PARTS.index(p["part"])))
    return parts[:WEAKEST_COUNT]


def _daily_series(by_day: dict, first: date) -> list[dict]:
    series = []
    for offset in range(SERIES_DAYS):
        day = first + timedelta(days=offset)
        rows = by_day.get(day, [])
        series.append(
            {
                "date": day,
                "analyses": _sum(rows, "analyses"),
                "completed": _sum(rows, "completed"),
                "average_score": _average(rows),
                "best_score": _best(rows),
            }
        )
    return series


def _week(by_day: dict, first: date) -> dict:
    span = [first + timedelta(days=d) for d in range(7)]
    rows = [cell for day in span for cell in by_day.get(day, [])]
    return {
        "start": first,
        "end": span[-1],
        "analyses": _sum(rows, "analyses"),
        "practice_days": sum(1 for day in span if day in by_day),
        "average_score": _average(rows),
    }


def _comparison(last_week: dict, previous_week: dict) -> dict:
    score_change = None
    if last_week["average_score"] is not None and previous_week["average_score"] is not None:
        score_change = round(last_week["average_score"] - previous_week["average_score"], 1)
    return {
        "analyses_change": last_week["analyses"] - previous_week["analyses"],
        "practice_days_change": last_week["practice_days"] - previous_week["practice_days"],
        "average_score_change": score_change,
    }


def _latest_scores(analyses, latest_completed_at: dict) -> dict:
    """The score of each video's latest completed analysis, in one query (a correlated subquery
    per group is far slower on a large table)."""
    if not latest_completed_at:
        return {}
    either = Q()
    for video_id, at in latest_completed_at.items():
        either |= Q(video_id=video_id, created_at=at)
    rows = analyses.filter(either, status=Analysis.Status.COMPLETED).order_by("created_at", "pk")
    return dict(rows.values_list("video_id", "score"))  # the last row per video wins a tie in time


def _videos(analyses, by_video: dict) -> list[dict]:
    """Per video, most recently practised first (at most VIDEOS_MAX)."""
    latest = {
        row["video"]: row
        for row in analyses.values("video")
        .annotate(
            last_at=Max("created_at"),
            last_completed_at=Max("created_at", filter=Q(status=Analysis.Status.COMPLETED)),
        )
        .order_by()
    }
    video_ids = sorted(by_video, key=lambda v: (-latest[v]["last_at"].timestamp(), v))[:VIDEOS_MAX]
    scores = _latest_scores(
        analyses, {v: latest[v]["last_completed_at"] for v in video_ids if latest[v]["last_completed_at"]}
    )
    titles = {}
    if video_ids:
        titles = {
            pk: (youtube_id, title)
            for pk, youtube_id, title in Video.objects.filter(pk__in=video_ids).values_list("pk", "youtube_id", "title")
        }
    return [
        {
            "video_id": video_id,
            "youtube_id": titles.get(video_id, ("", ""))[0],
            "title": titles.get(video_id, ("", ""))[1],
            "analyses": _sum(by_video[video_id], "analyses"),
            "best_score": _best(by_video[video_id]),
            "latest_score": scores.get(video_id),
            "average_score": _average(by_video[video_id]),
            "last_practiced_at": latest[video_id]["last_at"],
        }
        for video_id in video_ids
    ]


def user_stats(*, user, tz: tzinfo | None = None, now: datetime | None = None) -> dict:
    """All the figures of the stats endpoint for one user."""
    tz = tz or time_zone_get(None)
    today = (now or timezone.now()).astimezone(tz).date()
    series_first = today - timedelta(days=SERIES_DAYS - 1)
    analyses = Analysis.objects.filter(user=user)
    cells = _history_cells(analyses, tz)
    by_day: dict[date, list] = {}
    by_video: dict[int, list] = {}
    for cell in cells:
        by_day.setdefault(cell["day"], []).append(cell)
        by_video.setdefault(cell["video"], []).append(cell)
    days = sorted(by_day)
    current_streak, longest_streak = streaks(days, today)
    last_week, previous_week = _week(by_day, today - timedelta(days=6)), _week(by_day, today - timedelta(days=13))
    return {
        "time_zone": str(tz),
        "today": today,
        "total_analyses": _sum(cells, "analyses"),
        "completed_analyses": _sum(cells, "completed"),
        "failed_analyses": _sum(cells, "failed"),
        "total_sessions": PracticeSession.objects.filter(user=user).count(),
        "practice_days": len(days),
        "current_streak": current_streak,
        "longest_streak": longest_streak,
        "average_score": _average(cells),
        "best_score": _best(cells),
        "last_7_days": last_week,
        "previous_7_days": previous_week,
        "comparison": _comparison(last_week, previous_week),
        "daily": _daily_series(by_day, series_first),
        "videos": _videos(analyses, by_video),
        "weakest_body_parts": _weakest_parts(analyses, day_start(series_first, tz)),
        "personal_bests": _personal_bests(user, scores=(_sum(cells, "completed"), _sum(cells, "score_sum"))),
    }


def _personal_bests(user, *, scores: tuple[int, int]) -> list[dict]:
    """The coaching app's personal bests, computed again only when the dancer's scores change: a
    completed analysis changes their count, a promoted re-analysis their sum."""
    from coaching.leaderboards import personal_bests  # the coaching app builds on these stats

    key = f"personal-bests:{user.pk}:{scores[0]}:{scores[1]}"
    return cache.get_or_set(key, lambda: personal_bests(user=user), PERSONAL_BESTS_CACHE_SECONDS)
