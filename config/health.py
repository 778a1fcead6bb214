"""Liveness and readiness for orchestrators and operators."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from config.celery import app

logger = logging.getLogger(__name__)


def healthz(request):
    """The process is up; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    # A round trip: django-redis ignores errors (returns None), so only a value read back proves it works.
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def _check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return None


def readyz(request):
    """200 when the database, the cache and the broker answer; 503 naming what failed."""
    checks = {}
    failed = []
    for name, check in (("database", _check_database), ("cache", _check_cache), ("broker", _check_broker)):
        try:
            note = check()
            checks[name] = note or "ok"
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
            logger.warning("readyz: %s failed: %r", name, exc)
            checks[name] = "unavailable"
            failed.append(name)
    if failed:
        return JsonResponse(
            {
                "status": "unavailable",
                "checks": checks,
                "errors": [
                    {"code": f"{name}_unavailable", "detail": f"{name} is unreachable", "attr": name} for name in failed
                ],
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": checks, "details": _details()})


def _details() -> dict:
    """Warnings that are not failures: an AI budget cap 80% used."""
    from budgets.services import budget_alerts_now

    try:
        alerts = budget_alerts_now()
    except Exception as exc:  # a warning must never make the probe fail
        logger.warning("readyz: AI budget alerts unavailable: %r", exc)
        return {}
    return {"ai_budget": " ".join(alerts)} if alerts else {}
