import base64
import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
PASSWORD_URL = "/api/v1/auth/password/"


def assert_error(response, status, code, attr=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    codes = [(e["code"], e["attr"]) for e in body["errors"]]
    assert any(c == code and (attr is None or a == attr) for c, a in codes), codes


def bearer(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_register_login_me_refresh_logout_and_password_change_work_end_to_end(api_client):
    r = api_client.post(REGISTER, {"email": "Mai@Example.com", "username": "mai", "password": PASSWORD}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["user"] == {**body["user"], "email": "mai@example.com", "username": "mai", "language": "ja"}
    assert {"access_token", "refresh_token"} <= body.keys()

    r = api_client.post(LOGIN, {"email": "MAI@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 200
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0

    bearer(api_client, tokens["access_token"])
    assert api_client.get(ME).json()["username"] == "mai"

    r = api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert r.status_code == 200
    rotated = r.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert_error(
        api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json"), 401, "token_not_valid"
    )

    bearer(api_client, rotated["access_token"])
    assert api_client.post(LOGOUT, {"refresh_token": rotated["refresh_token"]}, format="json").status_code == 204
    assert_error(
        api_client.post(REFRESH, {"refresh_token": rotated["refresh_token"]}, format="json"), 401, "token_not_valid"
    )

    first = api_client.post(LOGIN, {"email": "mai@example.com", "password": PASSWORD}, format="json").json()
    second = api_client.post(LOGIN, {"email": "mai@example.com", "password": PASSWORD}, format="json").json()
    bearer(api_client, first["access_token"])
    r = api_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": "a-brand-new-pass-42"}, format="json")
    assert r.status_code == 204
    for old in (first, second):
        assert_error(
            api_client.post(REFRESH, {"refresh_token": old["refresh_token"]}, format="json"), 401, "token_not_valid"
        )
    r = api_client.post(LOGIN, {"email": "mai@example.com", "password": "a-brand-new-pass-42"}, format="json")
    assert r.status_code == 200


def test_me_can_be_patched_with_username_and_language(auth_client):
    r = auth_client.patch(ME, {"language": "en", "username": "new_name"}, format="json")
    assert r.status_code == 200
    assert r.json()["language"] == "en"
    auth_client.user.refresh_from_db()
    assert auth_client.user.username == "new_name"


def test_me_refuses_an_unknown_language(auth_client):
    assert_error(auth_client.patch(ME, {"language": "fr"}, format="json"), 400, "invalid_choice", "language")


@pytest.mark.real_hashers
def test_passwords_are_hashed_with_argon2(api_client):
    api_client.post(REGISTER, {"email": "a@example.com", "username": "a", "password": PASSWORD}, format="json")
    assert identify_hasher(User.objects.get(username="a").password).algorithm == "argon2"


@pytest.mark.parametrize(
    "payload, code, attr",
    [
        ({"username": "x", "password": PASSWORD}, "required", "email"),
        ({"email": "not-an-email", "username": "x", "password": PASSWORD}, "invalid", "email"),
        ({"email": "x@example.com", "username": "x"}, "required", "password"),
        ({"email": "x@example.com", "username": "bad name!", "password": PASSWORD}, "invalid", "username"),
        ({"email": "x@example.com", "username": "x", "password": "123"}, "password_too_short", "password"),
        ({"email": "x@example.com", "username": "x", "password": "password"}, "password_too_common", "password"),
    ],
)
def test_register_refuses_bad_input_in_the_error_shape(api_client, payload, code, attr):
    r = api_client.post(REGISTER, payload, format="json")
    assert r.status_code == 400
    assert attr in {e["attr"] for e in r.json()["errors"]}
    assert User.objects.count() == 0


def test_register_refuses_a_duplicate_email_or_username(api_client):
    UserFactory(email="taken@example.com", username="taken")
    r = api_client.post(
        REGISTER, {"email": "TAKEN@example.com", "username": "fresh", "password": PASSWORD}, format="json"
    )
    assert_error(r, 400, "unique", "email")
    r = api_client.post(
        REGISTER, {"email": "fresh@example.com", "username": "Taken", "password": PASSWORD}, format="json"
    )
    assert_error(r, 400, "unique", "username")


def test_malformed_json_is_a_400_parse_error(api_client):
    r = api_client.generic("POST", LOGIN, "{not json", content_type="application/json")
    assert_error(r, 400, "parse_error")


def test_a_form_body_is_a_415(api_client):
    r = api_client.post(LOGIN, {"email": "a@example.com", "password": "x"})  # multipart
    assert_error(r, 415, "unsupported_media_type")


def test_login_with_a_wrong_password_is_a_401(api_client, user):
    assert_error(
        api_client.post(LOGIN, {"email": user.email, "password": "wrong"}, format="json"), 401, "invalid_credentials"
    )


def test_login_for_an_unknown_email_is_the_same_401(api_client, db):
    assert_error(
        api_client.post(LOGIN, {"email": "nobody@example.com", "password": "x"}, format="json"),
        401,
        "invalid_credentials",
    )


def test_missing_token_is_a_401(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_an_expired_access_token_is_a_401(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    bearer(api_client, str(token))
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_a_tampered_access_token_is_a_401(api_client, user):
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(int(claims["user_id"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    bearer(api_client, f"{header}.{forged}.{signature}")
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_a_token_with_a_wrong_signature_is_a_401(api_client, user):
    header, payload, _ = str(AccessToken.for_user(user)).split(".")
    bearer(api_client, f"{header}.{payload}.{'A' * 43}")
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_an_alg_none_token_is_a_401(api_client, user):
    _, payload, _ = str(AccessToken.for_user(user)).split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    bearer(api_client, f"{header}.{payload}.")
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_a_refresh_token_used_as_an_access_token_is_a_401(api_client, user):
    bearer(api_client, str(RefreshToken.for_user(user)))
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_refresh_refuses_garbage_and_an_access_token(api_client, user):
    assert_error(api_client.post(REFRESH, {"refresh_token": "garbage"}, format="json"), 401, "token_not_valid")
    access = str(AccessToken.for_user(user))
    assert_error(api_client.post(REFRESH, {"refresh_token": access}, format="json"), 401, "token_not_valid")
    assert_error(api_client.post(REFRESH, {}, format="json"), 400, "required", "refresh_token")


def test_logout_refuses_someone_elses_refresh_token(auth_client):
    other = RefreshToken.for_user(UserFactory())
    assert_error(auth_client.post(LOGOUT, {"refresh_token": str(other)}, format="json"), 401, "token_not_valid")


def test_password_change_refuses_a_wrong_old_password_and_a_weak_new_one(auth_client):
    r = auth_client.post(PASSWORD_URL, {"old_password": "nope", "new_password": "a-brand-new-pass-42"}, format="json")
    assert_error(r, 400, "wrong_password", "old_password")
    r = auth_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": "12345678"}, format="json")
    assert r.status_code == 400
    assert {e["attr"] for e in r.json()["errors"]} == {"new_password"}
    auth_client.user.refresh_from_db()
    assert auth_client.user.check_password(PASSWORD)
