"""Auth endpoints: thin views that check shape and call services."""

from django.db import transaction
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.exports import data_export_for_download, data_export_request
from accounts.models import User
from accounts.oidc.services import local_account_required
from accounts.ownership import user_delete, user_delete_authorize
from accounts.serializers import (
    AccountDeletePendingSerializer,
    AccountDeleteSerializer,
    DataExportSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from coaching.examples import ME_LEADERBOARD_EXAMPLE
from coaching.services import LEADERBOARD_ERRORS, leaderboard_profile_update
from config.openapi import ErrorResponse401Serializer
from config.throttling import DefaultThrottle, RateLimitThrottle, RegisterIPThrottle

TAG = "auth"
# A signed storage URL the export download redirects to lives this long.
DOWNLOAD_URL_SECONDS = 300


class PublicApi(APIView):
    """No credentials needed; refusals are still 401 with a Bearer challenge, not 403."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


@extend_validation_errors(["unique"], field_name="email", methods=["post"])
@extend_validation_errors(["unique"], field_name="username", methods=["post"])
@extend_validation_errors(["weak_password"], field_name="password", methods=["post"])
class RegisterApi(PublicApi):
    throttle_classes = [RegisterIPThrottle]

    @extend_schema(tags=[TAG], request=RegisterSerializer, responses={201: RegisterResponseSerializer}, auth=[])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        body = {"user": UserSerializer(user).data, **services.tokens_for_user(user=user)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginApi(PublicApi):
    # Attempts per IP (each costs a password hash); failed ones have their own limits (user_login).
    throttle_classes = [DefaultThrottle]

    @extend_schema(
        tags=[TAG],
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        auth=[],
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.user_login(**serializer.validated_data, request=request))


class RefreshApi(PublicApi):
    throttle_classes = [DefaultThrottle]

    @extend_schema(
        tags=[TAG],
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        auth=[],
        description="Rotates the pair: the refresh token sent is refused from now on.",
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.token_refresh(**serializer.validated_data))


@extend_validation_errors(["external_account"], field_name="non_field_errors", methods=["post"])
class LogoutApi(APIView):
    @extend_schema(tags=[TAG], request=RefreshSerializer, responses={204: None})
    def post(self, request):
        local_account_required(user=request.user)
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_revoke(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhereApi(APIView):
    @extend_schema(
        tags=[TAG],
        request=None,
        responses={204: None},
        description=(
            "Signs out every device: every refresh token stops working and the live-status sockets close "
            "(4401). Access tokens already issued last until they expire."
        ),
    )
    def post(self, request):
        services.user_logout_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["unique"], field_name="username", methods=["patch"])
@extend_validation_errors(LEADERBOARD_ERRORS, field_name="display_name", methods=["patch"])
class MeApi(APIView):
    @extend_schema(tags=[TAG], responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=[TAG],
        request=UserUpdateSerializer,
        responses={200: UserSerializer},
        examples=[ME_LEADERBOARD_EXAMPLE],
        description="Any of the fields; `leaderboard_opt_in` needs a `display_name`, given now or before.",
    )
    def patch(self, request):
        serializer = UserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        board = {"opt_in": data.pop("leaderboard_opt_in", None), "display_name": data.pop("display_name", None)}
        with transaction.atomic():  # all or nothing: a taken name leaves the username unchanged too
            user = services.user_update(user=request.user, data=data)
            if board != {"opt_in": None, "display_name": None}:
                leaderboard_profile_update(user=user, **board)
        return Response(UserSerializer(User.objects.select_related("leaderboard_profile").get(pk=user.pk)).data)

    @extend_schema(
        tags=[TAG],
        request=AccountDeleteSerializer,
        responses={204: None, 202: AccountDeletePendingSerializer},
        description=(
            "Deletes the account and everything of it: analyses, frames, sessions, playlists, exports, "
            "linked sign-ins, tokens (docs/your-data.md). Needs the password; an account from a hosted "
            "sign-in sends a provider token issued within `ACCOUNT_DELETE_TOKEN_MAX_AGE_SECONDS` instead "
            "(403 `wrong_password` / `stale_token`, nothing deleted). 204 when nothing is left; 202 when "
            "storage has not deleted every file yet (they are retried until gone). Every token of the "
            "account is refused afterwards."
        ),
    )
    def delete(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password = serializer.validated_data.get("password")
        user_delete_authorize(user=request.user, password=password, auth=request.auth, request=request)
        summary = user_delete(user=request.user)
        if summary.files_pending:
            detail = "Your account and data are deleted; some files are still being removed from storage."
            return Response({"files_pending": summary.files_pending, "detail": detail}, status=status.HTTP_202_ACCEPTED)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["wrong_password"], field_name="old_password", methods=["post"])
@extend_validation_errors(["weak_password"], field_name="new_password", methods=["post"])
@extend_validation_errors(["external_account"], field_name="non_field_errors", methods=["post"])
class PasswordChangeApi(APIView):
    @extend_schema(
        tags=[TAG],
        request=PasswordChangeSerializer,
        responses={204: None},
        description=(
            "Changes the password; every token issued before stops working (access tokens too, with "
            "401 `password_changed`) and the live-status sockets close (4401)."
        ),
    )
    def post(self, request):
        local_account_required(user=request.user)
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_password_change(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataExportThrottle(RateLimitThrottle):
    group = "data_export"
    rate_setting = "data_export_user"

    @staticmethod
    def key(group, request):
        return f"user:{request.user.pk}"


class DataExportApi(APIView):
    def get_throttles(self):
        extra = [DataExportThrottle()] if self.request.method == "POST" else []
        return [*super().get_throttles(), *extra]

    @extend_schema(
        tags=[TAG],
        responses={200: DataExportSerializer},
        description="The latest export of your data (404 `not_found` when you never asked for one).",
    )
    def get(self, request):
        export = request.user.data_exports.order_by("-created_at").first()
        if export is None:
            raise exceptions.NotFound("You have not asked for an export yet.", code="not_found")
        return Response(DataExportSerializer(export, context={"request": request}).data)

    @extend_schema(
        tags=[TAG],
        request=None,
        responses={202: DataExportSerializer},
        description=(
            "Starts building a ZIP of everything of yours (profile, sessions, analyses with results and "
            "landmarks, playlists, frames). A second request while one is being built returns that one. "
            "Poll `GET auth/me/export/`; when `ready`, `download_url` works for you only until `expires_at`."
        ),
    )
    def post(self, request):
        export, _ = data_export_request(user=request.user)
        return Response(
            DataExportSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class DataExportDownloadApi(APIView):
    @extend_schema(
        tags=[TAG],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        description=(
            "The ZIP, for its owner only (404 for anyone else), until it expires (410 `export_expired`). "
            "On an object store that signs URLs (S3) a 302 to a URL valid for 5 minutes."
        ),
    )
    def get(self, request, export_id):
        export = data_export_for_download(user=request.user, export_id=export_id)
        storage = export.file.storage
        if getattr(storage, "querystring_auth", False):
            # An object store that signs its URLs (django-storages' S3): the client fetches it from there.
            return HttpResponseRedirect(storage.url(export.file.name, expire=DOWNLOAD_URL_SECONDS))
        # Otherwise through Django: fine for the embedded default, a web process busy for a big file.
        filename = f"dance-coach-data-{export.created_at:%Y%m%d}.zip"
        return FileResponse(
            export.file.open("rb"), as_attachment=True, filename=filename, content_type="application/zip"
        )
