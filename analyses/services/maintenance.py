"""Work on many analyses: recovering lost ones, purging old frames, re-analysing in batches.

Used by the beat tasks (`analyses.recover_stuck`, `analyses.purge_frames`) and the management
commands (`purge_frames`, `reanalyze`). Rows are walked in batches by keyset (created_at, id),
never loaded whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analyses import caching
from analyses.live import analysis_changed_publish
from analyses.models import Analysis
from analyses.services import pipeline

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


def batches(queryset, *, batch_size: int, limit: int | None = None) -> Iterator[list[tuple]]:
    """(id, created_at) of the queryset's rows, oldest first, `batch_size` at a time.

    Keyset pagination: rows changed while walking (a status flips, a frame is cleared) never
    make the walk skip or repeat a row.
    """
    ordered = queryset.order_by("created_at", "pk")
    after = None
    seen = 0
    while limit is None or seen < limit:
        page = ordered
        if after is not None:
            page = page.filter(Q(created_at__gt=after[1]) | Q(created_at=after[1], pk__gt=after[0]))
        size = batch_size if limit is None else min(batch_size, limit - seen)
        rows = list(page.values_list("pk", "created_at")[:size])
        if not rows:
            return
        seen += len(rows)
        after = rows[-1]
        yield rows


# --- frames ------------------------------------------------------------------------------------


@dataclass
class PurgeSummary:
    matched: int = 0
    purged: int = 0
    missing_files: int = 0
    skipped: int = 0  # changed under us (re-analysis started, already purged)
    bytes_freed: int = 0
    cutoff: object = None


def frames_purgeable(*, older_than_days: int | None = None, now=None):
    """Finished analyses older than the retention whose frame file is still stored."""
    days = settings.FRAME_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    queryset = Analysis.objects.filter(created_at__lt=cutoff, status__in=Analysis.FINAL_STATUSES).exclude(frame="")
    return queryset, cutoff


def frames_purge(
    *,
    older_than_days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PurgeSummary:
    """Delete the frame files of old finished analyses; the rows (and the frames' SHA-256) stay.

    Each row is cleared first, conditionally (still finished, still pointing at that file), and
    its file deleted after: a failure in between leaves an orphan file, never a row pointing
    at nothing. A row being re-analysed (pending or processing) keeps its frame.
    """
    queryset, cutoff = frames_purgeable(older_than_days=older_than_days)
    summary = PurgeSummary(matched=queryset.count(), cutoff=cutoff)
    if dry_run:
        return summary
    for rows in batches(queryset, batch_size=batch_size):
        ids = [pk for pk, _ in rows]
        for pk, name in Analysis.objects.filter(pk__in=ids).exclude(frame="").values_list("pk", "frame"):
            cleared = Analysis.objects.filter(pk=pk, frame=name, status__in=Analysis.FINAL_STATUSES).update(frame="")
            if not cleared:
                summary.skipped += 1
                continue
            storage = Analysis._meta.get_field("frame").storage
            try:
                if storage.exists(name):
                    try:
                        summary.bytes_freed += storage.size(name)
                    except (OSError, NotImplementedError):
                        pass
                    storage.delete(name)
                else:
                    summary.missing_files += 1
            except OSError as exc:  # the row is cleared; the file stays as an orphan
                logger.warning("frame %s of analysis %s not deleted: %s", name, pk, exc)
            summary.purged += 1
        if progress:
            progress(len(rows))
    return summary


# --- recovery --------------------------------------------------------------------------------


def analyses_recover_stuck(*, older_than_seconds: int | None = None) -> dict:
    """Beat job: requeue analyses whose worker died (lease run out) or whose task was lost.

    A pending row is requeued only when its task was queued (or due) longer ago than the limit,
    and `queued_at` moves on when it is, so a long backlog is not queued again on every run.
    """
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
                pipeline.frame_discard_if_unwanted(analysis_id=analysis_id)
            continue
        # Conditional on what was read: another run of this job, or a claim, wins the race.
        if still_stuck.update(status=Analysis.Status.PENDING, lease_until=None, queued_at=now):
            pipeline.analysis_enqueue(analysis_id=analysis_id)
            counts["requeued"] += 1
    return counts


def analysis_reanalyze(*, analysis: Analysis, provider: str | None = None) -> bool:
    """Run a finished analysis again. Its previous result stays until the new one is stored.

    Only finished rows are requeued (a running one is left alone), so running this twice is safe.
    """
    provider = provider or analysis.provider
    fingerprint = pipeline.result_fingerprint(
        video=analysis.video,
        timestamp=analysis.timestamp,
        frame_sha256=analysis.frame_sha256,
        keypoints=analysis.keypoints,
        provider=provider,
        language=analysis.language,
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
            caching.result_delete(fingerprint)  # a re-analysis asks the analyzer, not the cache
            transaction.on_commit(lambda: pipeline.analysis_enqueue(analysis_id=analysis.pk))
    return bool(updated)


# --- re-analysis -----------------------------------------------------------------------------


REANALYZABLE = (Analysis.Status.COMPLETED, Analysis.Status.FAILED, Analysis.Status.PENDING)


def reanalyze_queryset(
    *,
    statuses=None,
    video: int | str | None = None,
    user: int | str | None = None,
    since=None,
    until=None,
    provider: str | None = None,
    completed_before=None,
):
    """Analyses matching the operator's filters (created in [since, until))."""
    queryset = Analysis.objects.filter(status__in=statuses or (Analysis.Status.COMPLETED, Analysis.Status.FAILED))
    if video:
        queryset = (
            queryset.filter(video_id=video) if isinstance(video, int) else queryset.filter(video__youtube_id=video)
        )
    if user:
        queryset = queryset.filter(user_id=user) if isinstance(user, int) else queryset.filter(user__email__iexact=user)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    if provider:
        queryset = queryset.filter(provider=provider)
    if completed_before:
        # Resuming: skip what this run already re-analysed (finished after it started).
        queryset = queryset.filter(Q(completed_at__lt=completed_before) | Q(completed_at__isnull=True))
    return queryset


@dataclass
class ReanalyzeSummary:
    matched: int = 0
    requeued: int = 0
    resumed: int = 0  # left pending by an interrupted run, picked up again
    skipped: int = 0  # running elsewhere (processing): left alone
    completed: int = 0
    failed: int = 0
    statuses: dict = field(default_factory=dict)


def reanalyze_one(*, analysis_id, to_provider: str | None = None, sync: bool = False) -> str:
    """Re-analyse one analysis: "requeued", "resumed", "skipped", or with sync its final status.

    With `sync` the requeue and the run happen in one transaction: the enqueue that
    analysis_reanalyze schedules on commit then finds the row finished and does nothing (in
    eager mode too), and an interruption rolls the row back to its previous result.
    """
    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().select_related("video").filter(pk=analysis_id).first()
        if analysis is None:
            return "missing"
        if analysis.status == Analysis.Status.PROCESSING:
            return "skipped"
        if analysis.status == Analysis.Status.PENDING:
            how = "resumed"
            if not sync:
                transaction.on_commit(lambda: pipeline.analysis_enqueue(analysis_id=analysis_id))
        else:
            if not analysis_reanalyze(analysis=analysis, provider=to_provider):
                return "skipped"
            how = "requeued"
        if not sync:
            return how
        return pipeline.analysis_run_to_end(analysis_id=analysis_id)


def reanalyze(
    *,
    queryset,
    to_provider: str | None = None,
    sync: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReanalyzeSummary:
    summary = ReanalyzeSummary(matched=queryset.count() if limit is None else min(limit, queryset.count()))
    for rows in batches(queryset, batch_size=batch_size, limit=limit):
        for pk, _ in rows:
            outcome = reanalyze_one(analysis_id=pk, to_provider=to_provider, sync=sync)
            summary.statuses[outcome] = summary.statuses.get(outcome, 0) + 1
            if outcome in ("skipped", "held", "missing"):
                summary.skipped += 1
            elif outcome == "resumed":
                summary.resumed += 1
            elif outcome == "requeued":
                summary.requeued += 1
            elif outcome == Analysis.Status.COMPLETED:
                summary.completed += 1
            elif outcome == Analysis.Status.FAILED:
                summary.failed += 1
        if progress:
            progress(len(rows))
    return summary
