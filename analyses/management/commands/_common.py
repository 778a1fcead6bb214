"""Shared bits of the analyses app's management commands: progress bars and argument types."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time

from django.utils import timezone
from tqdm import tqdm

from analyses.stats import time_zone_get
from config.bounds import BIGINT_MAX
from playlists.youtube import video_ref_parse

# Analyses are never older than this, and a date near year 1 or 9999 overflows in UTC.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def progress_bar(total: int, desc: str, *, stdout=None, disable: bool | None = None):
    """A tqdm bar on stderr (stdout stays clean for tables and CSV); off when not a terminal."""
    stream = sys.stderr
    if disable is None:
        disable = not stream.isatty()
    return tqdm(total=total, desc=desc, unit="row", file=stream, disable=disable, dynamic_ncols=True)


def parse_date(value: str) -> date:
    """An argparse type: an ISO date between FIRST_DAY and LAST_DAY."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date such as 2025-03-01") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{value} is not between {FIRST_DAY} and {LAST_DAY}")
    return day


def parse_when(value: str) -> datetime:
    """An argparse type: an ISO date (midnight in the stats time zone) or date-time (UTC when naive)."""
    try:
        if len(value) == 10:
            return datetime.combine(parse_date(value), time.min, tzinfo=time_zone_get(None))
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date (2025-03-01) or date-time (2025-03-01T12:00:00+09:00)"
        ) from None
    parsed = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{value} is not between {FIRST_DAY} and {LAST_DAY}")
    return parsed


def parse_video(value: str) -> int | str:
    """An argparse type: a video's numeric id or its YouTube id."""
    try:
        return video_ref_parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_user(value: str) -> int | str:
    """An argparse type: a user's email address or numeric id."""
    value = value.strip()
    if "@" in value:
        return value
    if value.isascii() and value.isdigit() and 1 <= int(value) <= BIGINT_MAX:
        return int(value)
    raise argparse.ArgumentTypeError(f"{value!r} is neither an email address nor a numeric user id")
