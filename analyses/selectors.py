from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Case, Count, F, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from analyses.models import Analysis, PracticeSession


def analyses_for_user(*, user):
    return Analysis.objects.filter(user=user).select_related("video").order_by("-created_at")


def session_idle_cutoff(now=None):
    """Sessions whose last analysis is older than this count as ended."""
    return (now or timezone.now()) - timedelta(minutes=settings.PRACTICE_SESSION_IDLE_MINUTES)


def session_last_active():
    """A session's last analysis time, or its start while it has none (an expression per session row)."""
    latest = Analysis.objects.filter(session=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    return Coalesce(Subquery(latest), F("started_at"))


def sessions_for_user(*, user):
    """The dancer's sessions with their figures; `ended` is when a session ended, stored or idle."""
    completed = Q(analyses__status=Analysis.Status.COMPLETED)
    cutoff = session_idle_cutoff()
    return (
        PracticeSession.objects.filter(user=user)
        .select_related("video")
        .annotate(
            analysis_count=Count("analyses"),
            average_score=Avg("analyses__score", filter=completed),
            best_score=Max("analyses__score", filter=completed),
            last_active=Coalesce(Max("analyses__created_at"), F("started_at")),
        )
        .annotate(ended=Coalesce(F("ended_at"), Case(When(last_active__lt=cutoff, then=F("last_active")))))
        .order_by("-started_at")
    )
