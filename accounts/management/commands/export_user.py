"""manage.py export_user: write a dancer's data (as auth/me/export/ gives it) to a ZIP file (issue 18)."""

from pathlib import Path

from django.core.management.base import CommandError

from accounts.exports import export_write
from accounts.management.commands._user_ref import user_from_ref
from accounts.ownership import user_deletion_plan
from config.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Write everything of a user (profile, sessions, analyses with results and landmarks, playlists, "
        "frames) to a ZIP file, as the dancer's own export gives it: for an access request made to the studio."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="The user's id, email or username.")
        parser.add_argument("--output", "-o", help="The ZIP file to write (default user-<id>-export.zip).")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be exported.")

    def handle(self, *args, **opts):
        user = user_from_ref(opts["user"])
        if opts["dry_run"]:
            plan = user_deletion_plan(user=user)
            self.stdout.write(
                f"Dry run: the export of user {user.pk} would hold {plan.analyses} analyses, {plan.sessions} "
                f"practice sessions, {plan.playlists} playlists and up to {plan.files} files. Nothing was written."
            )
            return
        path = Path(opts["output"] or f"user-{user.pk}-export.zip")
        if path.exists():
            raise CommandError(f"{path} exists already: choose another --output.")
        try:
            with path.open("xb") as target:
                manifest = export_write(user=user, target=target)
        except OSError as exc:
            raise CommandError(f"Could not write {path}: {exc.strerror or exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {manifest['analyses']} analyses, "
                f"{manifest['frames']} frames ({manifest['frames_missing']} missing), {manifest['sessions']} sessions, "
                f"{manifest['playlists']} playlists."
            )
        )
