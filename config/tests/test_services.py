"""Run only by the services half of `make test` (PostgreSQL, Redis, a real worker)."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

pytestmark = pytest.mark.services


def test_the_services_run_uses_postgresql_and_redis(db):
    assert connection.vendor == "postgresql"
    assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
    cache.set("services-probe", 42)
    assert cache.get("services-probe") == 42


def test_a_real_worker_runs_a_task_and_stores_its_result(celery_worker):
    from config.celery import ping

    result = ping.delay()
    # Earlier eager tasks in this process may leave Celery thinking it is inside one.
    assert result.get(timeout=20, disable_sync_subtasks=False) == "pong"
    from django_celery_results.models import TaskResult

    assert TaskResult.objects.filter(task_id=result.id, status="SUCCESS").exists()


def test_readyz_checks_the_real_broker(client, celery_worker):
    r = client.get("/readyz")
    assert r.status_code == 200, r.content
    assert r.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
