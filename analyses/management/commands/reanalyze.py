"""manage.py reanalyze: run finished analyses again, in batches, queued or inline; trials."""

import argparse

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from analyses.management.commands._common import parse_user, parse_video, parse_when, progress_bar
from analyses.models import Analysis
from analyses.services import maintenance, trials
from config.bounds import BIGINT_MAX
from config.commands import OperatorCommand, int_between
from config.errors import ApplicationError


class Command(OperatorCommand):
    help = (
        "Run analyses again with the current analyzers. Selects finished analyses (completed and failed "
        "by default) with the filters below, oldest first, and requeues each one; with --sync they run here, "
        "one by one, instead of on the workers. Each run is stored as a revision beside the analysis, which "
        "keeps its previous result until the new one is stored; a failed run never replaces a result, so an "
        "interrupted or failing run loses nothing. Before anything runs, the analyses whose analyzer cannot run "
        "here (gemini without a key, pose without keypoints) are counted and the run refused. With --trial NAME "
        "the new results are stored without being shown to anyone but staff (admin reports, trials), until "
        "--promote NAME makes them current or --discard NAME drops them. Running it again is safe: analyses "
        "still running are left alone, ones left pending by an interrupted run are picked up again, and "
        "--completed-before (printed at the start of every run) skips those this run already re-analysed."
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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count and list what would be re-analysed (promoted, discarded).",
        )
        trial = parser.add_mutually_exclusive_group()
        trial.add_argument(
            "--trial", type=parse_trial, metavar="NAME", help="Store the new results as this trial, not current."
        )
        trial.add_argument(
            "--promote", type=parse_trial, metavar="NAME", help="Make this trial's results current (with the filters)."
        )
        trial.add_argument(
            "--discard", type=parse_trial, metavar="NAME", help="Delete this trial's results (with the filters)."
        )

    def handle(self, *args, **opts):
        started = timezone.now()
        name = opts["promote"] or opts["discard"]
        if name and (opts["to_provider"] or opts["sync"] or opts["completed_before"]):
            raise CommandError(
                "--promote and --discard take the filters only (not --to-provider, --sync, --completed-before)."
            )
        queryset = maintenance.reanalyze_queryset(
            statuses=opts["status"],
            video=opts["video"],
            user=opts["user"],
            since=opts["since"],
            until=opts["until"],
            provider=opts["provider"],
            completed_before=opts["completed_before"],
            trial=opts["trial"] or "",
        )
        if opts["promote"]:
            return self._promote(queryset, opts)
        if opts["discard"]:
            return self._discard(queryset, opts)
        total = queryset.count()
        if opts["limit"] is not None:
            total = min(total, opts["limit"])
        preflight = trials.reanalyze_preflight(queryset=queryset, to_provider=opts["to_provider"], limit=opts["limit"])
        if opts["dry_run"]:
            return self._dry_run(queryset, total, preflight, opts)
        if not preflight.ok:
            raise CommandError(
                " ".join([*preflight.problems, "Nothing was changed: narrow the selection or fix that."])
            )
        self._run(queryset, total, started, opts)

    def _mode(self, opts) -> str:
        where = (
            "inline (--sync)"
            if opts["sync"]
            else ("eagerly in this process" if settings.CELERY_TASK_ALWAYS_EAGER else "on the workers")
        )
        return f"{where} as trial {opts['trial']!r}" if opts["trial"] else where

    def _dry_run(self, queryset, total, preflight, opts):
        self.stdout.write(f"Dry run: {total} analyses would be re-analysed {self._mode(opts)}. Nothing was changed.")
        for problem in preflight.problems:
            self.stdout.write(self.style.WARNING(f"Warning: {problem} The real run would be refused."))
        for row in queryset.order_by("created_at", "pk").values("pk", "status", "provider", "created_at")[:10]:
            self.stdout.write(
                f"  {row['pk']}  {row['status']:<9}  {row['provider']:<6}  {row['created_at']:%Y-%m-%d %H:%M}"
            )
        if total > 10:
            self.stdout.write(f"  ... and {total - 10} more")

    def _run(self, queryset, total, started, opts):
        resume_at = started.isoformat(timespec="seconds")
        self.stdout.write(f"Re-analysing {total} analyses {self._mode(opts)}.")
        self.stdout.write(f"If interrupted, resume with the same options and --completed-before {resume_at}")
        with progress_bar(total, "reanalyze") as bar:
            summary = maintenance.reanalyze(
                queryset=queryset,
                to_provider=opts["to_provider"],
                sync=opts["sync"],
                trial=opts["trial"] or "",
                batch_size=opts["batch_size"],
                limit=opts["limit"],
                progress=bar.update,
            )
        if opts["sync"]:
            line = (
                f"completed {summary.completed}, failed {summary.failed}, "
                f"failed but kept the previous result {summary.kept}, skipped {summary.skipped} (running elsewhere)"
            )
        else:
            line = (
                f"queued {summary.requeued}, re-queued after an interruption {summary.resumed}, "
                f"skipped {summary.skipped} (running)"
            )
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"Done: {summary.matched} matched; {line}; {seconds:.1f} s."))
        if opts["trial"]:
            self.stdout.write(
                f"Compare in the admin (Reports, trials), then --promote {opts['trial']} or --discard it."
            )

    def _promote(self, queryset, opts):
        summary = trials.trial_promote(trial=opts["promote"], queryset=queryset, dry_run=opts["dry_run"])
        verb = "Dry run: would promote" if opts["dry_run"] else "Promoted"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {summary.promoted} of trial {opts['promote']!r}; already current {summary.already_current}, "
                f"failed runs left aside {summary.failed_runs}, refused (a first run under way) {summary.refused}."
            )
        )

    def _discard(self, queryset, opts):
        deleted = trials.trial_discard(trial=opts["discard"], queryset=queryset, dry_run=opts["dry_run"])
        verb = "Dry run: would discard" if opts["dry_run"] else "Discarded"
        self.stdout.write(self.style.SUCCESS(f"{verb} {deleted} runs of trial {opts['discard']!r}."))


def parse_trial(value: str) -> str:
    """An argparse type: a trial's name."""
    try:
        return trials.trial_name_check(value)
    except ApplicationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
