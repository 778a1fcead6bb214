"""The trial comparison page in a real headless Chromium (driven as in test_admin_browser)."""

from __future__ import annotations

from accounts.tests.factories import UserFactory
from analyses import trials
from analyses.tests.test_admin_browser import CANVASES, FIGURES, admin_log_in
from analyses.tests.test_admin_browser import pytestmark as browser_marks
from analyses.tests.test_trials_report import constructed_trial

pytestmark = browser_marks  # skipped without Chromium


def test_staff_open_a_trial_from_the_admin_and_see_its_comparison_drawn(
    transactional_db, live_server, browser_page, tmp_path
):
    page = browser_page
    staff = UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")
    a, b, *_ = constructed_trial()
    expected = trials.trial_compare("t")

    admin_log_in(page, live_server.url, staff)
    page.click("#trials-link")
    page.wait_for_url(f"{live_server.url}/admin/reports/trials/")
    page.click('a.trial-link[data-trial="t"]')
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.evaluate("location.pathname") == "/admin/reports/trials/t/"
    shot = tmp_path / "admin-trial.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    canvases = page.evaluate(CANVASES)
    assert {c["id"] for c in canvases} == {"chart-trial-scores", "chart-trial-failures"}
    for canvas in canvases:
        assert canvas["rendered"] == "true", canvas
        assert canvas["painted"] > 500, f"{canvas['id']} looks blank: {canvas}"

    figures = page.evaluate(FIGURES)
    assert figures["analyses"] == "5"
    assert figures["mean_change"] == str(expected["mean_change"]) == "1.67"
    assert figures["median_change"] == "5"
    assert figures["weakest_part_agreement"] == "50%"
    assert figures["failures:timeout"] == "1"
    assert figures["tokens"] == "2505 / 251"
    assert figures[f"moved:{a.pk}"] == "20" and figures[f"moved:{b.pk}"] == "-20"
    assert figures["before:80-89"] == "1" and figures["after:90-100"] == "1"

    # The moved analyses link to their admin pages, where each run is listed.
    # The table's sticky header can cover the link at the viewport's edge: follow it as a script would.
    page.eval_on_selector(f'a.moved-link[href*="{a.pk}"]', "link => link.click()")
    page.wait_for_selector("#revisions-group")
    assert page.evaluate("document.querySelectorAll('#revisions-group tbody tr').length") >= 3
