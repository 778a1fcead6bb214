"""Shared bits of the analyses app's management commands."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from analyses.stats import time_zone_get


def progress_bar(total: int, desc: str, *, stdout=None, disable: bool | None = None):
    """A tqdm bar on stderr (stdout stays clean for tables and CSV); off when not a terminal."""
    stream = sys.stderr
    if disable is None:
        disable = not stream.isatty()
    return tqdm(total=total, desc=desc, unit="row", file=stream, disable=disable, dynamic_ncols=True)


def parse_when(value: str) -> datetime:
    """An ISO date (midnight in the stats time zone) or an ISO date-time (UTC when naive)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, tzinfo=time_zone_get(None))
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"{value!r} is not an ISO date (2025-03-01) or date-time (2025-03-01T12:00:00+09:00)"
        ) from exc
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
