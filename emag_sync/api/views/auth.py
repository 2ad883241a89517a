"""Log in for a JWT pair (username or email, and password), and refresh the access token."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import AUTH_HEADER_TYPES
from rest_framework_simplejwt.views import TokenRefreshView

from emag_sync.api.openapi import error_responses
from emag_sync.api.serializers import AccessOutput, LoginInput, RefreshInput, TokenPairOutput
from emag_sync.api.throttles import LoginAddressThrottle, LoginUsernameThrottle
from emag_sync.api.views.base import validated
from emag_sync.services.api_tokens import api_token_pair_issue


class LoginView(APIView):
    # A stale or broken token in the request must not stop anyone from logging in.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    def get_authenticate_header(self, request: Request) -> str:
        # Without authentication classes DRF would answer bad credentials with 403.
        return f'{AUTH_HEADER_TYPES[0]} realm="api"'

    @extend_schema(
        tags=["auth"],
        summary="Log in: trade a username or email and a password for a JWT pair",
        request=LoginInput,
        responses={200: TokenPairOutput, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = validated(LoginInput, request.data)
        tokens = api_token_pair_issue(
            request=request._request,
            username=credentials.get("username"),
            email=credentials.get("email"),
            password=credentials["password"],
        )
        if tokens is None:
            raise AuthenticationFailed("No active account found with the given credentials.")
        return Response(TokenPairOutput(tokens).data)


class RefreshView(TokenRefreshView):
    serializer_class = RefreshInput

    @extend_schema(
        tags=["auth"],
        summary="Trade a refresh token for a new access token",
        description="The refresh token stays valid until it expires.",
        request=RefreshInput,
        responses={200: AccessOutput, **error_responses(400, 401)},
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)
