"""DELETE auth/me/: the account and everything of theirs goes; their tokens are refused (issue 18)."""

import time

import pytest
from django.core.files.storage import FileSystemStorage
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import DataExport, DeletedSubject, ExternalIdentity, PendingFileDeletion, User
from accounts.ownership import files_cleanup
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.ownership_helpers import client_for, dancer_with_data, frame_names, rows_referencing_user
from accounts.tests.test_auth_api import assert_error
from analyses.models import Analysis, PracticeSession
from playlists.models import Playlist

pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/v1/auth/me/"
REFRESH = "/api/v1/auth/refresh/"


def frame_storage():
    return Analysis._meta.get_field("frame").storage


def test_it_deletes_the_account_and_everything_of_theirs_and_nothing_of_anyone_else():
    dancer, other = UserFactory(), UserFactory()
    dancer_with_data(dancer)
    dancer_with_data(other, shade=50)
    ExternalIdentity.objects.create(user=dancer, issuer="https://idp.example", subject="user_1")
    names = frame_names(dancer.pk)
    others_names = frame_names(other.pk)
    assert len(names) == 2 and all(frame_storage().exists(n) for n in names)
    refresh = RefreshToken.for_user(dancer)
    client = client_for(dancer)

    response = client.delete(ME, {"password": PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert rows_referencing_user(dancer.pk) == {}
    assert not User.objects.filter(pk=dancer.pk).exists()
    assert not any(frame_storage().exists(n) for n in names)
    assert not Playlist.objects.filter(name="Mine, public", owner_id=dancer.pk).exists()
    assert PendingFileDeletion.objects.count() == 0
    # The other dancer keeps everything.
    assert Analysis.objects.filter(user=other).count() == 2 and Playlist.objects.filter(owner=other).count() == 2
    assert all(frame_storage().exists(n) for n in others_names)
    # Every token is refused: the access token, the refresh token, and a second delete.
    assert client.get(ME).status_code == 401
    assert_error(client.post(REFRESH, {"refresh_token": str(refresh)}, format="json"), 401, "token_not_valid")
    assert client.delete(ME, {"password": PASSWORD}, format="json").status_code == 401


def test_a_wrong_or_missing_password_is_403_and_deletes_nothing():
    dancer = UserFactory()
    dancer_with_data(dancer, frames=1)
    client = client_for(dancer)
    assert_error(client.delete(ME, {"password": "not-it"}, format="json"), 403, "wrong_password")
    assert_error(client.delete(ME, {}, format="json"), 403, "wrong_password")
    assert User.objects.filter(pk=dancer.pk).exists()
    assert Analysis.objects.filter(user=dancer).count() == 1 and len(frame_names(dancer.pk)) == 1
    assert client.get(ME).status_code == 200


def test_storage_failing_leaves_no_row_and_the_files_are_retried_until_gone(monkeypatch):
    dancer = UserFactory()
    dancer_with_data(dancer)
    names = frame_names(dancer.pk)
    storage = frame_storage()

    def refuse(self, name):
        raise OSError("storage is down")

    with monkeypatch.context() as patched:
        patched.setattr(FileSystemStorage, "delete", refuse)
        response = client_for(dancer).delete(ME, {"password": PASSWORD}, format="json")
        assert files_cleanup()["files_remaining"] == 2  # still down: the beat job keeps them

    # Not "nothing left behind": the dancer is told files remain, and they do.
    assert response.status_code == 202, response.content
    assert response.json()["files_pending"] == 2
    assert rows_referencing_user(dancer.pk) == {}
    assert all(storage.exists(n) for n in names)
    assert sorted(PendingFileDeletion.objects.values_list("name", flat=True)) == sorted(names)

    assert files_cleanup()["files_remaining"] == 0
    assert not any(storage.exists(n) for n in names) and PendingFileDeletion.objects.count() == 0


def test_it_deletes_the_dancers_export_file_too(settings):
    dancer = UserFactory()
    dancer_with_data(dancer, frames=1)
    client = client_for(dancer)
    assert client.post("/api/v1/auth/me/export/").status_code == 202
    export = DataExport.objects.get(user=dancer)
    assert export.status == "ready" and export.file.storage.exists(export.file.name)
    name, storage = export.file.name, export.file.storage

    assert client.delete(ME, {"password": PASSWORD}, format="json").status_code == 204
    assert not storage.exists(name) and not DataExport.objects.exists()


def test_an_account_from_a_hosted_sign_in_deletes_with_a_fresh_token_and_stays_deleted(idp, bearer_client):
    token = idp.token("user_9", email="mai@example.com", email_verified=True)
    assert bearer_client(token).get(ME).status_code == 200
    user = User.objects.get(external_identities__subject="user_9")

    stale = idp.token("user_9", iat=int(time.time()) - 3600, nbf=int(time.time()) - 3600)
    assert_error(bearer_client(stale).delete(ME, format="json"), 403, "stale_token")
    assert User.objects.filter(pk=user.pk).exists()

    assert bearer_client(token).delete(ME, format="json").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists() and DeletedSubject.objects.count() == 1
    # The same token (issued before the deletion) makes no new account: it is refused.
    assert_error(bearer_client(token).get(ME), 401, "account_deleted")
    assert User.objects.count() == 0
    # A sign-in after the deletion is a new person's first sight: a new, empty account.
    later = idp.token("user_9", iat=int(time.time()) + 2)
    assert bearer_client(later).get(ME).status_code == 200
    assert User.objects.get().pk != user.pk


def test_a_deleted_dancers_sessions_and_analyses_are_gone_but_the_videos_stay():
    dancer = UserFactory()
    dancer_with_data(dancer, frames=1)
    video_ids = list(Analysis.objects.filter(user=dancer).values_list("video_id", flat=True))
    assert client_for(dancer).delete(ME, {"password": PASSWORD}, format="json").status_code == 204
    assert not PracticeSession.objects.exists() and not Analysis.objects.exists()
    from playlists.models import Video

    assert Video.objects.filter(pk__in=video_ids).count() == len(set(video_ids))


def test_wrong_passwords_count_as_failed_logins(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_email_ip": "2/5m"}
    dancer = UserFactory()
    client = client_for(dancer)
    for _ in range(2):
        assert_error(client.delete(ME, {"password": "guess"}, format="json"), 403, "wrong_password")
    # Refused before the password is checked: even the right one waits.
    assert client.delete(ME, {"password": PASSWORD}, format="json").status_code == 429
    assert User.objects.filter(pk=dancer.pk).exists()
