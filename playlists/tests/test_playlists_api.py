import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from playlists.models import Playlist, PlaylistItem
from playlists.services import reference_track_import
from playlists.tests.factories import (
    PlaylistFactory,
    VideoFactory,
    fps_document,
    playlist_with_videos,
    random_track,
)
from playlists.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

PLAYLISTS = "/api/v1/playlists/"


def detail_url(playlist_id):
    return f"{PLAYLISTS}{playlist_id}/"


def positions(body):
    """[(position, youtube_id)] of a playlist detail."""
    return [(item["position"], item["video"]["youtube_id"]) for item in body["videos"]]


def youtube_ids(body):
    return [item["video"]["youtube_id"] for item in body["videos"]]


def stored_order(playlist_id):
    return list(
        PlaylistItem.objects.filter(playlist_id=playlist_id).order_by("position").values_list("position", flat=True)
    )


def test_create_rename_add_remove_reorder_and_delete_keep_positions_contiguous(auth_client):
    r = auth_client.post(PLAYLISTS, {"name": "  Morning routine ", "description": "warm-up"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    pid = body["id"]
    assert body["name"] == "Morning routine"
    assert body["is_public"] is False and body["item_count"] == 0 and body["videos"] == []
    assert body["owner"] == {"id": auth_client.user.pk, "username": auth_client.user.username}

    body = auth_client.patch(detail_url(pid), {"name": "Evening routine"}, format="json").json()
    assert body["name"] == "Evening routine" and body["description"] == "warm-up"

    add = f"{detail_url(pid)}videos/"
    for vid in ("AAAAAAAAAAA", "BBBBBBBBBBB", "CCCCCCCCCCC"):
        r = auth_client.post(add, {"youtube_url": f"https://youtu.be/{vid}"}, format="json")
        assert r.status_code == 201, r.content
    body = r.json()
    assert positions(body) == [(0, "AAAAAAAAAAA"), (1, "BBBBBBBBBBB"), (2, "CCCCCCCCCCC")]
    assert body["item_count"] == 3

    body = auth_client.post(add, {"youtube_url": "https://youtu.be/DDDDDDDDDDD", "position": 1}, format="json").json()
    assert youtube_ids(body) == ["AAAAAAAAAAA", "DDDDDDDDDDD", "BBBBBBBBBBB", "CCCCCCCCCCC"]
    assert [p for p, _ in positions(body)] == [0, 1, 2, 3]

    body = auth_client.post(add, {"youtube_url": "https://youtu.be/EEEEEEEEEEE", "position": 0}, format="json").json()
    assert youtube_ids(body) == ["EEEEEEEEEEE", "AAAAAAAAAAA", "DDDDDDDDDDD", "BBBBBBBBBBB", "CCCCCCCCCCC"]

    existing = VideoFactory(youtube_id="FFFFFFFFFFF")
    body = auth_client.post(add, {"video_id": existing.pk, "position": 99}, format="json").json()
    assert youtube_ids(body)[-1] == "FFFFFFFFFFF"
    assert [p for p, _ in positions(body)] == [0, 1, 2, 3, 4, 5]

    video_ids = {item["video"]["youtube_id"]: item["video"]["id"] for item in body["videos"]}
    assert auth_client.delete(f"{add}{video_ids['DDDDDDDDDDD']}/").status_code == 204
    body = auth_client.get(detail_url(pid)).json()
    assert youtube_ids(body) == ["EEEEEEEEEEE", "AAAAAAAAAAA", "BBBBBBBBBBB", "CCCCCCCCCCC", "FFFFFFFFFFF"]
    assert [p for p, _ in positions(body)] == [0, 1, 2, 3, 4]

    assert auth_client.delete(f"{add}{video_ids['EEEEEEEEEEE']}/").status_code == 204
    assert stored_order(pid) == [0, 1, 2, 3]

    new_order = ["FFFFFFFFFFF", "CCCCCCCCCCC", "AAAAAAAAAAA", "BBBBBBBBBBB"]
    r = auth_client.post(f"{detail_url(pid)}reorder/", {"video_ids": [video_ids[v] for v in new_order]}, format="json")
    assert r.status_code == 200, r.content
    assert positions(r.json()) == list(enumerate(new_order))
    assert stored_order(pid) == [0, 1, 2, 3]

    body = auth_client.put(detail_url(pid), {"name": "Renamed", "is_public": True}, format="json").json()
    assert body["name"] == "Renamed" and body["is_public"] is True and youtube_ids(body) == new_order

    assert auth_client.delete(detail_url(pid)).status_code == 204
    assert_error(auth_client.get(detail_url(pid)), 404, "not_found")
    assert not PlaylistItem.objects.filter(playlist_id=pid).exists()


def test_a_detail_lists_items_in_order_with_the_documented_shape(auth_client):
    playlist = playlist_with_videos(3, owner=auth_client.user)
    body = auth_client.get(detail_url(playlist.pk)).json()
    assert set(body) == {
        "id", "name", "description", "is_public", "owner", "item_count", "created_at", "updated_at", "videos"
    }  # fmt: skip
    assert [item["position"] for item in body["videos"]] == [0, 1, 2]
    item = body["videos"][0]
    assert set(item) == {"position", "title", "video", "added_at"}
    assert set(item["video"]) == {"id", "youtube_id", "url", "title", "duration", "has_reference", "created_at"}


def test_adding_a_video_already_in_the_playlist_is_a_400_and_changes_nothing(auth_client):
    playlist = playlist_with_videos(2, owner=auth_client.user)
    video = playlist.items.get(position=1).video
    r = auth_client.post(f"{detail_url(playlist.pk)}videos/", {"video_id": video.pk, "position": 0}, format="json")
    assert_error(r, 400, "duplicate_video")
    r = auth_client.post(
        f"{detail_url(playlist.pk)}videos/", {"youtube_url": video.url.replace("www.", "m.")}, format="json"
    )
    assert_error(r, 400, "duplicate_video")
    assert playlist.items.count() == 2 and stored_order(playlist.pk) == [0, 1]


@pytest.mark.parametrize(
    "payload, code, attr",
    [
        ({}, "youtube_url_or_video_id", "non_field_errors"),
        (
            {"youtube_url": "https://youtu.be/dQw4w9WgXcQ", "video_id": "existing"},
            "youtube_url_or_video_id",
            "non_field_errors",
        ),
        ({"video_id": 999999}, "does_not_exist", "video_id"),
        ({"youtube_url": "https://vimeo.com/1"}, "invalid_youtube_url", "youtube_url"),
        ({"youtube_url": "https://youtu.be/dQw4w9WgXcQ", "position": -1}, "min_value", "position"),
        ({"youtube_url": "https://youtu.be/dQw4w9WgXcQ", "position": "first"}, "invalid", "position"),
    ],
)
def test_adding_refuses_bad_input_in_the_error_shape(auth_client, payload, code, attr):
    playlist = PlaylistFactory(owner=auth_client.user)
    if payload.get("video_id") == "existing":
        payload = {**payload, "video_id": VideoFactory().pk}
    assert_error(auth_client.post(f"{detail_url(playlist.pk)}videos/", payload, format="json"), 400, code, attr)
    assert playlist.items.count() == 0


@pytest.mark.parametrize(
    "order, code",
    [
        ([0, 1], "video_ids_mismatch"),  # one missing
        ([0, 1, 2, "extra"], "video_ids_mismatch"),
        ([0, 1, 1, 2], "duplicate_video"),
        ([], "video_ids_mismatch"),
    ],
)
def test_reorder_needs_exactly_the_current_videos(auth_client, order, code):
    playlist = playlist_with_videos(3, owner=auth_client.user)
    items = list(playlist.items.order_by("position"))
    extra = VideoFactory()
    video_ids = [extra.pk if i == "extra" else items[i].video_id for i in order]
    r = auth_client.post(f"{detail_url(playlist.pk)}reorder/", {"video_ids": video_ids}, format="json")
    assert_error(r, 400, code, "video_ids")
    assert [i.video_id for i in playlist.items.order_by("position")] == [i.video_id for i in items]


def test_removing_a_video_that_is_not_in_the_playlist_is_a_404(auth_client):
    playlist = playlist_with_videos(1, owner=auth_client.user)
    other = VideoFactory()
    assert_error(auth_client.delete(f"{detail_url(playlist.pk)}videos/{other.pk}/"), 404, "not_found")
    assert_error(auth_client.delete(f"{detail_url(playlist.pk)}videos/999999/"), 404, "not_found")


# --- Limits -------------------------------------------------------------------------------------


def test_a_name_longer_than_the_setting_is_refused(auth_client, settings):
    assert_error(auth_client.post(PLAYLISTS, {"name": "x" * 101}, format="json"), 400, "max_length", "name")
    settings.PLAYLIST_NAME_MAX_LENGTH = 10
    assert_error(auth_client.post(PLAYLISTS, {"name": "x" * 11}, format="json"), 400, "max_length", "name")
    assert auth_client.post(PLAYLISTS, {"name": "x" * 10}, format="json").status_code == 201
    playlist = Playlist.objects.get()
    assert_error(auth_client.patch(detail_url(playlist.pk), {"name": "y" * 11}, format="json"), 400, "max_length")
    playlist.refresh_from_db()
    assert playlist.name == "x" * 10


@pytest.mark.parametrize("payload, code", [({}, "required"), ({"name": "   "}, "blank"), ({"name": None}, "null")])
def test_a_playlist_needs_a_name(auth_client, payload, code):
    assert_error(auth_client.post(PLAYLISTS, payload, format="json"), 400, code, "name")


def test_a_user_has_at_most_the_configured_number_of_playlists(auth_client, settings):
    settings.PLAYLISTS_PER_USER_MAX = 2
    PlaylistFactory(owner=auth_client.user)
    PlaylistFactory()  # someone else's does not count
    assert auth_client.post(PLAYLISTS, {"name": "second"}, format="json").status_code == 201
    assert_error(auth_client.post(PLAYLISTS, {"name": "third"}, format="json"), 400, "too_many_playlists")
    assert Playlist.objects.filter(owner=auth_client.user).count() == 2


def test_a_playlist_holds_at_most_the_configured_number_of_videos(auth_client, settings):
    settings.PLAYLIST_MAX_ITEMS = 3
    playlist = playlist_with_videos(3, owner=auth_client.user)
    r = auth_client.post(
        f"{detail_url(playlist.pk)}videos/", {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"}, format="json"
    )
    assert_error(r, 400, "playlist_full")
    assert playlist.items.count() == 3


def test_the_default_limits_are_the_documented_ones(settings):
    assert settings.PLAYLIST_MAX_ITEMS == 500
    assert settings.PLAYLIST_NAME_MAX_LENGTH == 100


def test_a_long_description_is_refused(auth_client):
    r = auth_client.post(PLAYLISTS, {"name": "x", "description": "d" * 2001}, format="json")
    assert_error(r, 400, "max_length", "description")


# --- Who sees what: the 404/403 matrix ---------------------------------------------------------


def _endpoints(playlist, video_id):
    base = detail_url(playlist.pk)
    return [
        ("get", base, None),
        ("put", base, {"name": "hijacked"}),
        ("patch", base, {"name": "hijacked"}),
        ("delete", base, None),
        ("post", f"{base}videos/", {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"}),
        ("delete", f"{base}videos/{video_id}/", None),
        ("post", f"{base}reorder/", {"video_ids": [video_id]}),
    ]


def _call(client, method, url, payload):
    if payload is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, payload, format="json")


@pytest.mark.parametrize("index", range(7))
def test_someone_elses_private_playlist_is_a_404_on_every_verb(make_auth_client, index):
    owner, stranger = make_auth_client(), make_auth_client()
    playlist = playlist_with_videos(1, owner=owner.user, is_public=False)
    video_id = playlist.items.get().video_id
    method, url, payload = _endpoints(playlist, video_id)[index]
    assert_error(_call(stranger, method, url, payload), 404, "not_found")
    playlist.refresh_from_db()
    assert playlist.name != "hijacked" and playlist.items.count() == 1
    # The owner gets through on the same endpoint.
    assert _call(owner, method, url, payload).status_code in {200, 201, 204}


@pytest.mark.parametrize("index", range(7))
def test_someone_elses_public_playlist_is_readable_and_a_403_on_writes(make_auth_client, index):
    owner, stranger = make_auth_client(), make_auth_client()
    playlist = playlist_with_videos(1, owner=owner.user, is_public=True)
    video_id = playlist.items.get().video_id
    method, url, payload = _endpoints(playlist, video_id)[index]
    r = _call(stranger, method, url, payload)
    if method == "get":
        assert r.status_code == 200
        assert r.json()["videos"][0]["video"]["id"] == video_id
    else:
        assert_error(r, 403, "permission_denied")
    playlist.refresh_from_db()
    assert playlist.name != "hijacked" and playlist.items.count() == 1


@pytest.mark.parametrize("index", range(7))
def test_every_playlist_endpoint_needs_authentication(api_client, index):
    playlist = playlist_with_videos(1, is_public=True)
    method, url, payload = _endpoints(playlist, playlist.items.get().video_id)[index]
    assert_error(_call(api_client, method, url, payload), 401, "not_authenticated")


def test_an_unknown_playlist_is_a_404_on_every_verb(auth_client):
    ghost = Playlist(pk=999999)
    for method, url, payload in _endpoints(ghost, 1):
        assert_error(_call(auth_client, method, url, payload), 404, "not_found")


def test_the_list_shows_own_playlists_and_with_scope_public_everyones_public_ones(make_auth_client):
    me, other = make_auth_client(), make_auth_client()
    mine_private = PlaylistFactory(owner=me.user, is_public=False)
    mine_public = PlaylistFactory(owner=me.user, is_public=True)
    PlaylistFactory(owner=other.user, is_public=False)
    theirs_public = PlaylistFactory(owner=other.user, is_public=True)

    own = me.get(PLAYLISTS).json()
    assert {p["id"] for p in own["results"]} == {mine_private.pk, mine_public.pk}
    assert own["count"] == 2
    public = me.get(PLAYLISTS, {"scope": "public"}).json()
    assert {p["id"] for p in public["results"]} == {mine_public.pk, theirs_public.pk}
    assert_error(me.get(PLAYLISTS, {"scope": "everything"}), 400, "invalid_choice", "scope")


def test_list_items_carry_their_item_count_and_no_videos(auth_client):
    playlist_with_videos(4, owner=auth_client.user)
    item = auth_client.get(PLAYLISTS).json()["results"][0]
    assert item["item_count"] == 4
    assert "videos" not in item


def test_the_list_is_newest_change_first(auth_client):
    old = PlaylistFactory(owner=auth_client.user)
    new = PlaylistFactory(owner=auth_client.user)
    assert [p["id"] for p in auth_client.get(PLAYLISTS).json()["results"]] == [new.pk, old.pk]
    auth_client.post(f"{detail_url(old.pk)}videos/", {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"}, format="json")
    assert [p["id"] for p in auth_client.get(PLAYLISTS).json()["results"]] == [old.pk, new.pk]


# --- Fixed query counts ---------------------------------------------------------------------------


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("scope", ["own", "public"])
def test_the_playlist_list_runs_the_same_queries_for_one_or_many_playlists(make_auth_client, scope):
    client = make_auth_client()
    playlist_with_videos(1, owner=client.user, is_public=True)
    one = _queries(client, PLAYLISTS, {"scope": scope})
    for n in range(15):
        playlist_with_videos(n % 4 + 1, owner=client.user, is_public=True)
    many = _queries(client, PLAYLISTS, {"scope": scope, "limit": 100})
    # user (JWT), page with counts and owners (a page shorter than its limit needs no COUNT)
    assert one == many == 2


def test_a_playlist_detail_runs_the_same_queries_for_one_or_many_videos(auth_client):
    small = playlist_with_videos(1, owner=auth_client.user)
    big = playlist_with_videos(40, owner=auth_client.user)
    for item in big.items.all()[:10]:
        reference_track_import(video=item.video, data=fps_document(random_track(2)))
    one = _queries(auth_client, detail_url(small.pk))
    many = _queries(auth_client, detail_url(big.pk))
    assert one == many == 3  # user (JWT), playlist with count and owner, items with videos and has_reference
    body = auth_client.get(detail_url(big.pk)).json()
    assert len(body["videos"]) == 40
    assert sum(item["video"]["has_reference"] for item in body["videos"]) == 10


def test_it_refuses_a_reorder_longer_than_a_playlist_can_be_without_echoing_it(auth_client, settings):
    playlist = PlaylistFactory(owner=auth_client.user)
    response = auth_client.post(
        f"{detail_url(playlist.pk)}reorder/", {"video_ids": list(range(1, 800_001))}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "max_length"
    assert response.json()["errors"][0]["attr"] == "video_ids"
    assert len(response.content) < 500
