"""The trial comparison page in a real headless Chromium (driven as in test_admin_browser)."""

from __future__ import annotations

from accounts.tests.factories import UserFactory
from analyses import trials
from analyses.tests import test_admin_browser as shared
from analyses.tests.test_trials_report import constructed_trial

pytestmark = shared.pytestmark  # browser tests, skipped without Chromium
browser = shared.browser  # the same fixture: a headless Chromium over the DevTools pipe


def test_staff_open_a_trial_from_the_admin_and_see_its_comparison_drawn(
    transactional_db, live_server, browser, tmp_path
):
    staff = UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")
    a, b, *_ = constructed_trial()
    expected = trials.trial_compare("t")

    shared.admin_log_in(browser, live_server.url, staff)
    browser.evaluate("document.getElementById('trials-link').click(); true")
    browser.wait_for("location.pathname === '/admin/reports/trials/' && document.readyState === 'complete'")
    browser.evaluate("document.querySelector('a.trial-link[data-trial=\"t\"]').click(); true")
    browser.wait_for(
        "location.pathname === '/admin/reports/trials/t/' && document.body.getAttribute('data-charts-ready') === 'true'"
    )
    shot = browser.screenshot(tmp_path / "admin-trial.png")
    assert shot.stat().st_size > 10_000

    canvases = browser.evaluate(shared.CANVASES)
    assert {c["id"] for c in canvases} == {"chart-trial-scores", "chart-trial-failures"}
    for canvas in canvases:
        assert canvas["rendered"] == "true", canvas
        assert canvas["painted"] > 500, f"{canvas['id']} looks blank: {canvas}"

    figures = browser.evaluate(shared.FIGURES)
    assert figures["analyses"] == "5"
    assert figures["mean_change"] == str(expected["mean_change"]) == "1.67"
    assert figures["median_change"] == "5"
    assert figures["weakest_part_agreement"] == "50%"
    assert figures["failures:timeout"] == "1"
    assert figures["tokens"] == "2505 / 251"
    assert figures[f"moved:{a.pk}"] == "20" and figures[f"moved:{b.pk}"] == "-20"
    assert figures["before:80-89"] == "1" and figures["after:90-100"] == "1"

    # The moved analyses link to their admin pages, where each run is listed.
    browser.evaluate(f"document.querySelector('a.moved-link[href*=\"{a.pk}\"]').click(); true")
    browser.wait_for(f"location.pathname.indexOf('{a.pk}') !== -1 && document.readyState === 'complete'")
    assert browser.evaluate("document.querySelectorAll('#revisions-group tbody tr').length") >= 3
