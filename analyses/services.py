"""Writes of the analyses app: practice sessions and the analysis pipeline (DESIGN §6)."""

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import exceptions

from accounts.models import User
from analyses import caching, runner
from analyses.analyzers.base import AnalyzerError, AnalyzerResult
from analyses.frames import FrameError, frame_decode
from analyses.models import Analysis, PracticeSession
from analyses.notify import analysis_changed_publish
from analyses.selectors import session_idle_cutoff, session_last_active
from config.background import background_run
from playlists.services import video_get_or_create

logger = logging.getLogger(__name__)


# --- practice sessions ---------------------------------------------------------------


def session_create(*, user, youtube_url: str) -> PracticeSession:
    video = _video_for(youtube_url)
    return PracticeSession.objects.create(user=user, video=video)


def session_end(*, session: PracticeSession) -> PracticeSession:
    now = timezone.now()
    last_active = (
        PracticeSession.objects.filter(pk=session.pk)
        .annotate(last_active=session_last_active())
        .values_list("last_active", flat=True)
        .first()
    )
    # An idle session ended with its last analysis, not when someone noticed.
    ended_at = last_active if last_active is not None and last_active < session_idle_cutoff(now) else now
    # Conditional update: ending twice keeps the first end time.
    PracticeSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=ended_at)
    session.refresh_from_db(fields=["ended_at"])
    return session


def sessions_end_idle(*, user=None, video=None) -> int:
    """Store the end of open sessions idle past the limit: the time of their last analysis."""
    idle = PracticeSession.objects.filter(ended_at__isnull=True)
    if user is not None:
        idle = idle.filter(user=user)
    if video is not None:
        idle = idle.filter(video=video)
    idle = idle.alias(last_active=session_last_active()).filter(last_active__lt=session_idle_cutoff())
    return PracticeSession.objects.filter(pk__in=idle.values("pk")).update(ended_at=session_last_active())


_VIDEO_TTL_SECONDS = 60.0
_video_memo: dict[str, tuple[float, object]] = {}


def _video_for(youtube_url: str):
    """The Video of a URL. Remembered per process for a minute: every submission names one, and
    the lookup was a sixth of a submission's server time. Videos are never renamed by id."""
    from playlists.youtube import InvalidYouTubeURL, youtube_id_from_url

    try:
        youtube_id = youtube_id_from_url(youtube_url)
    except InvalidYouTubeURL as exc:
        raise exceptions.ValidationError({"youtube_url": [str(exc)]}, code="invalid_youtube_url") from exc
    now = time.monotonic()
    memo = _video_memo.get(youtube_id)
    if memo is not None and now - memo[0] < _VIDEO_TTL_SECONDS:
        return memo[1]
    video, _ = video_get_or_create(youtube_url=youtube_url)
    if len(_video_memo) > 1000:
        _video_memo.clear()
    _video_memo[youtube_id] = (now, video)
    return video


def video_memo_clear() -> None:
    _video_memo.clear()
    _reference_memo.clear()


# --- submissions ------------------------------------------------------------------------


def provider_resolve(*, requested: str | None, keypoints) -> str:
    requested = requested or "auto"
    if requested == "auto":
        provider = Analysis.Provider.GEMINI if settings.GEMINI_API_KEY else Analysis.Provider.POSE
    elif requested == Analysis.Provider.GEMINI and not settings.GEMINI_API_KEY:
        raise exceptions.ValidationError(
            {"provider": ["Gemini is not configured on this server; use provider 'pose' or 'auto'."]},
            code="gemini_not_configured",
        )
    else:
        provider = requested
    if provider == Analysis.Provider.POSE and keypoints is None:
        raise exceptions.ValidationError(
            {"keypoints": ["The pose analyzer needs the 33 MediaPipe landmarks of the dancer."]},
            code="keypoints_required",
        )
    return provider


def _session_join_or_start(*, user, video) -> PracticeSession:
    """The dancer's open session for this video when it is still active, else a new one."""
    active = (
        PracticeSession.objects.filter(user=user, video=video, ended_at__isnull=True)
        .alias(last_active=session_last_active())
        .filter(last_active__gte=session_idle_cutoff())
        .order_by("-last_active")
        .values("pk")[:1]
    )
    session = PracticeSession.objects.select_for_update(no_key=True).filter(pk__in=active).first()
    if session is not None:
        return session
    # Starting one: the dancer's row is locked so two frames at once cannot start two sessions.
    # Every lock here is FOR NO KEY UPDATE: it never waits for, nor blocks, the key-share locks
    # that inserting an analysis takes on its user and session (a lock cycle, else).
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    session = PracticeSession.objects.select_for_update(no_key=True).filter(pk__in=active).first()
    if session is None:
        sessions_end_idle(user=user, video=video)
        session = PracticeSession.objects.create(user=user, video=video)
    return session


def _session_for(*, user, session_id, video) -> PracticeSession:
    if session_id is None:
        return _session_join_or_start(user=user, video=video)
    session = (
        PracticeSession.objects.select_for_update(of=("self",), no_key=True)
        .annotate(last_active=session_last_active())
        .filter(pk=session_id, user=user)
        .first()
    )
    if session is None:
        # Someone else's session looks exactly like a missing one.
        raise exceptions.NotFound("No such practice session.")
    if session.is_ended or session.last_active < session_idle_cutoff():
        raise exceptions.ValidationError({"session_id": ["This practice session has ended."]}, code="session_ended")
    if session.video_id != video.pk:
        raise exceptions.ValidationError(
            {"session_id": ["This practice session is for another video."]}, code="session_video_mismatch"
        )
    return session


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
    """Store the frame and a pending analysis and enqueue it, or complete it at once from the result cache."""
    language = language or getattr(user, "language", "ja") or "ja"
    resolved = provider_resolve(requested=provider, keypoints=keypoints)
    try:
        frame = frame_decode(user_frame)
    except FrameError as exc:
        raise exceptions.ValidationError({"user_frame": [exc.message]}, code=exc.code) from exc
    store = {
        "user": user,
        "timestamp": timestamp,
        "frame": frame,
        "keypoints": keypoints,
        "session_id": session_id,
        "requested": provider,
        "provider": resolved,
        "language": language,
    }
    try:
        return _analysis_store(video=_video_for(youtube_url), **store)
    except IntegrityError:
        # The remembered video was deleted meanwhile: look it up again, once.
        video_memo_clear()
        return _analysis_store(video=_video_for(youtube_url), **store)


def _reference_version(video) -> str:
    """SHA-256 of the video's reference track ("" when none), remembered with the video: a new
    track reaches the result-cache key within _VIDEO_TTL_SECONDS (new analyses use it at once)."""
    from playlists.models import ReferencePoseTrack

    now = time.monotonic()
    memo = _reference_memo.get(video.pk)
    if memo is not None and now - memo[0] < _VIDEO_TTL_SECONDS:
        return memo[1]
    version = ReferencePoseTrack.objects.filter(video=video).values_list("sha256", flat=True).first() or ""
    _reference_memo[video.pk] = (now, version)
    return version


_reference_memo: dict[int, tuple[float, str]] = {}


def _analysis_store(*, user, video, timestamp, frame, keypoints, session_id, requested, provider, language):
    resolved = provider
    fingerprint = caching.fingerprint_make(
        youtube_id=video.youtube_id,
        timestamp=timestamp,
        frame_sha256=frame.sha256,
        keypoints=keypoints,
        provider=resolved,
        language=language,
        version=runner.analyzer_version(resolved),
        reference=_reference_version(video),
    )
    cached = caching.result_get(fingerprint)

    with transaction.atomic():
        session = _session_for(user=user, session_id=session_id, video=video)
        analysis = Analysis(
            user=user,
            session=session,
            video=video,
            timestamp=timestamp,
            requested_provider=requested or "auto",
            provider=resolved,
            language=language,
            keypoints=keypoints,
            frame_sha256=frame.sha256,
            frame_mime=frame.mime,
            fingerprint=fingerprint,
            queued_at=None if cached is not None else timezone.now(),
        )
        if cached is not None:
            _apply_result(analysis, cached)
            analysis.cached = True
            analysis.status = Analysis.Status.COMPLETED
            analysis.completed_at = timezone.now()
            analysis.latency_ms = 0
        analysis.frame.save(f"{analysis.id}.{frame.extension}", ContentFile(frame.data), save=False)
        try:
            analysis.save(force_insert=True)
        except Exception:
            analysis.frame.delete(save=False)  # no orphan file when the row is not stored
            raise
        transaction.on_commit(lambda: _submission_dispatch(analysis, enqueue=cached is None))
    return analysis


def _submission_dispatch(analysis: Analysis, *, enqueue: bool) -> None:
    """After the commit: the owner's live event, then the task, in that order (so "pending" comes
    before "processing"). With a broker both run on the process's background thread while the
    response goes out: the row is already stored, and should the process die before the task is
    published, the recovery job requeues it. In eager mode inline: the response carries the result."""

    def dispatch():
        analysis_changed_publish(analysis_id=analysis.pk, analysis=analysis, created=True)
        if enqueue:
            from analyses.tasks import analysis_enqueue

            analysis_enqueue(analysis_id=analysis.pk)

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.ANALYSIS_DISPATCH_IN_BACKGROUND:
        dispatch()
    else:
        background_run(dispatch)


def _apply_result(analysis: Analysis, result: dict) -> None:
    analysis.score = result["score"]
    analysis.good_points = result["good_points"]
    analysis.improvements = result["improvements"]
    analysis.advice = result["advice"]
    analysis.short = result.get("short") or {}
    analysis.details = result.get("details") or {}
    analysis.provider = result.get("provider") or analysis.provider
    analysis.model = result.get("model") or ""


def _result_dict(result: AnalyzerResult) -> dict:
    return {
        "score": int(result.score),
        "good_points": list(result.good_points),
        "improvements": list(result.improvements),
        "advice": result.advice,
        "short": result.short,
        "details": result.details,
        "provider": result.provider,
        "model": result.model,
    }


# --- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """What the task should do next: nothing, or try again after `retry_in` seconds."""

    status: str
    retry_in: float | None = None


def _lease_seconds() -> int:
    # Longer than any single execution can last: the hard time limit kills it before.
    return int(settings.CELERY_TASK_TIME_LIMIT) + 10


def analysis_claim(*, analysis_id) -> bool:
    """pending → processing, or take over a processing row whose lease ran out (its worker died)."""
    now = timezone.now()
    claimable = Q(status=Analysis.Status.PENDING) | Q(status=Analysis.Status.PROCESSING, lease_until__lt=now)
    return bool(
        Analysis.objects.filter(claimable, pk=analysis_id).update(
            status=Analysis.Status.PROCESSING,
            attempts=F("attempts") + 1,
            started_at=now,
            lease_until=now + timedelta(seconds=_lease_seconds()),
        )
    )


def _backoff(attempt: int) -> float:
    base = settings.ANALYSIS_RETRY_BACKOFF_SECONDS * (2 ** max(0, attempt - 1))
    capped = min(base, settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS)
    return random.uniform(capped / 2, capped)  # noqa: S311 - jitter, not security


def _finish(analysis_id, **fields) -> bool:
    """Store the final state only if this worker still holds the row."""
    fields.setdefault("completed_at", timezone.now())
    fields["lease_until"] = None
    updated = Analysis.objects.filter(pk=analysis_id, status=Analysis.Status.PROCESSING).update(**fields)
    if updated:
        transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis_id))
    return bool(updated)


def analysis_fail(*, analysis_id, code: str, message: str, input_tokens: int = 0, output_tokens: int = 0) -> bool:
    return _finish(
        analysis_id,
        status=Analysis.Status.FAILED,
        error_code=code,
        error_message=message[:2000],
        input_tokens=F("input_tokens") + input_tokens,
        output_tokens=F("output_tokens") + output_tokens,
    )


def analysis_run(*, analysis_id) -> RunOutcome:
    """Claim, analyze, store. A second delivery of the same analysis finds nothing to claim."""
    if not analysis_claim(analysis_id=analysis_id):
        current = Analysis.objects.filter(pk=analysis_id).values("status", "lease_until").first()
        if current is None or current["status"] != Analysis.Status.PROCESSING:
            return RunOutcome(status=current["status"] if current else "missing")
        # Held by another delivery: look again once its lease has run out, in case its worker died.
        remaining = (current["lease_until"] - timezone.now()).total_seconds() if current["lease_until"] else 0
        return RunOutcome(status="held", retry_in=max(1.0, remaining + 1.0))
    transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis_id))

    analysis = Analysis.objects.select_related("video").get(pk=analysis_id)
    if analysis.attempts > settings.ANALYSIS_MAX_ATTEMPTS:
        analysis_fail(
            analysis_id=analysis_id,
            code="too_many_attempts",
            message=f"Gave up after {settings.ANALYSIS_MAX_ATTEMPTS} attempts.",
        )
        return RunOutcome(status=Analysis.Status.FAILED)

    started = time.monotonic()
    flight = caching.SingleFlight(analysis.fingerprint, ttl=_lease_seconds())
    try:
        result = None
        if flight.acquire() is False:
            shared = flight.wait_for_result(timeout=_lease_seconds())
            if shared is not None:
                _store_success(analysis, shared, started=started, cached=True)
                return RunOutcome(status=Analysis.Status.COMPLETED)
            flight.acquire()  # the holder gave up: run it ourselves
        shared = caching.result_get(analysis.fingerprint)
        if shared is not None:
            _store_success(analysis, shared, started=started, cached=True)
            return RunOutcome(status=Analysis.Status.COMPLETED)
        result = runner.analysis_execute(analysis=analysis)
        payload = _result_dict(result)
        # Publish before releasing the lock, so a waiter never finds neither lock nor result.
        caching.result_set(analysis.fingerprint, payload)
    except AnalyzerError as exc:
        tokens = {"input_tokens": getattr(exc, "input_tokens", 0), "output_tokens": getattr(exc, "output_tokens", 0)}
        if exc.transient and analysis.attempts < settings.ANALYSIS_MAX_ATTEMPTS:
            delay = _backoff(analysis.attempts)
            requeued = Analysis.objects.filter(pk=analysis_id, status=Analysis.Status.PROCESSING).update(
                status=Analysis.Status.PENDING,
                lease_until=None,
                queued_at=timezone.now() + timedelta(seconds=delay),
                error_code=exc.code,
                error_message=exc.message[:2000],
                input_tokens=F("input_tokens") + tokens["input_tokens"],
                output_tokens=F("output_tokens") + tokens["output_tokens"],
            )
            if requeued:
                transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis_id))
                logger.info("analysis %s: transient %s (%s), retry in %.1fs", analysis_id, exc.code, exc.message, delay)
                return RunOutcome(status=Analysis.Status.PENDING, retry_in=delay)
            return RunOutcome(status="lost")
        analysis_fail(analysis_id=analysis_id, code=exc.code, message=exc.message, **tokens)
        logger.info("analysis %s failed: %s (%s)", analysis_id, exc.code, exc.message)
        return RunOutcome(status=Analysis.Status.FAILED)
    finally:
        flight.release()

    _store_success(analysis, payload, started=started, cached=False, result=result)
    return RunOutcome(status=Analysis.Status.COMPLETED)


def _store_success(
    analysis: Analysis, payload: dict, *, started: float, cached: bool, result: AnalyzerResult | None = None
) -> None:
    _apply_result(analysis, payload)
    _finish(
        analysis.pk,
        status=Analysis.Status.COMPLETED,
        score=analysis.score,
        good_points=analysis.good_points,
        improvements=analysis.improvements,
        advice=analysis.advice,
        short=analysis.short,
        details=analysis.details,
        provider=analysis.provider,
        model=analysis.model,
        cached=cached,
        error_code="",
        error_message="",
        input_tokens=F("input_tokens") + (result.input_tokens if result else 0),
        output_tokens=F("output_tokens") + (result.output_tokens if result else 0),
        latency_ms=int((time.monotonic() - started) * 1000),
    )


def analyses_recover_stuck(*, older_than_seconds: int | None = None) -> dict:
    """Beat job: requeue analyses whose worker died (lease run out) or whose task was lost.

    A pending row is requeued only when its task was queued (or due) longer ago than the limit,
    and `queued_at` moves on when it is, so a long backlog is not queued again on every run.
    """
    from analyses.tasks import analysis_enqueue

    now = timezone.now()
    stuck_before = now - timedelta(seconds=older_than_seconds or settings.ANALYSIS_STUCK_AFTER_SECONDS)
    counts = {"requeued": 0, "failed": 0}
    expired = Q(status=Analysis.Status.PROCESSING, lease_until__lt=now)
    forgotten = Q(status=Analysis.Status.PENDING) & (
        Q(queued_at__lt=stuck_before) | Q(queued_at__isnull=True, created_at__lt=stuck_before)
    )
    for analysis_id, attempts, queued_at in Analysis.objects.filter(expired | forgotten).values_list(
        "pk", "attempts", "queued_at"
    ):
        still_stuck = Analysis.objects.filter(expired | forgotten, pk=analysis_id, queued_at=queued_at)
        if attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
            updated = still_stuck.update(
                status=Analysis.Status.FAILED,
                error_code="too_many_attempts",
                error_message=f"Gave up after {attempts} attempts.",
                completed_at=now,
                lease_until=None,
            )
            if updated:
                counts["failed"] += 1
                analysis_changed_publish(analysis_id=analysis_id)
            continue
        # Conditional on what was read: another run of this job, or a claim, wins the race.
        if still_stuck.update(status=Analysis.Status.PENDING, lease_until=None, queued_at=now):
            analysis_enqueue(analysis_id=analysis_id)
            counts["requeued"] += 1
    return counts


def analysis_reanalyze(*, analysis: Analysis, provider: str | None = None) -> bool:
    """Run a finished analysis again. Its previous result stays until the new one is stored.

    Only finished rows are requeued (a running one is left alone), so running this twice is safe.
    """
    provider = provider or analysis.provider
    fingerprint = caching.fingerprint_make(
        youtube_id=analysis.video.youtube_id,
        timestamp=analysis.timestamp,
        frame_sha256=analysis.frame_sha256,
        keypoints=analysis.keypoints,
        provider=provider,
        language=analysis.language,
        version=runner.analyzer_version(provider),
        reference=_reference_version(analysis.video),
    )
    with transaction.atomic():
        updated = Analysis.objects.filter(pk=analysis.pk, status__in=Analysis.FINAL_STATUSES).update(
            status=Analysis.Status.PENDING,
            provider=provider,
            fingerprint=fingerprint,
            attempts=0,
            lease_until=None,
            queued_at=timezone.now(),
        )
        if updated:
            from analyses.tasks import analysis_enqueue

            caching.result_delete(fingerprint)  # a re-analysis asks the analyzer, not the cache
            transaction.on_commit(lambda: analysis_enqueue(analysis_id=analysis.pk))
    return bool(updated)
