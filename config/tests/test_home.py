import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_the_root_with_a_page_for_people(client, settings, debug):
    settings.DEBUG = debug
    r = client.get("/")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    page = r.content.decode()
    for link in ('href="/api/docs/"', 'href="/admin/"', 'href="/api/schema/"'):
        assert link in page
    assert "make run" in page


def test_it_answers_stats_without_its_trailing_slash(auth_client):
    assert auth_client.get("/api/v1/stats").status_code == 200
