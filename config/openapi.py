"""Error responses in the schema beyond those drf-standardized-errors knows (401 codes, 413, 503)."""

import re

from django.db import models
from drf_spectacular.plumbing import is_serializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers


class ErrorCode413Enum(models.TextChoices):
    REQUEST_TOO_LARGE = "request_too_large"


class ErrorCode401Enum(models.TextChoices):
    # DRF's two, simplejwt's (every endpoint), and the login and refresh endpoints'.
    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - error codes, not secrets
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    INVALID_CREDENTIALS = "invalid_credentials"
    # A hosted provider's token for an account the dancer deleted (docs/your-data.md).
    ACCOUNT_DELETED = "account_deleted"


class ErrorCode503Enum(models.TextChoices):
    SERVICE_UNAVAILABLE = "service_unavailable"
    # A hosted identity provider's keys cannot be fetched (accounts/oidc/): only its tokens are refused.
    IDENTITY_PROVIDER_UNAVAILABLE = "identity_provider_unavailable"


class Error413Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode413Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)


class Error401Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode401Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error401Serializer(many=True)


class Error503Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode503Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse503Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = Error503Serializer(many=True)


class AutoSchema(StandardizedAutoSchema):
    def _query_serializers(self):
        # `@extend_schema(parameters=[SomeQuerySerializer])`: the view validates its query
        # string with that serializer, so its errors are validation errors of this operation.
        return [p for p in self.get_override_parameters() if is_serializer(p)]

    def _should_add_validation_error_response(self):
        return super()._should_add_validation_error_response() or bool(self._query_serializers())

    def _determine_fields_with_error_codes(self):
        fields = list(super()._determine_fields_with_error_codes())
        for serializer in self._query_serializers():
            fields.extend(get_serializer_fields_with_error_codes(get_flat_serializer_fields(serializer)))
        return fields

    def _should_add_error_response(self, responses, status_code):
        if status_code == "413":
            # Only requests with a body can be too large.
            return status_code not in responses and self.method in {"POST", "PUT", "PATCH"}
        if status_code == "503":
            # Every operation needs the database, so any of them answers 503 while it is down.
            return status_code not in responses
        return super()._should_add_error_response(responses, status_code)


def postprocess_list_index_attrs(result, generator, request, public):
    """drf-standardized-errors names the errors of a list item `field.INDEX.sub` in the schema,
    while responses carry the real index (`field.3.sub`): describe those attrs with a pattern,
    and drop the discriminator that maps attr values (it cannot hold a pattern)."""
    token = package_settings.LIST_INDEX_IN_API_SCHEMA
    separator = package_settings.NESTED_FIELD_SEPARATOR
    schemas = result.get("components", {}).get("schemas", {})
    indexed = set()
    for name, schema in schemas.items():
        attr = schema.get("properties", {}).get("attr")
        values = attr.get("enum") if isinstance(attr, dict) else None
        if not values or len(values) != 1 or not isinstance(values[0], str):
            continue
        parts = values[0].split(separator)
        if token not in parts:
            continue
        attr.pop("enum")
        attr["pattern"] = "^" + re.escape(separator).join(r"\d+" if p == token else re.escape(p) for p in parts) + "$"
        indexed.add(f"#/components/schemas/{name}")
    for schema in schemas.values():
        mapping = (schema.get("discriminator") or {}).get("mapping", {})
        if indexed & set(mapping.values()):
            schema.pop("discriminator")
    return result
