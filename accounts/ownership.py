"""A dancer's own data: deleting the account and everything of theirs (issue 18, docs/your-data.md).

The rows go in one transaction; the files (frames, exports) are recorded in that same transaction
as `PendingFileDeletion` rows, then deleted through their storage's API after the commit. A file
the storage refuses stays recorded and the beat job (`accounts.files_cleanup`) tries again, so a
storage outage never leaves a file behind unnoticed nor a row pointing at nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from rest_framework import exceptions
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import AnalysisTally, DataExport, DeletedSubject, PendingFileDeletion, User
from accounts.services import _live_sockets_close
from accounts.tasks import files_cleanup as files_cleanup_task
from analyses.models import Analysis
from config.throttling import login_attempt_check, login_failure_record

logger = logging.getLogger(__name__)

# How long a deleted account's provider subject is remembered: longer than any provider token lives.
DELETED_SUBJECT_DAYS = 2
# Files deleted within the request; more are left to the task (a storage call can take 50 ms).
INLINE_FILE_DELETIONS = 200
INLINE_SECONDS = 10.0


def file_storage(kind: str):
    """The storage a recorded file lives on: the frames' field storage or the exports' (default)."""
    if kind == PendingFileDeletion.Storage.FRAMES:
        return Analysis._meta.get_field("frame").storage
    return DataExport._meta.get_field("file").storage


# --- deleted provider subjects ----------------------------------------------------------------


def subject_digest(*, issuer: str, subject: str) -> str:
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()


def subject_deleted_check(*, issuer: str, subject: str, claims: dict) -> None:
    """Refuse a provider token issued before its account was deleted (a later one makes a new account)."""
    deleted_at = (
        DeletedSubject.objects.filter(digest=subject_digest(issuer=issuer, subject=subject))
        .values_list("deleted_at", flat=True)
        .first()
    )
    if deleted_at is None:
        return
    issued_at = claims.get("iat")
    if not isinstance(issued_at, int | float) or issued_at <= deleted_at.timestamp():
        raise exceptions.AuthenticationFailed("This account was deleted.", code="account_deleted")


# --- who may delete -------------------------------------------------------------------------


def _issued_at(auth) -> float | None:
    try:
        value = auth.get("iat") if auth is not None else None
    except (AttributeError, TypeError):
        return None
    return value if isinstance(value, int | float) else None


def user_delete_authorize(*, user: User, password: str | None, auth, request=None) -> None:
    """The password, or for an account without one here (hosted sign-in) a token issued minutes ago.

    Wrong passwords count as failed logins (config/throttling.py): a stolen access token is no
    faster a way to guess the password than the login.
    """
    if user.has_usable_password():
        if request is not None and user.email:
            login_attempt_check(request=request, email=user.email)
        if not password or not user.check_password(password):
            if request is not None and user.email:
                login_failure_record(request=request, email=user.email)
            raise exceptions.PermissionDenied("The password is wrong.", code="wrong_password")
        return
    max_age = settings.ACCOUNT_DELETE_TOKEN_MAX_AGE_SECONDS
    issued_at = _issued_at(auth)
    if issued_at is None or time.time() - issued_at > max_age:
        raise exceptions.PermissionDenied(
            f"Sign in again and delete the account within {max(1, max_age // 60)} minutes of signing in.",
            code="stale_token",
        )


# --- deletion ---------------------------------------------------------------------------------


@dataclass
class DeletionSummary:
    user_id: int
    analyses: int = 0
    sessions: int = 0
    playlists: int = 0
    exports: int = 0
    external_identities: int = 0
    tokens: int = 0
    files: int = 0
    files_pending: int = 0  # recorded for the beat job: storage refused them or there were too many

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _user_files(user: User) -> list[PendingFileDeletion]:
    frames = Analysis.objects.filter(user=user).exclude(frame="").values_list("frame", flat=True)
    exports = DataExport.objects.filter(user=user).exclude(file="").values_list("file", flat=True)
    return [
        *(PendingFileDeletion(storage=PendingFileDeletion.Storage.FRAMES, name=name) for name in frames.iterator()),
        *(PendingFileDeletion(storage=PendingFileDeletion.Storage.DEFAULT, name=name) for name in exports),
    ]


def user_deletion_plan(*, user: User) -> DeletionSummary:
    """What deleting the user would remove (the management command's --dry-run)."""
    return DeletionSummary(
        user_id=user.pk,
        analyses=user.analyses.count(),
        sessions=user.practice_sessions.count(),
        playlists=user.playlists.count(),
        exports=user.data_exports.count(),
        external_identities=user.external_identities.count(),
        tokens=OutstandingToken.objects.filter(user=user).count(),
        files=Analysis.objects.filter(user=user).exclude(frame="").count()
        + DataExport.objects.filter(user=user).exclude(file="").count(),
    )


def _analyses_tally(user: User) -> None:
    """Fold the user's analyses into counts without them, so the staff reports' totals stay."""
    completed = Q(status=Analysis.Status.COMPLETED)
    rows = (
        Analysis.objects.filter(user=user)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour", "status", "provider", "cached", "error_code")
        .annotate(
            analyses=Count("pk"),
            scored=Count("score", filter=completed),
            score_sum=Sum("score", filter=completed, default=0),
            input_tokens=Sum("input_tokens", default=0),
            output_tokens=Sum("output_tokens", default=0),
        )
        .order_by()
    )
    AnalysisTally.objects.bulk_create([AnalysisTally(**row) for row in rows], batch_size=1000)


def _admin_log_forget(user: User) -> None:
    """The admin's history of changes to the user (its entries name them in object_repr)."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).delete()


def user_delete(*, user: User) -> DeletionSummary:
    """Delete the account and everything of theirs; their files after the commit (see the module)."""
    summary = user_deletion_plan(user=user)
    user_pk = user.pk
    with transaction.atomic():
        pending = PendingFileDeletion.objects.bulk_create(_user_files(user), batch_size=1000)
        now = timezone.now()
        for issuer, subject in user.external_identities.values_list("issuer", "subject"):
            DeletedSubject.objects.update_or_create(
                digest=subject_digest(issuer=issuer, subject=subject), defaults={"deleted_at": now}
            )
        # Their rows hold the tokens (which carry the user's id); deleting them blacklists nothing,
        # and nothing is needed: a token of a user that does not exist is refused.
        OutstandingToken.objects.filter(user=user).delete()
        _admin_log_forget(user)
        _analyses_tally(user)
        user.analyses.all().delete()  # one DELETE, before the sessions' cascade would collect them
        user.delete()
        transaction.on_commit(lambda: _live_sockets_close(User(pk=user_pk)))
    summary.files = len(pending)
    summary.files_pending = files_delete_pending(ids=[p.pk for p in pending], limit=INLINE_FILE_DELETIONS)
    if summary.files_pending:
        transaction.on_commit(_files_cleanup_enqueue)
    logger.info(
        "account %s deleted: %s analyses, %s files, %s files left to retry",
        user_pk,
        summary.analyses,
        summary.files,
        summary.files_pending,
    )
    return summary


def _files_cleanup_enqueue() -> None:
    try:
        files_cleanup_task.delay()
    except Exception as exc:  # the beat job runs it anyway
        logger.warning("files cleanup not queued: %s", exc.__class__.__name__)


# --- files ------------------------------------------------------------------------------------


def files_delete_pending(*, ids: list[int] | None = None, limit: int | None = None) -> int:
    """Delete recorded files from their storage; those it refuses stay recorded. Returns how many remain
    (of `ids`, or of all)."""
    queryset = PendingFileDeletion.objects.all() if ids is None else PendingFileDeletion.objects.filter(pk__in=ids)
    started = time.monotonic()
    done = 0
    for row in queryset.order_by("pk").iterator():
        if (limit is not None and done >= limit) or (limit is not None and time.monotonic() - started > INLINE_SECONDS):
            break
        done += 1
        try:
            file_storage(row.storage).delete(row.name)  # a missing file is no error
        except Exception as exc:  # any storage failure: keep it for the next run
            PendingFileDeletion.objects.filter(pk=row.pk).update(
                attempts=row.attempts + 1, last_error=exc.__class__.__name__[:200]
            )
            logger.warning("file %s not deleted (attempt %s): %s", row.pk, row.attempts + 1, exc.__class__.__name__)
            continue
        PendingFileDeletion.objects.filter(pk=row.pk).delete()
    return queryset.count()


def file_delete_or_record(*, kind: str, name: str) -> bool:
    """Delete one file now, or record it for the beat job when the storage refuses. True when gone."""
    try:
        file_storage(kind).delete(name)
        return True
    except Exception as exc:
        PendingFileDeletion.objects.create(storage=kind, name=name, attempts=1, last_error=exc.__class__.__name__)
        logger.warning("file not deleted, recorded for retry: %s", exc.__class__.__name__)
        return False


def files_cleanup() -> dict:
    """Beat job: retry recorded deletions, delete expired exports, forget old deleted subjects."""
    from accounts.exports import exports_expire  # exports imports this module

    remaining = files_delete_pending()
    expired = exports_expire()
    cutoff = timezone.now() - timedelta(days=DELETED_SUBJECT_DAYS)
    forgotten, _ = DeletedSubject.objects.filter(deleted_at__lt=cutoff).delete()
    return {"files_remaining": remaining, "exports_expired": expired, "subjects_forgotten": forgotten}
