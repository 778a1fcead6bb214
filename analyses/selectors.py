from django.db.models import Avg, Case, Count, Max, Q, Value, When
from django.db.models.functions import Concat, JSONObject

from analyses.models import Analysis, PracticeSession
from playlists.youtube import youtube_watch_url

# The canonical watch URL up to the video id, taken from the one place that spells it.
_WATCH_URL_PREFIX = youtube_watch_url("a" * 11).removesuffix("a" * 11)


def analyses_for_user(*, user):
    return Analysis.objects.filter(user=user).select_related("video").order_by("-created_at")


def sessions_for_user(*, user):
    completed = Q(analyses__status=Analysis.Status.COMPLETED)
    return (
        PracticeSession.objects.filter(user=user)
        .select_related("video")
        .annotate(
            analysis_count=Count("analyses"),
            average_score=Avg("analyses__score", filter=completed),
            best_score=Max("analyses__score", filter=completed),
        )
        .order_by("-started_at")
    )


def analysis_history(*, user):
    """The caller's history rows as the API shows them (AnalysisListItemSerializer's fields), built
    by the database: the nested video and error come out of the query, no model instance is made.
    The video is under `video_row` (Django refuses an annotation named like a field)."""
    return _HISTORY_ROWS.filter(user=user)


# Resolved once per process (columns, joins, expressions); each request only adds its user.
_HISTORY_ROWS = Analysis.objects.order_by("-created_at").values(
    "id",
    "session_id",
    "timestamp",
    "status",
    "score",
    "good_points",
    "improvements",
    "advice",
    "short",
    "provider",
    "model",
    "language",
    "cached",
    "attempts",
    "created_at",
    "completed_at",
    video_row=JSONObject(
        id="video_id",
        youtube_id="video__youtube_id",
        url=Concat(Value(_WATCH_URL_PREFIX), "video__youtube_id"),
        title="video__title",
        duration="video__duration",
    ),
    error=Case(
        When(status=Analysis.Status.FAILED, then=JSONObject(code="error_code", message="error_message")),
        default=None,
    ),
)
