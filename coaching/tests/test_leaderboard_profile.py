"""PATCH /api/v1/auth/me/ with leaderboard_opt_in and display_name; the staff board in the admin."""

import pytest

from accounts.tests.factories import UserFactory
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory, VideoFactory
from coaching.models import LeaderboardProfile

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


def error(response):
    assert response.status_code == 400, response.content
    first = response.json()["errors"][0]
    return first["code"], first["attr"]


def test_a_dancer_opts_in_with_a_display_name(auth_client):
    response = auth_client.patch(ME, {"leaderboard_opt_in": True, "display_name": "  Aya  "}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["leaderboard_opt_in"], body["display_name"]) == (True, "Aya")
    assert auth_client.get(ME).json()["display_name"] == "Aya"


def test_a_new_dancer_is_not_on_the_boards(auth_client):
    body = auth_client.get(ME).json()

    assert (body["leaderboard_opt_in"], body["display_name"]) == (False, None)


def test_opting_in_needs_a_display_name(auth_client):
    assert error(auth_client.patch(ME, {"leaderboard_opt_in": True}, format="json")) == (
        "display_name_required",
        "display_name",
    )
    assert not LeaderboardProfile.objects.filter(opt_in=True).exists()


def test_a_display_name_kept_from_before_is_enough_to_opt_in_again(auth_client):
    auth_client.patch(ME, {"leaderboard_opt_in": True, "display_name": "Aya"}, format="json")
    auth_client.patch(ME, {"leaderboard_opt_in": False}, format="json")

    response = auth_client.patch(ME, {"leaderboard_opt_in": True}, format="json")

    assert response.json()["leaderboard_opt_in"] is True


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "display_name_blank"),
        ("   ", "display_name_blank"),
        ("x" * 31, "display_name_too_long"),
        ("x" * 201, "max_length"),
        ("Aya\u0007\u0008", "display_name_invalid"),
        ("A\u202eya", "display_name_invalid"),  # a right-to-left override
        ("\u200b\u200b", "display_name_invalid"),  # zero-width spaces only
        ("aya@example.com", "display_name_invalid"),
    ],
)
def test_a_bad_display_name_is_refused_with_a_code(auth_client, name, code):
    assert error(auth_client.patch(ME, {"display_name": name}, format="json")) == (code, "display_name")


def test_a_display_name_is_unique_whatever_its_case(auth_client):
    LeaderboardProfile.objects.create(user=UserFactory(), display_name="Aya", opt_in=True)

    assert error(auth_client.patch(ME, {"display_name": "aya", "leaderboard_opt_in": True}, format="json")) == (
        "display_name_taken",
        "display_name",
    )


def test_a_refused_name_changes_nothing_else(auth_client):
    LeaderboardProfile.objects.create(user=UserFactory(), display_name="Aya")
    before = auth_client.user.username

    auth_client.patch(ME, {"username": "renamed", "display_name": "AYA"}, format="json")

    auth_client.user.refresh_from_db()
    assert auth_client.user.username == before


def test_keeping_ones_own_name_is_not_taken(auth_client):
    auth_client.patch(ME, {"display_name": "Aya"}, format="json")

    assert auth_client.patch(ME, {"display_name": "aya"}, format="json").status_code == 200


def test_staff_see_a_videos_board_and_hide_a_dancer(client, admin_user):
    video = VideoFactory()
    troll = UserFactory(email="troll@example.com")
    LeaderboardProfile.objects.create(user=troll, display_name="Troll", opt_in=True)
    session = PracticeSessionFactory(user=troll, video=video)
    for t in range(5):
        AnalysisFactory(user=troll, session=session, timestamp=float(t), score=99)
    client.force_login(admin_user)
    page = "/admin/coaching/leaderboardprofile/board/"

    shown = client.get(page, {"video": video.pk, "period": "all"})
    assert shown.status_code == 200
    assert "Troll" in shown.content.decode() and "Hide from every board" in shown.content.decode()

    hidden = client.post(page, {"user": troll.pk, "hidden": "1", "video": video.pk, "period": "all"}, follow=True)

    assert hidden.status_code == 200
    assert LeaderboardProfile.objects.get(user=troll).hidden is True
    assert "Show again" in hidden.content.decode()


def test_the_staff_board_is_for_staff_only(client):
    client.force_login(UserFactory())

    response = client.get("/admin/coaching/leaderboardprofile/board/")

    assert response.status_code == 302


def test_staff_without_the_permission_cannot_hide(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    troll = UserFactory()

    response = client.post("/admin/coaching/leaderboardprofile/board/", {"user": troll.pk, "hidden": "1"})

    assert response.status_code == 403
    assert not LeaderboardProfile.objects.filter(user=troll, hidden=True).exists()
