"""Celery tasks: take ids, call services. Services enqueue through `analysis_enqueue`."""

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="analyses.run_analysis", bind=True, max_retries=None, acks_late=True)
def run_analysis(self, analysis_id: str) -> str:
    from analyses.services import analysis_run

    outcome = analysis_run(analysis_id=analysis_id)
    if outcome.retry_in is not None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Eager mode has no broker to hold a countdown: run the retry inline after the wait.
            import time

            time.sleep(min(outcome.retry_in, settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS))
            return run_analysis.run(analysis_id)
        # Attempts are bounded by the row (ANALYSIS_MAX_ATTEMPTS), not by Celery's counter.
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status


@shared_task(name="analyses.recover_stuck")
def recover_stuck() -> dict:
    from analyses.services import analyses_recover_stuck

    return analyses_recover_stuck()


def analysis_enqueue(*, analysis_id) -> None:
    """Called on commit by the services. A broker outage leaves the row pending for the beat job."""
    try:
        run_analysis.delay(str(analysis_id))
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("analysis %s not enqueued (%r); the recovery job will pick it up", analysis_id, exc)
