"""The shared catalogue's titles come from staff; a dancer's title stays on their playlist item."""

import pytest

from playlists.models import Video
from playlists.tests.factories import PlaylistFactory, VideoFactory

pytestmark = pytest.mark.django_db

VIDEOS = "/api/v1/videos/"
URL = "https://youtu.be/dQw4w9WgXcQ"


def add(client, playlist, **body):
    return client.post(f"/api/v1/playlists/{playlist.pk}/videos/", body, format="json")


def test_it_refuses_a_dancers_title_for_a_shared_video(auth_client):
    VideoFactory(youtube_id="dQw4w9WgXcQ", title="")  # created untitled by a session, as most are
    response = auth_client.post(VIDEOS, {"youtube_url": URL, "title": "Cheap followers at evil.example"}, format="json")
    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("title_staff_only", "title")]
    assert Video.objects.get().title == ""


def test_it_lets_a_dancer_add_a_video_without_a_title(auth_client):
    assert auth_client.post(VIDEOS, {"youtube_url": URL, "title": ""}, format="json").status_code == 201


def test_it_lets_staff_name_an_untitled_video(staff_client):
    VideoFactory(youtube_id="dQw4w9WgXcQ", title="")
    assert staff_client.post(VIDEOS, {"youtube_url": URL, "title": "Salsa basics"}, format="json").status_code == 200
    assert Video.objects.get().title == "Salsa basics"


def test_it_keeps_a_title_typed_into_a_private_playlist_on_that_item_only(auth_client, make_auth_client):
    private = PlaylistFactory(owner=auth_client.user, is_public=False)
    assert add(auth_client, private, youtube_url=URL, title="secret plans for the wedding").status_code == 201
    item = auth_client.get(f"/api/v1/playlists/{private.pk}/").json()["videos"][0]
    assert item["title"] == "secret plans for the wedding"
    assert item["video"]["title"] == ""

    stranger = make_auth_client()
    assert stranger.get(VIDEOS, {"search": "secret"}).json()["results"] == []
    assert [video["title"] for video in stranger.get(VIDEOS).json()["results"]] == [""]


def test_it_shows_each_public_playlist_its_owners_title_and_the_catalogues(auth_client, make_auth_client):
    video = VideoFactory(youtube_id="dQw4w9WgXcQ", title="Official routine")
    mine = PlaylistFactory(owner=auth_client.user, is_public=True)
    add(auth_client, mine, video_id=video.pk, title="My warm-up")
    theirs_client = make_auth_client()
    theirs = PlaylistFactory(owner=theirs_client.user, is_public=True)
    add(theirs_client, theirs, video_id=video.pk, title="Cheap followers at evil.example")

    item = auth_client.get(f"/api/v1/playlists/{mine.pk}/").json()["videos"][0]
    assert (item["title"], item["video"]["title"]) == ("My warm-up", "Official routine")
    assert Video.objects.get().title == "Official routine"
