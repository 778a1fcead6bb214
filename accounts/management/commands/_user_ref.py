"""Shared by the account commands: a user named by id, email or username."""

from django.core.management.base import CommandError

from accounts.models import User


def user_from_ref(ref: str) -> User:
    ref = ref.strip()
    queryset = User.objects.all()
    if ref.isdigit():
        user = queryset.filter(pk=int(ref)).first() if len(ref) <= 18 else None
    elif "@" in ref:
        user = queryset.filter(email__iexact=ref).first()
    else:
        user = queryset.filter(username__iexact=ref).first()
    if user is None:
        raise CommandError(f"No user {ref!r} (give an id, an email or a username).")
    return user
