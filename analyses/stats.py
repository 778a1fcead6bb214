"""Selectors for a dancer's progress (`GET /api/v1/stats/`).

Every figure is aggregated by the database in four queries, whatever the history's size:
one aggregate over the caller's analyses, one count of sessions, one per-day grouping
(days in the dancer's time zone, TruncDate with tzinfo), one per-video grouping. Python only
walks the per-day rows (at most one per calendar day practised) for streaks and fills
the days without practice in the 30-day series.

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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.db.models import Avg, Count, FloatField, Max, OuterRef, Q, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, NullIf, TruncDate
from django.utils import timezone

from analyses.models import Analysis, PracticeSession

BODY_PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")
SERIES_DAYS = 30
WEAKEST_COUNT = 3
VIDEOS_MAX = 100


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
    """The pose score of one body part from `details.body_parts`, SQL NULL when absent or null.

    On SQLite Django's KT turns a JSON null into the text 'null' (which casts to 0): NullIf
    keeps it NULL so averages skip it, as PostgreSQL's ->> already does.
    """
    return Cast(NullIf(KT(f"details__body_parts__{part}"), Value("null")), FloatField())


def _rounded(value, digits: int = 1):
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime | None = None

    def q(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}created_at__gte": self.start})
        if self.end is not None:
            q &= Q(**{f"{prefix}created_at__lt": self.end})
        return q


def user_stats(*, user, tz: tzinfo | None = None, now: datetime | None = None) -> dict:
    """All the figures of the stats endpoint for one user."""
    tz = tz or time_zone_get(None)
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    series_first = today - timedelta(days=SERIES_DAYS - 1)
    last7 = Window(day_start(today - timedelta(days=6), tz))
    prev7 = Window(day_start(today - timedelta(days=13), tz), last7.start)
    last30 = Window(day_start(series_first, tz))
    completed = Q(status=Analysis.Status.COMPLETED)

    analyses = Analysis.objects.filter(user=user)

    # 1. Totals, the two weeks compared, and the body parts over 30 days: one aggregate.
    part_avgs = {f"part_{p}": Avg(part_score(p), filter=completed & last30.q()) for p in BODY_PARTS}
    part_counts = {f"part_n_{p}": Count(part_score(p), filter=completed & last30.q()) for p in BODY_PARTS}
    totals = analyses.aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=completed),
        failed=Count("pk", filter=Q(status=Analysis.Status.FAILED)),
        average=Avg("score", filter=completed),
        best=Max("score", filter=completed),
        last7_count=Count("pk", filter=last7.q()),
        last7_average=Avg("score", filter=completed & last7.q()),
        prev7_count=Count("pk", filter=prev7.q()),
        prev7_average=Avg("score", filter=completed & prev7.q()),
        **part_avgs,
        **part_counts,
    )

    # 2. Sessions.
    session_count = PracticeSession.objects.filter(user=user).count()

    # 3. Per day in the dancer's zone, all history (one row per day practised).
    daily_rows = list(
        analyses.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(
            analyses=Count("pk"),
            completed=Count("pk", filter=completed),
            average=Avg("score", filter=completed),
            best=Max("score", filter=completed),
        )
        .order_by("day")
    )
    days = [row["day"] for row in daily_rows]
    current_streak, longest_streak = streaks(days, today)
    by_day = {row["day"]: row for row in daily_rows}

    def week_days(first: date) -> int:
        return sum(1 for d in range(7) if first + timedelta(days=d) in by_day)

    series = []
    for offset in range(SERIES_DAYS):
        day = series_first + timedelta(days=offset)
        row = by_day.get(day)
        series.append(
            {
                "date": day,
                "analyses": row["analyses"] if row else 0,
                "completed": row["completed"] if row else 0,
                "average_score": _rounded(row["average"]) if row else None,
                "best_score": row["best"] if row else None,
            }
        )

    # 4. Per video: best, average, and the latest completed score (a correlated subquery).
    latest = (
        Analysis.objects.filter(user=user, video=OuterRef("video"), status=Analysis.Status.COMPLETED)
        .order_by("-created_at")
        .values("score")[:1]
    )
    video_rows = list(
        analyses.values("video", "video__youtube_id", "video__title")
        .annotate(
            analyses=Count("pk"),
            completed=Count("pk", filter=completed),
            best=Max("score", filter=completed),
            average=Avg("score", filter=completed),
            last_practiced_at=Max("created_at"),
            latest=Subquery(latest),
        )
        .order_by("-last_practiced_at", "video")[:VIDEOS_MAX]
    )
    videos = [
        {
            "video_id": row["video"],
            "youtube_id": row["video__youtube_id"],
            "title": row["video__title"],
            "analyses": row["analyses"],
            "best_score": row["best"],
            "latest_score": row["latest"],
            "average_score": _rounded(row["average"]),
            "last_practiced_at": row["last_practiced_at"],
        }
        for row in video_rows
    ]

    parts = [
        {
            "part": part,
            "average_score": _rounded(totals[f"part_{part}"]),
            "analyses": totals[f"part_n_{part}"],
        }
        for part in BODY_PARTS
        if totals[f"part_{part}"] is not None
    ]
    parts.sort(key=lambda p: (p["average_score"], BODY_PARTS.index(p["part"])))

    def week(count, average, first: date) -> dict:
        return {
            "start": first,
            "end": first + timedelta(days=6),
            "analyses": count,
            "practice_days": week_days(first),
            "average_score": _rounded(average),
        }

    last_week = week(totals["last7_count"], totals["last7_average"], today - timedelta(days=6))
    previous_week = week(totals["prev7_count"], totals["prev7_average"], today - timedelta(days=13))
    score_change = None
    if last_week["average_score"] is not None and previous_week["average_score"] is not None:
        score_change = round(last_week["average_score"] - previous_week["average_score"], 1)

    return {
        "time_zone": str(tz),
        "today": today,
        "total_analyses": totals["total"],
        "completed_analyses": totals["completed"],
        "failed_analyses": totals["failed"],
        "total_sessions": session_count,
        "practice_days": len(days),
        "current_streak": current_streak,
        "longest_streak": longest_streak,
        "average_score": _rounded(totals["average"]),
        "best_score": totals["best"],
        "last_7_days": last_week,
        "previous_7_days": previous_week,
        "comparison": {
            "analyses_change": last_week["analyses"] - previous_week["analyses"],
            "practice_days_change": last_week["practice_days"] - previous_week["practice_days"],
            "average_score_change": score_change,
        },
        "daily": series,
        "videos": videos,
        "weakest_body_parts": parts[:WEAKEST_COUNT],
    }
