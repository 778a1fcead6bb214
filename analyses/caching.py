"""Caches of the analysis pipeline.

- Result cache: an identical submission (video, timestamp to 0.1 s, frame bytes, keypoints,
  provider, language, analyzer version) reuses the earlier result. Never keyed by time alone,
  so one dancer's feedback never reaches another.
- Reference context: what the instructor does around a moment, shared by every user, keyed by
  (video, time bucket, language) and found in O(1) by looking at the bucket and its neighbours.
- Single flight: one analyzer call for N identical submissions in flight at once.

Every call tolerates a cache outage (django-redis returns None): the pipeline slows down, nothing fails.
"""

import hashlib
import json
import math
import time

from django.conf import settings
from django.core.cache import cache

RESULT_PREFIX = "analysis-result:"
LOCK_PREFIX = "analysis-lock:"
REFCTX_PREFIX = "refctx:"


def fingerprint_make(
    *,
    youtube_id: str,
    timestamp: float,
    frame_sha256: str,
    keypoints,
    provider: str,
    language: str,
    version: str,
    reference: str = "",
) -> str:
    canonical = json.dumps(
        {
            "v": youtube_id,
            "t": round(timestamp, 1),
            "f": frame_sha256,
            "k": keypoints,
            "p": provider,
            "l": language,
            "ver": version,
            "ref": reference,  # a new reference track never reuses results scored against the old one
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def result_get(fingerprint: str) -> dict | None:
    value = cache.get(RESULT_PREFIX + fingerprint)
    return value if isinstance(value, dict) else None


def result_set(fingerprint: str, result: dict) -> None:
    cache.set(RESULT_PREFIX + fingerprint, result, timeout=settings.ANALYSIS_RESULT_CACHE_SECONDS)


def result_delete(fingerprint: str) -> None:
    cache.delete(RESULT_PREFIX + fingerprint)


class SingleFlight:
    """A lock in the cache around one analyzer call for a fingerprint.

    `acquired` is True (run the analyzer), False (someone else is running it: wait for the
    result) or None (the cache is down: run without coordination).
    """

    def __init__(self, fingerprint: str, ttl: int):
        self.key = LOCK_PREFIX + fingerprint
        self.fingerprint = fingerprint
        self.ttl = ttl
        self.acquired: bool | None = None

    def acquire(self) -> bool | None:
        added = cache.add(self.key, "1", timeout=self.ttl)
        self.acquired = None if added is None else bool(added)
        return self.acquired

    def release(self) -> None:
        if self.acquired:
            cache.delete(self.key)
            self.acquired = False

    def wait_for_result(self, timeout: float, interval: float = 0.05) -> dict | None:
        """The holder's result, or None when it gave up (lock gone without a result) or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = result_get(self.fingerprint)
            if result is not None:
                return result
            if cache.get(self.key) is None:
                return result_get(self.fingerprint)
            time.sleep(interval)
        return None


def _bucket(timestamp: float) -> int:
    return math.floor(timestamp / settings.REFERENCE_BUCKET_SECONDS)


def _refctx_key(youtube_id: str, bucket: int, language: str) -> str:
    return f"{REFCTX_PREFIX}{youtube_id}:{language}:{bucket}"


def reference_bucket_key(*, youtube_id: str, timestamp: float, language: str) -> str:
    return "describe:" + _refctx_key(youtube_id, _bucket(timestamp), language)


def reference_context_get(*, youtube_id: str, timestamp: float, language: str) -> dict | None:
    """The cached description nearest the timestamp within the tolerance, from 3 keys in one round trip."""
    bucket = _bucket(timestamp)
    keys = {_refctx_key(youtube_id, b, language): b for b in (bucket, bucket - 1, bucket + 1)}
    found = cache.get_many(list(keys)) or {}
    best = None
    for value in found.values():
        if not isinstance(value, dict):
            continue
        distance = abs(value.get("timestamp", math.inf) - timestamp)
        if distance <= settings.POSE_TOLERANCE_SECONDS and (best is None or distance < best[0]):
            best = (distance, value)
    return best[1] if best else None


def reference_context_set(*, youtube_id: str, timestamp: float, language: str, description: str) -> dict:
    value = {"timestamp": timestamp, "description": description}
    cache.set(
        _refctx_key(youtube_id, _bucket(timestamp), language), value, timeout=settings.REFERENCE_CONTEXT_CACHE_SECONDS
    )
    return value
