"""A machine-readable copy of everything of one dancer (issue 18, docs/your-data.md).

A request makes a pending `DataExport` (a second request while it is pending gets the same one);
the task writes a ZIP (JSON files and the frames) into a temporary file, saves it through the
export field's storage and marks it ready until `DATA_EXPORT_EXPIRY_HOURS`. Frames are read with
the frames' storage API only (`open`), so any storage backend works.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import DataExport, PendingFileDeletion, User
from accounts.ownership import file_delete_or_record
from accounts.tasks import data_export_build as data_export_build_task
from analyses.models import Analysis

logger = logging.getLogger(__name__)

FORMAT = "dance-coach-export/1"
# A pending export older than this lost its task (broker down, worker killed): it fails, a new one can start.
PENDING_MAX_AGE = timedelta(hours=1)


def data_export_request(*, user: User) -> tuple[DataExport, bool]:
    """(the export being built, created): a new one, or the one already pending."""
    pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
    if pending is not None:
        return pending, False
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            transaction.on_commit(lambda: _build_enqueue(export.pk))
    except IntegrityError:  # a concurrent request made it
        return DataExport.objects.get(user=user, status=DataExport.Status.PENDING), False
    # In eager mode the task has built it already (or the account went meanwhile: the unsaved copy).
    return DataExport.objects.filter(pk=export.pk).first() or export, True


def _build_enqueue(export_id) -> None:
    try:
        data_export_build_task.delay(str(export_id))
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("export %s not queued (%s); it fails after an hour", export_id, exc.__class__.__name__)


def _dump(archive: zipfile.ZipFile, name: str, value) -> None:
    archive.writestr(name, json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1))


def _profile(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "language": user.language,
        "keep_frames": user.keep_frames,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "external_identities": list(user.external_identities.values("issuer", "subject", "created_at")),
    }


def _playlists(user: User) -> list[dict]:
    out = []
    for playlist in user.playlists.prefetch_related("items__video").order_by("id"):
        items = [
            {"position": item.position, "youtube_id": item.video.youtube_id, "title": item.title}
            for item in playlist.items.all()
        ]
        out.append(
            {
                "id": playlist.pk,
                "name": playlist.name,
                "description": playlist.description,
                "is_public": playlist.is_public,
                "created_at": playlist.created_at,
                "items": items,
            }
        )
    return out


ANALYSIS_FIELDS = (
    "id",
    "session_id",
    "video__youtube_id",
    "timestamp",
    "status",
    "provider",
    "model",
    "language",
    "score",
    "good_points",
    "improvements",
    "advice",
    "short",
    "details",
    "keypoints",
    "frame",
    "frame_sha256",
    "frame_mime",
    "error_code",
    "error_message",
    "created_at",
    "completed_at",
)


def _analyses_and_frames(archive: zipfile.ZipFile, user: User) -> dict:
    """analyses.json, and each stored frame as frames/<analysis id>.<ext> read through the storage."""
    storage = Analysis._meta.get_field("frame").storage
    rows, missing = [], 0
    for row in Analysis.objects.filter(user=user).order_by("created_at", "id").values(*ANALYSIS_FIELDS).iterator():
        name, row["frame_file"] = row.pop("frame"), None
        row["youtube_id"] = row.pop("video__youtube_id")
        if name:
            path = f"frames/{row['id']}.{name.rsplit('.', 1)[-1]}"
            try:
                with storage.open(name, "rb") as source, archive.open(path, "w") as target:
                    for chunk in iter(lambda: source.read(1 << 16), b""):
                        target.write(chunk)
                row["frame_file"] = path
            except FileNotFoundError:  # purged meanwhile
                missing += 1
        rows.append(row)
    _dump(archive, "analyses.json", rows)
    return {"analyses": len(rows), "frames": sum(1 for r in rows if r["frame_file"]), "frames_missing": missing}


def export_write(*, user: User, target) -> dict:
    """Write the dancer's ZIP into a binary file object; returns the manifest (counts)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _dump(archive, "profile.json", _profile(user))
        sessions = list(
            user.practice_sessions.order_by("started_at").values("id", "video__youtube_id", "started_at", "ended_at")
        )
        _dump(archive, "sessions.json", sessions)
        playlists = _playlists(user)
        _dump(archive, "playlists.json", playlists)
        counts = _analyses_and_frames(archive, user)
        manifest = {
            "format": FORMAT,
            "exported_at": timezone.now(),
            "sessions": len(sessions),
            "playlists": len(playlists),
            **counts,
        }
        _dump(archive, "manifest.json", manifest)
    return manifest


def data_export_build(*, export_id) -> str:
    """The task's work: build the ZIP of a pending export and mark it ready (or failed)."""
    export = DataExport.objects.select_related("user").filter(pk=export_id, status=DataExport.Status.PENDING).first()
    if export is None:
        return "missing"
    try:
        with tempfile.TemporaryFile() as tmp:
            export_write(user=export.user, target=tmp)
            size = tmp.tell()
            tmp.seek(0)
            export.file.save(f"{export.pk}.zip", File(tmp), save=False)
    except Exception as exc:
        logger.warning("export %s failed: %s", export_id, exc.__class__.__name__)
        DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.FAILED, error_code="build_failed", finished_at=timezone.now()
        )
        return DataExport.Status.FAILED
    now = timezone.now()
    updated = DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.READY,
        file=export.file.name,
        size=size,
        finished_at=now,
        expires_at=now + timedelta(hours=settings.DATA_EXPORT_EXPIRY_HOURS),
    )
    if not updated:  # the account (or the export) was deleted meanwhile: leave nothing behind
        file_delete_or_record(kind=PendingFileDeletion.Storage.DEFAULT, name=export.file.name)
        return "missing"
    return DataExport.Status.READY


def exports_expire() -> int:
    """Beat job: expired exports lose their file (the row stays: its link answers 410); lost ones fail."""
    now = timezone.now()
    DataExport.objects.filter(status=DataExport.Status.PENDING, created_at__lt=now - PENDING_MAX_AGE).update(
        status=DataExport.Status.FAILED, error_code="timed_out", finished_at=now
    )
    expired = 0
    for pk, name in DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lt=now).values_list(
        "pk", "file"
    ):
        if DataExport.objects.filter(pk=pk, file=name).update(file="", status=DataExport.Status.EXPIRED):
            if name:
                file_delete_or_record(kind=PendingFileDeletion.Storage.DEFAULT, name=name)
            expired += 1
    return expired


class ExportExpired(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This download link has expired: ask for a new export."
    default_code = "export_expired"


class ExportNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This export is not ready (still being built, or it failed)."
    default_code = "export_not_ready"


def data_export_for_download(*, user: User, export_id) -> DataExport:
    """The owner's ready export: 404 for anyone else's (nothing said about it), 410 once expired."""
    export = DataExport.objects.filter(pk=export_id, user=user).first()
    if export is None:
        raise exceptions.NotFound("No such export.", code="not_found")
    if export.status == DataExport.Status.EXPIRED or (export.expires_at and export.expires_at <= timezone.now()):
        raise ExportExpired()
    if export.status != DataExport.Status.READY:
        raise ExportNotReady()
    return export
