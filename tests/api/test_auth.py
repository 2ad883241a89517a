"""Logging in for JWTs (username or email), refreshing them, sessions, and login throttling."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.api.conftest import API, client_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = f"{API}/auth/login"
REFRESH = f"{API}/auth/refresh"


@pytest.fixture
def alice(db):
    return make_user("alice", permissions=["view_syncrun"])


def login(body, **extra):
    return client_for().post(LOGIN, body, format="json", **extra)


def test_logging_in_with_a_username_gives_tokens_that_open_the_api(alice):
    response = login({"username": "alice", "password": "alice-password-1"})

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get(f"{API}/emag/products/status").status_code == 200


def test_logging_in_with_an_email_works_like_the_predecessors_login(alice):
    response = login({"email": "ALICE@example.com", "password": "alice-password-1"})

    assert response.status_code == 200
    assert response.json()["access"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "alice-password-1"},
        {"email": "nobody@example.com", "password": "alice-password-1"},
    ],
)
def test_wrong_credentials_get_401(alice, body):
    response = login(body)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_email_two_accounts_share_logs_nobody_in(alice):
    make_user("alice2", email="alice@example.com")

    assert login({"email": "alice@example.com", "password": "alice-password-1"}).status_code == 401


def test_an_inactive_user_cannot_log_in(alice):
    alice.is_active = False
    alice.save()

    assert login({"username": "alice", "password": "alice-password-1"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": "x", "remember": True}, "remember"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"username": "a\x00b", "password": "x"}, "username"),
    ],
)
def test_incomplete_or_unknown_login_fields_get_400_naming_the_field(alice, body, field):
    response = login(body)

    assert response.status_code == 400
    assert field in response.json()


def test_a_stale_token_does_not_block_logging_in(alice):
    response = login(
        {"username": "alice", "password": "alice-password-1"},
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert response.status_code == 200


def test_a_refresh_token_buys_a_new_access_token(alice):
    tokens = login({"username": "alice", "password": "alice-password-1"}).json()

    response = client_for().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access"}


def test_a_broken_refresh_token_or_an_access_token_gets_401(alice):
    tokens = login({"username": "alice", "password": "alice-password-1"}).json()

    for token in ("garbage", tokens["access"]):
        response = client_for().post(REFRESH, {"refresh": token}, format="json")
        assert response.status_code == 401


def test_the_refresh_token_of_a_deleted_user_gets_401_not_a_crash(alice):
    tokens = login({"username": "alice", "password": "alice-password-1"}).json()
    get_user_model().objects.filter(pk=alice.pk).delete()

    response = client_for().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401


def test_refresh_without_a_token_gets_400(alice):
    assert client_for().post(REFRESH, {}, format="json").status_code == 400


def test_the_admin_session_opens_the_api_and_writes_need_its_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="alice-password-1")

    assert client.get(f"{API}/emag/products/status").status_code == 200
    response = client.post(f"{API}/emag/products/sync", {}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_login_attempts_are_throttled_per_username(settings, alice):
    settings.API_THROTTLE_LOGIN = "3/minute"
    for _ in range(3):
        assert login({"username": "alice", "password": "wrong"}).status_code == 401

    response = login({"username": "ALICE", "password": "alice-password-1"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert login({"username": "bob", "password": "x"}).status_code == 401


def test_login_attempts_are_throttled_per_address(settings, alice):
    settings.API_THROTTLE_LOGIN_IP = "2/minute"
    login({"username": "a", "password": "x"})
    login({"username": "b", "password": "x"})

    assert login({"username": "c", "password": "x"}).status_code == 429
    other_address = login({"username": "d", "password": "x"}, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 401


def test_a_made_up_forwarded_for_header_does_not_dodge_the_address_throttle(settings, alice):
    settings.API_THROTTLE_LOGIN_IP = "1/minute"
    login({"username": "a", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.1")

    response = login({"username": "b", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.2")

    assert response.status_code == 429
