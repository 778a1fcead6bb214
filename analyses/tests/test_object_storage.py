"""Frames on S3-compatible object storage (django-storages against moto's in-process S3)."""

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone
from moto import mock_aws

from analyses.models import Analysis
from analyses.services import maintenance, pipeline
from analyses.tests.factories import AnalysisFactory, submission
from bench.fake_gemini import FakeGemini
from config.storage import storage_image_sources, storage_is_local

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "frames-test"
ANALYSES = "/api/v1/analyses/"
GOOD = {
    "score": 71,
    "good_points": ["Arms"],
    "improvements": ["Knees"],
    "advice": "Bend more.",
    "short_good_points": ["Arms"],
    "short_improvements": ["Knees"],
    "short_advice": "Bend",
}


@pytest.fixture
def bucket(settings):
    """Object storage as production configures it, on moto's in-process S3."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "region_name": "us-east-1",
                    "default_acl": None,
                    "querystring_auth": True,
                    "querystring_expire": 300,
                    "file_overwrite": False,
                    "signature_version": "s3v4",
                },
            },
        }
        yield client


def bucket_keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def local_files() -> list[str]:
    root = django_settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files] if os.path.isdir(root) else []


def test_it_stores_a_submitted_frame_in_the_bucket_and_nothing_on_local_disk(bucket, auth_client):
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert r.status_code in (201, 202), r.content
    analysis = Analysis.objects.get(pk=r.json()["id"])
    assert bucket_keys(bucket) == [analysis.frame.name]
    assert analysis.frame.name.startswith("frames/") and analysis.frame.name.endswith(f"{analysis.id}.jpg")
    assert local_files() == []


def test_a_gemini_worker_reads_the_frame_from_the_bucket(bucket, auth_client, settings):
    with FakeGemini() as fake:
        fake.script([("ok", "The instructor raises both arms."), ("ok", GOOD)])
        settings.GEMINI_API_KEY = "AIzaFAKE-STORAGE-KEY"
        settings.GEMINI_BASE_URL = fake.base_url
        r = auth_client.post(ANALYSES, submission(provider="gemini"), format="json")
        assert r.json()["status"] == "completed", r.content
        assert r.json()["score"] == 71
        assert any("inlineData" in json.dumps(req.body) for req in fake.requests)  # the frame was sent


def test_a_storage_outage_at_submission_is_a_503_in_the_error_shape_and_stores_no_row(bucket, auth_client, monkeypatch):
    def down(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="http://store.invalid")

    monkeypatch.setattr("storages.backends.s3.S3Storage._save", down)
    auth_client.raise_request_exception = False  # a 5xx is reported like a crash; the answer is what counts
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert r.status_code == 503, r.content
    assert r.json()["errors"][0]["code"] == "storage_unavailable"
    assert Analysis.objects.count() == 0 and bucket_keys(bucket) == []


def stored_gemini_analysis(settings) -> Analysis:
    settings.GEMINI_API_KEY = "AIzaFAKE-STORAGE-KEY"
    analysis = AnalysisFactory(provider="gemini", status=Analysis.Status.PENDING, score=None, keypoints=None)
    analysis.frame.save(f"{analysis.pk}.jpg", ContentFile(b"\xff\xd8 jpeg bytes"), save=True)
    return analysis


def test_a_storage_outage_while_reading_the_frame_is_transient_and_keeps_the_row(bucket, settings, monkeypatch):
    analysis = stored_gemini_analysis(settings)

    def down(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="http://store.invalid")

    monkeypatch.setattr("storages.backends.s3.S3Storage._open", down)
    outcome = pipeline.analysis_run(analysis_id=analysis.pk)
    assert outcome.status == Analysis.Status.PENDING and outcome.retry_in is not None
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code, analysis.attempts) == ("pending", "storage_unavailable", 1)
    assert analysis.frame.name in bucket_keys(bucket)  # frame and row both intact for the retry


def test_a_frame_gone_from_the_bucket_fails_the_analysis_with_its_code(bucket, settings):
    analysis = stored_gemini_analysis(settings)
    bucket.delete_object(Bucket=BUCKET, Key=analysis.frame.name)
    assert pipeline.analysis_run(analysis_id=analysis.pk).status == Analysis.Status.FAILED
    analysis.refresh_from_db()
    assert analysis.error_code == "frame_missing"


def test_the_pose_analyzer_never_downloads_the_frame(bucket, auth_client, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the pose analyzer read the frame")

    monkeypatch.setattr("storages.backends.s3.S3Storage._open", forbidden)
    r = auth_client.post(ANALYSES, submission(provider="pose"), format="json")
    assert r.json()["status"] == "completed", r.content


def test_the_admin_previews_a_frame_through_a_short_lived_presigned_link(bucket, admin_client, settings):
    analysis = stored_gemini_analysis(settings)
    assert not storage_is_local(analysis.frame.storage)
    page = admin_client.get(f"/admin/analyses/analysis/{analysis.pk}/change/").content.decode()
    assert f"{BUCKET}" in page and analysis.frame.name in page
    (img,) = re.findall(r'<img src="(https://[^"]+)"', page)  # the frame; the rest are the admin's icons
    assert img.startswith(f"https://{BUCKET}.s3.amazonaws.com/frames/")
    assert "X-Amz-Signature=" in page and "X-Amz-Expires=300" in page
    assert "data:image" not in page


def test_presigned_links_are_signed_for_the_public_endpoint_when_one_is_set(bucket, admin_client, settings):
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = "http://localhost:9000"
    analysis = stored_gemini_analysis(settings)
    page = admin_client.get(f"/admin/analyses/analysis/{analysis.pk}/change/").content.decode()
    assert 'src="http://localhost:9000/' in page and "X-Amz-Signature=" in page


def test_the_admin_may_load_images_from_the_store_and_nowhere_else():
    assert storage_image_sources(bucket="", endpoint=None, addressing_style=None) == []
    assert storage_image_sources(bucket="b", endpoint="http://localhost:9000", addressing_style="path") == [
        "http://localhost:9000"
    ]
    assert storage_image_sources(bucket="b", endpoint=None, addressing_style=None) == ["https://*.amazonaws.com"]


def test_purging_frames_deletes_their_objects_from_the_bucket(bucket, settings):
    old = stored_gemini_analysis(settings)
    Analysis.objects.filter(pk=old.pk).update(
        status=Analysis.Status.COMPLETED, score=50, created_at=timezone.now() - timezone.timedelta(days=40)
    )
    kept = stored_gemini_analysis(settings)
    summary = maintenance.frames_purge(older_than_days=30)
    assert (summary.purged, summary.missing_files) == (1, 0)
    assert summary.bytes_freed == len(b"\xff\xd8 jpeg bytes")
    assert bucket_keys(bucket) == [kept.frame.name]


def test_the_embedded_default_keeps_frames_on_local_disk_and_a_bucket_switches_to_object_storage():
    assert django_settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    script = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "o = s.STORAGES['default']; c = o['OPTIONS']['client_config'];"
        "print(json.dumps([o['BACKEND'], o['OPTIONS']['bucket_name'], o['OPTIONS']['endpoint_url'],"
        " o['OPTIONS']['default_acl'], o['OPTIONS']['querystring_expire'], c.retries, c.read_timeout,"
        " s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AWS_STORAGE_BUCKET_NAME": "frames",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_S3_PUBLIC_ENDPOINT_URL": "http://localhost:9000",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    backend, name, endpoint, acl, expire, retries, timeout, img_src = json.loads(out.stdout.splitlines()[-1])
    assert (backend, name, endpoint, acl, expire) == (
        "storages.backends.s3.S3Storage",
        "frames",
        "http://minio:9000",
        None,
        300,
    )
    assert retries == {"max_attempts": 3, "mode": "standard"} and timeout == 10.0
    assert img_src == ["'self'", "data:", "http://localhost:9000"]


def test_a_user_needs_no_bucket_to_submit_on_the_embedded_default(auth_client):
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert r.status_code in (201, 202)
    assert storage_is_local(Analysis.objects.get().frame.storage) and len(local_files()) == 1
