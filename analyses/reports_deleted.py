"""Deleted dancers' analyses in the staff reports: counts kept without them (accounts.AnalysisTally).

Deleting an account folds its analyses into hourly counts with no user, frame or text; the reports
add them to their totals and per-day figures, so a deletion changes no count. The score
distribution, failures by code, top videos, active users and latencies count stored analyses only.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate

from accounts.models import AnalysisTally
from analyses.models import Analysis
from analyses.stats import day_start

_GEMINI = Q(provider=Analysis.Provider.GEMINI)
_FIGURES = {
    "analyses": Sum("analyses"),
    "completed": Sum("analyses", filter=Q(status=Analysis.Status.COMPLETED)),
    "failed": Sum("analyses", filter=Q(status=Analysis.Status.FAILED)),
    "cache_hits": Sum("analyses", filter=Q(status=Analysis.Status.COMPLETED, cached=True)),
    "scored": Sum("scored"),
    "score_sum": Sum("score_sum"),
    "gemini_analyses": Sum("analyses", filter=_GEMINI),
    "input_tokens": Sum("input_tokens", filter=_GEMINI),
    "output_tokens": Sum("output_tokens", filter=_GEMINI),
}


def _in_range(date_range):
    start = day_start(date_range.start, date_range.tz)
    end = day_start(date_range.end + timedelta(days=1), date_range.tz)
    return AnalysisTally.objects.filter(hour__gte=start, hour__lt=end)


# Aggregates may not share a field's name: computed as "n_<name>", returned as <name>.
_ALIASED = {f"n_{name}": aggregate for name, aggregate in _FIGURES.items()}


def _unaliased(row: dict) -> dict:
    return {name.removeprefix("n_"): value or 0 for name, value in row.items()}


def deleted_totals(daily: dict) -> dict:
    """The range's totals from its days (no second query)."""
    return {name: sum(day[name] for day in daily.values()) for name in _FIGURES}


def deleted_daily(date_range) -> dict:
    rows = (
        _in_range(date_range)
        .annotate(day=TruncDate("hour", tzinfo=date_range.tz))
        .values("day")
        .annotate(**_ALIASED)
        .order_by()
    )
    return {row.pop("day"): _unaliased(row) for row in rows}


def merged(live: dict, deleted: dict | None) -> dict:
    """Live figures (with `scored` and `average_score`) plus the deleted ones; the average weighted."""
    if not deleted:
        return live
    out = dict(live)
    for name in ("analyses", "completed", "failed", "cache_hits", "gemini_analyses", "input_tokens", "output_tokens"):
        out[name] = (out.get(name) or 0) + deleted[name]
    live_scored = live.get("scored") or 0
    scored = live_scored + deleted["scored"]
    if scored:
        out["average_score"] = ((live.get("average_score") or 0) * live_scored + deleted["score_sum"]) / scored
    out["scored"] = scored
    return out
