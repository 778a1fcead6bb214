"""Shared by the data-ownership tests (issue 18): a dancer with something of everything."""

from django.apps import apps
from django.db import models
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from analyses.models import Analysis
from analyses.tests.factories import frame_b64, pose_keypoints, submission
from playlists.models import Playlist, PlaylistItem, Video

ANALYSES = "/api/v1/analyses/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def dancer_with_data(user, *, frames: int = 2, shade: int = 0) -> list[str]:
    """Submit `frames` analyses (stored frames), a public and a private playlist; returns the analysis ids."""
    client = client_for(user)
    ids = []
    for n in range(frames):
        body = submission(timestamp=2.0 + n, user_frame=frame_b64(pose_keypoints(), fmt="PNG", shade=shade + n))
        response = client.post(ANALYSES, body, format="json")
        assert response.status_code in (201, 202), response.content
        ids.append(response.json()["id"])
    video = Video.objects.get(youtube_id="dQw4w9WgXcQ")
    public = Playlist.objects.create(owner=user, name="Mine, public", is_public=True)
    PlaylistItem.objects.create(playlist=public, video=video, position=0)
    Playlist.objects.create(owner=user, name="Mine, private")
    return ids


def frame_names(user_id) -> list[str]:
    return list(Analysis.objects.filter(user_id=user_id).exclude(frame="").values_list("frame", flat=True))


def rows_referencing_user(user_id) -> dict[str, int]:
    """Every row of every table with a foreign key to the user that still points at user_id."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is User:
                count = model._default_manager.filter(**{field.attname: user_id}).count()
                if count:
                    found[f"{model._meta.label}.{field.name}"] = count
    return found
