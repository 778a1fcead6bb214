"""Celery tasks: thin wrappers that take ids and call services.

Services import these tasks at the top and start them on commit; a task imports its service inside
its body, so the two modules never import each other at load time.
"""

from celery import shared_task
from django.conf import settings


@shared_task(name="analyses.run_analysis", bind=True, max_retries=None, acks_late=True)
def run_analysis(self, analysis_id: str) -> str:
    from analyses.services.pipeline import analysis_run, analysis_run_to_end

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager mode has no broker to hold a retry's countdown: the retries run here.
        return analysis_run_to_end(analysis_id=analysis_id)
    outcome = analysis_run(analysis_id=analysis_id)
    if outcome.retry_in is not None:
        # Attempts are bounded by the row (ANALYSIS_MAX_ATTEMPTS), not by Celery's counter.
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status


@shared_task(name="analyses.run_revision", bind=True, max_retries=None, acks_late=True)
def run_revision(self, revision_id: int) -> str:
    from analyses.services.revisions import revision_run, revision_run_to_end

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return revision_run_to_end(revision_id=revision_id)
    outcome = revision_run(revision_id=revision_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status


@shared_task(name="analyses.recover_stuck")
def recover_stuck() -> dict:
    from analyses.services.maintenance import analyses_recover_stuck

    return analyses_recover_stuck()


@shared_task(name="analyses.purge_frames")
def purge_frames() -> dict:
    from analyses.services.maintenance import frames_purge

    summary = frames_purge()
    return {"purged": summary.purged, "missing_files": summary.missing_files, "skipped": summary.skipped}


@shared_task(name="analyses.end_idle_sessions")
def end_idle_sessions() -> int:
    from analyses.services.sessions import sessions_end_idle

    return sessions_end_idle()
