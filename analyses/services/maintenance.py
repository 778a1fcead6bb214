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
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from analyses.live import analysis_changed_publish
from analyses.models import Analysis, AnalysisRevision
from analyses.services import pipeline, revisions
from config.storage import storage_errors

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
    return queryset.filter(~Exists(_open_runs())), cutoff


def _open_runs():
    # A re-run reads the frame while the row stays finished: its frame is kept until the run ends.
    return AnalysisRevision.objects.filter(analysis=OuterRef("pk"), status__in=revisions.OPEN)


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
    at nothing. A row being analysed (pending or processing, or with a re-run open) keeps its frame.
    """
    queryset, cutoff = frames_purgeable(older_than_days=older_than_days)
    summary = PurgeSummary(matched=queryset.count(), cutoff=cutoff)
    if dry_run:
        return summary
    for rows in batches(queryset, batch_size=batch_size):
        ids = [pk for pk, _ in rows]
        for pk, name in Analysis.objects.filter(pk__in=ids).exclude(frame="").values_list("pk", "frame"):
            still_purgeable = Analysis.objects.filter(pk=pk, frame=name, status__in=Analysis.FINAL_STATUSES)
            cleared = still_purgeable.filter(~Exists(_open_runs())).update(frame="")
            if not cleared:
                summary.skipped += 1
                continue
            storage = Analysis._meta.get_field("frame").storage
            try:
                if storage.exists(name):
                    try:
                        summary.bytes_freed += storage.size(name)
                    except (*storage_errors(), NotImplementedError):
                        pass
                    storage.delete(name)
                else:
                    summary.missing_files += 1
            except storage_errors() as exc:  # the row is cleared; the file stays as an orphan
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
    # Re-runs (revisions) too: their rows are never pending, so they are looked for apart.
    for key, n in revisions.revisions_recover_stuck(stuck_before=stuck_before, now=now).items():
        counts[key] += n
    return counts


def analysis_reanalyze(*, analysis: Analysis, provider: str | None = None, trial: str = "") -> bool:
    """Run a finished analysis again, as a new revision: its result stays until a better one is stored.

    The row itself is not touched while the run is under way (see services.revisions). A
    running or already requested run is left alone, so running this twice is safe.
    """
    with transaction.atomic():
        locked = Analysis.objects.select_for_update().filter(pk=analysis.pk).first()
        if locked is None:
            return False
        how, revision_id = revisions.revision_request(analysis=locked, provider=provider, trial=trial)
        if how == "requeued":
            transaction.on_commit(lambda: revisions.revision_enqueue(revision_id=revision_id))
    return how == "requeued"


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
    trial: str = "",
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
        # Resuming: skip what this run already re-analysed (a run of it finished after it started).
        done = AnalysisRevision.objects.filter(analysis=OuterRef("pk"), trial=trial, completed_at__gte=completed_before)
        queryset = queryset.filter(Q(completed_at__lt=completed_before) | Q(completed_at__isnull=True))
        queryset = queryset.filter(~Exists(done))
    return queryset


@dataclass
class ReanalyzeSummary:
    matched: int = 0
    requeued: int = 0
    resumed: int = 0  # left pending by an interrupted run, picked up again
    skipped: int = 0  # running elsewhere (processing): left alone
    completed: int = 0
    failed: int = 0  # failed with no previous result: the analysis stays failed
    kept: int = 0  # failed, and the analysis kept its previous result
    statuses: dict = field(default_factory=dict)


def reanalyze_one(*, analysis_id, to_provider: str | None = None, sync: bool = False, trial: str = "") -> str:
    """Re-analyse one analysis: "requeued", "resumed", "skipped", or with sync how its run ended
    ("completed", "failed", "kept": failed, the previous result stays).

    A finished analysis gets a new revision (services.revisions); one whose first run is still
    pending is resumed through the pipeline, as before revisions. With `sync` the request and the
    run happen in one transaction, so an interruption leaves no trace and the enqueue scheduled on
    commit finds the revision finished and does nothing.
    """
    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().select_related("video").filter(pk=analysis_id).first()
        if analysis is None:
            return "missing"
        if analysis.status == Analysis.Status.PROCESSING or (trial and analysis.status == Analysis.Status.PENDING):
            return "skipped"
        if analysis.status == Analysis.Status.PENDING:
            if not sync:
                transaction.on_commit(lambda: pipeline.analysis_enqueue(analysis_id=analysis_id))
                return "resumed"
            return pipeline.analysis_run_to_end(analysis_id=analysis_id)
        how, revision_id = revisions.revision_request(analysis=analysis, provider=to_provider, trial=trial)
        if how == "skipped":
            return how
        if not sync:
            transaction.on_commit(lambda: revisions.revision_enqueue(revision_id=revision_id))
            return how
        return revisions.revision_run_to_end(revision_id=revision_id)


def reanalyze(
    *,
    queryset,
    to_provider: str | None = None,
    sync: bool = False,
    trial: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReanalyzeSummary:
    summary = ReanalyzeSummary(matched=queryset.count() if limit is None else min(limit, queryset.count()))
    counters = {"skipped": "skipped", "held": "skipped", "missing": "skipped", "resumed": "resumed"}
    counters.update(requeued="requeued", completed="completed", failed="failed", kept="kept")
    for rows in batches(queryset, batch_size=batch_size, limit=limit):
        for pk, _ in rows:
            outcome = reanalyze_one(analysis_id=pk, to_provider=to_provider, sync=sync, trial=trial)
            summary.statuses[outcome] = summary.statuses.get(outcome, 0) + 1
            if outcome in counters:
                setattr(summary, counters[outcome], getattr(summary, counters[outcome]) + 1)
        if progress:
            progress(len(rows))
    return summary
