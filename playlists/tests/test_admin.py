import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import UserFactory
from playlists.models import PlaylistItem, ReferencePoseTrack, Video
from playlists.services import reference_track_import
from playlists.tests.factories import VideoFactory, fps_document, playlist_with_videos, random_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_video_admin_lists_searches_and_shows_has_reference(admin_client):
    with_track = VideoFactory(title="Salsa basics")
    VideoFactory(title="Hip hop")
    reference_track_import(video=with_track, data=fps_document(random_track(3)))
    r = admin_client.get("/admin/playlists/video/", {"q": "salsa"})
    assert r.status_code == 200
    assert r.context["cl"].result_count == 1
    assert admin_client.get("/admin/playlists/video/", {"q": with_track.youtube_id}).context["cl"].result_count == 1
    assert admin_client.get("/admin/playlists/video/", {"has_reference": "no"}).context["cl"].result_count == 1


def test_a_video_can_be_added_in_the_admin_by_url(admin_client):
    r = admin_client.post("/admin/playlists/video/add/", {"youtube_id": "https://youtu.be/dQw4w9WgXcQ", "title": "x"})
    assert r.status_code == 302
    assert Video.objects.get().youtube_id == "dQw4w9WgXcQ"
    r = admin_client.post("/admin/playlists/video/add/", {"youtube_id": "https://vimeo.com/1", "title": "x"})
    assert r.status_code == 200 and "not a YouTube host" in r.content.decode()


def test_the_playlist_admin_shows_items_in_order(admin_client):
    playlist = playlist_with_videos(3)
    r = admin_client.get(f"/admin/playlists/playlist/{playlist.pk}/change/")
    assert r.status_code == 200
    inline = r.context["inline_admin_formsets"][0].formset
    assert [form.instance.position for form in inline.forms] == [0, 1, 2]
    assert admin_client.get("/admin/playlists/playlist/").status_code == 200


def test_removing_and_adding_items_in_the_admin_keeps_positions_contiguous(admin_client):
    playlist = playlist_with_videos(3)
    items = list(playlist.items.order_by("position"))
    new_video = VideoFactory()
    data = {
        "owner": playlist.owner_id,
        "name": playlist.name,
        "description": "",
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "3",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        data.update({f"items-{i}-id": item.pk, f"items-{i}-playlist": playlist.pk, f"items-{i}-video": item.video_id})
    data["items-0-DELETE"] = "on"
    data.update({"items-3-playlist": playlist.pk, "items-3-video": new_video.pk})
    r = admin_client.post(f"/admin/playlists/playlist/{playlist.pk}/change/", data)
    assert r.status_code == 302, r.context["errors"] if r.context else r
    stored = list(
        PlaylistItem.objects.filter(playlist=playlist).order_by("position").values_list("video_id", "position")
    )
    assert stored == [(items[1].video_id, 0), (items[2].video_id, 1), (new_video.pk, 2)]


def test_a_reference_track_is_uploaded_through_the_admin_form(admin_client):
    video = VideoFactory()
    upload = SimpleUploadedFile("routine.json", json.dumps(fps_document(random_track(15))).encode())
    r = admin_client.post("/admin/playlists/referenceposetrack/add/", {"video": video.pk, "file": upload})
    assert r.status_code == 302, r.content.decode()[:2000]
    track = ReferencePoseTrack.objects.get()
    assert (track.video, track.frame_count, track.source_filename) == (video, 15, "routine.json")
    page = admin_client.get(f"/admin/playlists/referenceposetrack/{track.pk}/change/").content.decode()
    assert track.sha256 in page
    assert 'name="data"' not in page
    assert admin_client.get("/admin/playlists/referenceposetrack/").status_code == 200


def test_a_bad_upload_in_the_admin_shows_the_frame_and_keeps_the_old_track(admin_client):
    video = VideoFactory()
    good, _ = reference_track_import(video=video, data=fps_document(random_track(4)))
    document = fps_document(random_track(6))
    document["frames"][5][3][3] = 2.0
    upload = SimpleUploadedFile("bad.json", json.dumps(document).encode())
    r = admin_client.post("/admin/playlists/referenceposetrack/add/", {"video": video.pk, "file": upload})
    assert r.status_code == 200
    assert "Frame 5, landmark 3" in r.content.decode()
    assert ReferencePoseTrack.objects.get().sha256 == good.sha256


def test_uploading_again_for_a_video_replaces_its_track(admin_client):
    video = VideoFactory()
    reference_track_import(video=video, data=fps_document(random_track(4)))
    upload = SimpleUploadedFile("new.json", json.dumps(fps_document(random_track(9))).encode())
    r = admin_client.post("/admin/playlists/referenceposetrack/add/", {"video": video.pk, "file": upload})
    assert r.status_code == 302
    assert ReferencePoseTrack.objects.get().frame_count == 9


def test_a_track_change_page_replaces_the_track_with_a_new_file_or_keeps_it_without_one(admin_client):
    video = VideoFactory()
    track, _ = reference_track_import(video=video, data=fps_document(random_track(4)))
    url = f"/admin/playlists/referenceposetrack/{track.pk}/change/"
    assert admin_client.post(url, {}).status_code == 302
    assert ReferencePoseTrack.objects.get().frame_count == 4
    upload = SimpleUploadedFile("v2.json", json.dumps(fps_document(random_track(7))).encode())
    assert admin_client.post(url, {"file": upload}).status_code == 302
    stored = ReferencePoseTrack.objects.get()
    assert (stored.pk, stored.video, stored.frame_count, stored.source_filename) == (track.pk, video, 7, "v2.json")
