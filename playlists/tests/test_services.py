import threading

import pytest
from django.db import connection
from django.db.models import Max

from config.errors import ApplicationError
from playlists import services
from playlists.models import PlaylistItem, Video
from playlists.tests.factories import PlaylistFactory, VideoFactory, playlist_with_videos

pytestmark = pytest.mark.django_db


def order(playlist):
    return list(PlaylistItem.objects.filter(playlist=playlist).order_by("position").values_list("video_id", "position"))


def test_reorder_can_swap_neighbours_and_reverse_without_tripping_the_unique_position():
    playlist = playlist_with_videos(5)
    ids = [v for v, _ in order(playlist)]
    services.playlist_reorder(playlist=playlist, video_ids=[ids[1], ids[0], *ids[2:]])
    assert order(playlist) == [(v, i) for i, v in enumerate([ids[1], ids[0], *ids[2:]])]
    services.playlist_reorder(playlist=playlist, video_ids=list(reversed(ids)))
    assert order(playlist) == [(v, i) for i, v in enumerate(reversed(ids))]


def test_inserting_and_removing_anywhere_keeps_positions_0_to_n_minus_1():
    playlist = PlaylistFactory()
    videos = [VideoFactory() for _ in range(8)]
    for position, video in zip([None, 0, 1, 0, 99, 2, None, 3], videos, strict=True):
        services.playlist_item_add(playlist=playlist, video=video, position=position)
        positions = [p for _, p in order(playlist)]
        assert positions == list(range(len(positions)))
    for video in (videos[3], videos[0], videos[7]):
        services.playlist_item_remove(playlist=playlist, video=video)
        positions = [p for _, p in order(playlist)]
        assert positions == list(range(len(positions)))
    assert PlaylistItem.objects.aggregate(m=Max("position"))["m"] == 4


def test_a_duplicate_caught_only_by_the_database_is_still_a_duplicate_video(monkeypatch):
    playlist = playlist_with_videos(1)
    video = playlist.items.get().video
    real_filter = PlaylistItem.objects.filter

    class NoDuplicateSeen:
        def exists(self):
            return False

    def filter_missing_the_duplicate(*args, **kwargs):
        if "video" in kwargs:
            return NoDuplicateSeen()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(PlaylistItem.objects, "filter", filter_missing_the_duplicate)
    with pytest.raises(ApplicationError) as caught:
        services.playlist_item_add(playlist=playlist, video=video)
    assert caught.value.code == "duplicate_video"


def test_a_video_created_meanwhile_by_someone_else_is_returned_not_duplicated(monkeypatch):
    existing = VideoFactory(youtube_id="dQw4w9WgXcQ", title="")
    # The first look misses the row, as when another request inserts it just after.
    monkeypatch.setattr(services, "_video_find", lambda youtube_id: None)
    video, created = services.video_get_or_create(youtube_url="https://youtu.be/dQw4w9WgXcQ", title="Late title")
    assert (video.pk, created) == (existing.pk, False)
    assert Video.objects.get().title == "Late title"


def test_an_invalid_url_is_an_application_error_on_youtube_url():
    with pytest.raises(ApplicationError) as caught:
        services.video_get_or_create(youtube_url="https://vimeo.com/1")
    assert (caught.value.code, caught.value.field) == ("invalid_youtube_url", "youtube_url")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_for_a_new_video_get_one_row(make_auth_client, monkeypatch):
    assert connection.vendor == "postgresql"
    clients = [make_auth_client(), make_auth_client()]
    both_looked = threading.Barrier(2, timeout=10)
    real_find = services._video_find

    def find_then_wait(youtube_id):
        found = real_find(youtube_id)
        both_looked.wait()  # neither has inserted yet: both go on to insert
        return found

    monkeypatch.setattr(services, "_video_find", find_then_wait)
    urls = ["https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ"]
    responses = [None, None]

    def post(i):
        try:
            responses[i] = clients[i].post("/api/v1/videos/", {"youtube_url": urls[i]}, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert Video.objects.filter(youtube_id="dQw4w9WgXcQ").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_to_one_playlist_keep_positions_contiguous():
    assert connection.vendor == "postgresql"
    playlist = PlaylistFactory()
    videos = [VideoFactory() for _ in range(8)]
    start = threading.Barrier(len(videos), timeout=10)
    failures = []

    def add(video):
        try:
            start.wait()
            services.playlist_item_add(playlist=playlist, video=video, position=0)
        except Exception as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(v,)) for v in videos]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failures == []
    assert [p for _, p in order(playlist)] == list(range(len(videos)))


def test_a_full_playlist_of_500_videos_can_be_reversed_and_added_to_at_the_front(settings):
    playlist = PlaylistFactory()
    videos = Video.objects.bulk_create([Video(youtube_id=f"bulk{i:07d}") for i in range(settings.PLAYLIST_MAX_ITEMS)])
    PlaylistItem.objects.bulk_create(
        [PlaylistItem(playlist=playlist, video=v, position=i) for i, v in enumerate(videos[:-1])]
    )
    services.playlist_item_add(playlist=playlist, video=videos[-1], position=0)
    assert order(playlist)[0] == (videos[-1].pk, 0)
    ids = [v for v, _ in order(playlist)]
    services.playlist_reorder(playlist=playlist, video_ids=list(reversed(ids)))
    assert order(playlist) == [(v, i) for i, v in enumerate(reversed(ids))]
