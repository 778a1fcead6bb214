"""`body_parts`: details.body_parts kept by the database, with a covering index for the stats.

The stats endpoint averages each body part over a dancer's last 30 days. Read from `details`,
that meant a table row per analysis (a dancer with 10,000 analyses: ~1,500 scattered rows,
13 ms); from `analysis_user_parts_cover` it is an index-only scan. The index holds pose rows
only (the others have no body parts), and its own index, not `analysis_user_stats_cover`:
widening that one made the planner leave it for the stats' other queries. Adding a stored
generated column rewrites the table once on PostgreSQL.
"""

import django.db.models.fields.json
from django.db import migrations, models

PARTS_INDEX = "analysis_user_parts_cover"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PARTS_INDEX} ON analyses_analysis (user_id, created_at) "
            "INCLUDE (status, body_parts) WHERE body_parts IS NOT NULL"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PARTS_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("analyses", "0004_analysis_queued_at")]

    operations = [
        migrations.AddField(
            model_name="analysis",
            name="body_parts",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.fields.json.KeyTransform("body_parts", "details"),
                help_text="The pose analyzer's per-part scores (details.body_parts), or null.",
                output_field=models.JSONField(null=True),
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
