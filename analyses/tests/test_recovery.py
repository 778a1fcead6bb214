from datetime import timedelta

import pytest
from django.utils import timezone

from analyses.models import Analysis
from analyses.services import maintenance
from analyses.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("analyses.services.pipeline.analysis_enqueue", lambda *, analysis_id: calls.append(analysis_id))
    return calls


def ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def pending(**fields):
    return AnalysisFactory(status="pending", score=None, **fields)


def test_a_pending_analysis_whose_task_was_lost_is_queued_again_once(enqueued, settings):
    settings.ANALYSIS_STUCK_AFTER_SECONDS = 300
    lost = pending(queued_at=ago(600))
    assert maintenance.analyses_recover_stuck() == {"requeued": 1, "failed": 0}
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 0}
    assert enqueued == [lost.pk]


def test_a_recently_queued_analysis_in_a_long_backlog_is_left_in_the_queue(enqueued, settings):
    settings.ANALYSIS_STUCK_AFTER_SECONDS = 300
    pending(created_at=ago(3600), queued_at=ago(10))  # retried with backoff a moment ago
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 0}
    assert enqueued == []


def test_a_processing_analysis_whose_lease_ran_out_is_queued_again(enqueued):
    dead = AnalysisFactory(status="processing", score=None, lease_until=ago(1), attempts=1)
    assert maintenance.analyses_recover_stuck()["requeued"] == 1
    dead.refresh_from_db()
    assert dead.status == "pending" and dead.lease_until is None
    assert enqueued == [dead.pk]


def test_a_processing_analysis_within_its_lease_is_left_alone(enqueued):
    AnalysisFactory(status="processing", score=None, lease_until=timezone.now() + timedelta(seconds=60))
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 0}


def test_an_analysis_out_of_attempts_fails_with_a_code_instead_of_looping(enqueued, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 3
    worn = AnalysisFactory(status="processing", score=None, lease_until=ago(1), attempts=3)
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 1}
    worn.refresh_from_db()
    assert worn.status == Analysis.Status.FAILED and worn.error_code == "too_many_attempts"
    assert enqueued == []
