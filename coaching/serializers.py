"""Shapes of the coaching endpoints (for the schema and the query strings)."""

from rest_framework import serializers

from accounts.models import Language
from analyses.stats import BODY_PARTS
from coaching.leaderboards import PERIODS


class ReportQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(
        choices=Language.choices, required=False, help_text="Language of the summary (default: the dancer's)."
    )


class TimelineItemSerializer(serializers.Serializer):
    analysis_id = serializers.UUIDField()
    timestamp = serializers.FloatField(help_text="Seconds into the video.")
    score = serializers.IntegerField()
    weakest_part = serializers.ChoiceField(choices=list(BODY_PARTS), allow_null=True)


class MomentPartSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=list(BODY_PARTS))
    average_score = serializers.FloatField()


class WorstMomentSerializer(serializers.Serializer):
    start = serializers.FloatField(help_text="Seconds into the video.")
    end = serializers.FloatField()
    average_score = serializers.FloatField()
    analyses = serializers.IntegerField()
    body_parts = MomentPartSerializer(many=True, help_text="Parts below 80 there, the most points lost first.")


class PreviousSessionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    average_score = serializers.FloatField()
    delta = serializers.FloatField(allow_null=True, help_text="This session's average minus that one's.")


class SessionReportSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    video_id = serializers.IntegerField()
    analyses = serializers.IntegerField(help_text="Completed analyses with a score.")
    average_score = serializers.FloatField(allow_null=True)
    timeline = TimelineItemSerializer(many=True, help_text="Completed analyses in video-time order.")
    worst_moments = WorstMomentSerializer(many=True, help_text="Up to 3 stretches to loop, worst first.")
    body_parts = serializers.DictField(
        child=serializers.FloatField(), help_text="Average per body part; parts never seen are absent."
    )
    previous = PreviousSessionSerializer(allow_null=True)
    summary = serializers.CharField()
    language = serializers.ChoiceField(choices=Language.choices)


class LeaderboardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=list(PERIODS),
        default="week",
        help_text="This week (from Monday) or month in STATS_DEFAULT_TIME_ZONE, or all time.",
    )


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="Equal scores share a rank (1, 1, 3).")
    display_name = serializers.CharField()
    score = serializers.FloatField(help_text="Best session average with enough analyses.")
    sessions = serializers.IntegerField(help_text="Qualifying sessions in the period.")


class LeaderboardMeSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="Where the caller's score would stand on the board.")
    score = serializers.FloatField()
    listed = serializers.BooleanField(help_text="Whether the caller appears on the board (opted in, not hidden).")


class LeaderboardSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS))
    period_start = serializers.DateTimeField(allow_null=True)
    results = LeaderboardEntrySerializer(many=True, help_text="The top 50.")
    me = LeaderboardMeSerializer(allow_null=True, help_text="Null when the caller has no qualifying session.")


class PersonalBestVideoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    youtube_id = serializers.CharField()
    title = serializers.CharField()


class PersonalBestSerializer(serializers.Serializer):
    video = PersonalBestVideoSerializer()
    score = serializers.FloatField()
    session_id = serializers.UUIDField()
    achieved_at = serializers.DateTimeField(help_text="The last analysis of that session.")
