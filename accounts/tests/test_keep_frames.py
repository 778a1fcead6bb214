"""`keep_frames` off: a frame is deleted as soon as its analysis is final; results stay (issue 18)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.ownership_helpers import ANALYSES, client_for
from analyses.models import Analysis
from analyses.services import maintenance, pipeline
from analyses.tests.factories import AnalysisFactory, submission

pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/v1/auth/me/"


def stored_analysis(user, **fields) -> Analysis:
    analysis = AnalysisFactory(user=user, **fields)
    analysis.frame.save(f"{analysis.pk}.png", ContentFile(b"not really a png"), save=True)
    return analysis


def test_a_dancer_turns_keep_frames_off_and_on_through_patch_me(settings):
    user = UserFactory()
    client = client_for(user)
    assert client.get(ME).json()["keep_frames"] is True  # KEEP_FRAMES_DEFAULT
    response = client.patch(ME, {"keep_frames": False}, format="json")
    assert response.status_code == 200 and response.json()["keep_frames"] is False
    assert User.objects.get(pk=user.pk).keep_frames is False


def test_the_default_comes_from_the_setting(settings):
    settings.KEEP_FRAMES_DEFAULT = False
    assert UserFactory().keep_frames is False


def test_with_keep_frames_off_the_frame_is_gone_when_the_analysis_completes_and_the_cache_still_hits(settings):
    user = UserFactory(keep_frames=False)
    client = client_for(user)
    body = submission()

    first = client.post(ANALYSES, body, format="json").json()
    analysis = Analysis.objects.get(pk=first["id"])
    assert analysis.status == "completed" and analysis.frame == ""
    assert analysis.frame_sha256 and analysis.keypoints and analysis.score is not None
    assert not [p for p in (settings.MEDIA_ROOT / "frames").rglob("*") if p.is_file()]

    again = client.post(ANALYSES, body, format="json").json()
    repeat = Analysis.objects.get(pk=again["id"])
    assert repeat.cached and repeat.status == "completed" and repeat.score == analysis.score
    assert repeat.frame == ""  # final at once: never stored


def test_with_keep_frames_on_the_frame_stays():
    user = UserFactory(keep_frames=True)
    first = client_for(user).post(ANALYSES, submission(), format="json").json()
    analysis = Analysis.objects.get(pk=first["id"])
    assert analysis.status == "completed" and analysis.frame.storage.exists(analysis.frame.name)


def test_with_keep_frames_off_the_frame_is_gone_when_the_analysis_fails():
    user = UserFactory(keep_frames=False)
    analysis = stored_analysis(user, status=Analysis.Status.PROCESSING, score=None)
    name, storage = analysis.frame.name, analysis.frame.storage
    assert storage.exists(name)

    assert pipeline.analysis_fail(analysis_id=analysis.pk, code="no_pose", message="No dancer in the frame.")

    analysis.refresh_from_db()
    assert analysis.status == "failed" and analysis.frame == "" and not storage.exists(name)


def test_with_keep_frames_off_the_recovery_job_giving_up_deletes_the_frame(settings):
    user = UserFactory(keep_frames=False)
    long_ago = timezone.now() - timedelta(hours=1)
    analysis = stored_analysis(
        user,
        status=Analysis.Status.PENDING,
        score=None,
        attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        queued_at=long_ago,
        created_at=long_ago,
    )
    name, storage = analysis.frame.name, analysis.frame.storage

    assert maintenance.analyses_recover_stuck()["failed"] == 1

    analysis.refresh_from_db()
    assert analysis.status == "failed" and analysis.frame == "" and not storage.exists(name)


def test_a_pending_analysis_keeps_its_frame_until_it_is_final():
    user = UserFactory(keep_frames=False)
    analysis = stored_analysis(user, status=Analysis.Status.PENDING, score=None)
    assert pipeline.frame_discard_if_unwanted(analysis_id=analysis.pk) is False
    analysis.refresh_from_db()
    assert analysis.frame.storage.exists(analysis.frame.name)
