"""Usernames are NFKC-normalised and unique whatever their case, so look-alikes cannot coexist."""

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"


def register(client, username, email=None):
    email = email or f"{abs(hash(username))}@example.com"
    return client.post(REGISTER, {"email": email, "username": username, "password": PASSWORD}, format="json")


def codes(response):
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


@pytest.mark.parametrize("look_alike", ["ａｌｉｃｅ", "ALICE", "Ａｌｉｃｅ", "AlIcE"])
def test_it_refuses_a_look_alike_of_an_existing_username(api_client, look_alike):
    assert register(api_client, "alice").status_code == 201
    response = register(api_client, look_alike)
    assert response.status_code == 400
    assert codes(response) == [("unique", "username")]


def test_it_stores_a_full_width_username_in_its_normal_form(api_client):
    response = register(api_client, "ｂｏｂ_２０２６")
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "bob_2026"


def test_it_refuses_renaming_to_a_look_alike_and_normalises_a_new_name(auth_client):
    UserFactory(username="carol")
    refused = auth_client.patch("/api/v1/auth/me/", {"username": "ｃａｒｏｌ"}, format="json")
    assert refused.status_code == 400 and codes(refused) == [("unique", "username")]
    renamed = auth_client.patch("/api/v1/auth/me/", {"username": "ｄａｖｅ"}, format="json")
    assert renamed.json()["username"] == "dave"


def test_it_keeps_a_stored_name_as_it_is_when_only_the_language_changes(auth_client):
    User.objects.filter(pk=auth_client.user.pk).update(username="ｅｖｅ")  # stored before normalisation
    assert auth_client.patch("/api/v1/auth/me/", {"language": "en"}, format="json").json()["username"] == "ｅｖｅ"


def test_it_compares_non_ascii_names_without_case_on_postgresql(api_client):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite folds the case of ASCII letters only")
    assert register(api_client, "Ärger").status_code == 201
    assert codes(register(api_client, "ärger")) == [("unique", "username")]
