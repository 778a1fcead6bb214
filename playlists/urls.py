from django.urls import path

from config.trailing_slash import slash_optional
from playlists import api

urlpatterns = slash_optional(
    [
        path("videos/", api.VideoListCreateApi.as_view(), name="video-list"),
        path("videos/<int:video_id>/", api.VideoDetailApi.as_view(), name="video-detail"),
        path("videos/<int:video_id>/reference/", api.VideoReferenceApi.as_view(), name="video-reference"),
        path("playlists/", api.PlaylistListCreateApi.as_view(), name="playlist-list"),
        path("playlists/<int:playlist_id>/", api.PlaylistDetailApi.as_view(), name="playlist-detail"),
        path("playlists/<int:playlist_id>/videos/", api.PlaylistVideosApi.as_view(), name="playlist-videos"),
        path(
            "playlists/<int:playlist_id>/videos/<int:video_id>/", api.PlaylistVideoApi.as_view(), name="playlist-video"
        ),
        path("playlists/<int:playlist_id>/reorder/", api.PlaylistReorderApi.as_view(), name="playlist-reorder"),
    ]
)
