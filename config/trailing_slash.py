"""API routes that answer the same with or without their trailing slash.

Front ends write paths both ways, and Django's APPEND_SLASH cannot help a write: it refuses to
redirect a POST with DEBUG on (500) and answers 301 without, which the browser follows as a GET.
So every route is registered twice: its canonical form, named and in the OpenAPI schema, and a
twin with the slash toggled, unnamed and left out of the schema.
"""

from django.urls import URLPattern, path


def slash_optional(patterns: list[URLPattern]) -> list[URLPattern]:
    """The patterns, followed by their twins with the trailing slash toggled."""
    twins = []
    for pattern in patterns:
        route = str(pattern.pattern)
        twin = route[:-1] if route.endswith("/") else route + "/"
        view = pattern.callback.view_class
        # DRF leaves a view built with schema=None out of the schema (its public switch for that).
        twins.append(path(twin, view.as_view(**pattern.callback.view_initkwargs, schema=None)))
    return [*patterns, *twins]
