"""Swagger UI, ReDoc and the admin render in a real headless Chromium under the Content-Security-Policy."""

import json
import shutil

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from analyses.tests.test_admin_browser import CHROMIUM, Browser

pytestmark = [pytest.mark.browser, pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="no headless Chromium")]

# Installed before any page script runs: the browser reports every blocked load or inline script.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    instance = Browser(profile)
    instance.page("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    try:
        yield instance
    finally:
        instance.close()


@pytest.mark.parametrize(
    "page, rendered",
    [
        ("/api/docs/", "document.querySelectorAll('.swagger-ui .opblock').length > 10"),
        ("/api/redoc/", "document.querySelectorAll('[data-section-id^=\"tag/\"]').length > 3"),
    ],
)
def test_it_renders_the_docs_with_no_policy_violation(transactional_db, live_server, browser, page, rendered):
    browser.goto(live_server.url + page)
    browser.wait_for(rendered, timeout=30)
    assert browser.evaluate("window.__violations") == []


def test_it_renders_the_admin_with_no_policy_violation(transactional_db, live_server, browser):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser.goto(f"{live_server.url}/admin/login/?next=/admin/")
    browser.evaluate(
        f"document.getElementById('id_username').value = {json.dumps(staff.email)};"
        f"document.getElementById('id_password').value = {json.dumps(PASSWORD)};"
        "document.querySelector('#login-form').submit(); true"
    )
    browser.wait_for("location.pathname === '/admin/' && document.readyState === 'complete'")
    browser.goto(f"{live_server.url}/admin/playlists/video/add/")
    browser.wait_for("!!document.getElementById('video_form')")
    assert browser.evaluate("window.__violations") == []
