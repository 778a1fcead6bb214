from django.urls import path

from analyses import api
from config.trailing_slash import slash_optional

urlpatterns = slash_optional(
    [
        path("sessions/", api.SessionListCreateApi.as_view(), name="session-list"),
        path("sessions/<uuid:session_id>/", api.SessionDetailApi.as_view(), name="session-detail"),
        path("sessions/<uuid:session_id>/end/", api.SessionEndApi.as_view(), name="session-end"),
        path("analyses/", api.AnalysisListCreateApi.as_view(), name="analysis-list"),
        path("analyses/<uuid:analysis_id>/", api.AnalysisDetailApi.as_view(), name="analysis-detail"),
        # The original plan's paths, kept as aliases.
        path("analysis/start", api.AnalysisStartAliasApi.as_view(), name="analysis-start-alias"),
        path("analysis/history", api.AnalysisHistoryAliasApi.as_view(), name="analysis-history-alias"),
    ]
)
