"""Django's storage API (local disk or S3-compatible object storage) and its failures.

Callers go through `django.core.files.storage` only; this module says which failures are worth
retrying (a network error, a throttled or failing endpoint, a full disk) and which mean the
object is simply not there.
"""

from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def storage_errors() -> tuple[type[BaseException], ...]:
    """Every exception a storage call may raise for a reason outside the caller's control."""
    errors: list[type[BaseException]] = [OSError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a runtime dependency
        return tuple(errors)
    return (*errors, BotoCoreError, ClientError)


def storage_missing(exc: BaseException) -> bool:
    """True when the failure says the object does not exist (retrying cannot help)."""
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) in _MISSING_CODES
    return False


def storage_is_local(storage) -> bool:
    """True when the storage is a directory of this host (its files have a path)."""
    try:
        storage.path("probe")
    except NotImplementedError:
        return False
    return True


def storage_image_sources(*, bucket: str, endpoint: str | None, addressing_style: str | None) -> list[str]:
    """The origins presigned object links come from (for the admin's Content-Security-Policy)."""
    if not bucket:
        return []
    if not endpoint:
        return ["https://*.amazonaws.com"]
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [origin] if addressing_style == "path" else [origin, f"{parts.scheme}://*.{parts.netloc}"]


def storage_link(field_file) -> str:
    """A browser's link to a stored file: presigned and short-lived (AWS_QUERYSTRING_EXPIRE) on
    object storage, signed for the endpoint browsers reach (AWS_S3_PUBLIC_ENDPOINT_URL) when the
    app reaches the store by an inside name. Signing is local: no request is made."""
    public = getattr(settings, "AWS_S3_PUBLIC_ENDPOINT_URL", None)
    if public and not storage_is_local(field_file.storage):
        default = settings.STORAGES["default"]
        return _public_storage(default["BACKEND"], public, tuple(default.get("OPTIONS", {}).items())).url(
            field_file.name
        )
    return field_file.storage.url(field_file.name)


@cache
def _public_storage(backend: str, endpoint: str, options: tuple):
    return import_string(backend)(**{**dict(options), "endpoint_url": endpoint})
