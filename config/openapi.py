"""Error responses in the schema beyond those drf-standardized-errors knows (413, 503)."""

from django.db import models
from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers


class ErrorCode413Enum(models.TextChoices):
    REQUEST_TOO_LARGE = "request_too_large"


class ErrorCode503Enum(models.TextChoices):
    SERVICE_UNAVAILABLE = "service_unavailable"


class Error413Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode413Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)


class Error503Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode503Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse503Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = Error503Serializer(many=True)


class AutoSchema(StandardizedAutoSchema):
    def _should_add_error_response(self, responses, status_code):
        if status_code == "413":
            # Only requests with a body can be too large.
            return status_code not in responses and self.method in {"POST", "PUT", "PATCH"}
        if status_code == "503":
            # Views that need the cache or the broker to accept work say so.
            return status_code not in responses and getattr(self.view, "may_be_unavailable", False)
        return super()._should_add_error_response(responses, status_code)
