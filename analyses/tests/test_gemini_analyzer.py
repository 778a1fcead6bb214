"""The Gemini analyzer, driving the real google-genai client against a local fake server.

No database and no network: FakeGemini listens on 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import time

import pytest
from PIL import Image

from analyses.analyzers import gemini
from analyses.analyzers.base import (
    AnalyzerInput,
    PermanentAnalyzerError,
    ReferenceContext,
    TransientAnalyzerError,
)
from analyses.analyzers.gemini import GeminiConfig, analyze, describe_clip, downscale_frame
from analyses.tests.factories import GEMINI_ANSWER

FAKE_KEY = "AIzaFAKE-KEY-1234567890"

GOOD = GEMINI_ANSWER


@pytest.fixture
def fake(gemini_server):
    gemini_server.reset()
    return gemini_server


@pytest.fixture
def config(fake):
    return GeminiConfig(api_key=FAKE_KEY, model="gemini-test-flash", base_url=fake.base_url, timeout_seconds=5.0)


def _jpeg(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def big_frame() -> bytes:
    return _jpeg(1024, 576)


def _input(frame: bytes, **overrides) -> AnalyzerInput:
    values = dict(
        frame=frame,
        frame_mime="image/jpeg",
        keypoints=None,
        youtube_id="dQw4w9WgXcQ",
        timestamp=12.3,
        language="en",
    )
    values.update(overrides)
    return AnalyzerInput(**values)


def _parts(body: dict) -> list[dict]:
    return [part for content in body["contents"] for part in content["parts"]]


def _field(obj: dict, camel: str, snake: str):
    # The SDK camelCases its own keys but passes nested values through in snake_case.
    return obj.get(camel, obj.get(snake))


def _code(excinfo) -> str:
    return excinfo.value.code


# -- success ---------------------------------------------------------------


def test_a_successful_analysis_sends_frame_schema_clip_and_settings_with_the_key_only_in_the_header(
    fake, config, big_frame
):
    result = analyze(_input(big_frame, pose_details={"knee_right": 142.5}), config=config)

    assert len(fake.requests) == 1
    path, headers, body = fake.requests[0]
    assert path.endswith("/models/gemini-test-flash:generateContent")
    assert headers["x-goog-api-key"] == FAKE_KEY
    assert FAKE_KEY not in json.dumps(body) and FAKE_KEY not in path

    parts = _parts(body)
    images = [_field(p, "inlineData", "inline_data") for p in parts if _field(p, "inlineData", "inline_data")]
    assert len(images) == 1
    sent = base64.urlsafe_b64decode(images[0]["data"])
    expected, mime = downscale_frame(big_frame)
    assert sent == expected and mime == "image/jpeg"
    assert _field(images[0], "mimeType", "mime_type") == "image/jpeg"
    assert max(Image.open(io.BytesIO(sent)).size) == 768

    videos = [p for p in parts if _field(p, "fileData", "file_data")]
    assert len(videos) == 1
    file_data = _field(videos[0], "fileData", "file_data")
    assert _field(file_data, "fileUri", "file_uri") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert _field(file_data, "mimeType", "mime_type") == "video/*"
    meta = _field(videos[0], "videoMetadata", "video_metadata")
    assert _field(meta, "startOffset", "start_offset") == "11.3s"
    assert _field(meta, "endOffset", "end_offset") == "13.3s"

    text = " ".join(p["text"] for p in parts if "text" in p)
    assert "142.5" in text and "knee_right" in text  # the pose figures ground the answer

    gen = body["generationConfig"]
    assert gen["responseMimeType"] == "application/json"
    schema = gen.get("responseJsonSchema") or gen.get("responseSchema")
    assert schema["properties"]["score"]["minimum"] == 0 and schema["properties"]["score"]["maximum"] == 100
    assert set(schema["required"]) >= {"score", "good_points", "improvements", "advice", "short_advice"}
    assert gen["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    assert gen["temperature"] == 0.2 and gen["seed"] == 1234 and gen["maxOutputTokens"] == 1024
    assert "English" in json.dumps(body["systemInstruction"])

    assert 0 <= result.score <= 100
    assert result.good_points and result.improvements and result.advice
    assert set(result.short) == {"good_points", "improvements", "advice"}
    assert result.provider == "gemini" and result.model == "gemini-test-flash"
    assert result.input_tokens == 1290 and result.output_tokens > 0
    assert result.details["reference"] == "video" and result.details["repaired"] is False
    assert result.details["prompt_version"] == "v1"


def test_the_answer_is_requested_in_japanese_for_ja(fake, config, big_frame):
    result = analyze(_input(big_frame, language="ja"), config=config)

    assert "Japanese" in json.dumps(fake.requests[0].body["systemInstruction"])
    assert result.details["language"] == "ja"


def test_the_clip_never_starts_before_zero(fake, config, big_frame):
    analyze(_input(big_frame, timestamp=0.4), config=config)

    video = next(p for p in _parts(fake.requests[0].body) if _field(p, "videoMetadata", "video_metadata"))
    meta = _field(video, "videoMetadata", "video_metadata")
    assert _field(meta, "startOffset", "start_offset") == "0s"
    assert _field(meta, "endOffset", "end_offset") == "1.4s"


def test_a_cached_description_replaces_the_video_part(fake, config, big_frame):
    reference = ReferenceContext(description="The instructor lunges left and raises both arms.")
    result = analyze(_input(big_frame, reference=reference), config=config)

    parts = _parts(fake.requests[0].body)
    assert not any(_field(p, "fileData", "file_data") for p in parts)
    assert any("lunges left and raises both arms" in p.get("text", "") for p in parts)
    assert result.details["reference"] == "description"


def test_a_reference_without_description_still_sends_the_video(fake, config, big_frame):
    analyze(_input(big_frame, reference=ReferenceContext(fps=10.0)), config=config)

    assert any(_field(p, "fileData", "file_data") for p in _parts(fake.requests[0].body))


def test_the_exact_scripted_answer_is_returned(fake, config, big_frame):
    fake.script([("ok", GOOD)])
    result = analyze(_input(big_frame), config=config)

    assert result.score == 81
    assert result.good_points == GOOD["good_points"]
    assert result.short == {"good_points": ["Arms"], "improvements": ["Right knee"], "advice": "Stay low"}


# -- transient errors ------------------------------------------------------


def test_rate_limiting_is_transient_and_the_sdk_does_not_retry(fake, config, big_frame):
    fake.script([("status", 429)])
    with pytest.raises(TransientAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "gemini_rate_limited"
    assert len(fake.requests) == 1  # retries belong to Celery


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient_unavailable(fake, config, big_frame, status):
    fake.script([("status", status)])
    with pytest.raises(TransientAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "gemini_unavailable"
    assert len(fake.requests) == 1


def test_a_slow_answer_times_out_as_transient(fake, big_frame):
    config = GeminiConfig(api_key=FAKE_KEY, model="m", base_url=fake.base_url, timeout_seconds=0.5)
    fake.script([("timeout", 3.0)])
    started = time.monotonic()
    with pytest.raises(TransientAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "gemini_timeout"
    assert time.monotonic() - started < 2.0


def test_a_refused_connection_is_transient_unavailable(big_frame):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nothing listens there
    config = GeminiConfig(api_key=FAKE_KEY, model="m", base_url=f"http://127.0.0.1:{port}", timeout_seconds=2.0)
    with pytest.raises(TransientAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "gemini_unavailable"


def test_a_body_that_is_not_json_is_transient_unavailable(fake, config, big_frame):
    fake.script([("garbage", None)])
    with pytest.raises(TransientAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "gemini_unavailable"


# -- output validation and repair -------------------------------------------


def test_malformed_output_is_repaired_with_one_more_call(fake, config, big_frame):
    fake.script([("malformed", None), ("ok", GOOD)])
    result = analyze(_input(big_frame), config=config)

    assert result.score == 81 and result.details["repaired"] is True
    assert len(fake.requests) == 2
    repair = fake.requests[1].body["contents"]
    assert [c["role"] for c in repair] == ["user", "model", "user"]
    assert '"good_points": ["Nice arms"' in repair[1]["parts"][0]["text"]  # the bad output is shown back
    assert "not valid JSON" in repair[2]["parts"][0]["text"]
    assert result.input_tokens == 2 * 1290  # both calls are counted


def test_output_still_malformed_after_the_repair_fails_permanently(fake, config, big_frame):
    fake.script([("malformed", None), ("malformed", None)])
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "invalid_model_output"
    assert len(fake.requests) == 2


def test_an_out_of_range_score_twice_fails_permanently(fake, config, big_frame):
    fake.script([("ok", {**GOOD, "score": 150}), ("ok", {**GOOD, "score": 150})])
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "invalid_model_output"
    assert len(fake.requests) == 2
    assert "between 0 and 100" in fake.requests[1].body["contents"][-1]["parts"][0]["text"]


@pytest.mark.parametrize(
    "bad",
    [
        {**GOOD, "score": "81"},
        {**GOOD, "score": True},
        {**GOOD, "advice": "  "},
        {**GOOD, "good_points": "Arms"},
        {**GOOD, "improvements": [1, 2]},
        {k: v for k, v in GOOD.items() if k != "short_advice"},
        ["not", "an", "object"],
    ],
)
def test_wrong_types_or_empty_advice_trigger_the_repair(fake, config, big_frame, bad):
    fake.script([("ok", json.dumps(bad)), ("ok", GOOD)])
    result = analyze(_input(big_frame), config=config)

    assert result.details["repaired"] is True and len(fake.requests) == 2


# -- permanent errors --------------------------------------------------------


def test_a_blocked_prompt_is_a_permanent_safety_error(fake, config, big_frame):
    fake.script([("safety", None)])
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "blocked_by_safety"
    assert len(fake.requests) == 1  # no repair attempt for a block


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"])
def test_a_blocked_answer_is_a_permanent_safety_error(fake, config, big_frame, reason):
    fake.script([("finish", reason)])
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == "blocked_by_safety"


@pytest.mark.parametrize(
    ("step", "code"),
    [
        (400, "gemini_bad_request"),
        (401, "gemini_auth_failed"),
        (403, "gemini_auth_failed"),
        ({"code": 400, "message": "API key not valid.", "reason": "API_KEY_INVALID"}, "gemini_auth_failed"),
    ],
)
def test_bad_requests_and_auth_failures_are_permanent(fake, config, big_frame, step, code):
    fake.script([("status", step)])
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)

    assert _code(excinfo) == code
    assert len(fake.requests) == 1


def test_a_missing_key_is_not_configured_and_sends_nothing(fake, big_frame):
    config = GeminiConfig(api_key="", model="m", base_url=fake.base_url)
    with pytest.raises(PermanentAnalyzerError) as excinfo:
        analyze(_input(big_frame), config=config)
    assert _code(excinfo) == "gemini_not_configured"

    with pytest.raises(PermanentAnalyzerError) as excinfo:
        describe_clip(youtube_id="abc", start=1.0, end=3.0, language="en", config=config)
    assert _code(excinfo) == "gemini_not_configured"
    assert fake.requests == []


@pytest.mark.parametrize(
    "step",
    [
        ("status", {"code": 400, "message": f"API key not valid: {FAKE_KEY}", "reason": "API_KEY_INVALID"}),
        ("status", {"code": 403, "message": f"Key {FAKE_KEY} has no access"}),
        ("status", {"code": 429, "message": f"Quota exceeded for key {FAKE_KEY}"}),
        ("status", {"code": 500, "message": f"internal error ({FAKE_KEY})"}),
        ("timeout", 3.0),
        ("safety", None),
        ("malformed", None),
    ],
)
def test_the_api_key_never_appears_in_error_messages(fake, big_frame, step):
    config = GeminiConfig(api_key=FAKE_KEY, model="m", base_url=fake.base_url, timeout_seconds=0.5)
    fake.script([step, step])
    with pytest.raises((TransientAnalyzerError, PermanentAnalyzerError)) as excinfo:
        analyze(_input(big_frame), config=config)

    err = excinfo.value
    for text in (str(err), err.message, repr(err), repr(config)):
        assert FAKE_KEY not in text
    # The SDK's exception (whose text may echo the server's message) is not chained in.
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


# -- describe_clip -----------------------------------------------------------


def test_describe_clip_sends_the_clip_and_returns_text_and_tokens(fake, config):
    fake.script([("ok", "The instructor steps right and claps twice.")])
    text, input_tokens, output_tokens = describe_clip(
        youtube_id="dQw4w9WgXcQ", start=10.0, end=12.5, language="ja", config=config
    )

    assert text == "The instructor steps right and claps twice."
    assert input_tokens == 1290 and output_tokens > 0
    body = fake.requests[0].body
    video = next(p for p in _parts(body) if _field(p, "fileData", "file_data"))
    meta = _field(video, "videoMetadata", "video_metadata")
    assert (_field(meta, "startOffset", "start_offset"), _field(meta, "endOffset", "end_offset")) == ("10s", "12.5s")
    assert body["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    assert "responseMimeType" not in body["generationConfig"]  # plain prose, not the result schema
    assert "Japanese" in json.dumps(body["contents"], ensure_ascii=False)


def test_describe_clip_maps_errors_like_analyze(fake, config):
    fake.script([("status", 429)])
    with pytest.raises(TransientAnalyzerError) as excinfo:
        describe_clip(youtube_id="abc", start=1.0, end=3.0, language="en", config=config)
    assert _code(excinfo) == "gemini_rate_limited"


# -- client and frames -------------------------------------------------------


def test_clients_are_cached_per_key_base_url_and_timeout(fake):
    first = GeminiConfig(api_key=FAKE_KEY, model="a", base_url=fake.base_url, timeout_seconds=5.0)
    same = GeminiConfig(api_key=FAKE_KEY, model="b", base_url=fake.base_url, timeout_seconds=5.0)
    other = GeminiConfig(api_key=FAKE_KEY, model="a", base_url=fake.base_url, timeout_seconds=6.0)

    assert gemini.get_client(first) is gemini.get_client(same)
    assert gemini.get_client(first) is not gemini.get_client(other)


def test_downscale_frame_bounds_the_long_side():
    data, mime = downscale_frame(_jpeg(1200, 3000), max_side=768)

    image = Image.open(io.BytesIO(data))
    assert mime == "image/jpeg" and image.format == "JPEG"
    assert max(image.size) == 768 and image.size == (307, 768)


def test_downscale_frame_leaves_small_images_alone():
    buf = io.BytesIO()
    Image.new("RGBA", (320, 240), (0, 0, 0, 0)).save(buf, format="PNG")
    small = buf.getvalue()

    assert downscale_frame(small) == (small, "image/png")


def test_downscale_frame_flattens_transparency_to_jpeg():
    buf = io.BytesIO()
    Image.new("RGBA", (2000, 1000), (0, 0, 0, 0)).save(buf, format="PNG")
    data, mime = downscale_frame(buf.getvalue())

    image = Image.open(io.BytesIO(data))
    assert mime == "image/jpeg" and image.mode == "RGB" and image.size == (768, 384)
