"""One delivery of an analysis ("run"): claim the row, analyze it, store the outcome.

The row is the source of truth: a conditional update claims it (pending -> processing, with a
lease), so a second delivery finds nothing to claim; a delivery whose worker died is taken over
once the lease has run out. Transient analyzer errors go back to pending with a backoff, permanent
ones fail with their code. Tasks are started on commit through `analysis_enqueue`.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.ownership import file_delete_or_record
from analyses import analyzing, caching
from analyses.analyzers.base import AnalyzerError, AnalyzerResult
from analyses.live import analysis_changed_publish
from analyses.models import Analysis
from analyses.services.videos import reference_version
from analyses.tasks import run_analysis as run_analysis_task
from coaching.invalidation import leaderboard_video_changed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    """What the task should do next: nothing, or try again after `retry_in` seconds."""

    status: str
    retry_in: float | None = None


def analysis_enqueue(*, analysis_id) -> None:
    """Start the task (on commit). A broker outage leaves the row pending for the recovery job."""
    try:
        run_analysis_task.delay(str(analysis_id))
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("analysis %s not enqueued (%r); the recovery job will pick it up", analysis_id, exc)


def result_fingerprint(*, video, timestamp, frame_sha256, keypoints, provider, language) -> str:
    """The result-cache key of an analysis: its inputs, the analyzer's version and the reference track."""
    return caching.fingerprint_make(
        youtube_id=video.youtube_id,
        timestamp=timestamp,
        frame_sha256=frame_sha256,
        keypoints=keypoints,
        provider=provider,
        language=language,
        version=analyzing.analyzer_version(provider),
        reference=reference_version(video),
    )


def result_apply(analysis: Analysis, result: dict) -> None:
    """Copy a stored result (the result cache's shape) onto the row, unsaved."""
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


def lease_seconds() -> int:
    # Longer than any single execution can last: the hard time limit kills it before.
    return int(settings.CELERY_TASK_TIME_LIMIT) + 10


def lease_claim(model, *, pk, **fields) -> bool:
    """pending -> processing, or take over a processing run whose lease ran out (its worker died);
    for an analysis row or a re-analysis revision alike."""
    now = timezone.now()
    claimable = Q(status=Analysis.Status.PENDING) | Q(status=Analysis.Status.PROCESSING, lease_until__lt=now)
    return bool(
        model.objects.filter(claimable, pk=pk).update(
            status=Analysis.Status.PROCESSING,
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=lease_seconds()),
            **fields,
        )
    )


def analysis_claim(*, analysis_id) -> bool:
    return lease_claim(Analysis, pk=analysis_id, started_at=timezone.now())


def retry_backoff(attempt: int) -> float:
    base = settings.ANALYSIS_RETRY_BACKOFF_SECONDS * (2 ** max(0, attempt - 1))
    capped = min(base, settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS)
    return random.uniform(capped / 2, capped)  # noqa: S311 - jitter, not security


def _finish(analysis_id, **fields) -> bool:
    """Store the final state only if this delivery still holds the row."""
    fields.setdefault("completed_at", timezone.now())
    fields["lease_until"] = None
    # keep_frames off (issue 18): the row is final and frameless in one update, the file goes after.
    unwanted = _frame_unwanted(analysis_id)
    if unwanted:
        fields["frame"] = ""
    updated = Analysis.objects.filter(pk=analysis_id, status=Analysis.Status.PROCESSING).update(**fields)
    if updated:
        transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis_id))
        if unwanted:
            transaction.on_commit(lambda: _frame_file_delete(unwanted))
    return bool(updated)


def _frame_unwanted(analysis_id) -> str | None:
    """The stored frame's name when its dancer keeps no frames, else None."""
    return (
        Analysis.objects.filter(pk=analysis_id, user__keep_frames=False)
        .exclude(frame="")
        .values_list("frame", flat=True)
        .first()
    )


def _frame_file_delete(name: str) -> None:
    file_delete_or_record(kind="frames", name=name)


def frame_discard_if_unwanted(*, analysis_id) -> bool:
    """A dancer with `keep_frames` off keeps no frame once its analysis is final (issue 18); for rows
    made final elsewhere than `_finish` (the recovery job).

    The result, the landmarks and the frame's SHA-256 stay: the result cache keys on the hash, so
    an identical resubmission still hits it. The row is cleared first, conditionally, then the file
    deleted through the storage's API; a storage failure is recorded and retried by the beat job.
    """
    name = _frame_unwanted(analysis_id)
    final = {"pk": analysis_id, "status__in": Analysis.FINAL_STATUSES}
    if not name or not Analysis.objects.filter(**final, frame=name).update(frame=""):
        return False
    _frame_file_delete(name)
    return True


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
        return _unclaimed(analysis_id)
    transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis_id))
    analysis = Analysis.objects.select_related("video").get(pk=analysis_id)
    if analysis.attempts > settings.ANALYSIS_MAX_ATTEMPTS:
        message = f"Gave up after {settings.ANALYSIS_MAX_ATTEMPTS} attempts."
        analysis_fail(analysis_id=analysis_id, code="too_many_attempts", message=message)
        return RunOutcome(status=Analysis.Status.FAILED)
    started = time.monotonic()
    try:
        payload, result = _result_for(analysis)
    except AnalyzerError as exc:
        return _analyzer_error_handle(analysis, exc)
    _store_success(analysis, payload, started=started, result=result)
    return RunOutcome(status=Analysis.Status.COMPLETED)


def analysis_run_to_end(*, analysis_id) -> str:
    """Run here until the analysis is final, waiting out each retry's backoff: its final status,
    or "held" when another delivery holds it (that one will finish it)."""
    while True:
        outcome = analysis_run(analysis_id=analysis_id)
        if outcome.retry_in is None:
            return Analysis.objects.filter(pk=analysis_id).values_list("status", flat=True).first() or "missing"
        if outcome.status == "held":
            return "held"
        time.sleep(min(outcome.retry_in, settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS))


def _unclaimed(analysis_id) -> RunOutcome:
    current = Analysis.objects.filter(pk=analysis_id).values("status", "lease_until").first()
    if current is None or current["status"] != Analysis.Status.PROCESSING:
        return RunOutcome(status=current["status"] if current else "missing")
    # Held by another delivery: look again once its lease has run out, in case its worker died.
    remaining = (current["lease_until"] - timezone.now()).total_seconds() if current["lease_until"] else 0
    return RunOutcome(status="held", retry_in=max(1.0, remaining + 1.0))


def _result_for(analysis: Analysis) -> tuple[dict, AnalyzerResult | None]:
    """The result: shared (another delivery's, or the cache's; no AnalyzerResult) or the analyzer's."""
    flight = caching.SingleFlight(analysis.fingerprint, ttl=lease_seconds())
    try:
        if flight.acquire() is False:
            shared = flight.wait_for_result(timeout=lease_seconds())
            if shared is not None:
                return shared, None
            flight.acquire()  # the holder gave up: analyze it here
        shared = caching.result_get(analysis.fingerprint)
        if shared is not None:
            return shared, None
        result = analyzing.analyze(analysis=analysis)
        payload = _result_dict(result)
        # Published before the lock is released, so a waiter never finds neither lock nor result.
        # A budget fallback is not Gemini's answer: never reused for the Gemini fingerprint.
        if "fallback" not in payload["details"]:
            caching.result_set(analysis.fingerprint, payload)
        return payload, result
    finally:
        flight.release()


def _analyzer_error_handle(analysis: Analysis, exc: AnalyzerError) -> RunOutcome:
    """A transient error goes back to pending after a backoff (within the attempts); others fail."""
    tokens = {"input_tokens": getattr(exc, "input_tokens", 0), "output_tokens": getattr(exc, "output_tokens", 0)}
    if not exc.transient or analysis.attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
        analysis_fail(analysis_id=analysis.pk, code=exc.code, message=exc.message, **tokens)
        logger.info("analysis %s failed: %s (%s)", analysis.pk, exc.code, exc.message)
        return RunOutcome(status=Analysis.Status.FAILED)
    delay = retry_backoff(analysis.attempts)
    requeued = Analysis.objects.filter(pk=analysis.pk, status=Analysis.Status.PROCESSING).update(
        status=Analysis.Status.PENDING,
        lease_until=None,
        queued_at=timezone.now() + timedelta(seconds=delay),
        error_code=exc.code,
        error_message=exc.message[:2000],
        input_tokens=F("input_tokens") + tokens["input_tokens"],
        output_tokens=F("output_tokens") + tokens["output_tokens"],
    )
    if not requeued:
        return RunOutcome(status="lost")
    transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis.pk))
    logger.info("analysis %s: transient %s (%s), retry in %.1fs", analysis.pk, exc.code, exc.message, delay)
    return RunOutcome(status=Analysis.Status.PENDING, retry_in=delay)


def _store_success(analysis: Analysis, payload: dict, *, started: float, result: AnalyzerResult | None) -> None:
    result_apply(analysis, payload)
    stored = _finish(
        analysis.pk,
        status=Analysis.Status.COMPLETED,
        **{name: getattr(analysis, name) for name in Analysis.RESULT_FIELDS},
        cached=result is None,
        error_code="",
        error_message="",
        input_tokens=F("input_tokens") + (result.input_tokens if result else 0),
        output_tokens=F("output_tokens") + (result.output_tokens if result else 0),
        latency_ms=int((time.monotonic() - started) * 1000),
    )
    if stored:  # a new score: the video's leaderboards are stale
        transaction.on_commit(lambda: leaderboard_video_changed(video_id=analysis.video_id))
