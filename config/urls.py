from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analyses.stats_api import StatsApi
from config import health, views
from config.trailing_slash import slash_optional

api_v1 = [
    path("auth/", include("accounts.urls")),
    *slash_optional([path("stats/", StatsApi.as_view(), name="stats")]),
    path("", include("playlists.urls")),
    path("", include("analyses.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
