"""Issue API tokens (JWT) to people who log in with a username or an email, and a password."""

from dataclasses import dataclass

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def api_token_pair_issue(
    *,
    request,
    password: str,
    username: str | None = None,
    email: str | None = None,
    either: bool = False,
) -> TokenPair | None:
    """Return a fresh token pair for the active user these credentials name, or None.

    With `either`, the name given is tried as a username and, when no user has it, as an
    email (the predecessor's clients send an address as `username` and a name as `email`).
    """
    users = get_user_model()
    if either:
        identity = (username or email or "").strip()
        taken = users.objects.filter(**{users.USERNAME_FIELD: identity}).exists()
        username, email = (identity, None) if taken else (None, identity)
    if not username and email:
        matches = list(
            users.objects.filter(email__iexact=email.strip()).values_list(
                users.USERNAME_FIELD, flat=True
            )[:2]
        )
        # No account or several share the address: authenticate still runs (and fails), so
        # the answer takes as long as for a real account and gives nothing away.
        username = matches[0] if len(matches) == 1 else email
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    refresh = RefreshToken.for_user(user)
    if jwt_settings.UPDATE_LAST_LOGIN:
        # The signal receiver ignores its sender; Simple JWT passes None too.
        update_last_login(None, user)  # type: ignore[arg-type]
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))
