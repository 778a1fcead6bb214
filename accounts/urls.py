from django.urls import path

from accounts import api
from config.trailing_slash import slash_optional

urlpatterns = slash_optional(
    [
        path("register/", api.RegisterApi.as_view(), name="auth-register"),
        path("login/", api.LoginApi.as_view(), name="auth-login"),
        path("refresh/", api.RefreshApi.as_view(), name="auth-refresh"),
        path("logout/", api.LogoutApi.as_view(), name="auth-logout"),
        path("logout/all/", api.LogoutEverywhereApi.as_view(), name="auth-logout-all"),
        path("me/", api.MeApi.as_view(), name="auth-me"),
        path("me/export/", api.DataExportApi.as_view(), name="auth-me-export"),
        path(
            "me/export/<uuid:export_id>/download/",
            api.DataExportDownloadApi.as_view(),
            name="auth-me-export-download",
        ),
        path("password/", api.PasswordChangeApi.as_view(), name="auth-password"),
    ]
)
