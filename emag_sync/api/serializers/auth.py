"""Login and token refresh."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from emag_sync.api.serializers.common import StrictInputSerializer


class LoginInput(StrictInputSerializer):
    username = serializers.CharField(required=False, max_length=150)
    email = serializers.EmailField(required=False, max_length=254)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError(
                {"username": [gettext("Give a username or an email.")]}
            )
        return attrs


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Trade at /api/v2/auth/refresh for a new access.")


class RefreshInput(TokenRefreshSerializer):
    def validate(self, attrs: dict) -> dict:
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            # simplejwt looks the token's user up with .get(): a deleted user would crash.
            raise AuthenticationFailed(
                "No active account found for the given token.", "no_active_account"
            ) from None


class AccessOutput(serializers.Serializer):
    access = serializers.CharField()
