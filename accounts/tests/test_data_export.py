"""POST/GET auth/me/export/ and its download: a ZIP of everything of the dancer's, theirs only (issue 18)."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.exports import exports_expire
from accounts.models import DataExport, User
from accounts.tests.factories import UserFactory
from accounts.tests.ownership_helpers import client_for, dancer_with_data
from accounts.tests.test_auth_api import assert_error
from analyses.models import Analysis

pytestmark = pytest.mark.django_db(transaction=True)

EXPORT = "/api/v1/auth/me/export/"


def download(client, url) -> zipfile.ZipFile:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_has_every_analysis_and_frame_of_the_dancer_and_nothing_of_another():
    dancer, other = UserFactory(), UserFactory()
    mine = dancer_with_data(dancer, frames=3)
    theirs = dancer_with_data(other, frames=2, shade=90)
    client = client_for(dancer)

    started = client.post(EXPORT)
    assert started.status_code == 202, started.content
    body = client.get(EXPORT).json()
    assert body["status"] == "ready" and body["download_url"] and body["expires_at"]

    archive = download(client, body["download_url"])
    analyses = json.loads(archive.read("analyses.json"))
    assert sorted(a["id"] for a in analyses) == sorted(mine)
    assert not set(theirs) & {a["id"] for a in analyses}
    for row in analyses:
        stored = Analysis.objects.get(pk=row["id"])
        assert row["score"] == stored.score and row["keypoints"] == stored.keypoints
        with stored.frame.open("rb") as frame:
            assert archive.read(row["frame_file"]) == frame.read()
    frames = [name for name in archive.namelist() if name.startswith("frames/")]
    assert len(frames) == 3
    profile = json.loads(archive.read("profile.json"))
    assert profile["email"] == dancer.email and profile["keep_frames"] is True
    assert {p["name"] for p in json.loads(archive.read("playlists.json"))} == {"Mine, public", "Mine, private"}
    assert len(json.loads(archive.read("sessions.json"))) == 1
    assert other.email.encode() not in b"".join(archive.read(n) for n in archive.namelist())


def test_someone_elses_export_is_404():
    dancer, other = UserFactory(), UserFactory()
    client_for(dancer).post(EXPORT)
    url = client_for(dancer).get(EXPORT).json()["download_url"]
    assert_error(client_for(other).get(url), 404, "not_found")
    assert_error(client_for(other).get(EXPORT), 404, "not_found")


def test_the_link_expires(settings):
    dancer = UserFactory()
    client = client_for(dancer)
    client.post(EXPORT)
    url = client.get(EXPORT).json()["download_url"]
    export = DataExport.objects.get()
    name, storage = export.file.name, export.file.storage
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(client.get(url), 410, "export_expired")
    assert exports_expire() == 1  # the beat job deletes the file; the link keeps answering 410
    assert not storage.exists(name)
    assert_error(client.get(url), 410, "export_expired")
    assert client.get(EXPORT).json()["status"] == "expired"


def test_a_second_request_while_one_is_being_built_gets_the_same_job(monkeypatch):
    dancer = UserFactory()
    # No worker: the task is queued but never runs.
    monkeypatch.setattr("accounts.exports.data_export_build_task.delay", lambda export_id: None)
    client = client_for(dancer)
    first = client.post(EXPORT).json()
    second = client.post(EXPORT).json()
    assert first["id"] == second["id"] and second["status"] == "pending" and second["download_url"] is None
    assert DataExport.objects.count() == 1
    assert_error(client.get(f"{EXPORT}{first['id']}/download/"), 409, "export_not_ready")


def test_exports_are_rate_limited_per_dancer(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "data_export_user": "2/h"}
    client = client_for(UserFactory())
    assert [client.post(EXPORT).status_code for _ in range(3)] == [202, 202, 429]
    assert client.get(EXPORT).status_code == 200  # reading it is not limited


def test_nothing_to_read_before_the_first_export():
    assert_error(client_for(UserFactory()).get(EXPORT), 404, "not_found")


def test_on_an_object_store_that_signs_urls_the_download_redirects_there(monkeypatch):
    from django.core.files.storage import FileSystemStorage

    client = client_for(UserFactory())
    client.post(EXPORT)
    url = client.get(EXPORT).json()["download_url"]
    # As django-storages' S3 storage: signed, expiring URLs.
    monkeypatch.setattr(FileSystemStorage, "querystring_auth", True, raising=False)
    monkeypatch.setattr(
        FileSystemStorage, "url", lambda self, name, expire=None: f"https://s3.example/{name}?e={expire}"
    )
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("https://s3.example/exports/")
    assert response["Location"].endswith("?e=300")


def test_an_account_deleted_while_its_export_is_built_leaves_no_file(monkeypatch, settings):
    from accounts import exports
    from accounts.ownership import user_delete

    dancer = UserFactory()
    real_write = exports.export_write

    def write_then_delete(*, user, target):
        manifest = real_write(user=user, target=target)
        user_delete(user=User.objects.get(pk=user.pk))  # the dancer deletes the account meanwhile
        return manifest

    monkeypatch.setattr(exports, "export_write", write_then_delete)
    client_for(dancer).post(EXPORT)
    assert not DataExport.objects.exists()
    assert not [p for p in (settings.MEDIA_ROOT / "exports").rglob("*") if p.is_file()]
