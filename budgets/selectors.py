"""Reads of the AI budget: the caps in force, what was spent, the figures of the reports page.

Spend is Gemini's stored token counts times the configured prices (`GEMINI_PRICE_*`), counted in
micro-dollars; days and months are calendar ones in `STATS_DEFAULT_TIME_ZONE`, like the reports'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from analyses.models import Analysis
from analyses.stats import day_start, time_zone_get
from budgets.models import AiBudget

ALERT_RATIO = 0.8
TOP_DANCERS = 10
GEMINI = Q(provider=Analysis.Provider.GEMINI)


@dataclass(frozen=True)
class Caps:
    """The caps in force: the admin's value where set, else the setting's; None is no cap."""

    daily_usd: float | None
    monthly_usd: float | None
    user_daily_calls: int | None


def caps_get() -> Caps:
    """One query, on every Gemini analysis: an edit in the admin applies to the next one, in any process."""
    row = AiBudget.objects.filter(pk=AiBudget.SINGLETON_PK).values().first() or {}

    def pick(field, setting):
        value = row.get(field)
        return setting if value is None else value

    daily = pick("daily_usd", settings.AI_BUDGET_DAILY_USD)
    monthly = pick("monthly_usd", settings.AI_BUDGET_MONTHLY_USD)
    return Caps(
        daily_usd=None if daily is None else float(daily),
        monthly_usd=None if monthly is None else float(monthly),
        user_daily_calls=pick("user_daily_calls", settings.AI_BUDGET_USER_DAILY_CALLS),
    )


def micro_usd(usd: float) -> int:
    return round(usd * 1_000_000)


def cost_micro_usd(input_tokens: int, output_tokens: int) -> int:
    """What a call cost, in micro-dollars (the prices are per million tokens)."""
    return round(
        input_tokens * settings.GEMINI_PRICE_INPUT_PER_MTOK + output_tokens * settings.GEMINI_PRICE_OUTPUT_PER_MTOK
    )


@dataclass(frozen=True)
class Periods:
    day: date
    day_start: datetime
    month: str  # YYYY-MM
    month_start: datetime


def periods_now(now: datetime | None = None) -> Periods:
    tz = time_zone_get(None)
    today = (now or timezone.now()).astimezone(tz).date()
    first = today.replace(day=1)
    return Periods(day=today, day_start=day_start(today, tz), month=f"{first:%Y-%m}", month_start=day_start(first, tz))


def spend_stored_micro_usd(since: datetime, until: datetime | None = None) -> int:
    """Gemini spend of the analyses created from `since` (to `until`), from their stored tokens."""
    rows = Analysis.objects.filter(GEMINI, created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    sums = rows.aggregate(i=Sum("input_tokens", default=0), o=Sum("output_tokens", default=0))
    return cost_micro_usd(sums["i"], sums["o"])


def user_calls_stored(user_id, since: datetime) -> int:
    """Gemini analyses of a dancer from `since` that reached Gemini (spent tokens)."""
    return Analysis.objects.filter(GEMINI, user_id=user_id, created_at__gte=since, input_tokens__gt=0).count()


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def usage_line(name: str, spent: float, cap: float | None) -> dict:
    ratio = None if cap is None else (1.0 if cap == 0 else round(spent / cap, 4))
    return {"cap": name, "spent_usd": round(spent, 4), "cap_usd": cap, "used": ratio}


def budget_alerts(usage: list[dict]) -> list[str]:
    """One sentence per cap that is 80% used or more."""
    return [
        f"AI budget: {u['cap']} cap {round(u['used'] * 100)}% used (${u['spent_usd']:.2f} of ${u['cap_usd']:.2f})"
        for u in usage
        if u["used"] is not None and u["used"] >= ALERT_RATIO
    ]


def top_dancers(in_range) -> list[dict]:
    """The dancers whose analyses spent most on Gemini in the range."""
    price_in, price_out = settings.GEMINI_PRICE_INPUT_PER_MTOK, settings.GEMINI_PRICE_OUTPUT_PER_MTOK
    rows = (
        in_range.filter(GEMINI)
        .values("user", "user__email")
        .annotate(i=Sum("input_tokens", default=0), o=Sum("output_tokens", default=0), calls=Count("pk"))
        .annotate(weight=F("i") * price_in + F("o") * price_out)
        .order_by("-weight", "user")[:TOP_DANCERS]
    )
    return [
        {
            "user_id": row["user"],
            "email": row["user__email"],
            "gemini_analyses": row["calls"],
            "spent_usd": round(cost_micro_usd(row["i"], row["o"]) / 1e6, 4),
        }
        for row in rows
        if row["i"] or row["o"]
    ]


def spend_day_and_month_micro_usd(now: Periods) -> tuple[int, int]:
    """Today's and this month's stored Gemini spend, in one query."""
    today = Q(created_at__gte=now.day_start)
    sums = Analysis.objects.filter(GEMINI, created_at__gte=now.month_start).aggregate(
        day_i=Sum("input_tokens", filter=today, default=0),
        day_o=Sum("output_tokens", filter=today, default=0),
        month_i=Sum("input_tokens", default=0),
        month_o=Sum("output_tokens", default=0),
    )
    return cost_micro_usd(sums["day_i"], sums["day_o"]), cost_micro_usd(sums["month_i"], sums["month_o"])


def budget_report(in_range, *, fallbacks: int, completed: int) -> dict:
    """Spend today and this month against the caps, the top dancers by spend in the range
    (`in_range`: the analyses of the reports' date range) and the share of budget fallbacks among
    its completed analyses (counted by the reports' totals query). Three queries."""
    from budgets.services import breaker_is_open  # services import selectors

    caps = caps_get()
    day, month = spend_day_and_month_micro_usd(periods_now())
    usage = [usage_line("daily", day / 1e6, caps.daily_usd), usage_line("monthly", month / 1e6, caps.monthly_usd)]
    return {
        "usage": usage,
        "user_daily_calls_cap": caps.user_daily_calls,
        "alerts": budget_alerts(usage),
        "breaker_open": breaker_is_open(),
        "fallbacks": fallbacks,
        "fallback_share": _share(fallbacks, completed),
        "top_dancers": top_dancers(in_range),
    }
