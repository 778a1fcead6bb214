"""Writes of the AI budget: reserve before a Gemini call, settle after, and the quota breaker.

The counters live in the shared cache (Redis in production, local memory on the embedded
default), so every worker sees them: a reservation adds the estimated cost (and one call to the
dancer's count) first and checks the cap after, atomically (INCRBY), and takes it back when over;
concurrent workers can therefore overshoot a cap only by what their calls in flight cost beyond
the estimate. Settling adds the difference between the real cost and the estimate. A counter that
is missing (a new day, a cache restart) starts from the stored token counts. With the cache down
the counters are not kept and no cap is enforced: an outage fails nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from budgets import selectors
from budgets.models import AiBudget
from config.errors import ApplicationError

logger = logging.getLogger(__name__)

PREFIX = "aibudget:"
DAY_SECONDS = 24 * 3600
BREAKER_SINCE = PREFIX + "breaker:since"
BREAKER_PROBE = PREFIX + "breaker:probe"
QUOTA_ERROR = "gemini_rate_limited"

# What refused a Gemini call, in the analysis' details and error message.
DAILY, MONTHLY, USER_DAILY, BREAKER = "daily_cap", "monthly_cap", "user_daily_calls", "gemini_quota_breaker"

_clock = time.time  # the breaker's clock (tests move it)


def _counter_add(key: str, delta: int, *, seed, timeout: int) -> int | None:
    """Add to a shared counter, started from `seed()` when missing; None when the cache is down."""
    for _ in range(3):
        try:
            return cache.incr(key, delta)
        except ValueError:  # missing: start it from the stored figures (add: one starter wins)
            cache.add(key, seed(), timeout)
    return None


@dataclass
class Reservation:
    """What one Gemini analysis took from the counters before its calls."""

    estimate: int  # micro-USD
    keys: dict = field(default_factory=dict)  # counter name -> cache key
    refusal: str | None = None

    def settle(self, *, input_tokens: int = 0, output_tokens: int = 0, charged: bool = True) -> None:
        """The real cost replaces the estimate; a call that cost nothing gives the dancer's call back."""
        if self.refusal is not None:
            return
        delta = selectors.cost_micro_usd(input_tokens, output_tokens) - self.estimate
        for name in ("day", "month"):
            if delta and name in self.keys:
                _incr_quietly(self.keys[name], delta)
        if not charged and not input_tokens and not output_tokens and "user" in self.keys:
            _incr_quietly(self.keys["user"], -1)


def _incr_quietly(key: str, delta: int) -> None:
    try:
        cache.incr(key, delta)
    except ValueError:
        pass  # expired meanwhile: the next reservation starts it again from the stored tokens


def _counters(user_id, now: selectors.Periods) -> list[tuple[str, str, object, int]]:
    """(name, cache key, seed, timeout) of the three counters of this moment."""
    return [
        (
            "user",
            f"{PREFIX}calls:{user_id}:{now.day.isoformat()}",
            lambda: selectors.user_calls_stored(user_id, now.day_start),
            2 * DAY_SECONDS,
        ),
        (
            "day",
            f"{PREFIX}day:{now.day.isoformat()}",
            lambda: selectors.spend_stored_micro_usd(now.day_start),
            2 * DAY_SECONDS,
        ),
        (
            "month",
            f"{PREFIX}month:{now.month}",
            lambda: selectors.spend_stored_micro_usd(now.month_start),
            32 * DAY_SECONDS,
        ),
    ]


def reserve(*, user_id, caps: selectors.Caps | None = None) -> Reservation:
    """Take one call's estimated cost from the caps, or refuse (nothing taken) when one would be passed."""
    caps = caps or selectors.caps_get()
    limits = {
        "user": caps.user_daily_calls,
        "day": None if caps.daily_usd is None else selectors.micro_usd(caps.daily_usd),
        "month": None if caps.monthly_usd is None else selectors.micro_usd(caps.monthly_usd),
    }
    refusals = {"user": USER_DAILY, "day": DAILY, "month": MONTHLY}
    reservation = Reservation(estimate=selectors.micro_usd(settings.AI_BUDGET_CALL_ESTIMATE_USD))
    for name, key, seed, timeout in _counters(user_id, selectors.periods_now()):
        delta = 1 if name == "user" else reservation.estimate
        value = _counter_add(key, delta, seed=seed, timeout=timeout)
        if value is None:
            continue  # cache down: not counted, not enforced
        reservation.keys[name] = key
        if limits[name] is not None and value > limits[name]:
            _release(reservation)
            return Reservation(estimate=0, refusal=refusals[name])
    return reservation


def _release(reservation: Reservation) -> None:
    for name, key in reservation.keys.items():
        _incr_quietly(key, -(1 if name == "user" else reservation.estimate))


def _counter_value(key: str, seed, timeout: int) -> int:
    value = cache.get(key)
    if value is None:
        value = seed()
        cache.add(key, value, timeout)
    return value


def budget_alerts_now() -> list[str]:
    """For /readyz: a sentence per cap 80% used, from the shared counters (no scan of the month)."""
    caps = selectors.caps_get()
    if caps.daily_usd is None and caps.monthly_usd is None:
        return []
    counters = {name: (key, seed, timeout) for name, key, seed, timeout in _counters(None, selectors.periods_now())}
    usage = [
        selectors.usage_line(label, _counter_value(*counters[name]) / 1e6, cap)
        for name, label, cap in (("day", "daily", caps.daily_usd), ("month", "monthly", caps.monthly_usd))
        if cap is not None
    ]
    return selectors.budget_alerts(usage)


# --- The breaker: Gemini's own quota errors for minutes send `auto` to the pose analyzer ---------


def breaker_is_open() -> bool:
    """Quota errors (and no success) for at least AI_BREAKER_OPEN_AFTER_SECONDS."""
    since = cache.get(BREAKER_SINCE)
    return since is not None and _clock() - since >= settings.AI_BREAKER_OPEN_AFTER_SECONDS


def breaker_allows() -> bool:
    """Closed, or open and it is time for one probe (one caller per AI_BREAKER_PROBE_SECONDS)."""
    if not breaker_is_open():
        return True
    return bool(cache.add(BREAKER_PROBE, 1, max(1, round(settings.AI_BREAKER_PROBE_SECONDS))))


def breaker_record(*, error_code: str | None, transient: bool = False) -> None:
    """A quota error starts (or extends) a storm; an answer from Gemini (a result, or a permanent
    error such as a refused frame) ends it; other transient errors (timeouts, 5xx) change nothing."""
    if error_code == QUOTA_ERROR:
        # Forgotten once no quota error came for a while (a storm is errors without a pause).
        keep = round(settings.AI_BREAKER_OPEN_AFTER_SECONDS + 10 * settings.AI_BREAKER_PROBE_SECONDS + 60)
        if not cache.add(BREAKER_SINCE, _clock(), keep):
            cache.touch(BREAKER_SINCE, keep)
        return
    if not transient and cache.get(BREAKER_SINCE) is not None:
        cache.delete_many([BREAKER_SINCE, BREAKER_PROBE])
        logger.info("Gemini answers again: the quota breaker is closed")


# --- The hook the analysis pipeline calls around its Gemini calls --------------------------------


def gemini_call_reserve(*, user_id, can_fall_back: bool) -> Reservation:
    """Before an analysis' Gemini calls: a reservation, or a refusal naming why.

    The breaker only refuses when the analysis can fall back (auto, with keypoints); one that
    cannot, or that asked for Gemini, tries Gemini and retries on its quota error as before.
    """
    if can_fall_back and not breaker_allows():
        return Reservation(estimate=0, refusal=BREAKER)
    return reserve(user_id=user_id)


def caps_set(*, daily_usd=..., monthly_usd=..., user_daily_calls=...) -> AiBudget:
    """Store the admin's caps (None: back to the setting; ...: unchanged)."""
    budget, _ = AiBudget.objects.get_or_create(pk=AiBudget.SINGLETON_PK)
    for name, value in (("daily_usd", daily_usd), ("monthly_usd", monthly_usd), ("user_daily_calls", user_daily_calls)):
        if value is ...:
            continue
        if value is not None and name != "user_daily_calls":
            value = Decimal(str(value)).quantize(Decimal("0.0001"))  # the field's precision
        setattr(budget, name, value)
    try:
        budget.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(f"{field}: {' '.join(messages)}", code="invalid_budget", field=field) from exc
    budget.save()
    return budget
