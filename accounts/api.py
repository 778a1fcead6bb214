"""Auth endpoints: thin views that check shape and call services."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import User
from accounts.oidc.services import local_account_required
from accounts.serializers import (
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
from config.throttling import DefaultThrottle, RegisterIPThrottle

TAG = "auth"


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
