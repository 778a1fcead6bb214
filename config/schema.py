"""The schema endpoint: the OpenAPI document made and rendered once per process and variant.

The public schema depends on the code only, never on the caller, and generating it costs far more
than any anonymous request should (rendering it as YAML too): each supported language's document
is generated once, and each rendering of it (YAML or JSON) is kept as bytes. The key is bounded:
an unsupported `?lang=` gets the default language, and `?version=` is ignored (the API is versioned
by its URL), rather than echoed into the document.
"""

import threading
from typing import ClassVar

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer


def _supported_language(code: str | None) -> str:
    try:
        return translation.get_supported_language_variant(code or settings.LANGUAGE_CODE)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


class SchemaApi(SpectacularAPIView):
    """`GET /api/schema/`: the OpenAPI document, YAML by default or JSON when asked."""

    _documents: ClassVar[dict] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        language = _supported_language(request.GET.get("lang"))
        renderer = request.accepted_renderer
        key = (language, renderer.media_type)
        body = self._documents.get(key)
        if body is None:
            with self._lock:  # a burst of first requests generates it once
                body = self._documents.get(key) or self._render(request, language, renderer)
                self._documents[key] = body
        content_type = f"{renderer.media_type}; charset={renderer.charset}" if renderer.charset else renderer.media_type
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, None)}"'
        return response

    def _render(self, request, language: str, renderer) -> bytes:
        schema = self._documents.get((language, "schema"))
        if schema is None:
            with translation.override(language):
                generator = self.generator_class(urlconf=self.urlconf, patterns=self.patterns)
                schema = generator.get_schema(request=request, public=self.serve_public)
            self._documents[(language, "schema")] = schema
        return renderer.render(schema, renderer.media_type, self.get_renderer_context())

    def handle_exception(self, exc):
        # Refusals in the API's JSON error shape, not rendered as an OpenAPI YAML document.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @classmethod
    def cache_clear(cls) -> None:
        cls._documents.clear()
