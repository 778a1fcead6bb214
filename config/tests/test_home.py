import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_the_root_with_the_practice_page(client, settings, debug):
    settings.DEBUG = debug
    r = client.get("/")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    page = r.content.decode()
    assert 'type="module"' in page and "practice/app.js" in page
    assert "mediapipe-pose/pose.js" in page
    for link in ('href="/api/docs/"', 'href="/admin/"', 'href="/api/schema/"'):
        assert link in page


def test_it_lets_the_practice_page_run_webassembly_and_the_youtube_player_and_nothing_else(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"].split() == [
        "'self'",
        "'wasm-unsafe-eval'",
        "https://www.youtube.com",
        "https://s.ytimg.com",
    ]
    assert "https://www.youtube.com" in directives["frame-src"]
    assert directives["connect-src"] == "'self'"


def test_it_keeps_the_strict_policy_on_other_pages(client):
    assert "wasm-unsafe-eval" not in client.get("/healthz")["Content-Security-Policy"]


def test_it_answers_stats_without_its_trailing_slash(auth_client):
    assert auth_client.get("/api/v1/stats").status_code == 200


def test_it_serves_the_staff_reference_recording_page_linked_from_the_admin(client):
    from accounts.tests.factories import PASSWORD, UserFactory

    r = client.get("/reference/")
    assert r.status_code == 200 and "practice/reference.js" in r.content.decode()
    assert "'wasm-unsafe-eval'" in r["Content-Security-Policy"]
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.login(email=staff.email, password=PASSWORD)
    assert 'href="/reference/"' in client.get("/admin/").content.decode()
