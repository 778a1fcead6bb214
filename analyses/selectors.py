from django.db.models import Avg, Count, Max, Q

from analyses.models import Analysis, PracticeSession


def analyses_for_user(*, user):
    return Analysis.objects.filter(user=user).select_related("video").order_by("-created_at")


def sessions_for_user(*, user):
    completed = Q(analyses__status=Analysis.Status.COMPLETED)
    return (
        PracticeSession.objects.filter(user=user)
        .select_related("video")
        .annotate(
            analysis_count=Count("analyses"),
            average_score=Avg("analyses__score", filter=completed),
            best_score=Max("analyses__score", filter=completed),
        )
        .order_by("-started_at")
    )
