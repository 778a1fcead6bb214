import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dancecoach")
# Every Celery setting lives in Django settings under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request ids travel into tasks, and the worker logs through settings.LOGGING (signal handlers).
import config.request_id  # noqa: E402, F401


@app.task(name="config.ping")
def ping() -> str:
    """Round trip used by readiness checks and the services test run."""
    return "pong"


@worker_init.connect
def _warm_up(**kwargs):
    # Import the Gemini client once in the worker's main process, before the pool forks: every
    # child inherits it instead of paying the import (about a second of CPU) in its first task.
    from django.conf import settings

    if settings.GEMINI_API_KEY:
        import analyses.analyzers.gemini  # noqa: F401
