"""Swagger UI, ReDoc and the admin render in a real headless Chromium under the Content-Security-Policy."""

import shutil

import pytest

from accounts.tests.factories import UserFactory
from analyses.tests.test_admin_browser import CHROMIUM, admin_log_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="no headless Chromium")]

# Installed before any page script runs: the browser reports every blocked load or inline script.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture
def browser(browser_page):
    browser_page.add_init_script(RECORD_VIOLATIONS)
    return browser_page


@pytest.mark.parametrize(
    "page, rendered",
    [
        ("/api/docs/", "document.querySelectorAll('.swagger-ui .opblock').length > 10"),
        ("/api/redoc/", "document.querySelectorAll('[data-section-id^=\"tag/\"]').length > 3"),
    ],
)
def test_it_renders_the_docs_with_no_policy_violation(transactional_db, live_server, browser, page, rendered):
    browser.goto(live_server.url + page)
    wait_until(browser, rendered, timeout=30)
    # ReDoc's menu shows Redocly's logo from their CDN: blocked on purpose (the page stays whole).
    blocked = {"img-src https://cdn.redoc.ly/redoc/logo-mini.svg"}
    assert [v for v in browser.evaluate("window.__violations") if v not in blocked] == []


def test_it_renders_the_admin_with_no_policy_violation(transactional_db, live_server, browser):
    admin_log_in(browser, live_server.url, UserFactory(is_staff=True, is_superuser=True))
    browser.goto(f"{live_server.url}/admin/playlists/video/add/")
    browser.wait_for_selector("#video_form")
    assert browser.evaluate("window.__violations") == []
