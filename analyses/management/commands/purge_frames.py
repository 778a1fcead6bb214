"""manage.py purge_frames: delete stored frames past the retention period; the analyses stay."""

from django.conf import settings

from analyses.management.commands._common import progress_bar
from analyses.services import maintenance
from config.commands import OperatorCommand, int_between


class Command(OperatorCommand):
    help = (
        "Delete the frame files (the dancers' webcam images) of finished analyses older than the retention "
        f"period (FRAME_RETENTION_DAYS, now {settings.FRAME_RETENTION_DAYS} days). The analysis rows, scores "
        "and frame checksums stay; only the images go. Analyses still pending or running keep their frames. "
        "The beat job analyses.purge_frames does the same daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int_between(0, 36_500),
            metavar="DAYS",
            default=None,
            help=f"Purge frames of analyses created more than DAYS days ago (default {settings.FRAME_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--batch-size",
            type=int_between(1, 100_000),
            default=maintenance.DEFAULT_BATCH_SIZE,
            help=f"Rows per query (default {maintenance.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count the frames that would be deleted.")

    def handle(self, *args, **opts):
        days = settings.FRAME_RETENTION_DAYS if opts["older_than"] is None else opts["older_than"]
        queryset, cutoff = maintenance.frames_purgeable(older_than_days=days)
        total = queryset.count()
        if opts["dry_run"]:
            self.stdout.write(
                f"Dry run: {total} frames of analyses created before {cutoff:%Y-%m-%d %H:%M} UTC would be deleted. "
                "Nothing was changed."
            )
            return
        with progress_bar(total, "purge_frames") as bar:
            summary = maintenance.frames_purge(older_than_days=days, batch_size=opts["batch_size"], progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {summary.purged} frames purged ({summary.bytes_freed / 1e6:.1f} MB freed, "
                f"{summary.missing_files} files already gone), {summary.skipped} skipped (changed meanwhile); "
                f"older than {days} days (before {summary.cutoff:%Y-%m-%d %H:%M} UTC). The analyses stay."
            )
        )
