"""The pipeline on PostgreSQL, Redis and a real Celery worker (services half of `make test`)."""

import os
import signal
import subprocess
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from analyses import analyzing
from analyses.models import Analysis
from analyses.services import maintenance
from analyses.tests.factories import GEMINI_ANSWER, analysis_wait_final, frame_b64, submission
from bench.fake_gemini import FakeGemini

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANALYSES = "/api/v1/analyses/"
GOOD = {**GEMINI_ANSWER, "score": 66}


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_a_real_worker_completes_a_queued_analysis_and_wait_wakes_up(celery_worker):
    client = client_for(UserFactory())
    r = client.post(ANALYSES, submission(), format="json")
    assert r.status_code == 202, r.content
    analysis_id = r.json()["id"]
    polled = client.get(f"{ANALYSES}{analysis_id}/?wait=20")
    assert polled.json()["status"] == "completed"
    assert polled.json()["score"] is not None


def test_twenty_concurrent_identical_submissions_make_one_analyzer_call(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    calls = []
    real = analyzing.analyze

    def slow_counting(*, analysis):
        calls.append(analysis.pk)
        time.sleep(0.3)  # long enough for the others to pile up behind the single flight
        return real(analysis=analysis)

    monkeypatch.setattr(analyzing, "analyze", slow_counting)
    user = UserFactory()
    body = submission()
    statuses = []

    def submit():
        try:
            statuses.append(client_for(user).post(ANALYSES, body, format="json").json()["status"])
        finally:
            close_old_connections()

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analysis_user": "100/m"}
    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == ["completed"] * 20
    assert len(calls) == 1
    assert Analysis.objects.filter(cached=True).count() == 19


@pytest.fixture
def slow_fake():
    with FakeGemini(delay=4.0) as server:
        server.default = ("ok", GOOD)
        yield server


def worker_children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_worker_killed_mid_analysis_leaves_it_to_complete_on_redelivery(make_worker, slow_fake, settings):
    worker = make_worker(
        GEMINI_API_KEY="AIzaFAKE-KILL",
        GEMINI_BASE_URL=slow_fake.base_url,
        GEMINI_TIMEOUT_SECONDS="10",
        CELERY_TASK_TIME_LIMIT="8",
        CELERY_TASK_SOFT_TIME_LIMIT="7",
    )
    settings.GEMINI_API_KEY = "AIzaFAKE-KILL"
    settings.CELERY_TASK_TIME_LIMIT = 8
    client = client_for(UserFactory())
    r = client.post(ANALYSES, submission(provider="gemini", user_frame=frame_b64(fmt="PNG")), format="json")
    analysis_id = r.json()["id"]
    deadline = time.monotonic() + 20
    while Analysis.objects.get(pk=analysis_id).status != "processing":
        assert time.monotonic() < deadline, "never started"
        time.sleep(0.1)
    time.sleep(0.5)
    for child in worker_children(worker.pid):
        os.kill(child, signal.SIGKILL)  # the process running the task dies mid-call
    analysis = analysis_wait_final(analysis_id, timeout=90)
    assert analysis.status == "completed", (analysis.error_code, analysis.error_message)
    assert analysis.score == 66
    assert analysis.attempts >= 2


def test_recovery_requeues_an_analysis_whose_lease_ran_out(celery_worker):
    user = UserFactory()
    client = client_for(user)
    settings_backup = django_settings.CELERY_TASK_ALWAYS_EAGER
    r = client.post(ANALYSES, submission(), format="json")
    analysis_id = r.json()["id"]
    analysis_wait_final(analysis_id)
    # Simulate a worker that died holding it: processing with an expired lease.
    from django.utils import timezone

    Analysis.objects.filter(pk=analysis_id).update(
        status="processing", lease_until=timezone.now() - timezone.timedelta(seconds=1), score=None
    )
    assert maintenance.analyses_recover_stuck()["requeued"] == 1
    assert analysis_wait_final(analysis_id).status == "completed"
    assert django_settings.CELERY_TASK_ALWAYS_EAGER == settings_backup
