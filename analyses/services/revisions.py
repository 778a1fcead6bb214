"""Revisions: every re-run of an analysis is stored beside it, and only a good one replaces its result.

The Analysis row's result fields are its current revision, so every reader (history, stats,
reports, leaderboards) keeps reading the row. A re-analysis never touches the row while it runs:
it writes an AnalysisRevision (pending -> processing -> completed | failed, claimed with a lease
like the pipeline's runs) and copies it onto the row only when it succeeded outside a trial, or
when its trial is promoted. A failed re-run is kept as a failed revision; the row keeps its result.

A trial (`trial` set) is never copied by itself and never written to the result cache, so nothing a
dancer sees (nor an identical new submission) changes until `trial_promote`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analyses import analyzing, caching
from analyses.analyzers.base import AnalyzerError, AnalyzerResult
from analyses.live import analysis_changed_publish
from analyses.models import Analysis, AnalysisRevision
from analyses.services import pipeline
from coaching.invalidation import leaderboard_video_changed

logger = logging.getLogger(__name__)

OPEN = (Analysis.Status.PENDING, Analysis.Status.PROCESSING)


def revision_snapshot(analysis: Analysis) -> None:
    """Record the row's own result as a revision, once: its first run (or what earlier re-runs left)."""
    if analysis.status not in Analysis.FINAL_STATUSES or analysis.revisions.filter(trial="").exists():
        return
    AnalysisRevision.objects.create(
        analysis=analysis,
        is_current=analysis.status == Analysis.Status.COMPLETED,
        status=analysis.status,
        error_code=analysis.error_code,
        error_message=analysis.error_message,
        input_tokens=analysis.input_tokens,
        output_tokens=analysis.output_tokens,
        latency_ms=analysis.latency_ms,
        attempts=analysis.attempts,
        created_at=analysis.started_at or analysis.created_at,
        completed_at=analysis.completed_at,
        **{name: getattr(analysis, name) for name in Analysis.RESULT_FIELDS},
    )


def revision_request(*, analysis: Analysis, provider: str | None = None, trial: str = "") -> tuple[str, int | None]:
    """Ask for a re-run of a finished analysis (locked by the caller): ("requeued" | "resumed" | "skipped", id).

    An open run of the same trial (left by an interrupted batch) is picked up again rather than
    doubled; one held by a live worker is left alone. The caller enqueues the run on commit.
    """
    if analysis.status not in Analysis.FINAL_STATUSES:
        return "skipped", None
    now = timezone.now()
    open_run = analysis.revisions.filter(trial=trial, status__in=OPEN).order_by("-created_at").first()
    if open_run is not None:
        held = open_run.status == Analysis.Status.PROCESSING and open_run.lease_until and open_run.lease_until > now
        if held:
            return "skipped", None
        AnalysisRevision.objects.filter(pk=open_run.pk).update(queued_at=now)
        return "resumed", open_run.pk
    revision_snapshot(analysis)
    provider = provider or analysis.provider
    revision = AnalysisRevision.objects.create(
        analysis=analysis,
        trial=trial,
        provider=provider,
        analyzer_version=analyzing.analyzer_version(provider),
        queued_at=now,
    )
    return "requeued", revision.pk


def revision_enqueue(*, revision_id) -> None:
    """Start the revision's task (call on commit). A broker outage leaves it pending for a resumed batch."""
    from analyses.tasks import run_revision

    try:
        run_revision.delay(revision_id)
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("revision %s not enqueued (%r); run the batch again to resume it", revision_id, exc)


def revision_claim(*, revision_id) -> bool:
    return pipeline.lease_claim(AnalysisRevision, pk=revision_id)


def revision_run(*, revision_id) -> pipeline.RunOutcome:
    """Claim, analyze with the revision's provider, store on the revision (and, outside a trial, the row)."""
    if not revision_claim(revision_id=revision_id):
        current = AnalysisRevision.objects.filter(pk=revision_id).values("status", "lease_until").first()
        if current is None or current["status"] != Analysis.Status.PROCESSING:
            return pipeline.RunOutcome(status=current["status"] if current else "missing")
        remaining = (current["lease_until"] - timezone.now()).total_seconds() if current["lease_until"] else 0
        return pipeline.RunOutcome(status="held", retry_in=max(1.0, remaining + 1.0))
    revision = AnalysisRevision.objects.select_related("analysis__video").get(pk=revision_id)
    if revision.attempts > settings.ANALYSIS_MAX_ATTEMPTS:
        return _fail(revision, code="too_many_attempts", message="Gave up after too many attempts.")
    work = revision.analysis  # analyzed with the revision's provider, never saved
    work.provider = revision.provider
    started = time.monotonic()
    try:
        result = analyzing.analyze(analysis=work)
    except AnalyzerError as exc:
        tokens = {"input_tokens": getattr(exc, "input_tokens", 0), "output_tokens": getattr(exc, "output_tokens", 0)}
        if exc.transient and revision.attempts < settings.ANALYSIS_MAX_ATTEMPTS:
            delay = pipeline.retry_backoff(revision.attempts)
            AnalysisRevision.objects.filter(pk=revision_id, status=Analysis.Status.PROCESSING).update(
                status=Analysis.Status.PENDING,
                lease_until=None,
                queued_at=timezone.now() + timedelta(seconds=delay),
                error_code=exc.code,
                error_message=exc.message[:2000],
            )
            return pipeline.RunOutcome(status=Analysis.Status.PENDING, retry_in=delay)
        return _fail(revision, code=exc.code, message=exc.message, **tokens)
    return _store(revision, result, latency_ms=int((time.monotonic() - started) * 1000))


def revision_run_to_end(*, revision_id) -> str:
    """Run here until the revision is final: "completed", "failed", "kept" (failed, the analysis
    keeps its result) or "held" (another delivery holds it)."""
    while True:
        outcome = revision_run(revision_id=revision_id)
        if outcome.status == "held":
            return "held"
        if outcome.retry_in is None:
            break
        time.sleep(min(outcome.retry_in, settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS))
    revision = AnalysisRevision.objects.select_related("analysis").filter(pk=revision_id).first()
    if revision is None:
        return "missing"
    if revision.status == Analysis.Status.FAILED and revision.analysis.status == Analysis.Status.COMPLETED:
        return "kept"
    return revision.status


def _fail(revision: AnalysisRevision, *, code: str, message: str, input_tokens=0, output_tokens=0):
    """A failed run stays a failed revision; the analysis keeps its result (or stays failed)."""
    with transaction.atomic():
        updated = AnalysisRevision.objects.filter(pk=revision.pk, status=Analysis.Status.PROCESSING).update(
            status=Analysis.Status.FAILED,
            error_code=code,
            error_message=message[:2000],
            input_tokens=F("input_tokens") + input_tokens,
            output_tokens=F("output_tokens") + output_tokens,
            lease_until=None,
            completed_at=timezone.now(),
        )
        if updated and not revision.trial and (input_tokens or output_tokens):
            # Spent on this analysis: the reports' cost counts it, as it did before revisions.
            Analysis.objects.filter(pk=revision.analysis_id).update(
                input_tokens=F("input_tokens") + input_tokens, output_tokens=F("output_tokens") + output_tokens
            )
    logger.info("revision %s of analysis %s failed: %s (%s)", revision.pk, revision.analysis_id, code, message)
    return pipeline.RunOutcome(status=Analysis.Status.FAILED)


def _store(revision: AnalysisRevision, result: AnalyzerResult, *, latency_ms: int) -> pipeline.RunOutcome:
    with transaction.atomic():
        updated = AnalysisRevision.objects.filter(pk=revision.pk, status=Analysis.Status.PROCESSING).update(
            status=Analysis.Status.COMPLETED,
            score=int(result.score),
            good_points=list(result.good_points),
            improvements=list(result.improvements),
            advice=result.advice,
            short=result.short or {},
            details=result.details or {},
            provider=result.provider or revision.provider,
            model=result.model or "",
            error_code="",
            error_message="",
            input_tokens=F("input_tokens") + result.input_tokens,
            output_tokens=F("output_tokens") + result.output_tokens,
            latency_ms=latency_ms,
            lease_until=None,
            completed_at=timezone.now(),
        )
        if updated and not revision.trial:
            revision_promote(revision_id=revision.pk)
    return pipeline.RunOutcome(status=Analysis.Status.COMPLETED if updated else "lost")


def revision_promote(*, revision_id) -> bool:
    """Make a completed revision the analysis's current result: copied onto the row, cached, published.

    Refused (False) while a first run of the analysis is under way: that run would overwrite it.
    """
    with transaction.atomic():
        revision = AnalysisRevision.objects.filter(pk=revision_id, status=Analysis.Status.COMPLETED).first()
        if revision is None:
            return False
        analysis = (
            Analysis.objects.select_for_update()
            .select_related("video")
            .filter(pk=revision.analysis_id, status__in=Analysis.FINAL_STATUSES)
            .first()
        )
        if analysis is None:
            return False
        previous = AnalysisRevision.objects.filter(analysis=analysis, is_current=True).values_list("pk", flat=True)
        previous = previous.first()
        AnalysisRevision.objects.filter(analysis=analysis, is_current=True).update(is_current=False)
        AnalysisRevision.objects.filter(pk=revision.pk).update(is_current=True, replaced=previous)
        payload = {name: getattr(revision, name) for name in Analysis.RESULT_FIELDS}
        fingerprint = pipeline.result_fingerprint(
            video=analysis.video,
            timestamp=analysis.timestamp,
            frame_sha256=analysis.frame_sha256,
            keypoints=analysis.keypoints,
            provider=revision.provider,
            language=analysis.language,
        )
        Analysis.objects.filter(pk=analysis.pk).update(
            **payload,
            status=Analysis.Status.COMPLETED,
            error_code="",
            error_message="",
            cached=False,
            fingerprint=fingerprint,
            latency_ms=revision.latency_ms,
            input_tokens=F("input_tokens") + revision.input_tokens,
            output_tokens=F("output_tokens") + revision.output_tokens,
            completed_at=timezone.now(),
        )
        # Identical new submissions now share the new result, as they would have a first run's.
        transaction.on_commit(lambda: caching.result_set(fingerprint, payload))
        transaction.on_commit(lambda: analysis_changed_publish(analysis_id=analysis.pk))
        transaction.on_commit(lambda: leaderboard_video_changed(video_id=analysis.video_id))
    return True


def revisions_recover_stuck(*, stuck_before, now) -> dict:
    """The recovery job's part for re-runs: requeue those whose worker died or whose task was lost.

    Like the pipeline's: conditional on what was read, `queued_at` moved on when requeued, and a
    run past ANALYSIS_MAX_ATTEMPTS fails (the analysis keeps its result).
    """
    counts = {"requeued": 0, "failed": 0}
    expired = Q(status=Analysis.Status.PROCESSING, lease_until__lt=now)
    forgotten = Q(status=Analysis.Status.PENDING) & (
        Q(queued_at__lt=stuck_before) | Q(queued_at__isnull=True, created_at__lt=stuck_before)
    )
    stuck = AnalysisRevision.objects.filter(expired | forgotten)
    for pk, attempts, queued_at in stuck.values_list("pk", "attempts", "queued_at"):
        still_stuck = AnalysisRevision.objects.filter(expired | forgotten, pk=pk, queued_at=queued_at)
        if attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
            message = f"Gave up after {attempts} attempts."
            if still_stuck.update(
                status=Analysis.Status.FAILED,
                error_code="too_many_attempts",
                error_message=message,
                lease_until=None,
                completed_at=now,
            ):
                counts["failed"] += 1
            continue
        if still_stuck.update(status=Analysis.Status.PENDING, lease_until=None, queued_at=now):
            revision_enqueue(revision_id=pk)
            counts["requeued"] += 1
    return counts
