"""Every route of the schema answers the same with or without its trailing slash."""

import re

import pytest
from django.db import transaction

from accounts.models import DataExport
from accounts.tests.factories import UserFactory
from analyses.tests.factories import AnalysisFactory
from playlists.tests.factories import PlaylistFactory, PlaylistItemFactory

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def world(make_auth_client, settings):
    settings.RATELIMIT_ENABLE = False
    client = make_auth_client(UserFactory(is_staff=True))
    analysis = AnalysisFactory(user=client.user)
    playlist = PlaylistFactory(owner=client.user)
    PlaylistItemFactory(playlist=playlist, video=analysis.video)
    # Being built: POST auth/me/export/ answers this same job both times (issue 18).
    export = DataExport.objects.create(user=client.user)
    client.ids = {
        "video_id": analysis.video_id,
        "playlist_id": playlist.pk,
        "session_id": analysis.session_id,
        "analysis_id": analysis.pk,
        "export_id": export.pk,
    }
    return client


def operations(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return [(path, method) for path, item in schema["paths"].items() for method in METHODS if method in item]


def without_times(value):
    """The body with its timestamps masked: a write made twice is made at two moments."""
    if isinstance(value, dict):
        return {key: without_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_times(item) for item in value]
    return "<time>" if isinstance(value, str) and TIME.match(value) else value


def answer(client, method: str, url: str):
    # Each call is rolled back, so a write or a delete meets the same rows both times.
    with transaction.atomic():
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        transaction.set_rollback(True)
    body = response.json() if response.get("Content-Type", "").startswith("application/json") else response.content
    return response.status_code, without_times(body)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_every_route_the_same_with_or_without_its_trailing_slash(world, settings, debug):
    settings.DEBUG = debug
    checked = 0
    for path, method in operations(world):
        url = path.format(**world.ids)
        twin = url[:-1] if url.endswith("/") else url + "/"
        canonical = answer(world, method, url)
        assert canonical[0] < 500 and canonical[0] not in (301, 302, 307, 308), (method, url, canonical)
        assert answer(world, method, twin) == canonical, (method, twin)
        checked += 1
    assert checked >= 25  # every operation of the API, not an empty walk


def test_it_keeps_one_canonical_form_per_route_in_the_schema(world):
    paths = {path for path, _ in operations(world)}
    assert "/api/v1/auth/login/" in paths and "/api/v1/auth/login" not in paths
    assert "/api/v1/analysis/start" in paths and "/api/v1/analysis/start/" not in paths
