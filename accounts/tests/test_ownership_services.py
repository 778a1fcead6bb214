"""Issue 18 on PostgreSQL, Redis and a real Celery worker (services half of `make test`)."""

import io
import json
import time
import zipfile

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import DataExport, User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.ownership_helpers import ANALYSES, client_for, rows_referencing_user
from analyses.models import Analysis
from analyses.tests.factories import frame_b64, pose_keypoints, submission
from playlists.models import Playlist

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ME = "/api/v1/auth/me/"
EXPORT = "/api/v1/auth/me/export/"


def wait_for(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not done after {timeout}s")


def submit_and_wait(client, n: int, shade: int = 0) -> list[Analysis]:
    ids = []
    for i in range(n):
        body = submission(timestamp=2.0 + i, user_frame=frame_b64(pose_keypoints(), fmt="PNG", shade=shade + i))
        response = client.post(ANALYSES, body, format="json")
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    return wait_for(
        lambda: (rows := list(Analysis.objects.filter(pk__in=ids))) and all(r.is_final for r in rows) and rows
    )


def test_a_worker_completes_a_dancers_analyses_exports_them_and_then_the_account_is_deleted(make_worker):
    make_worker(concurrency=1)
    dancer, other = UserFactory(), UserFactory()
    client = client_for(dancer)
    mine = submit_and_wait(client, 2)
    theirs = submit_and_wait(client_for(other), 1, shade=100)
    Playlist.objects.create(owner=dancer, name="Public", is_public=True)
    storage = Analysis._meta.get_field("frame").storage
    names = [a.frame.name for a in mine]
    assert all(storage.exists(n) for n in names)
    refresh = RefreshToken.for_user(dancer)

    assert client.post(EXPORT).status_code == 202
    ready = wait_for(lambda: (body := client.get(EXPORT).json())["status"] == "ready" and body)
    response = client.get(ready["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    exported = json.loads(archive.read("analyses.json"))
    assert sorted(a["id"] for a in exported) == sorted(str(a.pk) for a in mine)
    assert len([n for n in archive.namelist() if n.startswith("frames/")]) == 2
    export_name = DataExport.objects.get(user=dancer).file.name

    assert client.delete(ME, {"password": PASSWORD}, format="json").status_code == 204

    assert rows_referencing_user(dancer.pk) == {}
    assert not any(storage.exists(n) for n in names) and not storage.exists(export_name)
    assert not Playlist.objects.filter(name="Public").exists()
    assert client.get(ME).status_code == 401
    assert client.post("/api/v1/auth/refresh/", {"refresh_token": str(refresh)}, format="json").status_code == 401
    assert Analysis.objects.filter(pk=theirs[0].pk).exists() and User.objects.filter(pk=other.pk).exists()


def test_with_keep_frames_off_a_worker_deletes_the_frame_when_the_analysis_completes(make_worker):
    make_worker(concurrency=1)
    dancer = UserFactory(keep_frames=False)
    client = client_for(dancer)
    body = submission()
    first = client.post(ANALYSES, body, format="json").json()
    done = wait_for(lambda: (a := Analysis.objects.get(pk=first["id"])).is_final and a)
    assert done.status == "completed" and done.frame == "" and done.frame_sha256

    again = client.post(ANALYSES, body, format="json")
    assert again.status_code == 201 and again.json()["cached"] is True
    assert Analysis.objects.get(pk=again.json()["id"]).frame == ""
