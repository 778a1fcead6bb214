"""Practice sessions: one sitting of a dancer with one video, started, joined and ended."""

from django.db.models import F
from django.utils import timezone

from accounts.models import User
from analyses.models import PracticeSession
from analyses.selectors import session_idle_cutoff, session_last_active
from analyses.services.videos import video_for_url
from coaching.invalidation import leaderboard_video_changed
from config.errors import ApplicationError, NotFoundError


def session_create(*, user, youtube_url: str) -> PracticeSession:
    return PracticeSession.objects.create(user=user, video=video_for_url(youtube_url))


def session_end(*, session: PracticeSession) -> PracticeSession:
    now = timezone.now()
    last_active = (
        PracticeSession.objects.filter(pk=session.pk)
        .annotate(last_active=session_last_active())
        .values_list("last_active", flat=True)
        .first()
    )
    # An idle session ended with its last analysis, not when someone noticed.
    ended_at = last_active if last_active is not None and last_active < session_idle_cutoff(now) else now
    # Conditional update: ending twice keeps the first end time.
    if PracticeSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=ended_at):
        leaderboard_video_changed(video_id=session.video_id)
    session.refresh_from_db(fields=["ended_at"])
    return session


def sessions_end_idle(*, user=None, video=None) -> int:
    """Store the end of open sessions idle past the limit: the time of their last analysis."""
    idle = PracticeSession.objects.filter(ended_at__isnull=True)
    if user is not None:
        idle = idle.filter(user=user)
    if video is not None:
        idle = idle.filter(video=video)
    idle = idle.alias(last_active=session_last_active()).filter(last_active__lt=session_idle_cutoff())
    return PracticeSession.objects.filter(pk__in=idle.values("pk")).update(ended_at=session_last_active())


def session_for_submission(*, user, session_id, video) -> PracticeSession:
    """The session a submission goes to, locked: the one named, or the dancer's current one."""
    if session_id is None:
        return _session_join_or_start(user=user, video=video)
    session = (
        PracticeSession.objects.select_for_update(of=("self",), no_key=True)
        .annotate(last_active=session_last_active())
        .filter(pk=session_id, user=user)
        .first()
    )
    if session is None:
        # Someone else's session looks exactly like a missing one.
        raise NotFoundError("No such practice session.")
    if session.is_ended or session.last_active < session_idle_cutoff():
        raise ApplicationError("This practice session has ended.", code="session_ended", field="session_id")
    if session.video_id != video.pk:
        raise ApplicationError(
            "This practice session is for another video.", code="session_video_mismatch", field="session_id"
        )
    return session


def _session_join_or_start(*, user, video) -> PracticeSession:
    """The dancer's open session for this video when it is still active, else a new one."""
    active = (
        PracticeSession.objects.filter(user=user, video=video, ended_at__isnull=True)
        .alias(last_active=session_last_active())
        .filter(last_active__gte=session_idle_cutoff())
        .order_by(F("last_active").desc())
        .values("pk")[:1]
    )
    session = PracticeSession.objects.select_for_update(no_key=True).filter(pk__in=active).first()
    if session is not None:
        return session
    # Starting one: the dancer's row is locked so two frames at once cannot start two sessions.
    # Every lock here is FOR NO KEY UPDATE: it never waits for, nor blocks, the key-share locks
    # that inserting an analysis takes on its user and session (a lock cycle, else).
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    session = PracticeSession.objects.select_for_update(no_key=True).filter(pk__in=active).first()
    if session is None:
        sessions_end_idle(user=user, video=video)
        session = PracticeSession.objects.create(user=user, video=video)
    return session
