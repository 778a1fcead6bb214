"""Analyze a stored analysis: load its frame, the reference and the grounding, call the analyzer."""

import logging

from django.conf import settings

from analyses import caching
from analyses.analyzers import pose
from analyses.analyzers.base import (
    AnalyzerError,
    AnalyzerInput,
    AnalyzerResult,
    PermanentAnalyzerError,
    ReferenceContext,
    TransientAnalyzerError,
)
from budgets import services as budget_services
from config.storage import storage_errors, storage_missing
from playlists.selectors import reference_window

logger = logging.getLogger(__name__)

PROMPT_VERSION = "v1"


def analyzer_version(provider: str) -> str:
    """Part of the result-cache key: a new analyzer version never reuses old results."""
    if provider == "gemini":
        return f"gemini:{settings.GEMINI_MODEL}:{PROMPT_VERSION}"
    return f"pose:{pose.POSE_MODEL_VERSION}"


def _gemini():
    # google-genai is slow to import: only the processes that call Gemini pay for it.
    from analyses.analyzers import gemini

    return gemini


def gemini_config():
    return _gemini().GeminiConfig(
        api_key=settings.GEMINI_API_KEY,
        model=settings.GEMINI_MODEL,
        base_url=settings.GEMINI_BASE_URL,
        timeout_seconds=settings.GEMINI_TIMEOUT_SECONDS,
        prompt_version=PROMPT_VERSION,
    )


def pose_reference(*, video, timestamp: float) -> ReferenceContext | None:
    """The instructor's frames within the tolerance window around the timestamp, or None."""
    window = reference_window(video=video, timestamp=timestamp, tolerance=settings.POSE_TOLERANCE_SECONDS)
    if window is None:
        return None
    return ReferenceContext(fps=window.fps, start=window.start, frames=window.frames)


def _pose_analyze(inp: AnalyzerInput) -> AnalyzerResult:
    return pose.analyze(
        inp,
        tolerance=settings.POSE_TOLERANCE_SECONDS,
        visibility_threshold=settings.POSE_VISIBILITY_THRESHOLD,
    )


def _reference_description(*, analysis, config) -> tuple[str | None, int, int]:
    """Shared description of the instructor's clip; fetched once per time bucket, then cached.

    Returns the text (or None) and the tokens this call spent fetching it.
    """
    gemini = _gemini()
    lookup = {"youtube_id": analysis.video.youtube_id, "timestamp": analysis.timestamp, "language": analysis.language}
    found = caching.reference_context_get(**lookup)
    if found is not None:
        return found["description"], 0, 0
    flight = caching.SingleFlight(caching.reference_bucket_key(**lookup), ttl=int(config.timeout_seconds) + 5)
    if flight.acquire() is False:
        # Another analysis is describing this bucket right now: don't hold a worker waiting for
        # it; this one sends the clip itself, later ones will find the description.
        return None, 0, 0
    try:
        start, end = gemini.clip_window(analysis.timestamp, config.clip_seconds)
        text, input_tokens, output_tokens = gemini.describe_clip(
            youtube_id=analysis.video.youtube_id, start=start, end=end, language=analysis.language, config=config
        )
        caching.reference_context_set(**lookup, description=text)
        return text, input_tokens, output_tokens
    except AnalyzerError as exc:
        # Without a description the analysis sends the clip itself as a video part.
        logger.info("reference description unavailable (%s: %s); sending the clip", exc.code, exc.message)
        return None, getattr(exc, "input_tokens", 0), getattr(exc, "output_tokens", 0)
    finally:
        flight.release()


def frame_read(analysis) -> bytes | None:
    """The frame's bytes from storage (local or object storage). An outage is transient (the
    analysis goes back to pending with a backoff, its row intact); a missing file is not."""
    if not analysis.frame:
        return None
    try:
        with analysis.frame.open("rb") as handle:
            return handle.read()
    except storage_errors() as exc:
        if storage_missing(exc):
            raise PermanentAnalyzerError("frame_missing", "The frame file is gone (purged or moved).") from exc
        raise TransientAnalyzerError("storage_unavailable", f"Frame storage unavailable: {exc!r}") from exc


def analyze(*, analysis) -> AnalyzerResult:
    """The analyzer's result for the analysis (its provider's), or an AnalyzerError."""
    base = {
        "frame": None,
        "frame_mime": analysis.frame_mime or None,
        "keypoints": analysis.keypoints,
        "youtube_id": analysis.video.youtube_id,
        "timestamp": analysis.timestamp,
        "language": analysis.language,
    }
    reference = pose_reference(video=analysis.video, timestamp=analysis.timestamp) if analysis.keypoints else None

    if analysis.provider == "pose":
        return _pose_analyze(AnalyzerInput(**base, reference=reference))

    return _gemini_within_budget(analysis, base=base, reference=reference)


def _gemini_within_budget(analysis, *, base: dict, reference) -> AnalyzerResult:
    """Gemini's result within the AI budget (budgets.services). Over a cap, or while Gemini's own
    quota is exhausted (the breaker), `auto` with keypoints is done by the pose analyzer, marked
    details.fallback = "budget"; over a cap anything else fails with ai_budget_exhausted, not retried."""
    can_fall_back = analysis.requested_provider == "auto" and bool(analysis.keypoints)
    reservation = budget_services.gemini_call_reserve(user_id=analysis.user_id, can_fall_back=can_fall_back)
    if reservation.refusal is not None:
        if not can_fall_back:
            raise PermanentAnalyzerError("ai_budget_exhausted", f"ai_budget_exhausted: {reservation.refusal}")
        return _budget_fallback(base=base, reference=reference, reason=reservation.refusal)
    try:
        result = _gemini_analyze(analysis, base=base, reference=reference)
    except AnalyzerError as exc:
        tokens = {"input_tokens": getattr(exc, "input_tokens", 0), "output_tokens": getattr(exc, "output_tokens", 0)}
        reservation.settle(**tokens, charged=not exc.transient)
        budget_services.breaker_record(error_code=exc.code, transient=exc.transient)
        if can_fall_back and exc.code == budget_services.QUOTA_ERROR and budget_services.breaker_is_open():
            return _budget_fallback(base=base, reference=reference, reason=budget_services.BREAKER)
        raise
    reservation.settle(input_tokens=result.input_tokens, output_tokens=result.output_tokens)
    budget_services.breaker_record(error_code=None)
    return result


def _budget_fallback(*, base: dict, reference, reason: str) -> AnalyzerResult:
    result = _pose_analyze(AnalyzerInput(**base, reference=reference))
    result.details = {**result.details, "fallback": "budget", "fallback_reason": reason}
    return result


def _gemini_analyze(analysis, *, base: dict, reference) -> AnalyzerResult:
    base = {**base, "frame": frame_read(analysis)}  # the pose analyzer needs only the landmarks
    config = gemini_config()
    pose_details = None
    if analysis.keypoints:
        try:
            pose_details = _pose_analyze(AnalyzerInput(**base, reference=reference)).details
        except AnalyzerError:
            pose_details = None  # grounding is optional
    description, describe_in, describe_out = _reference_description(analysis=analysis, config=config)
    inp = AnalyzerInput(
        **base,
        reference=ReferenceContext(description=description) if description else None,
        pose_details=pose_details,
    )
    result = _gemini().analyze(inp, config=config)
    result.input_tokens += describe_in
    result.output_tokens += describe_out
    return result
