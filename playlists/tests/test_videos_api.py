import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from playlists.models import Video
from playlists.services import reference_track_import
from playlists.tests.factories import VideoFactory, fps_document, random_track
from playlists.tests.helpers import assert_error, errors_of

pytestmark = pytest.mark.django_db

VIDEOS = "/api/v1/videos/"
ID = "dQw4w9WgXcQ"

ACCEPTED = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", ID),
    ("http://youtube.com/watch?v=dQw4w9WgXcQ", ID),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ", ID),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share", ID),
    ("https://www.youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ", ID),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", ID),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ#t=1m2s", ID),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL0123456789&index=3", ID),
    ("https://youtu.be/dQw4w9WgXcQ", ID),
    ("https://youtu.be/dQw4w9WgXcQ?t=10&si=AbCdEf", ID),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", ID),
    ("https://youtube.com/shorts/dQw4w9WgXcQ?feature=share", ID),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ?start=5&autoplay=1", ID),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ/", ID),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", ID),
    ("https://youtube-nocookie.com/embed/dQw4w9WgXcQ", ID),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=xyz", ID),
    ("https://www.youtube.com/v/dQw4w9WgXcQ", ID),
    ("HTTPS://WWW.YouTube.COM/watch?v=dQw4w9WgXcQ", ID),
    ("https://YOUTU.BE/dQw4w9WgXcQ", ID),
    ("https://www.youtube.com:443/watch?v=dQw4w9WgXcQ", ID),
    ("www.youtube.com/watch?v=dQw4w9WgXcQ", ID),
    ("  https://youtu.be/dQw4w9WgXcQ  ", ID),
    ("https://youtu.be/a-b_c-d_e-F", "a-b_c-d_e-F"),
    ("https://www.youtube.com/watch?v=Ab_9-Ab_9-Z", "Ab_9-Ab_9-Z"),
]

REFUSED = [
    "https://www.youtube.com.example.org/watch?v=dQw4w9WgXcQ",
    "https://notyoutube.com/watch?v=dQw4w9WgXcQ",
    "https://youtube.com.evil.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be.evil.com/dQw4w9WgXcQ",
    "https://youtube.co/watch?v=dQw4w9WgXcQ",
    "https://vimeo.com/123456789",
    "https://www.youtube.com/channel/UC0123456789abcdefghij",
    "https://www.youtube.com/@dancer",
    "https://www.youtube.com/playlist?list=PL0123456789",
    "https://music.youtube.com/playlist?list=PL0123456789",
    "https://www.youtube.com/watch?list=PL0123456789",
    "https://www.youtube.com/results?search_query=dance",
    "https://www.youtube.com/",
    "https://youtu.be/",
    "https://www.youtube.com/shorts/",
    "https://www.youtube.com/watch?v=dQw4w9WgXc",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQQ",
    "https://youtu.be/dQw4w9WgX$Q",
    "https://www.youtube.com/embed/dQw4w9WgXcQ/extra",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&pad=" + "a" * 2048,
    "https://youtube.com@evil.com/watch?v=dQw4w9WgXcQ",
    "https://evil.com@www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://www.youtube.com\\@evil.com/watch?v=dQw4w9WgXcQ",
    "https://www.youtube.com:8080/watch?v=dQw4w9WgXcQ",
    "ftp://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "javascript:alert(1)",
    "https://www.you tube.com/watch?v=dQw4w9WgXcQ",
    "https://www.youtube.com/watch?v=dQw4w9\nWgXcQ",
    "dQw4w9WgXcQ",
    "",
]


@pytest.mark.parametrize("url, youtube_id", ACCEPTED)
def test_post_videos_accepts_every_youtube_video_url_form(auth_client, url, youtube_id):
    r = auth_client.post(VIDEOS, {"youtube_url": url}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["youtube_id"] == youtube_id
    assert r.json()["url"] == f"https://www.youtube.com/watch?v={youtube_id}"


@pytest.mark.parametrize("url", REFUSED)
def test_post_videos_refuses_what_is_not_a_youtube_video_url(auth_client, url):
    r = auth_client.post(VIDEOS, {"youtube_url": url}, format="json")
    code = "blank" if url == "" else "invalid_youtube_url"
    assert_error(r, 400, code, "youtube_url")
    assert Video.objects.count() == 0


def test_the_url_table_has_at_least_25_forms_each_way():
    assert len(ACCEPTED) >= 25 and len(REFUSED) >= 25


@pytest.mark.parametrize("payload", [{}, {"youtube_url": None}, {"youtube_url": 12345}, {"youtube_url": ["x"]}])
def test_post_videos_refuses_a_missing_or_non_string_url(auth_client, payload):
    pairs = errors_of(auth_client.post(VIDEOS, payload, format="json"), 400)
    assert pairs[0][1] == "youtube_url"


def test_every_url_form_of_one_video_maps_to_the_same_row(auth_client):
    first = auth_client.post(VIDEOS, {"youtube_url": ACCEPTED[0][0]}, format="json")
    assert first.status_code == 201
    for url, _ in ACCEPTED[1:23]:
        again = auth_client.post(VIDEOS, {"youtube_url": url}, format="json")
        assert again.status_code == 200, url
        assert again.json()["id"] == first.json()["id"]
    assert Video.objects.count() == 1


def test_a_video_has_the_documented_shape(staff_client):
    auth_client = staff_client
    r = auth_client.post(VIDEOS, {"youtube_url": "https://youtu.be/dQw4w9WgXcQ", "title": " Dance "}, format="json")
    body = r.json()
    assert set(body) == {"id", "youtube_id", "url", "title", "duration", "has_reference", "created_at"}
    assert body["title"] == "Dance"
    assert body["has_reference"] is False
    assert body["duration"] is None
    assert auth_client.get(f"{VIDEOS}{body['id']}/").json() == body


def test_a_staff_title_fills_a_missing_one_and_never_overwrites(staff_client):
    auth_client = staff_client
    url = "https://youtu.be/dQw4w9WgXcQ"
    auth_client.post(VIDEOS, {"youtube_url": url}, format="json")
    assert auth_client.post(VIDEOS, {"youtube_url": url, "title": "First"}, format="json").json()["title"] == "First"
    assert auth_client.post(VIDEOS, {"youtube_url": url, "title": "Second"}, format="json").json()["title"] == "First"


def test_videos_need_authentication(api_client):
    assert_error(api_client.get(VIDEOS), 401, "not_authenticated")
    assert_error(api_client.post(VIDEOS, {"youtube_url": ACCEPTED[0][0]}, format="json"), 401, "not_authenticated")


def test_an_unknown_video_is_a_404_in_the_error_shape(auth_client):
    assert_error(auth_client.get(f"{VIDEOS}999999/"), 404, "not_found")


def test_the_video_list_is_paginated_newest_first(auth_client):
    videos = [VideoFactory() for _ in range(12)]
    body = auth_client.get(VIDEOS, {"limit": 5}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 12
    assert [v["id"] for v in body["results"]] == [v.pk for v in reversed(videos)][:5]
    assert body["next"] and body["previous"] is None


def test_search_matches_title_id_or_any_url_of_the_video(auth_client):
    salsa = VideoFactory(title="Salsa basics", youtube_id="SALSA000001")
    VideoFactory(title="Hip hop groove", youtube_id="HIPHOP00001")

    def ids(search):
        return [v["id"] for v in auth_client.get(VIDEOS, {"search": search}).json()["results"]]

    assert ids("salsa") == [salsa.pk]
    assert ids("SALSA000001") == [salsa.pk]
    assert ids("https://youtu.be/SALSA000001?t=3") == [salsa.pk]
    assert ids("tango") == []
    assert len(ids("")) == 2


def test_has_reference_turns_true_once_a_track_is_imported(auth_client):
    video = VideoFactory()
    assert auth_client.get(f"{VIDEOS}{video.pk}/").json()["has_reference"] is False
    reference_track_import(video=video, data=fps_document(random_track(10)))
    assert auth_client.get(f"{VIDEOS}{video.pk}/").json()["has_reference"] is True
    assert auth_client.get(VIDEOS).json()["results"][0]["has_reference"] is True


def test_the_video_list_runs_the_same_queries_for_one_or_many_videos(auth_client, django_assert_num_queries):
    first = VideoFactory()
    reference_track_import(video=first, data=fps_document(random_track(3)))
    with CaptureQueriesContext(connection) as one:
        assert auth_client.get(VIDEOS).status_code == 200
    for i in range(20):
        video = VideoFactory()
        if i % 3 == 0:
            reference_track_import(video=video, data=fps_document(random_track(3)))
    # user (JWT), page (a page shorter than its limit needs no COUNT)
    with django_assert_num_queries(2):
        body = auth_client.get(VIDEOS, {"limit": 100}).json()
    assert len(one.captured_queries) == 2
    assert len(body["results"]) == 21
    assert sum(v["has_reference"] for v in body["results"]) == 8
