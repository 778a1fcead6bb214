"""Every endpoint that takes an id answers 404 for another user's object.

The routes are enumerated from the URL configuration, so a new route with an id is tested as
soon as it exists, or fails here until it is given an owner's object below. Public playlists
are the one designed exception: readable by everyone, 403 on writes (playlists' own tests).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from analyses.models import Analysis, PracticeSession
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory
from playlists.models import Playlist
from playlists.tests.factories import PlaylistFactory, PlaylistItemFactory, VideoFactory

METHODS = ("get", "post", "put", "patch", "delete")
# Videos are shared by everyone (one row per YouTube video); the reference upload is staff-only.
# A video's leaderboard is public to every dancer (opted-in display names only, coaching tests).
SHARED = {
    "/api/v1/videos/<int:video_id>/",
    "/api/v1/videos/<int:video_id>/reference/",
    "/api/v1/videos/<int:video_id>/leaderboard/",
}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def routes_with_ids():
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and "<" in route:
            found.append(("/" + route, pattern))
    return found


def _methods(pattern):
    view = getattr(pattern.callback, "view_class", None)
    assert view is not None, f"{pattern} is not a class-based view"
    return [m for m in METHODS if m in view.http_method_names and hasattr(view, m)]


ROUTES = routes_with_ids()
CASES = [
    (route, method)
    for route, pattern in ROUTES
    if route.rstrip("/") + "/" not in SHARED  # each route also answers without its trailing slash
    for method in _methods(pattern)
]


def test_the_enumeration_finds_every_kind_of_id_route():
    routes = {route for route, _ in ROUTES}
    assert "/api/v1/sessions/<uuid:session_id>/" in routes
    assert "/api/v1/analyses/<uuid:analysis_id>/" in routes
    assert "/api/v1/playlists/<int:playlist_id>/videos/<int:video_id>/" in routes
    assert len(CASES) >= 10


@pytest.fixture
def owners_objects(db):
    """One owner's objects of every kind, and the values that put them in a URL."""
    video = VideoFactory()
    session = PracticeSessionFactory(video=video)
    owner = session.user
    analysis = AnalysisFactory(user=owner, session=session, video=video)
    playlist = PlaylistFactory(owner=owner, is_public=False)
    PlaylistItemFactory(playlist=playlist, video=video, position=0)
    export = _ready_export(owner)
    return {
        "owner": owner,
        "kwargs": {
            "session_id": str(session.pk),
            "analysis_id": str(analysis.pk),
            "playlist_id": playlist.pk,
            "video_id": video.pk,
            "export_id": str(export.pk),
        },
        "body": {"name": "taken over", "youtube_url": "https://youtu.be/dQw4w9WgXcQ", "video_ids": [video.pk]},
        "session": session,
        "analysis": analysis,
        "playlist": playlist,
    }


def _ready_export(owner):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from accounts.models import DataExport

    export = DataExport(user=owner, status=DataExport.Status.READY, expires_at=timezone.now() + timedelta(hours=1))
    export.file.save(f"{export.pk}.zip", ContentFile(b"PK\x05\x06" + bytes(18)), save=False)
    export.save()
    return export


def _url(route, kwargs):
    url = route
    for name, value in kwargs.items():
        for converter in ("int", "uuid", "str", "slug"):
            url = url.replace(f"<{converter}:{name}>", str(value))
    assert "<" not in url, f"give the owner an object for every id in {route}"
    return url


@pytest.mark.parametrize("route, method", CASES, ids=[f"{m.upper()} {r}" for r, m in CASES])
def test_another_users_id_is_a_404_on_every_route_and_verb(make_auth_client, owners_objects, route, method):
    intruder = make_auth_client()
    url = _url(route, owners_objects["kwargs"])
    kwargs = {"format": "json"} if method in ("post", "put", "patch") else {}
    args = (owners_objects["body"],) if method in ("post", "put", "patch") else ()
    r = getattr(intruder, method)(url, *args, **kwargs)
    assert r.status_code == 404, (method, url, r.status_code, r.content)
    assert r.json()["errors"][0]["code"] == "not_found"


def test_the_owners_objects_are_unchanged_after_every_attempt(make_auth_client, owners_objects):
    intruder = make_auth_client()
    for route, method in CASES:
        url = _url(route, owners_objects["kwargs"])
        if method in ("post", "put", "patch"):
            getattr(intruder, method)(url, owners_objects["body"], format="json")
        else:
            getattr(intruder, method)(url)
    session = PracticeSession.objects.get(pk=owners_objects["session"].pk)
    assert session.ended_at is None
    assert Analysis.objects.filter(pk=owners_objects["analysis"].pk).exists()
    playlist = Playlist.objects.get(pk=owners_objects["playlist"].pk)
    assert playlist.name == owners_objects["playlist"].name and playlist.items.count() == 1


def test_the_owner_reaches_the_same_urls(make_auth_client, owners_objects):
    owner = make_auth_client(owners_objects["owner"])
    for route, method in CASES:
        if method == "get":
            url = _url(route, owners_objects["kwargs"])
            assert owner.get(url).status_code == 200, url


def test_lists_and_filters_never_show_another_users_rows(make_auth_client, owners_objects):
    intruder = make_auth_client()
    session_id = owners_objects["kwargs"]["session_id"]
    assert intruder.get(f"/api/v1/analyses/?session={session_id}").json()["count"] == 0
    assert intruder.get("/api/v1/analysis/history").json()["count"] == 0
    assert intruder.get("/api/v1/sessions/").json()["count"] == 0
    assert intruder.get("/api/v1/playlists/").json()["count"] == 0
    assert intruder.get("/api/v1/playlists/?scope=public").json()["count"] == 0
    stats = intruder.get("/api/v1/stats/").json()
    assert stats["total_analyses"] == 0 and stats["total_sessions"] == 0 and stats["videos"] == []
