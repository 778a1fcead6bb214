"""Re-analysis revisions on PostgreSQL, Redis and a real Celery worker (services half of `make test`)."""

import time

import pytest
from django.utils import timezone

from analyses.models import Analysis, AnalysisRevision
from analyses.services import maintenance
from analyses.tests.factories import pose_keypoints
from analyses.tests.stats_factories import analysis_at

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_revision_final(analysis, timeout=60.0) -> AnalysisRevision:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = analysis.revisions.exclude(status__in=Analysis.FINAL_STATUSES).first()
        if run is None and analysis.revisions.count() >= 2:
            return analysis.revisions.order_by("-created_at", "-pk").first()
        time.sleep(0.2)
    raise AssertionError(f"the re-run of {analysis.pk} did not finish in {timeout}s")


def test_a_real_worker_keeps_a_completed_result_when_the_rerun_fails(celery_worker):
    row = analysis_at(timezone.now(), score=55, advice="kept advice", keypoints=pose_keypoints())
    # The worker has no Gemini key: the re-run ends gemini_not_configured.
    assert maintenance.analysis_reanalyze(analysis=row, provider="gemini") is True
    failed = wait_revision_final(row)
    assert (failed.status, failed.error_code, failed.provider) == ("failed", "gemini_not_configured", "gemini")
    row.refresh_from_db()
    assert (row.status, row.score, row.advice, row.provider) == ("completed", 55, "kept advice", "pose")
    assert row.revisions.get(is_current=True).score == 55


def test_a_real_worker_makes_a_successful_rerun_current(celery_worker):
    row = analysis_at(timezone.now(), score=1, advice="old advice", keypoints=pose_keypoints())
    assert maintenance.analysis_reanalyze(analysis=row) is True
    done = wait_revision_final(row)
    assert (done.status, done.is_current) == ("completed", True)
    row.refresh_from_db()
    assert (row.status, row.score) == ("completed", done.score)
    assert row.advice != "old advice"
