"""A submission: a frame at a moment of a video in, a stored analysis out.

The frame is checked and stored with a pending row; the analysis completes at once from the result
cache when an identical submission was analysed before, else its task starts after the commit.
"""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from analyses import caching
from analyses.frames import FrameError, frame_decode
from analyses.live import analysis_changed_publish
from analyses.models import Analysis
from analyses.services import pipeline
from analyses.services.sessions import session_for_submission
from analyses.services.videos import video_for_url, video_forget
from coaching.invalidation import leaderboard_video_changed
from config.background import background_run
from config.errors import ApplicationError, UnavailableError
from config.storage import storage_errors

logger = logging.getLogger(__name__)


def provider_resolve(*, requested: str | None, keypoints) -> str:
    requested = requested or "auto"
    if requested == "auto":
        provider = Analysis.Provider.GEMINI if settings.GEMINI_API_KEY else Analysis.Provider.POSE
    elif requested == Analysis.Provider.GEMINI and not settings.GEMINI_API_KEY:
        raise ApplicationError(
            "Gemini is not configured on this server; use provider 'pose' or 'auto'.",
            code="gemini_not_configured",
            field="provider",
        )
    else:
        provider = requested
    if provider == Analysis.Provider.POSE and keypoints is None:
        raise ApplicationError(
            "The pose analyzer needs the 33 MediaPipe landmarks of the dancer.",
            code="keypoints_required",
            field="keypoints",
        )
    return provider


def analysis_create(
    *,
    user,
    youtube_url: str,
    timestamp: float,
    user_frame: str,
    keypoints: list[dict] | None = None,
    session_id=None,
    provider: str | None = None,
    language: str | None = None,
) -> Analysis:
    """Store the frame and a pending analysis and start it, or complete it at once from the result cache."""
    resolved = provider_resolve(requested=provider, keypoints=keypoints)
    try:
        frame = frame_decode(user_frame)
    except FrameError as exc:
        raise ApplicationError(exc.message, code=exc.code, field="user_frame") from exc
    store = {
        "user": user,
        "timestamp": timestamp,
        "frame": frame,
        "keypoints": keypoints,
        "session_id": session_id,
        "requested": provider or "auto",
        "provider": resolved,
        "language": language or getattr(user, "language", "ja") or "ja",
    }
    video = video_for_url(youtube_url)
    try:
        return _analysis_store(video=video, **store)
    except IntegrityError:
        # The remembered video was deleted meanwhile: look it up again, once.
        video_forget(video)
        return _analysis_store(video=video_for_url(youtube_url), **store)


def _analysis_store(*, user, video, timestamp, frame, keypoints, session_id, requested, provider, language):
    fingerprint = pipeline.result_fingerprint(
        video=video,
        timestamp=timestamp,
        frame_sha256=frame.sha256,
        keypoints=keypoints,
        provider=provider,
        language=language,
    )
    cached = caching.result_get(fingerprint)
    analysis = Analysis(
        user=user,
        video=video,
        timestamp=timestamp,
        requested_provider=requested,
        provider=provider,
        language=language,
        keypoints=keypoints,
        frame_sha256=frame.sha256,
        frame_mime=frame.mime,
        fingerprint=fingerprint,
        queued_at=None if cached is not None else timezone.now(),
    )
    if cached is not None:
        _complete_from_cache(analysis, cached)
    # Stored before the transaction opens: no database lock is held while an object store answers.
    # Final at once and the dancer keeps no frames (docs/your-data.md): the frame is never stored.
    if cached is None or getattr(user, "keep_frames", True):
        _frame_store(analysis, frame)
    try:
        with transaction.atomic():
            analysis.session = session_for_submission(user=user, session_id=session_id, video=video)
            analysis.save(force_insert=True)
            transaction.on_commit(lambda: _submission_dispatch(analysis, enqueue=cached is None))
            if cached is not None:  # completed at once: the video's leaderboards are stale
                transaction.on_commit(lambda: leaderboard_video_changed(video_id=video.pk))
    except Exception:
        _frame_discard(analysis)  # no orphan file when the row is not stored
        raise
    return analysis


def _frame_store(analysis: Analysis, frame) -> None:
    """The frame file, through Django's storage API (local disk or object storage); a storage
    outage is a 503 the client may retry, and no row is stored without its frame."""
    try:
        analysis.frame.save(f"{analysis.id}.{frame.extension}", ContentFile(frame.data), save=False)
    except storage_errors() as exc:
        logger.warning("frame of analysis %s not stored: %r", analysis.id, exc)
        raise UnavailableError(
            "The frame could not be stored right now; try again shortly.", code="storage_unavailable"
        ) from exc


def _frame_discard(analysis: Analysis) -> None:
    try:
        analysis.frame.delete(save=False)
    except storage_errors() as exc:
        logger.warning("frame of unsaved analysis %s left behind: %r", analysis.id, exc)


def _complete_from_cache(analysis: Analysis, cached: dict) -> None:
    pipeline.result_apply(analysis, cached)
    analysis.cached = True
    analysis.status = Analysis.Status.COMPLETED
    analysis.completed_at = timezone.now()
    analysis.latency_ms = 0


def _submission_dispatch(analysis: Analysis, *, enqueue: bool) -> None:
    """After the commit: the owner's live event, then the task, in that order (so "pending" comes
    before "processing"). With a broker both run on the process's background thread while the
    response goes out: the row is already stored, and should the process die before the task is
    published, the recovery job requeues it. In eager mode inline: the response carries the result."""

    def dispatch():
        analysis_changed_publish(analysis_id=analysis.pk, analysis=analysis, created=True)
        if enqueue:
            pipeline.analysis_enqueue(analysis_id=analysis.pk)

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.ANALYSIS_DISPATCH_IN_BACKGROUND:
        dispatch()
    else:
        background_run(dispatch)
