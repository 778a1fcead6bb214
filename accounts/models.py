from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models


class UserManager(DjangoUserManager):
    """Email is the login; a username is derived from it when none is given (tools, fixtures)."""

    def _username_for(self, email):
        base = (email or "user").split("@")[0][:140] or "user"
        candidate, n = base, 1
        while self.model._default_manager.filter(username__iexact=candidate).exists():
            n += 1
            candidate = f"{base}{n}"
        return candidate

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username or self._username_for(email), email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        return super().create_superuser(username or self._username_for(email), email, password, **extra_fields)


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"


class User(AbstractUser):
    """Logs in with email; username is the public handle."""

    email = models.EmailField("email address", unique=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = UserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.email
