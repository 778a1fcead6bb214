from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from analyses.stats_api import StatsApi
from config import health, views
from config.schema import SchemaApi
from config.trailing_slash import slash_optional

api_v1 = [
    path("auth/", include("accounts.urls")),
    *slash_optional([path("stats/", StatsApi.as_view(), name="stats")]),
    path("", include("playlists.urls")),
    path("", include("analyses.urls")),
    path("", include("coaching.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("reference/", views.reference, name="reference"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaApi.as_view(), name="schema"),
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar); the split view
    # loads its start-up script from a URL, so the Content-Security-Policy needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
# /media/ (the dancers' frames) is never served by the app, DEBUG or not: the admin shows frames inline.
