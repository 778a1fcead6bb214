"""manage.py report: the admin reports page's figures for a date range, as a table or CSV."""

from datetime import date

from django.core.management.base import CommandError
from django.db import connection

from analyses import reports
from analyses.management.commands._common import parse_date
from config.commands import OperatorCommand, int_between


class Command(OperatorCommand):
    help = (
        "Print the staff reports' figures for a date range (days in STATS_DEFAULT_TIME_ZONE, both ends "
        "included; default the last 30 days): analyses per day, active users, average score and its "
        "distribution, failure rate by error code, cache hit rate, latency p50/p95, Gemini tokens and "
        "estimated cost, top videos. The same figures as /admin/reports/ and its CSV download."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=parse_date, help="First day (ISO date). Default: --days before --end.")
        parser.add_argument("--end", type=parse_date, help="Last day (ISO date). Default: today.")
        parser.add_argument(
            "--days",
            type=int_between(1, reports.MAX_RANGE_DAYS),
            default=reports.DEFAULT_DAYS,
            help=f"Length of the range when --start is not given (at most {reports.MAX_RANGE_DAYS}).",
        )
        parser.add_argument(
            "--format", choices=["table", "csv"], default="table", help="table (default) or csv (tidy rows)."
        )
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print the range and the database the report would read."
        )

    def handle(self, *args, **opts):
        default = reports.DateRange.last_days(opts["days"])
        end = opts["end"] or default.end
        start = opts["start"] or date.fromordinal(end.toordinal() - opts["days"] + 1)
        if start > end:
            raise CommandError("--start must not be after --end")
        if (end - start).days + 1 > reports.MAX_RANGE_DAYS:
            raise CommandError(f"Choose at most {reports.MAX_RANGE_DAYS} days from --start to --end")
        date_range = reports.DateRange(start=start, end=end, tz=default.tz)
        if opts["dry_run"]:
            self.stdout.write(
                f"Dry run: would report {start} to {end} ({len(date_range.days)} days, {date_range.tz}) "
                f"from the {connection.vendor} database, as {opts['format']}. Nothing was read."
            )
            return
        report = reports.report_build(date_range)
        text = reports.report_csv(report) if opts["format"] == "csv" else self.table(report)
        if opts["output"]:
            try:
                with open(opts["output"], "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
            except OSError as exc:
                raise CommandError(f"Cannot write {opts['output']}: {exc.strerror or exc}") from exc
            self.stderr.write(f"Wrote {opts['output']}")
        else:
            self.stdout.write(text, ending="")
        t = report["totals"]
        self.stderr.write(
            self.style.SUCCESS(
                f"Done: {start} to {end}: {t['analyses']} analyses, {t['active_users']} active users, "
                f"{t['failed']} failed."
            )
        )

    @staticmethod
    def table(report: dict) -> str:
        lines = []

        def section(title, header, rows):
            widths = [
                max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)
            ]
            lines.append("")
            lines.append(title)
            lines.append("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
            lines.append("  ".join("-" * w for w in widths))
            for row in rows:
                lines.append("  ".join(str("-" if v is None else v).ljust(w) for v, w in zip(row, widths, strict=True)))

        r = report["range"]
        lines.append(f"Report {r['start']} to {r['end']} ({r['time_zone']})")
        section("Totals", ["figure", "value"], [(k, v) for k, v in report["totals"].items()])
        section(
            "Per day",
            ["date", "analyses", "completed", "failed", "average score", "tokens in", "tokens out"],
            [
                (
                    d["date"],
                    d["analyses"],
                    d["completed"],
                    d["failed"],
                    d["average_score"],
                    d["input_tokens"],
                    d["output_tokens"],
                )
                for d in report["daily"]
            ],
        )
        section(
            "Score distribution", ["bin", "analyses"], [(b["bin"], b["analyses"]) for b in report["score_distribution"]]
        )
        section(
            "Failures by error code",
            ["error code", "analyses", "share"],
            [(f["error_code"], f["analyses"], f["share_of_failures"]) for f in report["failures_by_code"]],
        )
        for title, header, rows in _budget_sections(report["budget"]):
            section(title, header, rows)
        lines.extend(report["budget"]["alerts"])
        section(
            "Top videos",
            ["youtube id", "title", "analyses", "users", "average score"],
            [
                (v["youtube_id"], v["title"], v["analyses"], v["users"], v["average_score"])
                for v in report["top_videos"]
            ],
        )
        return "\n".join(lines) + "\n"


def _budget_sections(budget: dict) -> list[tuple[str, list, list]]:
    """The AI budget's two tables: spend against the caps, and the top dancers by spend."""
    caps = [(u["cap"], u["spent_usd"], u["cap_usd"], u["used"]) for u in budget["usage"]]
    caps.append(("per dancer per day (calls)", None, budget["user_daily_calls_cap"], None))
    caps.append(("fallbacks in range", budget["fallbacks"], None, budget["fallback_share"]))
    dancers = [(d["email"], d["gemini_analyses"], d["spent_usd"]) for d in budget["top_dancers"]]
    return [
        (
            "AI budget" + (" (Gemini quota breaker open)" if budget["breaker_open"] else ""),
            ["cap", "spent (USD)", "cap (USD)", "used"],
            caps,
        ),
        ("Top dancers by Gemini spend", ["dancer", "Gemini analyses", "spent (USD)"], dancers),
    ]
