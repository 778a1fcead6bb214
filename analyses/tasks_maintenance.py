"""Beat tasks of operator maintenance (kept apart from the pipeline's tasks.py)."""

from celery import shared_task


@shared_task(name="analyses.purge_frames")
def purge_frames() -> dict:
    from analyses.maintenance import frames_purge

    summary = frames_purge()
    return {"purged": summary.purged, "missing_files": summary.missing_files, "skipped": summary.skipped}


@shared_task(name="analyses.end_idle_sessions")
def end_idle_sessions() -> int:
    from analyses.services import sessions_end_idle

    return sessions_end_idle()
