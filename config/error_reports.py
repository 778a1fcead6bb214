"""What error reports (the DEBUG page, error e-mails) may show: Django's filter, plus passwords in URLs.

Django hides settings by name (…KEY, …PASS…, …TOKEN…), but a broker or database URL such as
`redis://:secret@host:6379/0` is named CELERY_BROKER_URL or REDIS_URL and was shown in clear.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

from config.redaction import SENSITIVE_NAMES, redact

_URL_PASSWORD = re.compile(r"(?P<prefix>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"(?P<prefix>[?&](?:password|passwd|pwd|secret|token|key)=)[^&\s]+", re.IGNORECASE)


class UrlPasswordSafeFilter(SafeExceptionReporterFilter):
    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)  # recurses through dicts, lists and tuples
        return self._without_url_passwords(value)

    def cleanse_special_types(self, request, value):
        # Each local variable of the traceback's frames.
        return self._without_url_passwords(super().cleanse_special_types(request, value))

    def get_traceback_frame_variables(self, request, tb_frame):
        # Frames, landmarks and tokens are never shown, whichever function held them (issue 18).
        return [
            (name, self.cleansed_substitute if SENSITIVE_NAMES.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _without_url_passwords(self, value):
        if not isinstance(value, str):
            return value
        value = redact(value)
        value = _URL_PASSWORD.sub(lambda m: m["prefix"] + self.cleansed_substitute + "@", value)
        return _QUERY_SECRET.sub(lambda m: m["prefix"] + self.cleansed_substitute, value)
