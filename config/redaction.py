"""What logs and error reports must never carry: tokens, frames, landmarks (issue 18).

One function used by the log filter (every handler's record) and by the error reports' filter
(config/error_reports.py), so a token, a base64 frame or a dancer's landmarks that slip into a
message, an exception or a traceback's local variable come out as a placeholder.
"""

import logging
import re

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# A frame: a data URL or any long base64 run (a JPEG of a few kB is thousands of characters).
_BLOB = re.compile(r"(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/_-]{200,}={0,2}")
# One MediaPipe landmark as Python or JSON writes it: {'x': 0.5, 'y': 0.4, 'z': 0.0, 'visibility': 0.9}.
_LANDMARK = re.compile(r"""\{\s*['"]x['"]\s*:[^{}]{0,200}\}""")
_LANDMARKS = re.compile(r"(?:\[landmark\],?\s*){2,}")
# Variables of a traceback whose value is a secret or a dancer's data, whatever it looks like.
SENSITIVE_NAMES = re.compile(
    r"user_frame|^frame$|frame_data|keypoints|landmarks|token|password|secret|^raw$|authorization", re.IGNORECASE
)


def redact(text: str) -> str:
    if not isinstance(text, str) or len(text) < 8:
        return text
    text = _JWT.sub("[token]", text)
    text = _BLOB.sub("[binary]", text)
    text = _LANDMARK.sub("[landmark]", text)
    return _LANDMARKS.sub("[landmarks] ", text)


class RedactFilter(logging.Filter):
    """Rewrites the record's message (and its formatted exception) without tokens, frames or landmarks."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the formatter's own error
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # formatters use exc_text instead (python-json-logger too)
        return True
