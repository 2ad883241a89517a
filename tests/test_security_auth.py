"""Tokens and logins: expired or tampered JWTs are refused, and guessing passwords is throttled
on both doors, the API's login and the admin's, which share one budget.
"""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at")]

STATUS = "/api/v2/emag/products/status"
LOGIN = "/api/v2/auth/login"
REFRESH = "/api/v2/auth/refresh"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "alice-password-1"


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user("alice", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_syncrun"))
    return user


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="boss-password-1")


def with_token(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(STATUS).status_code


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def test_a_fresh_access_token_opens_the_api(alice):
    assert with_token(str(AccessToken.for_user(alice))) == 200


def test_an_expired_access_token_is_refused(alice):
    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))

    assert with_token(str(token)) == 401


def test_an_expired_refresh_token_buys_nothing(alice):
    refresh = RefreshToken.for_user(alice)
    refresh.set_exp(from_time=timezone.now() - timedelta(days=2))

    response = APIClient().post(REFRESH, {"refresh": str(refresh)}, format="json")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_token_whose_payload_was_changed_is_refused(alice, boss):
    header, payload, signature = _parts(str(AccessToken.for_user(alice)))
    payload["user_id"] = str(boss.pk)  # become the superuser, keeping alice's signature

    assert with_token(f"{_b64(header)}.{_b64(payload)}.{signature}") == 401


def test_a_token_with_a_changed_signature_is_refused(alice):
    token = str(AccessToken.for_user(alice))
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert with_token(f"{header}.{payload}.{flipped}") == 401


def test_an_unsigned_token_is_refused(alice):
    header, payload, _ = _parts(str(AccessToken.for_user(alice)))

    assert with_token(f"{_b64({**header, 'alg': 'none'})}.{_b64(payload)}.") == 401


def test_a_token_signed_with_another_key_is_refused(alice):
    _, payload, _ = _parts(str(AccessToken.for_user(alice)))

    forged = jwt.encode(payload, "not-the-secret-key-but-long-enough-for-hs256", "HS256")

    assert with_token(forged) == 401


def test_a_refresh_token_does_not_work_as_an_access_token(alice):
    assert with_token(str(RefreshToken.for_user(alice))) == 401


def test_the_token_of_a_deactivated_user_is_refused(alice):
    token = str(AccessToken.for_user(alice))
    alice.is_active = False
    alice.save()

    assert with_token(token) == 401


def test_garbage_in_the_authorization_header_is_a_401_not_a_500(alice):
    for value in (
        "Bearer",
        "Bearer a b",
        "Bearer ....",
        "Bearer \u00e9\u00e9",
        "Basic Zm9vOmJhcg==",
    ):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=value)
        assert client.get(STATUS).status_code == 401, value


# --- login throttling ------------------------------------------------------------------------


@pytest.fixture
def tight_login_throttles(settings):
    settings.API_THROTTLE_LOGIN = "3/minute"
    settings.API_THROTTLE_LOGIN_IP = "6/minute"
    cache.clear()
    yield settings
    cache.clear()


def admin_attempt(password: str, *, username: str = "alice", address: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )


def api_attempt(password: str, *, username: str = "alice", address: str = "127.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password}, format="json"
    )


def test_the_admin_login_is_throttled_per_username_even_for_the_right_password(
    alice, tight_login_throttles
):
    for _ in range(3):
        assert admin_attempt("wrong").status_code == 200  # the form again, with its error

    refused = admin_attempt(PASSWORD)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many login attempts" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session
    assert admin_attempt("wrong", username="bob").status_code == 200  # others are not locked out


def test_the_admin_login_is_throttled_per_address_whatever_the_usernames(
    alice, tight_login_throttles
):
    for number in range(6):
        assert admin_attempt("x", username=f"user{number}").status_code == 200

    assert admin_attempt(PASSWORD).status_code == 429
    assert admin_attempt(PASSWORD, address="10.1.2.3").status_code == 302  # logged in


def test_the_api_and_the_admin_share_one_budget_per_username(alice, tight_login_throttles):
    assert api_attempt("wrong").status_code == 401
    assert admin_attempt("wrong").status_code == 200
    assert api_attempt("wrong").status_code == 401

    assert admin_attempt(PASSWORD).status_code == 429
    assert api_attempt(PASSWORD).status_code == 429


def test_showing_the_admin_login_form_costs_no_attempt(alice, tight_login_throttles):
    for _ in range(10):
        assert Client().get(ADMIN_LOGIN).status_code == 200

    assert admin_attempt(PASSWORD).status_code == 302
