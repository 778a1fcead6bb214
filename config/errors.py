"""One error shape for the whole API, built on drf-standardized-errors.

Shape: {"type": "validation_error" | "client_error" | "server_error",
        "errors": [{"code": str, "detail": str, "attr": str | null}]}
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A refusal by the app's own rules, raised by services: a code, a sentence, the field at fault.

    Commands and the admin show the sentence; the API shows it in the error shape (ApiExceptionHandler).
    """

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, message: str, *, code: str = "not_found"):
        super().__init__(message, code=code)


class ForbiddenError(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN

    def __init__(self, message: str, *, code: str = "permission_denied"):
        super().__init__(message, code=code)


class UnavailableError(ApplicationError):
    """A backing service (object storage, ...) failed for now: the client may retry (503)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, code: str = "service_unavailable"):
        super().__init__(message, code=code)


def api_exception(error: ApplicationError) -> exceptions.APIException:
    """The DRF exception that gives an ApplicationError its place in the error shape."""
    if error.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        return ServiceUnavailable(error.message, code=error.code)
    if error.status_code == status.HTTP_404_NOT_FOUND:
        return exceptions.NotFound(error.message, code=error.code)
    if error.status_code == status.HTTP_403_FORBIDDEN:
        return exceptions.PermissionDenied(error.message, code=error.code)
    detail = {error.field: [error.message]} if error.field else [error.message]
    return exceptions.ValidationError(detail, code=error.code)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts."
    default_code = "request_too_large"


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is malformed."
    default_code = "bad_request"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A backing service is unavailable; try again shortly."
    default_code = "service_unavailable"


class ApiExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, ApplicationError):
            return api_exception(exc)
        # Django raises this while DRF reads the body; left alone it would be a 500.
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, TooManyFieldsSent):
            return BadRequest("The request has more query parameters than the server accepts.", code="too_many_fields")
        if isinstance(exc, SuspiciousOperation):
            return BadRequest()  # as Django answers it outside DRF views
        if isinstance(exc, OperationalError | InterfaceError):
            # The database is unreachable (down, restarting, out of connections): the client may
            # retry, so a 503 rather than a 500.
            logger.warning("Database unavailable: %r", exc)
            return ServiceUnavailable()
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            # simplejwt puts {detail, code, messages} in one exception: one error with its code,
            # not one error per key of that dict.
            detail = exc.detail.get("detail", "Authentication failed.")
            code = exc.detail.get("code", "authentication_failed")
            flat = exceptions.AuthenticationFailed(str(detail), code=str(code))
            flat.auth_header = getattr(exc, "auth_header", None)
            return flat
        return super().convert_known_exceptions(exc)


def error_body(*, status_code: int, code: str, detail: str, attr: str | None = None) -> dict:
    """The error shape, for the few responses produced outside DRF views."""
    kind = "client_error" if 400 <= status_code < 500 else "server_error"
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}
