from django.urls import path

from coaching import api
from config.trailing_slash import slash_optional

urlpatterns = slash_optional(
    [
        path("sessions/<uuid:session_id>/report/", api.SessionReportApi.as_view(), name="session-report"),
        path("videos/<int:video_id>/leaderboard/", api.LeaderboardApi.as_view(), name="video-leaderboard"),
    ]
)
