"""`GET /api/v1/stats/`: the caller's progress. Figures come from analyses.stats."""

from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analyses import stats
from coaching.examples import stats_examples
from coaching.serializers import PersonalBestSerializer

TAG = "stats"


class StatsQuerySerializer(serializers.Serializer):
    tz = serializers.CharField(
        required=False,
        max_length=64,
        help_text="IANA time zone of the dancer's days (default: the server's stats default, Asia/Tokyo).",
    )

    def validate_tz(self, value):
        try:
            return stats.time_zone_get(value)
        except stats.InvalidTimeZone as exc:
            raise serializers.ValidationError(str(exc), code="invalid_time_zone") from exc


class WeekSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    analyses = serializers.IntegerField()
    practice_days = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)


class ComparisonSerializer(serializers.Serializer):
    analyses_change = serializers.IntegerField(help_text="Last 7 days minus the 7 before.")
    practice_days_change = serializers.IntegerField()
    average_score_change = serializers.FloatField(allow_null=True, help_text="Null when either week has no score.")


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    analyses = serializers.IntegerField()
    completed = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)
    best_score = serializers.IntegerField(allow_null=True)


class VideoStatsSerializer(serializers.Serializer):
    video_id = serializers.IntegerField()
    youtube_id = serializers.CharField()
    title = serializers.CharField()
    analyses = serializers.IntegerField()
    best_score = serializers.IntegerField(allow_null=True)
    latest_score = serializers.IntegerField(allow_null=True, help_text="Score of the latest completed analysis.")
    average_score = serializers.FloatField(allow_null=True)
    last_practiced_at = serializers.DateTimeField()


class BodyPartSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=list(stats.BODY_PARTS))
    average_score = serializers.FloatField()
    analyses = serializers.IntegerField(help_text="Completed analyses with pose figures in the last 30 days.")


class StatsSerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    today = serializers.DateField(help_text="Today in that time zone.")
    total_analyses = serializers.IntegerField()
    completed_analyses = serializers.IntegerField()
    failed_analyses = serializers.IntegerField()
    total_sessions = serializers.IntegerField()
    practice_days = serializers.IntegerField(help_text="Days with at least one analysis.")
    current_streak = serializers.IntegerField(
        help_text="Consecutive practice days up to today, or up to yesterday while today has none yet."
    )
    longest_streak = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)
    best_score = serializers.IntegerField(allow_null=True)
    last_7_days = WeekSerializer()
    previous_7_days = WeekSerializer()
    comparison = ComparisonSerializer()
    daily = DaySerializer(many=True, help_text="The last 30 days, oldest first; days without practice have zeros.")
    videos = VideoStatsSerializer(many=True, help_text="Per video, most recently practised first (at most 100).")
    weakest_body_parts = BodyPartSerializer(
        many=True, help_text="Up to three parts with the lowest average pose score over the last 30 days."
    )
    personal_bests = PersonalBestSerializer(
        many=True,
        help_text="Per video the best session average with at least LEADERBOARD_MIN_ANALYSES completed analyses, "
        "the most recent record first.",
    )


@extend_validation_errors(["invalid_time_zone"], field_name="tz", methods=["get"])
class StatsApi(APIView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's progress",
        parameters=[StatsQuerySerializer],
        responses={200: StatsSerializer},
        examples=stats_examples,
        description=(
            "Totals, practice days and streaks (days in the `tz` time zone), average and best score, "
            "the last 7 days against the 7 before, a 30-day daily series, per-video figures and the "
            "weakest body parts. Scores count completed analyses only."
        ),
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = stats.user_stats(user=request.user, tz=query.validated_data.get("tz"))
        # The figures are plain numbers, strings, dates and UTC datetimes, which the JSON renderer
        # writes exactly as StatsSerializer would (the schema's description); skipping it saves a
        # few milliseconds per request.
        return Response(figures)
