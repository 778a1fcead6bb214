"""DRF throttles whose counters are django-ratelimit's (atomic, shared through the cache).

DRF turns a refusal into 429 with `Retry-After` in the error shape. When the cache is
down django-ratelimit fails open (RATELIMIT_FAIL_OPEN): nobody is locked out.
"""

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle


def _user(group, request):
    return f"user:{request.user.pk}"


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
    key = "user_or_ip"  # django-ratelimit's: the client IP honours RATELIMIT_IP_META_KEY

    def get_rate(self, request):
        authenticated = request.user is not None and request.user.is_authenticated
        return settings.RATE_LIMITS["default_user" if authenticated else "default_anon"]


class RegisterIPThrottle(RateLimitThrottle):
    group = "register_ip"
    rate_setting = "register_ip"


class AnalysisSubmitThrottle(RateLimitThrottle):
    group = "analysis_submit"
    key = staticmethod(_user)
    rate_setting = "analysis_user"


# --- Failed logins ---------------------------------------------------------------------
# Only failures count, three ways: per (email, IP) stops one source guessing one password, per
# IP one source trying many accounts, and per email (a much higher ceiling over a short window)
# many sources on one account. A limit reached elsewhere leaves the owner's own IP free until that
# ceiling, which costs them a short cool-down at worst.


def _login_failure_usages(request, email: str, *, increment: bool) -> list[dict]:
    rates = settings.RATE_LIMITS
    usages = [
        get_usage(
            request,
            group=f"login_failures_email_ip:{email}",
            key="ip",
            rate=rates["login_email_ip"],
            increment=increment,
        ),
        get_usage(request, group="login_failures_ip", key="ip", rate=rates["login_ip"], increment=increment),
        get_usage(
            request,
            group="login_failures_email",
            key=lambda group, request: email,
            rate=rates["login_email"],
            increment=increment,
        ),
    ]
    return [usage for usage in usages if usage is not None]  # None: limits off, or the cache is down


def login_attempt_check(*, request, email: str) -> None:
    """Refuse (429) before the password is checked, so no answer tells a right guess from a wrong one."""
    spent = [
        usage for usage in _login_failure_usages(request, email, increment=False) if usage["count"] >= usage["limit"]
    ]
    if spent:
        raise exceptions.Throttled(wait=max(1, max(usage["time_left"] for usage in spent)))


def login_failure_record(*, request, email: str) -> None:
    _login_failure_usages(request, email, increment=True)
