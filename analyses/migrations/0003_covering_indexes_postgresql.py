"""Covering indexes for the reports page and the stats endpoint, on PostgreSQL only.

They let a 30-day report and a dancer's stats read the index alone instead of the table
(bench/reports.py: 2.6-3.2 s → about 0.5 s for 30 days of a million analyses). SQLite has
no INCLUDE, and declaring them on the model would warn there (models.W040).
"""

from django.db import migrations

INDEXES = {
    "analysis_reports_cover": (
        "ON analyses_analysis (created_at) INCLUDE (id, status, score, user_id, video_id, cached, latency_ms, "
        "provider, input_tokens, output_tokens, error_code)"
    ),
    "analysis_user_stats_cover": "ON analyses_analysis (user_id, created_at) INCLUDE (id, video_id, status, score)",
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
    dependencies = [("analyses", "0002_session_started_index")]

    operations = [migrations.RunPython(forwards, backwards)]
