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

    # Null for an account from a hosted sign-in whose provider vouched for no email (unique allows many nulls).
    email = models.EmailField("email address", unique=True, null=True, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = UserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.email or self.username


class ExternalIdentity(models.Model):
    """An account at a hosted identity provider: its (issuer, subject) pair names one person for good."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_issuer_subject")]
        verbose_name_plural = "external identities"

    def __str__(self):
        return f"{self.subject} at {self.issuer}"
