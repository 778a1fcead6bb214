"""Logs and error reports never carry tokens, frames or landmarks (issue 18)."""

import json
import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter
from rest_framework_simplejwt.tokens import RefreshToken

from analyses.tests.factories import frame_b64, pose_keypoints
from config.redaction import RedactFilter


def emitted(message, *args, exc_info=None) -> str:
    record = logging.LogRecord("test", logging.WARNING, __file__, 1, message, args, exc_info)
    assert RedactFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


def test_a_log_line_loses_tokens_frames_and_landmarks(user):
    token = str(RefreshToken.for_user(user))
    frame = frame_b64(data_url=True)
    landmarks = pose_keypoints()
    line = emitted("refresh %s frame %s landmarks %s", token, frame, landmarks)
    assert token not in line and frame[40:200] not in line and str(landmarks[0]["x"]) not in line
    assert "[token]" in line and "[binary]" in line and "[landmarks]" in line
    as_json = emitted("body %s", json.dumps({"keypoints": landmarks}))
    assert str(landmarks[3]["y"]) not in as_json


def test_an_exception_in_a_log_line_loses_them_too(user):
    token = str(RefreshToken.for_user(user).access_token)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        line = emitted("failed", exc_info=sys.exc_info())
    assert "ValueError" in line and token not in line


def test_an_error_report_hides_frames_landmarks_and_tokens_held_in_variables(settings):
    def analyse(user_frame, keypoints, access_token):
        raise RuntimeError("boom")

    secret = "-".join(["opaque", "secret", str(6 * 7)])  # not in the source the report quotes
    frame, keypoints = frame_b64(), pose_keypoints()
    try:
        analyse(frame, keypoints, secret)
    except RuntimeError:
        report = ExceptionReporter(RequestFactory().get("/"), *sys.exc_info()).get_traceback_html()
    assert secret not in report and frame[:100] not in report and repr(keypoints[0]["x"]) not in report
    assert "********" in report
