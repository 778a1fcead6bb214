"""The history's rows as the API shows them (AnalysisListItemSerializer's fields), made by the database.

Two readers of the same rows, both checked against the serializer in analyses/tests/test_representation.py:
- `analysis_history`: a values() queryset (any database, any filter); the nested video and error come
  out of the query, no model instance is made;
- `analysis_history_json` (PostgreSQL, unfiltered pages): one query whose answer is the page's JSON
  text, handed to the renderer as it is, so the web process does no work per row at all.
"""

from django.db import connection
from django.db.models import Case, Value, When
from django.db.models.functions import Concat, JSONObject

from analyses.models import Analysis
from playlists.models import Video
from playlists.youtube import youtube_watch_url

# The canonical watch URL up to the video id, taken from the one place that spells it.
_WATCH_URL_PREFIX = youtube_watch_url("a" * 11).removesuffix("a" * 11)


def analysis_history(*, user):
    """The video is under `video_row` (Django refuses an annotation named like a field)."""
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


def _iso(column: str) -> str:
    # As DRF writes a UTC datetime (isoformat, "Z"): microseconds only when there are some.
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN mod(extract(microseconds FROM {column})::bigint, "
        f"1000000) = 0 THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
    )


# Only constants are spelled into the text; every value is a parameter.
_PAGE_SQL = f"""
SELECT count(*), (array_agg(page.id ORDER BY page.created_at DESC))[1],
       coalesce(json_agg(page.row ORDER BY page.created_at DESC), '[]')::text
FROM (
    SELECT a.id, a.created_at, json_build_object(
        'id', a.id, 'session_id', a.session_id,
        'video', json_build_object(
            'id', v.id, 'youtube_id', v.youtube_id, 'url', %s || v.youtube_id, 'title', v.title,
            'duration', v.duration),
        'timestamp', a.timestamp, 'status', a.status, 'score', a.score, 'good_points', a.good_points,
        'improvements', a.improvements, 'advice', a.advice, 'short', a.short, 'provider', a.provider,
        'model', a.model, 'language', a.language, 'cached', a.cached,
        'error', CASE WHEN a.status = %s THEN json_build_object('code', a.error_code, 'message', a.error_message) END,
        'attempts', a.attempts, 'created_at', {_iso("a.created_at")}, 'completed_at', {_iso("a.completed_at")}
    ) AS row
    FROM {Analysis._meta.db_table} a JOIN {Video._meta.db_table} v ON v.id = a.video_id
    WHERE a.user_id = %s
    ORDER BY a.created_at DESC
    LIMIT %s OFFSET %s
) page
"""  # noqa: S608


def analysis_history_json(*, user, limit: int, offset: int) -> tuple[int, object, str]:
    """(rows on the page, the newest row's id or None, the rows as a JSON array) on PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL, [_WATCH_URL_PREFIX, Analysis.Status.FAILED, user.pk, limit, offset])
        return cursor.fetchone()
