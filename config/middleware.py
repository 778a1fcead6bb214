import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from config.errors import error_body

logger = logging.getLogger(__name__)

_DEFAULTS = {
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is larger than the server accepts."),
    500: ("error", "Server Error (500)"),
    503: ("service_unavailable", "A backing service is unavailable; try again shortly."),
}


class ApiErrorMiddleware:
    """Give the API's error shape to errors raised outside DRF views under /api/.

    DRF views format their own errors; this covers unknown URLs (404), bodies too
    large before a view runs (413) and crashes in middleware (500).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in _DEFAULTS
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, detail = _DEFAULTS[response.status_code]
            return JsonResponse(
                error_body(status_code=response.status_code, code=code, detail=detail), status=response.status_code
            )
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        if isinstance(exception, RequestDataTooBig):
            code, detail = _DEFAULTS[413]
            return JsonResponse(error_body(status_code=413, code=code, detail=detail), status=413)
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("Database unavailable on %s: %r", request.path, exception)
            code, detail = _DEFAULTS[503]
            return JsonResponse(error_body(status_code=503, code=code, detail=detail), status=503)
        logger.exception("Unhandled error on %s", request.path)
        code, detail = _DEFAULTS[500]
        return JsonResponse(error_body(status_code=500, code=code, detail=detail), status=500)


class ServerTimingMiddleware:
    """`Server-Timing: app;dur=<ms>` on every response: what the app spent, without the network."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response
