"""Integers from query strings, paths and bodies are bounded before they reach the database."""

import pytest
from rest_framework.test import APIClient

from analyses.tests.factories import AnalysisFactory
from playlists.tests.factories import PlaylistFactory, PlaylistItemFactory

pytestmark = pytest.mark.django_db

HUGE = [2**63, 2**64, 10**30]


@pytest.fixture
def client(make_auth_client, settings):
    settings.RATELIMIT_ENABLE = False
    client = make_auth_client()
    client.analysis = AnalysisFactory(user=client.user)
    client.playlist = PlaylistFactory(owner=client.user)
    PlaylistItemFactory(playlist=client.playlist, video=client.analysis.video)
    return client


def list_paths(client) -> list[str]:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return [
        path
        for path, item in schema["paths"].items()
        if any(p["name"] == "offset" for p in item.get("get", {}).get("parameters", []))
    ]


@pytest.mark.parametrize("number", HUGE, ids=["2^63", "2^64", "10^30"])
def test_it_answers_an_empty_page_or_a_400_for_huge_offsets_and_limits(client, number):
    paths = list_paths(client)
    assert len(paths) >= 5
    for path in paths:
        for query in (f"offset={number}", f"limit={number}", f"limit={number}&offset={number}"):
            r = client.get(f"{path}?{query}")
            assert r.status_code in (200, 400), (path, query, r.status_code)
            if r.status_code == 200 and "offset" in query:
                assert r.json()["results"] == [], (path, query)


def test_it_answers_the_fuzzers_sessions_page_with_an_empty_page(client):
    r = client.get("/api/v1/sessions/?limit=17466190830466672640&offset=17466190830466672640")
    assert r.status_code == 200
    assert r.json()["results"] == []


@pytest.mark.parametrize("number", HUGE, ids=["2^63", "2^64", "10^30"])
def test_it_refuses_a_huge_video_filter_with_a_code(client, number):
    r = client.get(f"/api/v1/analyses/?video={number}")
    assert r.status_code == 400
    assert r.json()["errors"][0] == {"code": "invalid", "detail": r.json()["errors"][0]["detail"], "attr": "video"}


def test_it_still_filters_by_a_numeric_or_youtube_video_id(client):
    video = client.analysis.video
    for value in (video.pk, video.youtube_id):
        assert client.get(f"/api/v1/analyses/?video={value}").json()["count"] == 1


@pytest.mark.parametrize("number", HUGE, ids=["2^63", "2^64", "10^30"])
def test_it_answers_404_for_huge_ids_in_paths(client, number):
    playlist = client.playlist.pk
    for path in (
        f"/api/v1/videos/{number}/",
        f"/api/v1/playlists/{number}/",
        f"/api/v1/playlists/{playlist}/videos/{number}/",
    ):
        method = client.delete if path.count("/videos/") and "playlists" in path else client.get
        assert method(path).status_code == 404, path


@pytest.mark.parametrize("number", HUGE, ids=["2^63", "2^64", "10^30"])
def test_it_refuses_huge_ids_and_positions_in_bodies(client, number):
    playlist = f"/api/v1/playlists/{client.playlist.pk}"
    added = client.post(
        f"{playlist}/videos/", {"youtube_url": "https://youtu.be/aaaaaaaaaaa", "position": number}, format="json"
    )
    assert added.status_code == 400 and added.json()["errors"][0]["attr"] == "position"
    by_id = client.post(f"{playlist}/videos/", {"video_id": number}, format="json")
    assert by_id.status_code == 400 and by_id.json()["errors"][0]["attr"] == "video_id"
    reorder = client.post(f"{playlist}/reorder/", {"video_ids": [number]}, format="json")
    assert reorder.status_code == 400 and reorder.json()["errors"][0]["attr"].startswith("video_ids")
