from django.urls import path

from analyses.consumers import AnalysisUpdatesConsumer

websocket_urlpatterns = [
    path("ws/analyses/", AnalysisUpdatesConsumer.as_asgi(), name="ws-analyses"),
]
