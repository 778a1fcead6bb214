"""The caps in the admin, `manage.py ai_budget`, the reports and /readyz."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analyses.tests.factories import AnalysisFactory
from budgets import selectors
from budgets.models import AiBudget

pytestmark = pytest.mark.django_db

CHANGE = "/admin/budgets/aibudget/1/change/"


def test_it_edits_the_one_row_of_caps_in_the_admin(admin_client, settings):
    settings.AI_BUDGET_DAILY_USD = 10.0
    r = admin_client.get("/admin/budgets/aibudget/")
    assert r.status_code == 302 and r["Location"].endswith(CHANGE)
    assert "gemini quota breaker: closed" in admin_client.get(CHANGE).content.decode().lower()
    r = admin_client.post(CHANGE, {"daily_usd": "2.5", "monthly_usd": "", "user_daily_calls": "30"})
    assert r.status_code == 302, r.content
    assert selectors.caps_get() == selectors.Caps(daily_usd=2.5, monthly_usd=None, user_daily_calls=30)
    assert AiBudget.objects.count() == 1


def test_the_admin_refuses_a_negative_cap(admin_client):
    r = admin_client.post(CHANGE, {"daily_usd": "-1", "monthly_usd": "", "user_daily_calls": ""})
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    assert selectors.caps_get().daily_usd is None


def test_the_command_shows_and_sets_the_caps(capsys):
    call_command("ai_budget", "--daily-usd", "50", "--user-daily-calls", "200")
    out = capsys.readouterr().out
    assert "daily cap: $50.00" in out and "per-dancer daily calls cap: 200" in out
    call_command("ai_budget", "--daily-usd", "setting", "--dry-run")
    assert selectors.caps_get().daily_usd == 50.0
    call_command("ai_budget", "--daily-usd", "setting")
    assert selectors.caps_get().daily_usd is None


@pytest.mark.parametrize("value", ["-3", "lots", "nan"])
def test_the_command_refuses_a_bad_amount_in_one_sentence(value):
    with pytest.raises(CommandError, match="USD"):
        call_command("ai_budget", "--daily-usd", value)


def gemini_spend(user, usd_in_input_tokens: float, settings):
    tokens = round(usd_in_input_tokens * 1e6 / settings.GEMINI_PRICE_INPUT_PER_MTOK)
    return AnalysisFactory(user=user, provider="gemini", input_tokens=tokens, output_tokens=0)


def test_readyz_says_when_80_percent_of_a_cap_is_used_without_failing(client, settings, user):
    settings.AI_BUDGET_DAILY_USD = 1.0
    gemini_spend(user, 0.5, settings)
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["details"] == {}
    from django.core.cache import cache

    cache.clear()  # the counters start again from the stored tokens
    gemini_spend(user, 0.35, settings)
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["details"]["ai_budget"] == "AI budget: daily cap 85% used ($0.85 of $1.00)"


def test_the_reports_show_spend_against_the_caps_and_the_top_dancers(admin_client, settings, user, capsys):
    settings.AI_BUDGET_MONTHLY_USD = 2.0
    gemini_spend(user, 0.5, settings)
    AnalysisFactory(user=user, details={"fallback": "budget"})
    page = admin_client.get("/admin/reports/").content.decode()
    assert 'data-figure="budget:monthly">0.5000' in page
    assert user.email in page and "Budget fallbacks in the range: 1 (50% of completed)" in page
    call_command("report")
    out = capsys.readouterr().out
    assert "AI budget" in out and "monthly" in out and "Top dancers by Gemini spend" in out
