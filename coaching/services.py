"""Leaderboard settings: a dancer's opt-in and display name, and staff hiding a dancer."""

from __future__ import annotations

import unicodedata

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from coaching.invalidation import leaderboard_dancers_changed
from coaching.models import LeaderboardProfile
from config.errors import ApplicationError

DISPLAY_NAME_MAX = 30
FIELD = "display_name"
LEADERBOARD_ERRORS = [
    "display_name_blank",
    "display_name_too_long",
    "display_name_invalid",
    "display_name_taken",
    "display_name_required",
]


def display_name_clean(value: str) -> str:
    """NFKC-normalised and trimmed; refused when empty, too long, with control or format
    characters (invisible text, direction overrides) or an @ (an email is never shown)."""
    name = unicodedata.normalize("NFKC", value).strip()
    if not name:
        raise ApplicationError("A display name cannot be empty.", code="display_name_blank", field=FIELD)
    if len(name) > DISPLAY_NAME_MAX:
        raise ApplicationError(
            f"A display name has at most {DISPLAY_NAME_MAX} characters.", code="display_name_too_long", field=FIELD
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise ApplicationError(
            "A display name cannot contain control or invisible characters.", code="display_name_invalid", field=FIELD
        )
    if "@" in name:
        raise ApplicationError(
            "A display name cannot contain @: it must not be an email address.",
            code="display_name_invalid",
            field=FIELD,
        )
    return name


def _taken(name: str, user) -> bool:
    return (
        LeaderboardProfile.objects.annotate(lower=Lower("display_name"))
        .filter(lower=name.lower())
        .exclude(user=user)
        .exists()
    )


def leaderboard_profile_update(*, user, opt_in: bool | None = None, display_name: str | None = None):
    """Opt in or out and set the public name; opting in needs a display name (given or kept)."""
    profile = LeaderboardProfile.objects.filter(user=user).first() or LeaderboardProfile(user=user)
    if display_name is not None:
        name = display_name_clean(display_name)
        if _taken(name, user):
            raise ApplicationError("This display name is taken.", code="display_name_taken", field=FIELD)
        profile.display_name = name
    if opt_in is not None:
        if opt_in and not profile.display_name:
            raise ApplicationError(
                "Choose a display name to appear on the leaderboards.", code="display_name_required", field=FIELD
            )
        profile.opt_in = opt_in
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as exc:  # lost a race for the same name
        raise ApplicationError("This display name is taken.", code="display_name_taken", field=FIELD) from exc
    transaction.on_commit(leaderboard_dancers_changed)
    return profile


def leaderboard_dancer_hide(*, user, hidden: bool = True) -> LeaderboardProfile:
    """Staff: take a dancer off every board (or back on); their own settings stay as they were."""
    profile, _ = LeaderboardProfile.objects.get_or_create(user=user)
    profile.hidden = hidden
    profile.hidden_at = timezone.now() if hidden else None
    profile.save(update_fields=["hidden", "hidden_at", "updated_at"])
    transaction.on_commit(leaderboard_dancers_changed)
    return profile
