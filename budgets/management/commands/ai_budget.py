"""manage.py ai_budget: show the AI spend caps and what is spent against them, or set them."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import CommandError

from budgets import selectors, services
from config.commands import OperatorCommand
from config.errors import ApplicationError

UNSET = "setting"


def _usd(value: str):
    if value == UNSET:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"{value!r} is not an amount in USD (or {UNSET!r})") from None
    if not number.is_finite() or number < 0:
        raise CommandError(f"{value!r} must be a positive amount in USD (or {UNSET!r})")
    return number


def _calls(value: str):
    if value == UNSET:
        return None
    if not value.isdigit():
        raise CommandError(f"{value!r} is not a whole number of calls (or {UNSET!r})")
    return int(value)


class Command(OperatorCommand):
    help = (
        "Show the AI budget (the caps in force, today's and this month's Gemini spend, the quota "
        "breaker) or set the caps. A cap set here (as in the admin) wins over its AI_BUDGET_* setting; "
        f"'{UNSET}' goes back to the setting. Applies to the next analysis, in every process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--daily-usd", help=f"Global cap per day in USD, or '{UNSET}'.")
        parser.add_argument("--monthly-usd", help=f"Global cap per calendar month in USD, or '{UNSET}'.")
        parser.add_argument("--user-daily-calls", help=f"Gemini analyses per dancer per day, or '{UNSET}'.")
        parser.add_argument("--dry-run", action="store_true", help="Check the values and show them; store nothing.")

    def handle(self, *args, **opts):
        changes = {}
        if opts["daily_usd"] is not None:
            changes["daily_usd"] = _usd(opts["daily_usd"])
        if opts["monthly_usd"] is not None:
            changes["monthly_usd"] = _usd(opts["monthly_usd"])
        if opts["user_daily_calls"] is not None:
            changes["user_daily_calls"] = _calls(opts["user_daily_calls"])
        if changes and opts["dry_run"]:
            shown = ", ".join(f"{k}={'setting' if v is None else v}" for k, v in sorted(changes.items()))
            self.stderr.write(f"Dry run: would store {shown}. Nothing was changed.")
        elif changes:
            try:
                services.caps_set(**changes)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stderr.write(self.style.SUCCESS("Caps stored: " + ", ".join(sorted(changes))))
        self.stdout.write(self.summary())

    @staticmethod
    def summary() -> str:
        caps = selectors.caps_get()
        now = selectors.periods_now()
        out = []
        for name, since, cap in (
            ("daily", now.day_start, caps.daily_usd),
            ("monthly", now.month_start, caps.monthly_usd),
        ):
            spent = selectors.spend_stored_micro_usd(since) / 1e6
            out.append(f"{name} cap: {'none' if cap is None else f'${cap:.2f}'}, spent ${spent:.4f}")
        calls = "none" if caps.user_daily_calls is None else caps.user_daily_calls
        out.append(f"per-dancer daily calls cap: {calls}")
        out.append(f"Gemini quota breaker: {'open' if services.breaker_is_open() else 'closed'}")
        return "\n".join(out) + "\n"
