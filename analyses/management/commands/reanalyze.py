"""manage.py reanalyze: run finished analyses again, in batches, queued or inline."""

from django.conf import settings
from django.utils import timezone

from analyses.management.commands._common import parse_user, parse_video, parse_when, progress_bar
from analyses.models import Analysis
from analyses.services import maintenance
from config.bounds import BIGINT_MAX
from config.commands import OperatorCommand, int_between


class Command(OperatorCommand):
    help = (
        "Run analyses again with the current analyzers. Selects finished analyses (completed and failed "
        "by default) with the filters below, oldest first, and requeues each one; with --sync they run here, "
        "one by one, instead of on the workers. Each analysis keeps its previous result until the new one "
        "is stored, so an interrupted run loses nothing. Running it again is safe: analyses still running are "
        "left alone, ones left pending by an interrupted run are picked up again, and --completed-before "
        "(printed at the start of every run) skips those this run already re-analysed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--status",
            action="append",
            choices=[s.value for s in maintenance.REANALYZABLE],
            help="Only analyses with this status (repeatable). Default: completed and failed.",
        )
        parser.add_argument(
            "--video", type=parse_video, help="Only this video: its YouTube id (11 characters) or its numeric id."
        )
        parser.add_argument("--user", type=parse_user, help="Only this user: an email address or a numeric user id.")
        parser.add_argument("--since", type=parse_when, help="Created at or after (ISO date or date-time).")
        parser.add_argument("--until", type=parse_when, help="Created before (ISO date or date-time).")
        parser.add_argument(
            "--provider",
            choices=[p.value for p in Analysis.Provider],
            help="Only analyses made by this provider.",
        )
        parser.add_argument(
            "--to-provider",
            choices=[p.value for p in Analysis.Provider],
            help="Re-analyse with this provider instead of the one each analysis used.",
        )
        parser.add_argument(
            "--completed-before",
            type=parse_when,
            help="Resume: skip analyses finished at or after this time (the start time of the interrupted run).",
        )
        parser.add_argument("--limit", type=int_between(1, BIGINT_MAX), help="At most this many analyses.")
        parser.add_argument(
            "--batch-size",
            type=int_between(1, 100_000),
            default=maintenance.DEFAULT_BATCH_SIZE,
            help=f"Rows read per query (default {maintenance.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Run each analysis here and wait for it, instead of enqueueing it for the workers.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count and list what would be re-analysed.")

    def handle(self, *args, **opts):
        started = timezone.now()
        queryset = maintenance.reanalyze_queryset(
            statuses=opts["status"],
            video=opts["video"],
            user=opts["user"],
            since=opts["since"],
            until=opts["until"],
            provider=opts["provider"],
            completed_before=opts["completed_before"],
        )
        total = queryset.count()
        if opts["limit"] is not None:
            total = min(total, opts["limit"])
        mode = (
            "inline (--sync)"
            if opts["sync"]
            else ("eagerly in this process" if settings.CELERY_TASK_ALWAYS_EAGER else "on the workers")
        )

        if opts["dry_run"]:
            self.stdout.write(f"Dry run: {total} analyses would be re-analysed {mode}. Nothing was changed.")
            for row in queryset.order_by("created_at", "pk").values("pk", "status", "provider", "created_at")[:10]:
                self.stdout.write(
                    f"  {row['pk']}  {row['status']:<9}  {row['provider']:<6}  {row['created_at']:%Y-%m-%d %H:%M}"
                )
            if total > 10:
                self.stdout.write(f"  ... and {total - 10} more")
            return

        resume_at = started.isoformat(timespec="seconds")
        self.stdout.write(f"Re-analysing {total} analyses {mode}.")
        self.stdout.write(f"If interrupted, resume with the same options and --completed-before {resume_at}")
        with progress_bar(total, "reanalyze") as bar:
            summary = maintenance.reanalyze(
                queryset=queryset,
                to_provider=opts["to_provider"],
                sync=opts["sync"],
                batch_size=opts["batch_size"],
                limit=opts["limit"],
                progress=bar.update,
            )
        if opts["sync"]:
            line = (
                f"completed {summary.completed}, failed {summary.failed}, skipped {summary.skipped} (running elsewhere)"
            )
        else:
            line = (
                f"queued {summary.requeued}, re-queued after an interruption {summary.resumed}, "
                f"skipped {summary.skipped} (running)"
            )
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"Done: {summary.matched} matched; {line}; {seconds:.1f} s."))
