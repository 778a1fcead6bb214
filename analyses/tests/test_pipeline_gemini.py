"""The whole pipeline with provider gemini: the real google-genai client against a local fake server."""

import json
import logging

import pytest

from analyses.models import Analysis
from analyses.tests.factories import GEMINI_ANSWER, frame_b64, pose_keypoints, submission

# Transactional: on-commit hooks (enqueueing) must fire as they do outside tests.
pytestmark = pytest.mark.django_db(transaction=True)

FAKE_KEY = "AIzaFAKE-PIPELINE-KEY-0987654321"
ANALYSES = "/api/v1/analyses/"
GOOD = {**GEMINI_ANSWER, "score": 77, "advice": "Stay low."}


@pytest.fixture
def fake(gemini_server, settings):
    gemini_server.reset()
    settings.GEMINI_API_KEY = FAKE_KEY
    settings.GEMINI_BASE_URL = gemini_server.base_url
    settings.GEMINI_MODEL = "gemini-test-flash"
    settings.GEMINI_TIMEOUT_SECONDS = 1.0
    settings.ANALYSIS_RETRY_BACKOFF_SECONDS = 0.01
    settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS = 0.02
    settings.ANALYSIS_MAX_ATTEMPTS = 3
    return gemini_server


def analyze_requests(fake):
    return [r for r in fake.requests if "responseJsonSchema" in json.dumps(r.body)]


def describe_requests(fake):
    return [r for r in fake.requests if "responseJsonSchema" not in json.dumps(r.body)]


def submit(client, **overrides):
    return client.post(ANALYSES, submission(provider="gemini", **overrides), format="json")


def test_auto_picks_gemini_when_a_key_is_set_and_pose_without(auth_client, fake, settings):
    fake.script([("ok", "The instructor raises both arms."), ("ok", GOOD)])
    assert auth_client.post(ANALYSES, submission(), format="json").json()["provider"] == "gemini"
    settings.GEMINI_API_KEY = ""
    assert auth_client.post(ANALYSES, submission(timestamp=9.0), format="json").json()["provider"] == "pose"


def test_a_gemini_analysis_stores_the_result_model_and_tokens(auth_client, fake):
    fake.script([("ok", "The instructor raises both arms."), ("ok", GOOD)])
    r = submit(auth_client)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "completed"
    assert body["score"] == 77 and body["advice"] == "Stay low."
    assert body["model"] == "gemini-test-flash"
    analysis = Analysis.objects.get(pk=body["id"])
    assert analysis.input_tokens > 0 and analysis.output_tokens > 0
    sent = json.dumps(analyze_requests(fake)[0].body)
    assert "inlineData" in sent and "responseJsonSchema" in sent
    assert "The instructor raises both arms." in sent  # the shared reference description
    assert FAKE_KEY not in sent


def test_without_a_description_the_clip_goes_as_a_video_part_with_offsets(auth_client, fake):
    fake.script([("status", 503), ("ok", GOOD)])  # describing fails: the clip itself is sent
    r = submit(auth_client, timestamp=12.0)
    assert r.json()["status"] == "completed"
    parts = json.dumps(analyze_requests(fake)[-1].body)
    assert "youtube.com/watch?v=dQw4w9WgXcQ" in parts
    assert '"start_offset": "11' in parts and '"end_offset": "13' in parts


def test_429_then_success_retries_and_completes(auth_client, fake):
    fake.script([("ok", "desc"), ("status", 429), ("ok", GOOD)])
    body = submit(auth_client).json()
    assert body["status"] == "completed"
    assert Analysis.objects.get(pk=body["id"]).attempts == 2


def test_5xx_until_retries_run_out_fails_with_gemini_unavailable(auth_client, fake):
    fake.script([("ok", "desc")] + [("status", 500)] * 10)
    body = submit(auth_client).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "gemini_unavailable"
    assert body["score"] is None and body["advice"] == ""
    assert Analysis.objects.get(pk=body["id"]).attempts == 3


def test_a_timeout_is_retried_then_fails_with_a_code(auth_client, fake):
    fake.script([("ok", "desc")] + [("timeout", 3.0)] * 3)
    body = submit(auth_client).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "gemini_timeout"


def test_malformed_output_is_repaired_once_then_fails_as_invalid_model_output(auth_client, fake):
    fake.script([("ok", "desc"), ("malformed", None), ("ok", {**GOOD, "score": 150})])
    body = submit(auth_client).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "invalid_model_output"
    assert len(analyze_requests(fake)) == 2


def test_a_safety_block_fails_at_once(auth_client, fake):
    fake.script([("ok", "desc"), ("safety", None)])
    body = submit(auth_client).json()
    assert body["error"]["code"] == "blocked_by_safety"
    assert Analysis.objects.get(pk=body["id"]).attempts == 1


def test_the_reference_context_is_fetched_once_per_time_bucket(auth_client, fake):
    fake.script([("ok", "Arms up, step left.")] + [("ok", GOOD)] * 3)
    for i, t in enumerate((20.1, 20.6, 20.9)):
        frame = frame_b64(fmt="PNG", shade=i * 40)
        assert submit(auth_client, timestamp=t, user_frame=frame).json()["status"] == "completed"
    assert len(describe_requests(fake)) == 1
    assert len(analyze_requests(fake)) == 3


def test_the_api_key_appears_in_no_response_log_admin_page_or_schema(auth_client, fake, caplog, admin_client):
    caplog.set_level(logging.DEBUG)
    fake.script([("ok", "desc"), ("status", 500), ("status", 401), ("ok", GOOD)])
    body = submit(auth_client).content.decode()
    listing = auth_client.get(ANALYSES).content.decode()
    analysis = Analysis.objects.get()
    admin_pages = admin_client.get("/admin/analyses/analysis/").content.decode()
    admin_pages += admin_client.get(f"/admin/analyses/analysis/{analysis.pk}/change/").content.decode()
    schema = auth_client.get("/api/schema/").content.decode()
    for text in (body, listing, admin_pages, schema, caplog.text, analysis.error_message):
        assert FAKE_KEY not in text


def test_pose_figures_ground_the_gemini_prompt_when_keypoints_came(auth_client, fake):
    fake.script([("ok", "desc"), ("ok", GOOD)])
    submit(auth_client, keypoints=pose_keypoints(3.0))
    sent = json.dumps(analyze_requests(fake)[0].body)
    assert "weakest" in sent or "mode" in sent
