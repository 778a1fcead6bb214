"""A dancer's leaderboard settings: apart from the user row, so boards stay an app of their own."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class LeaderboardProfile(models.Model):
    """Whether a dancer appears on the leaderboards, and under which public name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="leaderboard_profile"
    )
    opt_in = models.BooleanField(default=False, help_text="Shown on the boards (never without a display name).")
    # Null, not "", while unset: the unique constraint allows many nulls.
    display_name = models.CharField(  # noqa: DJ001
        max_length=30, null=True, blank=True, help_text="The public name on the boards."
    )
    hidden = models.BooleanField(default=False, help_text="Hidden by staff (abuse): on no board, opted in or not.")
    hidden_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Case-insensitive: "Aya" and "aya" cannot both be on a board.
            models.UniqueConstraint(Lower("display_name"), name="leaderboard_display_name_unique"),
        ]

    def __str__(self):
        return self.display_name or f"user {self.user_id}"
