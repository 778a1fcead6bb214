import unicodedata

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import DataExport, Language, User

_ACCESS_SECONDS = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


class UserSerializer(serializers.ModelSerializer):
    # Leaderboard settings (coaching.models.LeaderboardProfile): off until the dancer opts in.
    leaderboard_opt_in = serializers.SerializerMethodField()
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "username", "language", "created_at", "keep_frames"]
        fields += ["leaderboard_opt_in", "display_name"]  # coaching.LeaderboardProfile's, not the user's
        read_only_fields = ["id", "email", "created_at"]

    @extend_schema_field(serializers.BooleanField(help_text="Shown on the videos' leaderboards."))
    def get_leaderboard_opt_in(self, user) -> bool:
        profile = getattr(user, "leaderboard_profile", None)
        return bool(profile and profile.opt_in)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The public name on the leaderboards."))
    def get_display_name(self, user) -> str | None:
        profile = getattr(user, "leaderboard_profile", None)
        return profile.display_name if profile else None


class UsernameField(serializers.RegexField):
    """A public handle, NFKC-normalised before it is checked (full-width "ａｌｉｃｅ" is "alice"), as
    Django's own user forms do; uniqueness ignores case (accounts.services)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid": "Letters, digits and @/./+/-/_ only."})
        super().__init__(r"^[\w.@+-]+\Z", max_length=150, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(unicodedata.normalize("NFKC", data) if isinstance(data, str) else data)


class UserUpdateSerializer(serializers.Serializer):
    username = UsernameField(required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    # Leaderboard settings: coaching.services checks the name (length, characters, uniqueness).
    leaderboard_opt_in = serializers.BooleanField(required=False, help_text="Appear on the videos' leaderboards.")
    display_name = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=200, help_text="Public name, 1-30 chars."
    )
    keep_frames = serializers.BooleanField(
        required=False, help_text="Off: each frame is deleted as soon as its analysis is final (docs/your-data.md)."
    )


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    username = UsernameField()
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=2048)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["bearer"])
    expires_in = serializers.IntegerField(help_text=f"Seconds the access token lives (now {_ACCESS_SECONDS}).")


class RegisterResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


# --- Issue 18: the dancer's own data -------------------------------------------------------------


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True,
        max_length=128,
        required=False,
        help_text="Required for an account with a password; one from a hosted sign-in sends a fresh token instead.",
    )


class AccountDeletePendingSerializer(serializers.Serializer):
    files_pending = serializers.IntegerField(help_text="Files storage has not deleted yet; retried until gone.")
    detail = serializers.CharField()


class DataExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=DataExport.Status.choices)
    size = serializers.IntegerField(help_text="Bytes of the ZIP, once ready.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, export) -> str | None:
        if export.status != "ready":
            return None
        path = reverse("auth-me-export-download", kwargs={"export_id": export.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
