"""Leaderboard cache versions: a change bumps a version, so every cached board it touches is missed.

Per video: a session on that video changed (an analysis completed, the session ended). Global: a
dancer's leaderboard settings changed (opt-in, display name, hidden by staff), which touches every
board. A version is a fresh random token (one write, no read); a cache outage only means misses.
"""

import logging
import uuid

from django.core.cache import cache

logger = logging.getLogger(__name__)

GLOBAL_KEY = "leaderboard-version:dancers"


def video_key(video_id: int) -> str:
    return f"leaderboard-version:video:{video_id}"


def _bump(key: str) -> None:
    try:
        cache.set(key, uuid.uuid4().hex[:12], timeout=None)
    except Exception as exc:  # the boards expire on their own (LEADERBOARD_CACHE_SECONDS)
        logger.warning("leaderboard cache not invalidated: %r", exc)


def leaderboard_video_changed(*, video_id: int) -> None:
    _bump(video_key(video_id))


def leaderboard_dancers_changed() -> None:
    _bump(GLOBAL_KEY)


def versions(video_id: int) -> tuple[str, str]:
    """(dancers' version, video's version), in one round trip."""
    found = cache.get_many([GLOBAL_KEY, video_key(video_id)])
    return found.get(GLOBAL_KEY, "0"), found.get(video_key(video_id), "0")
