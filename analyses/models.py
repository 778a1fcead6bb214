import uuid

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils import timezone


class PracticeSession(models.Model):
    """One sitting of a dancer with one video."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions")
    video = models.ForeignKey("playlists.Video", on_delete=models.PROTECT, related_name="practice_sessions")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "-started_at"], name="session_user_started"),
            models.Index(fields=["-started_at"], name="session_started"),  # the admin's default order
        ]

    def __str__(self):
        return f"{self.user} · {self.video} · {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None


class Provider(models.TextChoices):
    """The analyzer that produced a result (module level so the OpenAPI settings can name it)."""

    POSE = "pose"
    GEMINI = "gemini"


class Analysis(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    Provider = Provider

    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED)
    # The columns of an analyzer's result; a revision (AnalysisRevision) carries the same.
    RESULT_FIELDS = ("score", "good_points", "improvements", "advice", "short", "details", "provider", "model")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyses")
    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="analyses")
    video = models.ForeignKey("playlists.Video", on_delete=models.PROTECT, related_name="analyses")
    timestamp = models.FloatField(help_text="Seconds into the video.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_provider = models.CharField(max_length=16, default="auto")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    model = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=2, default="ja")

    score = models.PositiveSmallIntegerField(null=True, blank=True)
    good_points = models.JSONField(default=list, blank=True)
    improvements = models.JSONField(default=list, blank=True)
    advice = models.TextField(blank=True)
    short = models.JSONField(default=dict, blank=True, help_text="Short forms for reading while dancing.")
    details = models.JSONField(default=dict, blank=True, help_text="Per-joint figures and how they were obtained.")
    # Kept by the database from `details`, so the stats read body parts from an index, not the table.
    body_parts = models.GeneratedField(
        expression=KeyTransform("body_parts", "details"),
        output_field=models.JSONField(null=True),
        db_persist=True,
        help_text="The pose analyzer's per-part scores (details.body_parts), or null.",
    )

    frame = models.FileField(upload_to="frames/%Y/%m/%d/", blank=True)
    frame_sha256 = models.CharField(max_length=64, blank=True)
    frame_mime = models.CharField(max_length=32, blank=True)
    keypoints = models.JSONField(null=True, blank=True)
    fingerprint = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="Key of the result cache: identical submissions share it."
    )
    cached = models.BooleanField(default=False)

    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last queued (or is due, after a backoff)."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="While processing: no other delivery may claim it before this."
    )

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["user", "-created_at"], name="analysis_user_created"),
            models.Index(fields=["video", "timestamp"], name="analysis_video_ts"),
            models.Index(fields=["status", "created_at"], name="analysis_status_created"),
            models.Index(fields=["session", "created_at"], name="analysis_session_created"),
            models.Index(fields=["created_at"], name="analysis_created"),
            # The reports count the AI budget's fallbacks without reading every row's details.
            models.Index(
                fields=["created_at"],
                name="analysis_budget_fallback",
                condition=models.Q(status="completed", details__has_key="fallback"),
            ),
        ]

    def __str__(self):
        return f"{self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class AnalysisRevision(models.Model):
    """One run of an analysis: its first run, a re-analysis, or a trial's run.

    The Analysis row's result fields are its current revision (so every reader stays on the row);
    a re-run is stored here first and copied onto the row only when it succeeds outside a trial,
    or when its trial is promoted.
    """

    Status = Analysis.Status

    id = models.BigAutoField(primary_key=True)
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="revisions")
    trial = models.CharField(max_length=64, blank=True, help_text="The trial it belongs to; blank outside a trial.")
    is_current = models.BooleanField(default=False, help_text="The result the analysis shows.")
    replaced = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The revision that was current when this one was made current (a trial's comparison reads it).",
    )
    status = models.CharField(max_length=16, choices=Analysis.Status.choices, default=Analysis.Status.PENDING)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    model = models.CharField(max_length=64, blank=True)
    analyzer_version = models.CharField(max_length=128, blank=True, help_text="Model and prompt version, or pose's.")

    score = models.PositiveSmallIntegerField(null=True, blank=True)
    good_points = models.JSONField(default=list, blank=True)
    improvements = models.JSONField(default=list, blank=True)
    advice = models.TextField(blank=True)
    short = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)

    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last queued (or is due, after a backoff)."
    )

    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["analysis", "-created_at"], name="revision_analysis_created"),
            models.Index(fields=["trial", "status"], name="revision_trial_status"),
            # The recovery job's look-up of open runs stays small however many runs are kept.
            models.Index(
                fields=["status", "queued_at"],
                condition=models.Q(status__in=["pending", "processing"]),
                name="revision_open",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis"], condition=models.Q(is_current=True), name="revision_one_current"
            ),
        ]

    def __str__(self):
        return f"{self.analysis_id} #{self.pk} ({self.trial or 'run'}, {self.status})"
