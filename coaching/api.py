"""Coaching endpoints: a session's report and a video's leaderboard (selectors do the work)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.response import Response
from rest_framework.views import APIView

from coaching import examples, leaderboards, session_reports
from coaching.serializers import (
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    ReportQuerySerializer,
    SessionReportSerializer,
)
from config.errors import NotFoundError
from playlists.models import Video


class SessionReportApi(APIView):
    @extend_schema(
        tags=["sessions"],
        summary="Where to practise next: a session's report",
        parameters=[ReportQuerySerializer],
        responses={200: SessionReportSerializer},
        examples=examples.report_examples,
        description=(
            "The session's completed analyses in video-time order, up to three stretches that went wrong "
            "(worst first, with the body parts that lost most points), the average per body part, the "
            "previous session on the same video with the change, and a one- or two-sentence summary in the "
            "dancer's language (or `lang`). A session without completed analyses gives empty lists. "
            "Another dancer's session is a 404."
        ),
    )
    def get(self, request, session_id):
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        session = session_reports.session_for_report(user=request.user, session_id=session_id)
        if session is None:
            raise NotFoundError("No such practice session.")
        language = query.validated_data.get("lang") or request.user.language
        return Response(session_reports.session_report(session=session, language=language))


@extend_validation_errors(["invalid_choice"], field_name="period", methods=["get"])
class LeaderboardApi(APIView):
    @extend_schema(
        tags=["videos"],
        summary="A video's leaderboard",
        parameters=[LeaderboardQuerySerializer],
        responses={200: LeaderboardSerializer},
        examples=examples.leaderboard_examples,
        description=(
            "The top 50 dancers who opted in (`PATCH auth/me/` with `leaderboard_opt_in` and `display_name`), "
            "by their best session average with at least LEADERBOARD_MIN_ANALYSES completed analyses in the "
            "period; equal scores share a rank. `me` is the caller's own place, shown even when not listed. "
            "Display names only: never an email or a session."
        ),
    )
    def get(self, request, video_id):
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        get_object_or_404(Video.objects.only("pk"), pk=video_id)
        board = leaderboards.leaderboard(video_id=video_id, period=query.validated_data["period"], user=request.user)
        return Response(board)
