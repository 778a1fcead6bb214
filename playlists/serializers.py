from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from config.bounds import BIGINT_MAX
from playlists.models import Playlist, ReferencePoseTrack, Video
from playlists.selectors import PlaylistScope
from playlists.services import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from playlists.youtube import MAX_URL_LENGTH, InvalidYouTubeURL, youtube_id_from_url

PLAYLIST_NAME_MAX_LENGTH = min(settings.PLAYLIST_NAME_MAX_LENGTH, Playlist._meta.get_field("name").max_length)


@extend_schema_field({"type": "string", "maxLength": MAX_URL_LENGTH, "example": "https://youtu.be/dQw4w9WgXcQ"})
class YouTubeURLField(serializers.CharField):
    """A YouTube video URL in any of its forms; every refusal has the code `invalid_youtube_url`."""

    default_error_messages = {"invalid_youtube_url": "{reason}"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            youtube_id_from_url(value)
        except InvalidYouTubeURL as exc:
            self.fail("invalid_youtube_url", reason=str(exc))
        return value


class VideoSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="The canonical watch URL.")
    has_reference = serializers.BooleanField(read_only=True, help_text="A reference pose track exists.")

    class Meta:
        model = Video
        fields = ["id", "youtube_id", "url", "title", "duration", "has_reference", "created_at"]
        read_only_fields = fields


class VideoCreateSerializer(serializers.Serializer):
    youtube_url = YouTubeURLField()
    title = serializers.CharField(
        max_length=TITLE_MAX_LENGTH, required=False, allow_blank=True, help_text="Staff only: fills a missing title."
    )


class ReferenceTrackSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferencePoseTrack
        fields = ["fps", "frame_count", "duration", "sha256", "updated_at"]
        read_only_fields = fields


class OwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class PlaylistSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer(read_only=True)
    item_count = serializers.IntegerField(read_only=True, help_text="Number of videos.")

    class Meta:
        model = Playlist
        fields = ["id", "name", "description", "is_public", "owner", "item_count", "created_at", "updated_at"]
        read_only_fields = fields


class PlaylistItemSerializer(serializers.Serializer):
    position = serializers.IntegerField(read_only=True, help_text="0-based, contiguous.")
    title = serializers.CharField(read_only=True, help_text="The owner's own title for the video here ('' if none).")
    video = VideoSerializer(read_only=True)
    added_at = serializers.DateTimeField(read_only=True)


class PlaylistDetailSerializer(PlaylistSerializer):
    videos = PlaylistItemSerializer(source="ordered_items", many=True, read_only=True)

    class Meta(PlaylistSerializer.Meta):
        fields = [*PlaylistSerializer.Meta.fields, "videos"]
        read_only_fields = fields


class PlaylistWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=PLAYLIST_NAME_MAX_LENGTH)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False, help_text="Others can read (never change) it.")


class PlaylistListQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=PlaylistScope.CHOICES,
        default=PlaylistScope.OWN,
        help_text="`own` (default): your playlists. `public`: everyone's public playlists.",
    )


class PlaylistItemAddSerializer(serializers.Serializer):
    youtube_url = YouTubeURLField(required=False, help_text="Either this or `video_id`.")
    video_id = serializers.PrimaryKeyRelatedField(
        queryset=Video.objects.all(), required=False, help_text="Either this or `youtube_url`."
    )
    title = serializers.CharField(
        max_length=TITLE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Your own title for the video in this playlist (not the shared catalogue's).",
    )
    position = serializers.IntegerField(
        min_value=0,
        max_value=BIGINT_MAX,
        required=False,
        allow_null=True,
        help_text="0-based; omitted or past the end appends.",
    )

    def validate(self, attrs):
        if ("youtube_url" in attrs) == ("video_id" in attrs):
            raise serializers.ValidationError(
                "Send either youtube_url or video_id, not both or neither.", code="youtube_url_or_video_id"
            )
        return attrs


class BoundedListField(serializers.ListField):
    """A list refused for its length before any item is validated, so a huge one costs nothing."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class PlaylistReorderSerializer(serializers.Serializer):
    video_ids = BoundedListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        allow_empty=True,
        max_length=settings.PLAYLIST_MAX_ITEMS,
        help_text="Every video id of the playlist, once each, in the new order.",
    )
