import logging

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from config.throttling import login_attempt_check, login_failure_record

logger = logging.getLogger(__name__)


def email_normalize(email: str) -> str:
    return email.strip().lower()


def _password_errors(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"password": list(exc.messages)}, code="weak_password") from exc


def user_create(*, email: str, username: str, password: str, language: str | None = None) -> User:
    email = email_normalize(email)
    username = User.normalize_username(username)  # NFKC, so look-alikes compare equal
    if User.objects.filter(email__iexact=email).exists():
        raise exceptions.ValidationError({"email": ["A user with this email already exists."]}, code="unique")
    if User.objects.filter(username__iexact=username).exists():
        raise exceptions.ValidationError({"username": ["A user with this username already exists."]}, code="unique")
    user = User(email=email, username=username)
    if language:
        user.language = language
    _password_errors(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # lost a race with an identical registration
        raise exceptions.ValidationError({"email": ["A user with this email already exists."]}, code="unique") from exc
    return user


def tokens_for_user(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return token_pair(access=str(refresh.access_token), refresh=str(refresh))


def token_pair(*, access: str, refresh: str) -> dict:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def user_login(*, email: str, password: str, request=None) -> dict:
    email = email_normalize(email)
    if request is not None:
        login_attempt_check(request=request, email=email)
    user = authenticate(request, email=email, password=password)
    if user is None:
        if request is not None:
            login_failure_record(request=request, email=email)
        raise exceptions.AuthenticationFailed("Email or password is wrong.", code="invalid_credentials")
    return tokens_for_user(user=user)


def token_refresh(*, refresh_token: str) -> dict:
    """Rotate: a new pair for a valid refresh token, which is blacklisted from now on."""
    serializer = TokenRefreshSerializer(data={"refresh": refresh_token})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(str(exc), code="token_not_valid") from exc
    except User.DoesNotExist as exc:  # the account was deleted after the token was issued
        raise exceptions.AuthenticationFailed("No active account for this token.", code="token_not_valid") from exc
    data = serializer.validated_data
    return token_pair(access=data["access"], refresh=data["refresh"])


def token_revoke(*, user: User, refresh_token: str) -> None:
    try:
        token = RefreshToken(refresh_token)
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(str(exc), code="token_not_valid") from exc
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(getattr(user, jwt_settings.USER_ID_FIELD)):
        # Someone else's token: say nothing about it.
        raise exceptions.AuthenticationFailed("Token is invalid.", code="token_not_valid")
    token.blacklist()


def user_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every refresh token issued to the user so far."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    revoked = 0
    for token in outstanding.iterator():
        _, created = BlacklistedToken.objects.get_or_create(token=token)
        revoked += int(created)
    return revoked


def _live_sockets_close(user: User) -> None:
    from analyses.live import user_sockets_close  # analyses depends on accounts, not the other way round

    try:
        user_sockets_close(user_id=user.pk)
    except Exception as exc:  # the tokens are revoked anyway; a socket left open ends at its next reconnect
        logger.warning("live sockets of user %s not closed: %s", user.pk, exc.__class__.__name__)


def user_logout_everywhere(*, user: User) -> None:
    """Revoke every refresh token of the user and close their live-status sockets."""
    with transaction.atomic():
        user_tokens_revoke_all(user=user)
        transaction.on_commit(lambda: _live_sockets_close(user))


def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise exceptions.ValidationError({"old_password": ["The current password is wrong."]}, code="wrong_password")
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"new_password": list(exc.messages)}, code="weak_password") from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        user_tokens_revoke_all(user=user)
        transaction.on_commit(lambda: _live_sockets_close(user))


def user_update(*, user: User, data: dict) -> User:
    fields = []
    username = User.normalize_username(data["username"]) if "username" in data else user.username
    if username != user.username:
        if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
            raise exceptions.ValidationError({"username": ["A user with this username already exists."]}, code="unique")
        user.username = username
        fields.append("username")
    if "language" in data:
        user.language = data["language"]
        fields.append("language")
    if "keep_frames" in data:
        user.keep_frames = data["keep_frames"]
        fields.append("keep_frames")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    return user
