"""The user behind a verified provider token: the linked one, or one made on first sight."""

import re
import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from rest_framework import exceptions

from accounts.models import ExternalIdentity, User
from accounts.ownership import subject_deleted_check
from accounts.services import email_normalize
from config.oidc import OidcProvider

# Handles the person chose, then Auth0's `nickname`, which defaults to the email's local part.
USERNAME_CLAIMS = ("preferred_username", "username", "nickname")
USERNAME_FALLBACK = "dancer"
USERNAME_BASE_MAX_LENGTH = 30


def _claim(provider: OidcProvider, claims: dict, name: str):
    if name in claims:
        return claims[name]
    return claims.get(provider.claim_namespace + name) if provider.claim_namespace else None


def verified_email(provider: OidcProvider, claims: dict) -> str | None:
    """The token's email when the provider says it verified it; an unverified one is never stored."""
    verified = _claim(provider, claims, "email_verified")
    email = _claim(provider, claims, "email")
    if verified not in (True, "true") or not isinstance(email, str):
        return None
    email = email_normalize(email)
    try:
        validate_email(email)
    except DjangoValidationError:
        return None
    return email if len(email) <= 254 else None


def username_propose(provider: OidcProvider, claims: dict) -> str:
    """A handle from the token that never is, nor was derived from, the email: usernames are public."""
    email = _claim(provider, claims, "email")
    local_part = email.split("@")[0].lower() if isinstance(email, str) else None
    for name in USERNAME_CLAIMS:
        value = _claim(provider, claims, name)
        if not isinstance(value, str) or "@" in value:
            continue
        cleaned = re.sub(r"[^\w.+-]", "", unicodedata.normalize("NFKC", value))[:USERNAME_BASE_MAX_LENGTH]
        if cleaned and not (name == "nickname" and cleaned.lower() == local_part):
            return cleaned
    return USERNAME_FALLBACK


def _username_free(base: str) -> str:
    candidate = base
    for _ in range(5):
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
        candidate = f"{base}-{secrets.randbelow(10**6):06d}"
    return f"{base}-{secrets.token_hex(6)}"


def _user_inactive() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("User is inactive", code="user_inactive")


def _account_to_link(email: str | None) -> tuple[User | None, str | None]:
    """(existing account to link, email for a new account) for a verified email."""
    if email is None:
        return None, None
    holder = User.objects.filter(email__iexact=email).first()
    if holder is None:
        return None, email
    # Staff rights never come from a token, so a staff account is never reached through its email.
    if settings.OIDC_LINK_BY_EMAIL and not (holder.is_staff or holder.is_superuser):
        if not holder.is_active:
            raise _user_inactive()
        return holder, None
    # The email belongs to an account we may not link: a separate account, without that email.
    return None, None


def _identity_create(provider: OidcProvider, claims: dict) -> ExternalIdentity:
    user, email = _account_to_link(verified_email(provider, claims))
    if user is None:
        user = User(username=_username_free(username_propose(provider, claims)), email=email)
        user.set_unusable_password()
        user.save()
    return ExternalIdentity.objects.create(user=user, issuer=provider.issuer, subject=claims["sub"])


def _identity_get(issuer: str, subject: str) -> ExternalIdentity | None:
    return ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()


def external_user_get_or_create(*, provider: OidcProvider, claims: dict) -> User:
    """The account of a verified token's (issuer, subject); made from the claims the first time."""
    identity = _identity_get(provider.issuer, claims["sub"])
    if identity is None:
        # A token from before its account was deleted makes no new account (issue 18).
        subject_deleted_check(issuer=provider.issuer, subject=claims["sub"], claims=claims)
        try:
            with transaction.atomic():
                identity = _identity_create(provider, claims)
        except IntegrityError:
            # A concurrent first request made it (or took the username): use theirs, else try once more.
            identity = _identity_get(provider.issuer, claims["sub"])
            if identity is None:
                with transaction.atomic():
                    identity = _identity_create(provider, claims)
    if not identity.user.is_active:
        raise _user_inactive()
    if identity.user.email is None:
        _email_fill_in(identity.user, verified_email(provider, claims))
    return identity.user


def _email_fill_in(user: User, email: str | None) -> None:
    """A user without an email gets the first verified one a later token carries, unless it is taken."""
    if email is None or User.objects.filter(email__iexact=email).exists():
        return
    user.email = email
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "updated_at"])
    except IntegrityError:
        user.email = None  # taken meanwhile: stays without one


def local_account_required(*, user: User) -> None:
    """Logout and password change act on our own credentials, which an account from a hosted sign-in lacks."""
    if not user.has_usable_password() and user.external_identities.exists():
        raise exceptions.ValidationError(
            {
                "non_field_errors": [
                    "This account signs in with an identity provider: sign out and change the password there."
                ]
            },
            code="external_account",
        )
