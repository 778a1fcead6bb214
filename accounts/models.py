from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


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
