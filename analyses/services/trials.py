"""Before and after a batch re-analysis: the preflight check, and a trial's promotion or discard.

A trial is a named set of revisions (`reanalyze --trial NAME`) that nobody but staff sees until it
is promoted; see services.revisions for how they are run and analyses.trials for the comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from analyses.models import Analysis, AnalysisRevision
from analyses.services import revisions
from config.errors import ApplicationError

TRIAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def trial_name_check(name: str) -> str:
    """A trial's name: letters, digits, '.', '_' and '-', at most 64 characters."""
    if not TRIAL_NAME.match(name or ""):
        raise ApplicationError(
            f"{name!r} is not a trial name: use up to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit.",
            code="invalid_trial_name",
        )
    return name


@dataclass
class Preflight:
    """What would stop a batch: analyses whose target analyzer cannot run here."""

    total: int = 0
    gemini_without_key: int = 0
    gemini_without_input: int = 0  # no frame any more (purged, or not kept) and no keypoints
    pose_without_keypoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _limited(queryset, limit: int | None):
    if limit is None:
        return queryset
    # The same rows the batch would walk: the oldest `limit`.
    return Analysis.objects.filter(pk__in=queryset.order_by("created_at", "pk").values("pk")[:limit])


def reanalyze_preflight(*, queryset, to_provider: str | None = None, limit: int | None = None) -> Preflight:
    """Check that each selected analysis's target analyzer can run: Gemini needs a key and the frame or
    the keypoints, pose needs keypoints."""
    rows = _limited(queryset, limit)
    report = Preflight(total=rows.count())
    to_gemini = Q() if to_provider == "gemini" else Q(provider="gemini")
    to_pose = Q() if to_provider == "pose" else Q(provider="pose")
    if to_provider not in ("gemini", "pose", None):
        to_gemini = to_pose = Q(pk__in=[])
    if not settings.GEMINI_API_KEY and to_provider != "pose":
        report.gemini_without_key = rows.filter(to_gemini).count()
    if to_provider != "pose":
        report.gemini_without_input = rows.filter(to_gemini, frame="", keypoints__isnull=True).count()
    if to_provider != "gemini":
        report.pose_without_keypoints = rows.filter(to_pose, keypoints__isnull=True).count()
    if report.gemini_without_key:
        report.problems.append(
            f"{report.gemini_without_key} of {report.total} analyses would run on gemini, but no Gemini API key "
            "is set (GEMINI_API_KEY): each would fail with gemini_not_configured."
        )
    if report.gemini_without_input:
        report.problems.append(
            f"{report.gemini_without_input} of {report.total} analyses would run on gemini, but their frames are "
            "gone (past FRAME_RETENTION_DAYS, or the dancer keeps none) and they have no keypoints: each would "
            "fail with frame_required."
        )
    if report.pose_without_keypoints:
        report.problems.append(
            f"{report.pose_without_keypoints} of {report.total} analyses would run on pose, but were submitted "
            "without keypoints: pose cannot analyse them."
        )
    return report


@dataclass
class PromoteSummary:
    promoted: int = 0
    already_current: int = 0
    failed_runs: int = 0  # the trial's run failed: nothing to promote
    refused: int = 0  # a first run of the analysis is under way


def trial_promote(*, trial: str, queryset=None, dry_run: bool = False) -> PromoteSummary:
    """Make the trial's latest completed run of each analysis (of the queryset) its current result.

    With `dry_run`, only count: `promoted` is then what would be promoted.
    """
    summary = PromoteSummary()
    runs = AnalysisRevision.objects.filter(trial=trial, status__in=Analysis.FINAL_STATUSES)
    if queryset is not None:
        runs = runs.filter(analysis__in=queryset.values("pk"))
    seen = set()
    for pk, analysis_id, status, is_current in runs.order_by("analysis_id", "-created_at", "-pk").values_list(
        "pk", "analysis_id", "status", "is_current"
    ):
        if analysis_id in seen:
            continue  # an older run of the same analysis in this trial
        seen.add(analysis_id)
        if status == Analysis.Status.FAILED:
            summary.failed_runs += 1
        elif is_current:
            summary.already_current += 1
        elif dry_run or revisions.revision_promote(revision_id=pk):
            summary.promoted += 1
        else:
            summary.refused += 1
    return summary


def trial_discard(*, trial: str, queryset=None, dry_run: bool = False) -> int:
    """Delete the trial's runs (of the queryset's analyses) that are not current; how many went (or would)."""
    runs = AnalysisRevision.objects.filter(trial=trial, is_current=False)
    if queryset is not None:
        runs = runs.filter(analysis__in=queryset.values("pk"))
    if dry_run:
        return runs.count()
    with transaction.atomic():
        deleted, _ = runs.delete()
    return deleted
