"""Practice sessions and analyses: views check shape and scope, services do the work."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analyses import history, selectors
from analyses.filters import AnalysisFilter
from analyses.live import Subscription
from analyses.models import Analysis, PracticeSession
from analyses.pagination import HistoryPagination, history_is_filtered
from analyses.serializers import (
    AnalysisCreateSerializer,
    AnalysisListItemSerializer,
    AnalysisSerializer,
    AnalysisWaitQuerySerializer,
    SessionCreateSerializer,
    SessionSerializer,
)
from analyses.services.sessions import session_create, session_end
from analyses.services.submissions import analysis_create
from config.throttling import AnalysisSubmitThrottle

SESSIONS = "sessions"
ANALYSES = "analyses"


@extend_validation_errors(["invalid_youtube_url"], field_name="youtube_url", methods=["post"])
class SessionListCreateApi(generics.ListAPIView):
    serializer_class = SessionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return PracticeSession.objects.none()
        return selectors.sessions_for_user(user=self.request.user)

    @extend_schema(tags=[SESSIONS], summary="List the caller's practice sessions, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=[SESSIONS],
        request=SessionCreateSerializer,
        responses={201: SessionSerializer},
        summary="Start a practice session for a video",
    )
    def post(self, request):
        serializer = SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_create(user=request.user, **serializer.validated_data)
        session = selectors.sessions_for_user(user=request.user).get(pk=session.pk)
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(generics.RetrieveAPIView):
    serializer_class = SessionSerializer
    lookup_url_kwarg = "session_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return PracticeSession.objects.none()
        return selectors.sessions_for_user(user=self.request.user)

    @extend_schema(tags=[SESSIONS], summary="One practice session with its figures")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SessionEndApi(APIView):
    @extend_schema(
        tags=[SESSIONS], request=None, responses={200: SessionSerializer}, summary="End a practice session (idempotent)"
    )
    def post(self, request, session_id):
        queryset = selectors.sessions_for_user(user=request.user)
        session = get_object_or_404(queryset, pk=session_id)
        session_end(session=session)
        return Response(SessionSerializer(queryset.get(pk=session.pk)).data)


# Codes the services add to the serializer's (analysis_create, frames.frame_decode).
@extend_validation_errors(["invalid_youtube_url"], field_name="youtube_url", methods=["post"])
@extend_validation_errors(["gemini_not_configured"], field_name="provider", methods=["post"])
@extend_validation_errors(["keypoints_required"], field_name="keypoints", methods=["post"])
# KeypointsField checks each landmark itself (serializers.KeypointsField): its per-item codes.
@extend_validation_errors(["invalid"], field_name="keypoints.INDEX.non_field_errors", methods=["post"])
@extend_validation_errors(["required", "invalid", "not_finite"], field_name="keypoints.INDEX.x", methods=["post"])
@extend_validation_errors(["required", "invalid", "not_finite"], field_name="keypoints.INDEX.y", methods=["post"])
@extend_validation_errors(["invalid", "not_finite"], field_name="keypoints.INDEX.z", methods=["post"])
@extend_validation_errors(
    ["invalid", "not_finite", "out_of_range"], field_name="keypoints.INDEX.visibility", methods=["post"]
)
@extend_validation_errors(["session_ended", "session_video_mismatch"], field_name="session_id", methods=["post"])
@extend_validation_errors(["not_finite"], field_name="timestamp", methods=["post"])
@extend_validation_errors(
    [
        "invalid_base64",
        "invalid_frame",
        "frame_too_large",
        "unsupported_frame_format",
        "frame_too_many_pixels",
        "frame_too_many_scans",
    ],
    field_name="user_frame",
    methods=["post"],
)
class AnalysisListCreateApi(generics.ListAPIView):
    """History (GET) and submission (POST)."""

    serializer_class = AnalysisListItemSerializer
    pagination_class = HistoryPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = AnalysisFilter

    def get_throttles(self):
        # Submissions have their own limit (RATELIMIT_ANALYSIS_USER); the default one is for
        # everything else, so a submission is counted once, not against both.
        if self.request.method == "POST":
            return [AnalysisSubmitThrottle()]
        return super().get_throttles()

    def filter_queryset(self, queryset):
        # Most history requests carry no filter: skip building and validating a FilterSet form.
        if not history_is_filtered(self.request.query_params):
            return queryset
        return super().filter_queryset(queryset)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Analysis.objects.none()
        return history.analysis_history(user=self.request.user)

    def list(self, request, *args, **kwargs):
        # The rows come from the database as the API shows them (AnalysisListItemSerializer).
        if connection.vendor == "postgresql" and not history_is_filtered(request.query_params):
            return self.get_paginated_response(self.paginator.paginate_json(request, user=request.user))
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(history.history_rows_finish(page))

    @extend_schema(tags=[ANALYSES], summary="The caller's analyses, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=[ANALYSES],
        request=AnalysisCreateSerializer,
        responses={
            201: OpenApiResponse(AnalysisSerializer, description="Completed at once (cache hit or eager mode)."),
            202: OpenApiResponse(AnalysisSerializer, description="Queued: poll GET analyses/{id}/?wait=N."),
        },
        summary="Submit a frame for analysis",
    )
    def post(self, request):
        serializer = AnalysisCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        analysis = analysis_create(
            user=request.user,
            youtube_url=data["youtube_url"],
            timestamp=data["timestamp"],
            user_frame=data["user_frame"],
            keypoints=data.get("keypoints"),
            session_id=data.get("session_id"),
            provider=data.get("provider"),
            language=data.get("language"),
        )
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Eager mode has already run it by now (on commit): answer what is stored.
            analysis = selectors.analyses_for_user(user=request.user).get(pk=analysis.pk)
        code = status.HTTP_201_CREATED if analysis.is_final else status.HTTP_202_ACCEPTED
        return Response(AnalysisSerializer(analysis).data, status=code)


class TooManyWaits(exceptions.Throttled):
    # The schema's 429 code ("throttled"); the detail says which limit.
    default_detail = "Too many analyses awaited at once; wait for one to end or poll without ?wait."


class WaitSlot:
    """One of the caller's ANALYSIS_WAITS_PER_USER concurrent long-polls (counted in the cache, so
    across processes); a 429 when none is free. Slots expire with the longest wait, so a process
    that dies mid-wait cannot keep one."""

    def __init__(self, user_id):
        self.key = f"analysis-waits:{user_id}"

    def __enter__(self):
        cache.add(self.key, 0, timeout=settings.ANALYSIS_WAIT_MAX_SECONDS + 5)
        try:
            count = cache.incr(self.key)
        except ValueError:  # the key expired in between: count this wait alone
            cache.add(self.key, 1, timeout=settings.ANALYSIS_WAIT_MAX_SECONDS + 5)
            count = 1
        if count is not None and count > settings.ANALYSIS_WAITS_PER_USER:
            self._release()
            raise TooManyWaits(wait=1)
        return self

    def __exit__(self, *exc):
        self._release()
        return False

    def _release(self):
        try:
            cache.decr(self.key)
        except ValueError:  # expired meanwhile: nothing left to give back
            pass


class AnalysisDetailApi(APIView):
    @extend_schema(
        tags=[ANALYSES],
        parameters=[AnalysisWaitQuerySerializer],
        responses={200: AnalysisSerializer},
        summary="One analysis; `?wait=N` holds the answer until it ends or N seconds pass",
    )
    def get(self, request, analysis_id):
        query = AnalysisWaitQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wait = query.validated_data["wait"]
        queryset = selectors.analyses_for_user(user=request.user)
        analysis = get_object_or_404(queryset, pk=analysis_id)
        if wait and not analysis.is_final:
            with WaitSlot(request.user.pk):
                analysis = self._wait(queryset, analysis, wait)
        return Response(AnalysisSerializer(analysis).data)

    @staticmethod
    def _wait(queryset, analysis: Analysis, wait: float) -> Analysis:
        deadline = time.monotonic() + wait
        with Subscription(analysis.pk) as subscription:
            analysis.refresh_from_db(fields=["status"])  # subscribed first: no change can be missed
            while not analysis.is_final:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if not connection.in_atomic_block:
                    connection.close()  # give the connection back while we wait
                if not subscription.wait(remaining):
                    break
                subscription.event.clear()
                analysis.refresh_from_db(fields=["status"])
        return queryset.get(pk=analysis.pk)


class AnalysisHistoryAliasApi(AnalysisListCreateApi):
    """The original plan's `GET analysis/history?limit=&offset=`."""

    http_method_names = ["get", "head", "options"]

    @extend_schema(
        tags=[ANALYSES], summary="Alias of GET analyses/ (original plan)", operation_id="analysis_history_alias"
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AnalysisStartAliasApi(AnalysisListCreateApi):
    """The original plan's `POST analysis/start`."""

    http_method_names = ["post", "options"]

    @extend_schema(
        tags=[ANALYSES],
        request=AnalysisCreateSerializer,
        responses={201: AnalysisSerializer, 202: AnalysisSerializer},
        summary="Alias of POST analyses/ (original plan)",
        operation_id="analysis_start_alias",
    )
    def post(self, request):
        return super().post(request)
