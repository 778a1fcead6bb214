"""Videos, playlists and reference tracks: views check shape and access, services write."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import RequestTooLarge
from config.openapi import AutoSchema
from playlists import selectors, services
from playlists.models import Playlist, Video
from playlists.reference_tracks import MAX_FPS, MIN_FPS, InvalidReferenceTrack
from playlists.serializers import (
    PlaylistDetailSerializer,
    PlaylistItemAddSerializer,
    PlaylistListQuerySerializer,
    PlaylistReorderSerializer,
    PlaylistSerializer,
    PlaylistWriteSerializer,
    ReferenceTrackSummarySerializer,
    VideoCreateSerializer,
    VideoSerializer,
)

VIDEOS = "videos"
PLAYLISTS = "playlists"

# --- Videos ----------------------------------------------------------------------------


@extend_validation_errors(["title_staff_only"], field_name="title", methods=["post"])
class VideoListCreateApi(ListModelMixin, GenericAPIView):
    serializer_class = VideoSerializer
    queryset = Video.objects.none()  # rows come from the selector; this names the model for the schema
    filter_backends = []

    def get_queryset(self):
        return selectors.video_list(search=self.request.query_params.get("search"))

    @extend_schema(
        tags=[VIDEOS],
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="Part of a title (any case), a video id, or any YouTube URL of the video.",
            )
        ],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        tags=[VIDEOS],
        request=VideoCreateSerializer,
        responses={
            201: OpenApiResponse(VideoSerializer, description="A new video."),
            200: OpenApiResponse(VideoSerializer, description="The video already existed."),
        },
        description=(
            "Gets or creates the video of a YouTube URL (any URL form of one video gives the same row). "
            "The catalogue is shared: only staff give a video its title (filling a missing one); "
            "a dancer names a video on their playlist item instead."
        ),
    )
    def post(self, request):
        serializer = VideoCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data.get("title", "").strip() and not request.user.is_staff:
            raise exceptions.ValidationError(
                {"title": ["Only staff name videos in the shared catalogue; add it to a playlist with your title."]},
                code="title_staff_only",
            )
        video, created = services.video_get_or_create(**serializer.validated_data)
        video = selectors.video_get(video_id=video.pk)
        return Response(VideoSerializer(video).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class VideoDetailApi(APIView):
    @extend_schema(tags=[VIDEOS], responses={200: VideoSerializer})
    def get(self, request, video_id: int):
        return Response(VideoSerializer(selectors.video_get(video_id=video_id)).data)


_NUMBER = {"type": "number"}
_REFERENCE_TRACK_SCHEMA = {
    "oneOf": [
        {
            "type": "object",
            "title": "Frames at a fixed rate",
            "required": ["fps", "frames"],
            "properties": {
                "fps": {"type": "number", "minimum": MIN_FPS, "maximum": MAX_FPS},
                "frames": {
                    "type": "array",
                    "description": "Frame i is the pose at i / fps seconds: 33 landmarks of [x, y, z, visibility].",
                    "items": {
                        "type": "array",
                        "minItems": 33,
                        "maxItems": 33,
                        "items": {"type": "array", "minItems": 4, "maxItems": 4, "items": _NUMBER},
                    },
                },
            },
        },
        {
            "type": "array",
            "title": "Timed samples (resampled to a fixed rate)",
            "items": {
                "type": "object",
                "required": ["t", "landmarks"],
                "properties": {
                    "t": {"type": "number", "minimum": 0, "description": "Seconds; strictly increasing."},
                    "landmarks": {
                        "type": "array",
                        "minItems": 33,
                        "maxItems": 33,
                        "items": {
                            "type": "object",
                            "required": ["x", "y", "z", "visibility"],
                            "properties": {"x": _NUMBER, "y": _NUMBER, "z": _NUMBER, "visibility": _NUMBER},
                        },
                    },
                },
            },
        },
    ]
}

_REFERENCE_ERROR_CODES = [
    "invalid_json",
    "invalid_format",
    "invalid_fps",
    "empty_track",
    "track_too_long",
    "invalid_frame",
    "invalid_landmark",
    "invalid_time",
    "wrong_landmark_count",
    "non_finite_value",
    "value_out_of_range",
    "unsorted_times",
]


def _read_body(request, *, limit: int) -> bytes:
    """The raw body, read with our own bound instead of DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django checks that global bound when `request.body` is first read; this view takes
    larger bodies, so it never touches `request.body` or `request.data` and streams
    at most `limit` bytes, refusing more with a 413.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(f"A reference track upload is at most {limit:,} bytes.")
    # Django's own stream, not DRF's `request.stream`: DRF takes a body without Content-Length
    # (chunked) for an empty one.
    chunks, total = [], 0
    while True:
        chunk = request.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise RequestTooLarge(f"A reference track upload is at most {limit:,} bytes.")
    return b"".join(chunks)


class _RawJsonBodySchema(AutoSchema):
    """For a request body given as a raw JSON schema: its error codes come from
    @extend_validation_errors, as there are no serializer fields to collect them from."""

    def _determine_fields_with_error_codes(self):
        if isinstance(self.get_request_serializer(), dict):
            return []
        return super()._determine_fields_with_error_codes()


@extend_validation_errors(_REFERENCE_ERROR_CODES, methods=["put"])
class VideoReferenceApi(APIView):
    permission_classes = [permissions.IsAdminUser]
    schema = _RawJsonBodySchema()

    @extend_schema(
        tags=[VIDEOS],
        request={"application/json": _REFERENCE_TRACK_SCHEMA},
        responses={
            200: OpenApiResponse(ReferenceTrackSummarySerializer, description="The earlier track was replaced."),
            201: OpenApiResponse(ReferenceTrackSummarySerializer, description="The video's first track."),
        },
        description=(
            "Staff only. Stores the video's reference pose track, replacing any earlier one in one step. "
            "The body is JSON in either format; its size limit is REFERENCE_UPLOAD_MAX_BYTES (larger than "
            "other requests'). A refusal names the frame at fault (0-based, in file order). "
            "`?filename=` records where the track came from."
        ),
        parameters=[OpenApiParameter("filename", str, description="Source file name to record (optional).")],
    )
    def put(self, request, video_id: int):
        video = selectors.video_get(video_id=video_id)
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type)
        body = _read_body(request, limit=settings.REFERENCE_UPLOAD_MAX_BYTES)
        try:
            track, created = services.reference_track_import(
                video=video,
                data=body,
                uploaded_by=request.user,
                filename=request.query_params.get("filename", ""),
            )
        except InvalidReferenceTrack as exc:
            raise exceptions.ValidationError([str(exc)], code=exc.code) from exc
        return Response(
            ReferenceTrackSummarySerializer(track).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- Playlists -----------------------------------------------------------------------------


_FORBIDDEN = OpenApiResponse(
    ErrorResponse403Serializer, description="Someone else's public playlist: others may read it, not change it."
)


def _detail(request, playlist_id: int) -> dict:
    playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, with_items=True)
    return PlaylistDetailSerializer(playlist).data


@extend_validation_errors(["too_many_playlists"], methods=["post"])
class PlaylistListCreateApi(ListModelMixin, GenericAPIView):
    serializer_class = PlaylistSerializer
    queryset = Playlist.objects.none()  # rows come from the selector; this names the model for the schema
    filter_backends = []

    def get_queryset(self):
        query = PlaylistListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.playlist_list(user=self.request.user, scope=query.validated_data["scope"])

    @extend_schema(tags=[PLAYLISTS], parameters=[PlaylistListQuerySerializer])
    def get(self, request):
        return self.list(request)

    @extend_schema(tags=[PLAYLISTS], request=PlaylistWriteSerializer, responses={201: PlaylistDetailSerializer})
    def post(self, request):
        serializer = PlaylistWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        playlist = services.playlist_create(owner=request.user, **serializer.validated_data)
        return Response(_detail(request, playlist.pk), status=status.HTTP_201_CREATED)


class PlaylistDetailApi(APIView):
    """Your playlists, and others' public ones read-only (their private ones are 404)."""

    @extend_schema(tags=[PLAYLISTS], responses={200: PlaylistDetailSerializer})
    def get(self, request, playlist_id: int):
        return Response(_detail(request, playlist_id))

    def _update(self, request, playlist_id: int, *, partial: bool):
        playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, for_write=True)
        serializer = PlaylistWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.playlist_update(playlist=playlist, data=serializer.validated_data)
        return Response(_detail(request, playlist_id))

    @extend_schema(
        tags=[PLAYLISTS], request=PlaylistWriteSerializer, responses={200: PlaylistDetailSerializer, 403: _FORBIDDEN}
    )
    def put(self, request, playlist_id: int):
        return self._update(request, playlist_id, partial=False)

    @extend_schema(
        tags=[PLAYLISTS], request=PlaylistWriteSerializer, responses={200: PlaylistDetailSerializer, 403: _FORBIDDEN}
    )
    def patch(self, request, playlist_id: int):
        return self._update(request, playlist_id, partial=True)

    @extend_schema(tags=[PLAYLISTS], responses={204: None, 403: _FORBIDDEN})
    def delete(self, request, playlist_id: int):
        playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, for_write=True)
        services.playlist_delete(playlist=playlist)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["duplicate_video", "playlist_full"], methods=["post"])
@extend_validation_errors(["youtube_url_or_video_id"], field_name="non_field_errors", methods=["post"])
class PlaylistVideosApi(APIView):
    @extend_schema(
        tags=[PLAYLISTS],
        request=PlaylistItemAddSerializer,
        responses={201: PlaylistDetailSerializer, 403: _FORBIDDEN},
        description="Adds a video (by YouTube URL or video id) at a position; later videos move down one.",
    )
    def post(self, request, playlist_id: int):
        playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, for_write=True)
        serializer = PlaylistItemAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        video = data.get("video_id")
        if video is None:
            video, _ = services.video_get_or_create(youtube_url=data["youtube_url"])
        services.playlist_item_add(
            playlist=playlist, video=video, position=data.get("position"), title=data.get("title", "")
        )
        return Response(_detail(request, playlist_id), status=status.HTTP_201_CREATED)


class PlaylistVideoApi(APIView):
    @extend_schema(
        tags=[PLAYLISTS],
        responses={204: None, 403: _FORBIDDEN},
        description="Removes the video from the playlist; later videos move up one.",
    )
    def delete(self, request, playlist_id: int, video_id: int):
        playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, for_write=True)
        video = Video.objects.filter(pk=video_id).first()
        if video is None:
            raise exceptions.NotFound("This video is not in the playlist.")
        services.playlist_item_remove(playlist=playlist, video=video)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["video_ids_mismatch", "duplicate_video"], field_name="video_ids", methods=["post"])
class PlaylistReorderApi(APIView):
    @extend_schema(
        tags=[PLAYLISTS],
        request=PlaylistReorderSerializer,
        responses={200: PlaylistDetailSerializer, 403: _FORBIDDEN},
        description="Sets the order; `video_ids` must be exactly the playlist's videos, each once.",
    )
    def post(self, request, playlist_id: int):
        playlist = selectors.playlist_get(user=request.user, playlist_id=playlist_id, for_write=True)
        serializer = PlaylistReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.playlist_reorder(playlist=playlist, video_ids=serializer.validated_data["video_ids"])
        return Response(_detail(request, playlist_id))
