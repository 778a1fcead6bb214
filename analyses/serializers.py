import math

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Language
from analyses.analyzers.base import LANDMARK_COUNT
from analyses.models import Analysis, PracticeSession
from playlists.models import Video

MAX_TIMESTAMP_SECONDS = 6 * 3600


class AnalysisVideoSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)

    class Meta:
        model = Video
        fields = ["id", "youtube_id", "url", "title", "duration"]
        read_only_fields = fields


class LandmarkSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()
    z = serializers.FloatField(required=False, default=0.0)
    visibility = serializers.FloatField(required=False, default=1.0, min_value=0.0, max_value=1.0)

    def validate(self, attrs):
        for name, value in attrs.items():
            if not math.isfinite(value):
                raise serializers.ValidationError({name: "Must be a finite number."}, code="not_finite")
            if abs(value) > 1e6:
                raise serializers.ValidationError({name: "Out of range."}, code="out_of_range")
        return attrs


class AnalysisCreateSerializer(serializers.Serializer):
    youtube_url = serializers.CharField(max_length=2048, help_text="Any YouTube video URL form.")
    timestamp = serializers.FloatField(
        min_value=0, max_value=MAX_TIMESTAMP_SECONDS, help_text="Seconds into the video, 0 to 6 hours."
    )
    user_frame = serializers.CharField(
        max_length=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        trim_whitespace=True,
        help_text="Base64 JPEG, PNG or WebP, with or without a `data:` prefix.",
    )
    keypoints = LandmarkSerializer(
        many=True, required=False, allow_null=True, help_text="The 33 MediaPipe pose landmarks, in MediaPipe order."
    )
    session_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Omit to start a new practice session."
    )
    provider = serializers.ChoiceField(choices=["auto", "pose", "gemini"], required=False, default="auto")
    language = serializers.ChoiceField(
        choices=Language.choices, required=False, allow_null=True, help_text="Defaults to the user's language."
    )

    def validate_timestamp(self, value):
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number.", code="not_finite")
        return value

    def validate_keypoints(self, value):
        if value is not None and len(value) != LANDMARK_COUNT:
            raise serializers.ValidationError(
                f"Expected {LANDMARK_COUNT} landmarks, got {len(value)}.", code="wrong_landmark_count"
            )
        return [dict(point) for point in value] if value is not None else None


class AnalysisErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class AnalysisSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    video = AnalysisVideoSerializer(read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = [
            "id",
            "session_id",
            "video",
            "timestamp",
            "status",
            "score",
            "good_points",
            "improvements",
            "advice",
            "short",
            "details",
            "provider",
            "model",
            "language",
            "cached",
            "error",
            "attempts",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AnalysisErrorSerializer(allow_null=True))
    def get_error(self, obj):
        # Set only when the analysis failed; transient errors while retrying stay internal.
        if obj.status != Analysis.Status.FAILED:
            return None
        return {"code": obj.error_code, "message": obj.error_message}


class AnalysisWaitQuerySerializer(serializers.Serializer):
    wait = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=settings.ANALYSIS_WAIT_MAX_SECONDS,
        default=0,
        help_text="Hold the answer until the analysis ends or N seconds pass.",
    )


class SessionCreateSerializer(serializers.Serializer):
    youtube_url = serializers.CharField(max_length=2048)


class SessionSerializer(serializers.ModelSerializer):
    video = AnalysisVideoSerializer(read_only=True)
    analysis_count = serializers.IntegerField(read_only=True)
    average_score = serializers.FloatField(read_only=True, allow_null=True)
    best_score = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = PracticeSession
        fields = ["id", "video", "started_at", "ended_at", "analysis_count", "average_score", "best_score"]
        read_only_fields = fields
