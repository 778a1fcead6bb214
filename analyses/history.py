"""The history's rows as the API shows them (AnalysisListItemSerializer's fields), made by the database.

Two readers of the same rows, both checked against the serializer in analyses/tests/test_representation.py:
- `analysis_history`: a values() queryset (any database, any filter); the nested video and error come
  out of the query, no model instance is made;
- `analysis_history_json` (PostgreSQL, unfiltered pages): one query whose answer is each row's JSON
  text, handed to the renderer as it is; only a failed row's error sentence is added in Python.
"""

import orjson
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat, JSONObject

from analyses.failure_messages import failure_message
from analyses.models import Analysis
from playlists.models import Video
from playlists.youtube import youtube_watch_url

# The canonical watch URL up to the video id, taken from the one place that spells it.
_WATCH_URL_PREFIX = youtube_watch_url("a" * 11).removesuffix("a" * 11)


def analysis_history(*, user):
    """Rows to finish with `history_rows_finish` once read."""
    return _HISTORY_ROWS.filter(user=user)


def history_error(status: str, code: str, language: str) -> dict | None:
    """A row's `error` as AnalysisSerializer shows it: a failed one's code and its plain sentence."""
    if status != Analysis.Status.FAILED:
        return None
    return {"code": code, "message": failure_message(code, language)}


def history_rows_finish(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["video"] = row.pop("video_row")  # Django refuses an annotation named like a field
        row["error"] = history_error(row["status"], row.pop("error_code"), row["language"])
    return rows


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
    "error_code",
    video_row=JSONObject(
        id="video_id",
        youtube_id="video__youtube_id",
        url=Concat(Value(_WATCH_URL_PREFIX), "video__youtube_id"),
        title="video__title",
        duration="video__duration",
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
SELECT a.id, a.status, a.error_code, a.language, json_build_object(
    'id', a.id, 'session_id', a.session_id,
    'video', json_build_object(
        'id', v.id, 'youtube_id', v.youtube_id, 'url', %s || v.youtube_id, 'title', v.title, 'duration', v.duration),
    'timestamp', a.timestamp, 'status', a.status, 'score', a.score, 'good_points', a.good_points,
    'improvements', a.improvements, 'advice', a.advice, 'short', a.short, 'provider', a.provider,
    'model', a.model, 'language', a.language, 'cached', a.cached, 'error', NULL, 'attempts', a.attempts,
    'created_at', {_iso("a.created_at")}, 'completed_at', {_iso("a.completed_at")}
)::text
FROM {Analysis._meta.db_table} a JOIN {Video._meta.db_table} v ON v.id = a.video_id
WHERE a.user_id = %s
ORDER BY a.created_at DESC
LIMIT %s OFFSET %s
"""  # noqa: S608


def analysis_history_json(*, user, limit: int, offset: int) -> tuple[int, object, str]:
    """(rows on the page, the newest row's id or None, the rows as a JSON array) on PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL, [_WATCH_URL_PREFIX, user.pk, limit, offset])
        rows = cursor.fetchall()
    texts = []
    for _, status, code, language, text in rows:
        error = history_error(status, code, language)
        if error is not None:  # a failed row's sentence is in the dancer's language, from Python
            text = orjson.dumps({**orjson.loads(text), "error": error}).decode()
        texts.append(text)
    return len(rows), rows[0][0] if rows else None, "[" + ",".join(texts) + "]"
