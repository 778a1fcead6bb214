"""DRF throttles whose counters are django-ratelimit's (atomic, shared through the cache).

DRF turns a refusal into 429 with `Retry-After` in the error shape. When the cache is
down django-ratelimit fails open (RATELIMIT_FAIL_OPEN): nobody is locked out.
"""

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle


def _user_or_ip(group, request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def _user(group, request):
    return f"user:{request.user.pk}"


def _login_email(group, request):
    # django-ratelimit's `post:` keys read form data; our bodies are JSON.
    data = request.data if hasattr(request, "data") else {}
    email = data.get("email", "") if isinstance(data, dict) else ""
    return str(email).strip().lower()[:254]


class RateLimitThrottle(BaseThrottle):
    group: str = ""
    key = "ip"
    rate_setting: str = ""

    def get_rate(self, request) -> str | None:
        return settings.RATE_LIMITS.get(self.rate_setting)

    def allow_request(self, request, view):
        usage = get_usage(request, group=self.group, key=self.key, rate=self.get_rate(request), increment=True)
        self._time_left = None
        if usage is None or not usage["should_limit"]:
            return True
        self._time_left = max(1, int(usage["time_left"]))
        return False

    def wait(self):
        return self._time_left


class DefaultThrottle(RateLimitThrottle):
    """Every endpoint: per user when signed in, otherwise per IP."""

    group = "default"
    key = staticmethod(_user_or_ip)

    def get_rate(self, request):
        authenticated = request.user is not None and request.user.is_authenticated
        return settings.RATE_LIMITS["default_user" if authenticated else "default_anon"]


class LoginIPThrottle(RateLimitThrottle):
    group = "login_ip"
    rate_setting = "login_ip"


class LoginEmailThrottle(RateLimitThrottle):
    group = "login_email"
    key = staticmethod(_login_email)
    rate_setting = "login_email"


class RegisterIPThrottle(RateLimitThrottle):
    group = "register_ip"
    rate_setting = "register_ip"


class AnalysisSubmitThrottle(RateLimitThrottle):
    group = "analysis_submit"
    key = staticmethod(_user)
    rate_setting = "analysis_user"
