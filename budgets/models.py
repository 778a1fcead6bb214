"""The operator's caps on AI spend: one row, edited in the admin; an empty field falls back to the setting."""

from django.core.validators import MinValueValidator
from django.db import models


class AiBudget(models.Model):
    """The one row of caps (pk 1). Read on every Gemini analysis, so an edit applies to the next one."""

    SINGLETON_PK = 1

    daily_usd = models.DecimalField(
        "daily cap (USD)",
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Gemini spend per day, all dancers. Empty: AI_BUDGET_DAILY_USD (unset there: no cap).",
    )
    monthly_usd = models.DecimalField(
        "monthly cap (USD)",
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Gemini spend per calendar month. Empty: AI_BUDGET_MONTHLY_USD (unset there: no cap).",
    )
    user_daily_calls = models.PositiveIntegerField(
        "per-dancer daily calls",
        null=True,
        blank=True,
        help_text="Gemini analyses one dancer may cause per day. Empty: AI_BUDGET_USER_DAILY_CALLS.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI budget"
        verbose_name_plural = "AI budget"

    def __str__(self):
        return "AI budget"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK  # one row only
        super().save(*args, **kwargs)
