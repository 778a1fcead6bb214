"""The caps in the admin: one row (changed in place), with what is spent against them."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from budgets import selectors, services
from budgets.models import AiBudget


@admin.register(AiBudget)
class AiBudgetAdmin(admin.ModelAdmin):
    fields = ["daily_usd", "monthly_usd", "user_daily_calls", "in_force", "updated_at"]
    readonly_fields = ["in_force", "updated_at"]

    def has_add_permission(self, request):
        return False  # the one row is made on first visit

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) == str(AiBudget.SINGLETON_PK):
            AiBudget.objects.get_or_create(pk=AiBudget.SINGLETON_PK)  # the one row exists once asked for
        return super().get_object(request, object_id, from_field)

    def changelist_view(self, request, extra_context=None):
        # One row: the list is its change form.
        return HttpResponseRedirect(reverse("admin:budgets_aibudget_change", args=[AiBudget.SINGLETON_PK]))

    @admin.display(description="in force now")
    def in_force(self, obj):
        caps = selectors.caps_get()
        now = selectors.periods_now()
        lines = [
            ("daily", selectors.spend_stored_micro_usd(now.day_start) / 1e6, caps.daily_usd),
            ("monthly", selectors.spend_stored_micro_usd(now.month_start) / 1e6, caps.monthly_usd),
        ]
        rows = format_html_join(
            "",
            "<li>{} cap: ${} spent of {}</li>",
            ((name, f"{spent:.4f}", "no cap" if cap is None else f"${cap:.2f}") for name, spent, cap in lines),
        )
        calls = "no cap" if caps.user_daily_calls is None else f"{caps.user_daily_calls} Gemini analyses"
        breaker = (
            "OPEN: Gemini has answered with quota errors for minutes; auto analyses use the pose analyzer"
            if services.breaker_is_open()
            else "closed"
        )
        return format_html(
            "<ul>{}<li>per dancer per day: {}</li><li>Gemini quota breaker: {}</li></ul>", rows, calls, breaker
        )
