"""manage.py delete_user: delete a dancer's account and everything of theirs (issue 18)."""

from accounts.management.commands._user_ref import user_from_ref
from accounts.ownership import user_delete, user_deletion_plan
from config.commands import OperatorCommand

SUMMARY = (
    "{analyses} analyses, {sessions} practice sessions, {playlists} playlists, {exports} exports, "
    "{external_identities} linked sign-ins, {tokens} tokens, {files} files"
)


class Command(OperatorCommand):
    help = (
        "Delete a user's account and everything of theirs: analyses, frame files, practice sessions, "
        "playlists, data exports, linked sign-ins and tokens (as DELETE auth/me/ does). Files storage "
        "refuses are retried by the beat job accounts.files_cleanup. Asks for confirmation unless --no-input."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="The user's id, email or username.")
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be deleted.")
        parser.add_argument("--no-input", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, **opts):
        user = user_from_ref(opts["user"])
        plan = user_deletion_plan(user=user)
        if opts["dry_run"]:
            self.stdout.write(f"Dry run: deleting user {user.pk} would remove {SUMMARY.format(**plan.as_dict())}.")
            self.stdout.write("Nothing was changed.")
            return
        if not opts["no_input"]:
            answer = input(f"Delete user {user.pk} and {SUMMARY.format(**plan.as_dict())}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                self.stdout.write("Cancelled: nothing was changed.")
                return
        summary = user_delete(user=user)
        self.stdout.write(self.style.SUCCESS(f"Deleted user {summary.user_id}: {SUMMARY.format(**summary.as_dict())}."))
        if summary.files_pending:
            self.stdout.write(
                self.style.WARNING(
                    f"{summary.files_pending} files are not deleted from storage yet; "
                    "the beat job accounts.files_cleanup retries them."
                )
            )
