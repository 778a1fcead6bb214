"""The Gemini key never leaves the server: not in responses, logs, errors, admin pages or the schema."""

import logging

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import UserFactory
from analyses.analyzers import gemini
from analyses.models import Analysis
from analyses.tests.factories import GEMINI_ANSWER, submission
from bench.fake_gemini import FakeGemini

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_KEY = "AIzaFAKE-SECURITY-KEY-5551234567"
GOOD = GEMINI_ANSWER


@pytest.fixture
def fake(settings):
    with FakeGemini() as server:
        settings.GEMINI_API_KEY = FAKE_KEY
        settings.GEMINI_BASE_URL = server.base_url
        settings.GEMINI_TIMEOUT_SECONDS = 1.0
        settings.ANALYSIS_RETRY_BACKOFF_SECONDS = 0.01
        settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS = 0.02
        settings.ANALYSIS_MAX_ATTEMPTS = 2
        yield server
    gemini.close_clients()


def test_the_key_is_in_no_response_log_row_or_admin_page(make_auth_client, fake, caplog, client):
    caplog.set_level(logging.DEBUG)
    dancer = make_auth_client()
    pages = []
    # A success, then failures whose upstream messages quote the key.
    fake.script([("ok", "The instructor raises both arms."), ("ok", GOOD)])
    pages.append(dancer.post("/api/v1/analyses/", submission(provider="gemini"), format="json"))
    fake.script(
        [
            ("status", {"code": 400, "message": f"API key not valid: {FAKE_KEY}", "reason": "API_KEY_INVALID"}),
            ("status", {"code": 500, "message": f"internal error ({FAKE_KEY})"}),
            ("status", {"code": 500, "message": f"internal error ({FAKE_KEY})"}),
            ("status", {"code": 429, "message": f"Quota exceeded for key {FAKE_KEY}"}),
            ("status", {"code": 429, "message": f"Quota exceeded for key {FAKE_KEY}"}),
        ]
    )
    for t in (20.0, 40.0):
        pages.append(dancer.post("/api/v1/analyses/", submission(provider="gemini", timestamp=t), format="json"))
    assert fake.requests, "the fake server was called"
    assert all(r.headers.get("x-goog-api-key") == FAKE_KEY for r in fake.requests)  # the key is used...
    analyses = list(Analysis.objects.all())
    assert {a.status for a in analyses} >= {Analysis.Status.COMPLETED, Analysis.Status.FAILED}

    for url in ("/api/v1/analyses/", "/api/v1/sessions/", "/api/v1/stats/", "/api/v1/auth/me/"):
        pages.append(dancer.get(url))
    for analysis in analyses:
        pages.append(dancer.get(f"/api/v1/analyses/{analysis.pk}/"))
    for url in ("/api/schema/", "/api/docs/", "/healthz", "/readyz"):
        pages.append(client.get(url))

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    pages.append(client.get(reverse("admin:index")))
    pages.append(client.get(reverse("admin:reports")))
    pages.append(client.get(reverse("admin:reports_csv")))
    for model in admin.site._registry:
        meta = model._meta
        pages.append(client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")))
        for obj in model._default_manager.all()[:5]:
            pages.append(client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])))

    for page in pages:
        assert page.status_code < 500, (page.status_code, page.wsgi_request.path)
        body = b"".join(page.streaming_content) if page.streaming else page.content
        assert FAKE_KEY.encode() not in body, page.wsgi_request.path
        assert FAKE_KEY not in str(dict(page.items())), page.wsgi_request.path
    assert len(pages) > 20
    # ...and never shown: not in logs, not in stored errors.
    assert FAKE_KEY not in caplog.text
    for analysis in Analysis.objects.all():
        assert FAKE_KEY not in f"{analysis.error_code} {analysis.error_message} {analysis.details}"
