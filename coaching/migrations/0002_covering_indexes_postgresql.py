"""Covering indexes for the leaderboards, personal bests and a report's previous session, on
PostgreSQL only (as analyses 0003: SQLite has no INCLUDE).

Each groups completed analyses by session from the index alone: a video's board (by video),
and a dancer's bests and previous session (by dancer and video). Without them a board reads
every analysis row of the video from the table, scattered over it (bench/coaching.py).
"""

from django.db import migrations

COMPLETED = "WHERE status = 'completed' AND score IS NOT NULL"
INDEXES = {
    "analysis_video_session_cover": (
        f"ON analyses_analysis (video_id, session_id) INCLUDE (user_id, score, created_at) {COMPLETED}"
    ),
    "analysis_user_session_cover": (
        f"ON analyses_analysis (user_id, video_id, session_id) INCLUDE (score, created_at) {COMPLETED}"
    ),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("coaching", "0001_initial"), ("analyses", "0005_analysis_body_parts")]

    operations = [migrations.RunPython(forwards, backwards)]
