"""One request id on the request's log line and on the log lines of the task it caused (config.request_id)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from analyses.tests.factories import submission
from config.celery import app, ping
from config.request_id import TASK_HEADER, request_id_var

ROOT = Path(__file__).resolve().parents[2]


def ids_of(records, logger_prefix):
    return {r.request_id for r in records if r.name.startswith(logger_prefix)}


@pytest.mark.django_db(transaction=True)  # the task is enqueued on commit
def test_a_request_and_the_task_it_caused_log_with_one_request_id(make_auth_client, settings, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task runs inside the request (embedded default)
    caplog.set_level("INFO")
    client = make_auth_client()
    response = client.post("/api/v1/analyses/", submission(), format="json", HTTP_X_REQUEST_ID="ride-42")
    assert response.status_code == 201, response.json()
    assert response["X-Request-ID"] == "ride-42"
    assert ids_of(caplog.records, "config.request") == {"ride-42"}
    task_lines = [r for r in caplog.records if r.name == "celery.app.trace" and "run_analysis" in r.getMessage()]
    assert task_lines and {r.request_id for r in task_lines} == {"ride-42"}


def test_a_request_without_an_id_gets_a_new_one_in_its_log_line_and_response(api_client, caplog, db):
    caplog.set_level("INFO")
    first, second = api_client.get("/healthz"), api_client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]
    assert ids_of(caplog.records, "config.request") == {first["X-Request-ID"], second["X-Request-ID"]}


@pytest.mark.parametrize("supplied", ["two\nlines", "x" * 129, "", "<script>"])
def test_a_request_id_that_is_not_plain_and_short_is_replaced(api_client, supplied, db):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=supplied)
    assert response["X-Request-ID"] != supplied and len(response["X-Request-ID"]) == 32


def test_log_lines_outside_a_request_carry_a_dash(caplog):
    import logging

    caplog.set_level("INFO")
    logging.getLogger("config.tests").info("outside")
    assert caplog.records[-1].request_id == "-"


def test_the_request_id_is_put_in_the_headers_of_the_task_message_it_publishes(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous, app.conf.task_always_eager = app.conf.task_always_eager, False
    queue_name = f"request-id-test-{uuid.uuid4().hex}"
    token = request_id_var.set("ride-43")
    try:
        result = ping.apply_async(queue=queue_name)
    finally:
        request_id_var.reset(token)
        app.conf.task_always_eager = previous
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(queue_name)
        message = queue.get(timeout=5)
        message.ack()
        queue.queue.delete()
        queue.close()
    assert message.headers["id"] == result.id
    assert message.headers[TASK_HEADER] == "ride-43"


def test_a_task_run_with_the_header_logs_with_that_request_id_and_leaves_none_behind(caplog):
    import logging

    from celery import shared_task

    @shared_task(name="config.tests.log_something")
    def log_something():
        logging.getLogger("config.tests.task").info("inside the task")

    caplog.set_level("INFO")
    log_something.apply(headers={TASK_HEADER: "ride-44"})
    [line] = [r for r in caplog.records if r.name == "config.tests.task"]
    assert line.request_id == "ride-44"
    assert request_id_var.get() is None


@pytest.mark.services
def test_a_request_and_its_task_in_a_real_worker_share_one_request_id_in_json_logs(
    make_worker, make_auth_client, settings, tmp_path
):
    """make_worker's worker logs at WARNING: this one is started at INFO with its output in a file."""
    import json

    from django.db import connection

    from analyses.models import Analysis

    db = connection.settings_dict
    log_file = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_FORMAT": "json",
    }
    hostname = f"request-id-{os.getpid()}@%h"
    with log_file.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--hostname", hostname],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            assert proc.poll() is None and time.monotonic() < deadline, log_file.read_text()
        client = make_auth_client()
        response = client.post("/api/v1/analyses/", submission(), format="json", HTTP_X_REQUEST_ID="ride-45")
        assert response.status_code == 202, response.json()
        deadline = time.monotonic() + 60
        while Analysis.objects.get(pk=response.json()["id"]).status not in Analysis.FINAL_STATUSES:
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.2)
        time.sleep(0.5)  # the trace line is written just after the row
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    # Lines written while the task runs. The consumer's "Task ... received" line comes before the task
    # starts (and before the request id is restored), so it is not one of them.
    task_lines = [
        line for line in lines if "run_analysis" in line["message"] and line["logger"] != "celery.worker.strategy"
    ]
    assert task_lines, log_file.read_text()
    assert {line["request_id"] for line in task_lines} == {"ride-45"}, task_lines
    assert {"time", "level", "logger", "message"} <= task_lines[0].keys()
