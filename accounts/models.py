import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q


class UserManager(DjangoUserManager):
    """Email is the login; a username is derived from it when none is given (tools, fixtures)."""

    def _username_for(self, email):
        base = (email or "user").split("@")[0][:140] or "user"
        candidate, n = base, 1
        while self.model._default_manager.filter(username__iexact=candidate).exists():
            n += 1
            candidate = f"{base}{n}"
        return candidate

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username or self._username_for(email), email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        return super().create_superuser(username or self._username_for(email), email, password, **extra_fields)


def keep_frames_default() -> bool:
    return settings.KEEP_FRAMES_DEFAULT


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"


class User(AbstractUser):
    """Logs in with email; username is the public handle."""

    # Null for an account from a hosted sign-in whose provider vouched for no email (unique allows many nulls).
    email = models.EmailField("email address", unique=True, null=True, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Issue 18 (docs/your-data.md): off, a frame is deleted as soon as its analysis is final.
    keep_frames = models.BooleanField(default=keep_frames_default, help_text="Keep frames until the retention ends.")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = UserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.email or self.username


class ExternalIdentity(models.Model):
    """An account at a hosted identity provider: its (issuer, subject) pair names one person for good."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_issuer_subject")]
        verbose_name_plural = "external identities"

    def __str__(self):
        return f"{self.subject} at {self.issuer}"


# --- Issue 18: the dancer's own data (accounts/ownership.py, accounts/exports.py) -----------------


class DataExportStatus(models.TextChoices):
    """Module level so the OpenAPI settings can name it."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # its file is deleted; the link answers 410


class DataExport(models.Model):
    """A ZIP of everything of one dancer, built by a task, downloadable by them until it expires."""

    Status = DataExportStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="exports/", blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A second request while one is being built gets that one.
            models.UniqueConstraint(fields=["user"], condition=Q(status="pending"), name="data_export_one_pending"),
        ]

    def __str__(self):
        return f"export {self.id} ({self.status})"


class PendingFileDeletion(models.Model):
    """A file to delete from storage that could not be yet (the beat job retries); names no one."""

    class Storage(models.TextChoices):
        FRAMES = "frames"  # the storage of Analysis.frame
        DEFAULT = "default"

    storage = models.CharField(max_length=16, choices=Storage.choices)
    name = models.CharField(max_length=500)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.storage}:{self.name}"


class DeletedSubject(models.Model):
    """A deleted account's provider subject, as a digest, so tokens issued before the deletion are refused.

    Kept only while such tokens may still be valid (accounts.ownership.DELETED_SUBJECT_DAYS).
    """

    digest = models.CharField(max_length=64, unique=True)
    deleted_at = models.DateTimeField()

    def __str__(self):
        return self.digest[:12]


class AnalysisTally(models.Model):
    """Deleted dancers' analyses as counts, so the staff reports' totals stay: no user, frame or text.

    One row per (hour, status, provider, cached, error code) of a deleted account's analyses.
    """

    hour = models.DateTimeField(help_text="Creation time of the analyses, truncated to the hour (UTC).")
    status = models.CharField(max_length=16)
    provider = models.CharField(max_length=16)
    cached = models.BooleanField(default=False)
    error_code = models.CharField(max_length=64, blank=True)
    analyses = models.PositiveIntegerField()
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.PositiveBigIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["hour"], name="analysis_tally_hour")]

    def __str__(self):
        return f"{self.analyses} {self.status} at {self.hour:%Y-%m-%d %H}h"
