"""Fixtures shared by every app's tests."""

import os

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from analyses.analyzers import gemini
from bench.fake_gemini import FakeGemini


def pytest_collection_modifyitems(config, items):
    # The services half of `make test` sets SERVICES=1 with DATABASE_URL and REDIS_URL.
    if os.environ.get("SERVICES") == "1":
        marker, skip = "embedded", pytest.mark.skip(reason="runs in the embedded half of `make test`")
    else:
        marker = "services"
        skip = pytest.mark.skip(reason="needs PostgreSQL, Redis and a worker: run by the services half of `make test`")
    for item in items:
        if item.get_closest_marker(marker):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate-limit counters, cached results and remembered videos must not leak between tests.
    from config.memos import memos_clear

    # Ids, ports and so issuers repeat across tests: no process memo may carry over.
    memos_clear()
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch):
    # django-ratelimit counts in windows aligned to the clock: a test whose requests straddle a
    # window boundary would see its counter reset. Its clock stands still during a test.
    import types

    import django_ratelimit.core

    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))


@pytest.fixture(autouse=True)
def _fast_hashers(request, settings):
    # Argon2 is deliberately slow; tests that check hashing itself use the real list.
    if "real_hashers" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


@pytest.fixture
def make_auth_client(db):
    """A client signed in as a new (or given) user."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tests.factories import UserFactory

    def make(user=None, **kwargs):
        user = user or UserFactory(**kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        client.user = user
        return client

    return make


@pytest.fixture
def make_worker(transactional_db, settings):
    """Start real Celery worker processes on the services' Redis and the test database.

    Only for tests marked `services`. While the fixture is active this process stops running
    tasks eagerly, so tasks go through the broker to the worker. Extra keyword arguments are
    environment variables of the worker.
    """
    import signal
    import subprocess
    import sys
    import time

    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    procs = []
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def start(concurrency=2, **extra_env):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **{k: str(v) for k, v in extra_env.items()},
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{os.getpid()}-{len(procs)}@%h",
            ],
            env=env,
            start_new_session=True,
        )
        procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if app.control.ping(timeout=0.5):
                return proc
            if proc.poll() is not None:
                raise RuntimeError("the Celery worker exited at start-up")
        raise RuntimeError("the Celery worker did not answer a ping within 30 s")

    try:
        yield start
    finally:
        app.conf.task_always_eager = previous
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        # Drop whatever a killed worker left in the queue so the next test starts clean.
        app.control.purge()


@pytest.fixture
def celery_worker(make_worker):
    return make_worker()


@pytest.fixture(scope="module")
def gemini_server():
    # One server (so one cached client) per module: building a client costs a TLS set-up.
    with FakeGemini() as server:
        yield server
    gemini.close_clients()


@pytest.fixture
def browser_page(monkeypatch):
    """A page of Debian's headless Chromium (CHROMIUM_BINARY), 1280 x 1800, driven by Playwright.
    Tests using it skip themselves when the browser is absent (pytest.mark.browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=settings.CHROMIUM_BINARY,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],  # CI runs as root
        )
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1800})
        finally:
            browser.close()
            # Under Playwright's loop Django keys connections by context, not thread: close the
            # ones the test opened here, or PostgreSQL cannot drop the test database at the end.
            from django.db import connections

            connections.close_all()
