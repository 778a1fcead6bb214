"""The staff reports' figures, shared by the admin page, its CSV and `manage.py report`.

Every figure is computed by the database, in a bounded number of queries whatever the
number of analyses: one aggregate for the totals and, on PostgreSQL, the latency
percentiles (percentile_cont over an array of fractions: one sort); one GROUP BY on the day
in the reports' time zone; one GROUP BY on the 10-point score bin; one GROUP BY on the error
code of failures; one GROUP BY video with LIMIT for the top videos and one for their titles
and distinct dancers. Elsewhere the percentiles take one count and one ORDER BY ... LIMIT 2
OFFSET k per percentile, with percentile_cont's interpolation. Python only arranges the
rows it gets back and multiplies two token sums by the prices.

Active users are counted over the whole range (COUNT DISTINCT); per day the page shows
analyses, failures, average score and tokens (a distinct count per day costs a second sort
of the range, left out to keep the page fast on a large table; bench/reports.py times it).

Days are calendar days in settings.STATS_DEFAULT_TIME_ZONE; the range includes both ends.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, IntegerField, Q, Sum
from django.db.models.functions import Least, TruncDate
from django.utils import timezone

from analyses import reports_deleted
from analyses.models import Analysis
from analyses.stats import day_start, rounded, time_zone_get
from budgets.selectors import budget_report

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
TOP_VIDEOS = 10
PERCENTILES = (0.5, 0.95)
# Analyzer latency: completed analyses that called an analyzer (cache hits answer at once).
ANALYZER_LATENCY = Q(status=Analysis.Status.COMPLETED, cached=False, latency_ms__isnull=False)
SCORE_BINS = [(lo, lo + 9 if lo < 90 else 100) for lo in range(0, 100, 10)]


class PercentileContArray(Aggregate):
    """PostgreSQL's `percentile_cont(ARRAY[f, ...]) WITHIN GROUP (ORDER BY expr)`: several
    percentiles from one sort."""

    function = "PERCENTILE_CONT"
    name = "PercentileContArray"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fractions, **extra):
        fractions = ", ".join(f"{float(f)!r}::float8" for f in fractions)
        super().__init__(expression, fractions=fractions, output_field=ArrayField(FloatField()), **extra)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive
    tz: tzinfo

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, *, tz: tzinfo | None = None, today: date | None = None):
        tz = tz or time_zone_get(None)
        today = today or timezone.now().astimezone(tz).date()
        return cls(start=today - timedelta(days=days - 1), end=today, tz=tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def q(self) -> Q:
        return Q(
            created_at__gte=day_start(self.start, self.tz),
            created_at__lt=day_start(self.end + timedelta(days=1), self.tz),
        )


def _ratio(part, whole, digits: int = 4):
    return round(part / whole, digits) if whole else None


def latency_percentiles(queryset) -> dict[str, float | None]:
    """p50 and p95 of `latency_ms` over a queryset, computed by the database."""
    values = queryset.filter(latency_ms__isnull=False)
    if connection.vendor == "postgresql":
        found = values.aggregate(latency=PercentileContArray("latency_ms", PERCENTILES))["latency"]
        found = found or [None] * len(PERCENTILES)
        return {f"p{round(p * 100)}": rounded(v) for p, v in zip(PERCENTILES, found, strict=True)}
    # Elsewhere: percentile_cont's interpolation between the two nearest ranks, each fetched
    # by the database with ORDER BY ... LIMIT 2 OFFSET k.
    n = values.count()
    out = {}
    ordered = values.order_by("latency_ms").values_list("latency_ms", flat=True)
    for p in PERCENTILES:
        key = f"p{round(p * 100)}"
        if n == 0:
            out[key] = None
            continue
        position = p * (n - 1)
        lower = math.floor(position)
        pair = list(ordered[lower : lower + 2])
        upper_value = pair[1] if len(pair) > 1 else pair[0]
        out[key] = rounded(pair[0] + (upper_value - pair[0]) * (position - lower))
    return out


def _totals(in_range, postgres: bool) -> dict:
    """Totals and (on PostgreSQL) the latency percentiles, in one scan of the range."""
    completed = Q(status=Analysis.Status.COMPLETED)
    gemini = Q(provider=Analysis.Provider.GEMINI)
    extra = {"latency": PercentileContArray("latency_ms", PERCENTILES, filter=ANALYZER_LATENCY)} if postgres else {}
    return in_range.aggregate(
        analyses=Count("pk"),
        completed=Count("pk", filter=completed),
        failed=Count("pk", filter=Q(status=Analysis.Status.FAILED)),
        cache_hits=Count("pk", filter=completed & Q(cached=True)),
        active_users=Count("user", distinct=True),
        average_score=Avg("score", filter=completed),
        scored=Count("score", filter=completed),
        gemini_analyses=Count("pk", filter=gemini),
        input_tokens=Sum("input_tokens", filter=gemini, default=0),
        output_tokens=Sum("output_tokens", filter=gemini, default=0),
        **extra,
    )


def _budget_fallbacks(in_range) -> int:
    # Apart from the totals: reading `details` in their scan would cost it its index-only plan.
    return in_range.filter(status=Analysis.Status.COMPLETED, details__has_key="fallback").count()


def _daily(in_range, date_range: DateRange, deleted: dict) -> list[dict]:
    """Per day in the reports' time zone, every day of the range (zeros where nothing happened)."""
    completed = Q(status=Analysis.Status.COMPLETED)
    gemini = Q(provider=Analysis.Provider.GEMINI)
    rows = (
        in_range.annotate(day=TruncDate("created_at", tzinfo=date_range.tz))
        .values("day")
        .annotate(
            analyses=Count("pk"),
            completed=Count("pk", filter=completed),
            failed=Count("pk", filter=Q(status=Analysis.Status.FAILED)),
            average_score=Avg("score", filter=completed),
            scored=Count("score", filter=completed),
            input_tokens=Sum("input_tokens", filter=gemini, default=0),
            output_tokens=Sum("output_tokens", filter=gemini, default=0),
        )
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    daily = []
    for day in date_range.days:
        row = reports_deleted.merged(by_day.get(day, {}), deleted.get(day))
        daily.append(
            {
                "date": day,
                "analyses": row.get("analyses", 0),
                "completed": row.get("completed", 0),
                "failed": row.get("failed", 0),
                "average_score": rounded(row.get("average_score")),
                "input_tokens": row.get("input_tokens", 0),
                "output_tokens": row.get("output_tokens", 0),
            }
        )
    return daily


def _score_distribution(in_range) -> list[dict]:
    """Scores 0..100 in ten bins: 0-9, 10-19, ..., 90-100 (100 joins the last bin)."""
    rows = (
        in_range.filter(status=Analysis.Status.COMPLETED, score__isnull=False)
        .annotate(bin=Least(F("score") / 10, 9, output_field=IntegerField()))
        .values("bin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {int(row["bin"]): row["n"] for row in rows}
    return [
        {"bin": f"{lo}-{hi}", "low": lo, "high": hi, "analyses": counts.get(i, 0)}
        for i, (lo, hi) in enumerate(SCORE_BINS)
    ]


def _failures(in_range, failed: int) -> list[dict]:
    """Failures by error code (the status index narrows this to the failed rows)."""
    rows = (
        in_range.filter(status=Analysis.Status.FAILED)
        .values("error_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "error_code")
    )
    return [
        {
            "error_code": row["error_code"] or "(none)",
            "analyses": row["n"],
            "share_of_failures": _ratio(row["n"], failed),
        }
        for row in rows
    ]


def _top_videos(in_range) -> list[dict]:
    """Top videos by analyses (a hash grouping on the video id), then their titles and distinct
    dancers over the rows of those few videos only."""
    top = list(
        in_range.values("video")
        .annotate(analyses=Count("pk"), average_score=Avg("score", filter=Q(status=Analysis.Status.COMPLETED)))
        .order_by("-analyses", "video")[:TOP_VIDEOS]
    )
    if not top:
        return []
    details = {
        row["video"]: row
        for row in in_range.filter(video__in=[row["video"] for row in top])
        .values("video", "video__youtube_id", "video__title")
        .annotate(users=Count("user", distinct=True))
        .order_by()
    }
    return [
        {
            "video_id": row["video"],
            "youtube_id": details[row["video"]]["video__youtube_id"],
            "title": details[row["video"]]["video__title"],
            "analyses": row["analyses"],
            "users": details[row["video"]]["users"],
            "average_score": rounded(row["average_score"]),
        }
        for row in top
    ]


def _totals_figures(totals: dict, latency: dict) -> dict:
    finished = totals["completed"] + totals["failed"]
    cost = (
        totals["input_tokens"] / 1e6 * settings.GEMINI_PRICE_INPUT_PER_MTOK
        + totals["output_tokens"] / 1e6 * settings.GEMINI_PRICE_OUTPUT_PER_MTOK
    )
    return {
        "analyses": totals["analyses"],
        "completed": totals["completed"],
        "failed": totals["failed"],
        "unfinished": totals["analyses"] - finished,
        "active_users": totals["active_users"],
        "average_score": rounded(totals["average_score"]),
        "failure_rate": _ratio(totals["failed"], finished),
        "cache_hits": totals["cache_hits"],
        "cache_hit_rate": _ratio(totals["cache_hits"], totals["completed"]),
        "latency_p50_ms": latency["p50"],
        "latency_p95_ms": latency["p95"],
        "gemini_analyses": totals["gemini_analyses"],
        "input_tokens": totals["input_tokens"],
        "output_tokens": totals["output_tokens"],
        "estimated_cost_usd": round(cost, 4),
    }


def report_build(date_range: DateRange | None = None) -> dict:
    """Every figure of the reports page for a date range (default: the last 30 days)."""
    date_range = date_range or DateRange.last_days()
    in_range = Analysis.objects.filter(date_range.q())
    postgres = connection.vendor == "postgresql"
    deleted = reports_deleted.deleted_daily(date_range)  # deleted accounts' analyses, as counts
    totals = reports_deleted.merged(_totals(in_range, postgres), reports_deleted.deleted_totals(deleted))
    if postgres:
        values = totals["latency"] or [None] * len(PERCENTILES)
        latency = {f"p{round(p * 100)}": rounded(v) for p, v in zip(PERCENTILES, values, strict=True)}
    else:
        latency = latency_percentiles(in_range.filter(ANALYZER_LATENCY))
    return {
        "range": {"start": date_range.start, "end": date_range.end, "time_zone": str(date_range.tz)},
        "totals": _totals_figures(totals, latency),
        "prices": {
            "input_per_mtok": settings.GEMINI_PRICE_INPUT_PER_MTOK,
            "output_per_mtok": settings.GEMINI_PRICE_OUTPUT_PER_MTOK,
        },
        "daily": _daily(in_range, date_range, deleted),
        "score_distribution": _score_distribution(in_range),
        "failures_by_code": _failures(in_range, totals["failed"]),
        "top_videos": _top_videos(in_range),
        "budget": budget_report(in_range, fallbacks=_budget_fallbacks(in_range), completed=totals["completed"]),
    }


CSV_HEADER = ("section", "key", "metric", "value")


def report_rows(report: dict):
    """The report as tidy rows (section, key, metric, value): one header, easy to pivot."""
    r = report["range"]
    yield ("range", "", "start", r["start"].isoformat())
    yield ("range", "", "end", r["end"].isoformat())
    yield ("range", "", "time_zone", r["time_zone"])
    for metric, value in report["totals"].items():
        yield ("totals", "", metric, "" if value is None else value)
    for day in report["daily"]:
        for metric, value in day.items():
            if metric != "date":
                yield ("daily", day["date"].isoformat(), metric, "" if value is None else value)
    for row in report["score_distribution"]:
        yield ("score_distribution", row["bin"], "analyses", row["analyses"])
    for row in report["failures_by_code"]:
        yield ("failures_by_code", row["error_code"], "analyses", row["analyses"])
        yield ("failures_by_code", row["error_code"], "share_of_failures", row["share_of_failures"])
    budget = report.get("budget")
    for u in budget["usage"] if budget else ():
        for metric in ("spent_usd", "cap_usd", "used"):
            yield ("budget", u["cap"], metric, "" if u[metric] is None else u[metric])
    for metric in ("fallbacks", "fallback_share", "breaker_open") if budget else ():
        yield ("budget", "", metric, "" if budget[metric] is None else budget[metric])
    for row in report["top_videos"]:
        key = row["youtube_id"]
        for metric in ("title", "analyses", "users", "average_score"):
            value = row[metric]
            yield ("top_videos", key, metric, "" if value is None else value)


def _cell(value):
    # A title typed by a user must not become a spreadsheet formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: dict, out=None) -> str | None:
    """Write the CSV to `out` (a text file), or return it as a string."""
    buffer = out or io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(tuple(_cell(v) for v in row) for row in report_rows(report))
    return None if out is not None else buffer.getvalue()
