import math

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import SkipField
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from accounts.models import Language
from analyses.analyzers.base import LANDMARK_COUNT
from analyses.failure_messages import failure_message
from analyses.models import Analysis, PracticeSession

MAX_TIMESTAMP_SECONDS = 6 * 3600


class OutputSerializer(serializers.Serializer):
    """A read-only serializer whose fields are bound once per class, not per instance.

    DRF deep-copies every declared field each time a serializer is created: for one analysis that
    was most of the cost of rendering it (the submission's response, its live event). These
    serializers only read attributes and no field of theirs depends on the request or `context`,
    so the fields of one bare instance serve every instance and thread (public Field API only).
    """

    @classmethod
    def shared_fields(cls) -> list:
        fields = cls.__dict__.get("_shared_fields")
        if fields is None:
            fields = cls._shared_fields = [field for field in cls().fields.values() if not field.write_only]
        return fields

    def to_representation(self, instance):
        # DRF's own loop (Serializer.to_representation), over the shared fields.
        ret = {}
        for field in self.shared_fields():
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            ret[field.field_name] = None if attribute is None else field.to_representation(attribute)
        return ret


class AnalysisVideoSerializer(OutputSerializer):
    """The video an analysis belongs to."""

    # Plain Serializer, not ModelSerializer: it is built on every response of the hot path.
    id = serializers.IntegerField(read_only=True)
    youtube_id = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    duration = serializers.IntegerField(read_only=True, allow_null=True)


class LandmarkSerializer(serializers.Serializer):
    """One MediaPipe landmark (documentation of the shape; KeypointsField validates)."""

    x = serializers.FloatField()
    y = serializers.FloatField()
    z = serializers.FloatField(required=False, default=0.0)
    visibility = serializers.FloatField(required=False, default=1.0, min_value=0.0, max_value=1.0)


@extend_schema_field(LandmarkSerializer(many=True, allow_null=True))
class KeypointsField(serializers.Field):
    """33 landmarks {x, y, z?, visibility?}, finite numbers, validated in plain Python.

    A nested serializer per landmark costs more than the rest of a submission; this does the
    same checks with the same error codes and field paths (`keypoints.<i>.<name>`).
    """

    default_error_messages = {
        "not_a_list": "Expected a list of landmarks.",
        "wrong_landmark_count": f"Expected {LANDMARK_COUNT} landmarks, got {{count}}.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) != LANDMARK_COUNT:
            self.fail("wrong_landmark_count", count=len(data))
        errors, points = {}, []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                errors[i] = {"non_field_errors": [ErrorDetail("Expected an object.", code="invalid")]}
                continue
            point, problems = {}, {}
            for name, default in (("x", None), ("y", None), ("z", 0.0), ("visibility", 1.0)):
                value = item.get(name, default)
                if value is None and default is not None:
                    value = default
                if value is None:
                    problems[name] = [ErrorDetail("This field is required.", code="required")]
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    problems[name] = [ErrorDetail("A valid number is required.", code="invalid")]
                    continue
                value = float(value)
                if not math.isfinite(value) or abs(value) > 1e6:
                    problems[name] = [ErrorDetail("Must be a finite number.", code="not_finite")]
                elif name == "visibility" and not 0.0 <= value <= 1.0:
                    problems[name] = [ErrorDetail("Must be between 0 and 1.", code="out_of_range")]
                point[name] = value
            if problems:
                errors[i] = problems
            points.append(point)
        if errors:
            raise serializers.ValidationError(errors)
        return points

    def to_representation(self, value):
        return value


class Base64FrameField(serializers.CharField):
    """Base64 text: ASCII by definition, so DRF's per-character surrogate scan (milliseconds on a
    frame) is replaced by one `isascii()`; frames.frame_decode does the real checks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitSurrogateCharactersValidator)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.isascii():
            raise serializers.ValidationError("The frame is not valid base64.", code="invalid_base64")
        return super().to_internal_value(data)


class NumberField(serializers.FloatField):
    """A float that is not a boolean: JSON `true` is not 1.0 seconds."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class AnalysisCreateSerializer(serializers.Serializer):
    youtube_url = serializers.CharField(max_length=2048, help_text="Any YouTube video URL form.")
    timestamp = NumberField(
        min_value=0, max_value=MAX_TIMESTAMP_SECONDS, help_text="Seconds into the video, 0 to 6 hours."
    )
    user_frame = Base64FrameField(
        max_length=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        trim_whitespace=True,
        help_text="Base64 JPEG, PNG or WebP, with or without a `data:` prefix.",
    )
    keypoints = KeypointsField(
        required=False, allow_null=True, help_text="The 33 MediaPipe pose landmarks, in MediaPipe order."
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


class AnalysisErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class AnalysisSerializer(OutputSerializer):
    """One analysis of a frame: its status and, once completed, the score, the feedback and
    `details`; once failed, `error` with a stable code."""

    # Plain Serializer with explicit fields: ModelSerializer rebuilds its fields per response.
    id = serializers.UUIDField(read_only=True)
    session_id = serializers.UUIDField(read_only=True)
    video = AnalysisVideoSerializer(read_only=True)
    timestamp = serializers.FloatField(read_only=True)
    status = serializers.ChoiceField(choices=Analysis.Status.choices, read_only=True)
    score = serializers.IntegerField(read_only=True, allow_null=True, min_value=0, max_value=100)
    good_points = serializers.ListField(child=serializers.CharField(), read_only=True)
    improvements = serializers.ListField(child=serializers.CharField(), read_only=True)
    advice = serializers.CharField(read_only=True)
    short = serializers.JSONField(read_only=True, help_text="Short forms: {good_points, improvements, advice}.")
    details = serializers.JSONField(read_only=True, help_text="Per-joint figures and how they were obtained.")
    provider = serializers.ChoiceField(choices=Analysis.Provider.choices, read_only=True)
    model = serializers.CharField(read_only=True)
    language = serializers.ChoiceField(choices=Language.choices, read_only=True)
    cached = serializers.BooleanField(read_only=True)
    error = serializers.SerializerMethodField()
    attempts = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(AnalysisErrorSerializer(allow_null=True))
    def get_error(self, obj):
        # Set only when the analysis failed; transient errors while retrying stay internal.
        if obj.status != Analysis.Status.FAILED:
            return None
        return {"code": obj.error_code, "message": failure_message(obj.error_code, obj.language)}


class AnalysisListItemSerializer(AnalysisSerializer):
    """History rows: everything but `details` (per-joint figures, the bulk of a row); the detail
    endpoint has them."""

    details = None


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
    ended_at = serializers.DateTimeField(
        source="ended", read_only=True, allow_null=True, help_text="Ended, or idle since its last analysis."
    )
    analysis_count = serializers.IntegerField(read_only=True)
    average_score = serializers.FloatField(read_only=True, allow_null=True)
    best_score = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = PracticeSession
        fields = ["id", "video", "started_at", "ended_at", "analysis_count", "average_score", "best_score"]
        read_only_fields = fields
