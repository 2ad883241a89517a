"""Fixtures of the API tests: users with and without permissions, and clients."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import make_superuser, make_user

API = "/api/v2"
VIEW_PERMISSIONS = ["view_offer", "view_syncrun", "view_conflict", "view_offerchange"]


@pytest.fixture(autouse=True)
def _fresh_throttles(settings):
    """Start every test with empty throttle counts and rates no ordinary test reaches."""
    settings.API_THROTTLE_SYNC = "10000/minute"
    settings.API_THROTTLE_LOGIN = "10000/minute"
    settings.API_THROTTLE_LOGIN_IP = "10000/minute"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def queued_tasks(monkeypatch):
    """Record the offer tasks the API sends instead of sending them to a broker."""
    sent = []
    monkeypatch.setattr(
        "emag_sync.tasks.sync_products_task.apply_async",
        lambda kwargs, task_id: sent.append(kwargs),
    )
    return sent


def predecessor_sync_body(account_type: str, *, run_async: bool, **changes) -> dict:
    """Return an offer sync request with every field, as the predecessor's clients send it: a
    full sync, inactive offers included, 100 a page, eMAG's values winning; `changes` alter it."""
    return {
        "account_type": account_type,
        "mode": "full",
        "max_pages": None,
        "items_per_page": 100,
        "include_inactive": True,
        "conflict_strategy": "emag_priority",
        "run_async": run_async,
        **changes,
    }


@pytest.fixture
def superuser(db):
    return make_superuser("root")


@pytest.fixture
def reader(db):
    """May read everything, change nothing."""
    return make_user("reader", permissions=VIEW_PERMISSIONS)


@pytest.fixture
def operator(db):
    """Not staff, but holds every dedicated permission to act."""
    return make_user(
        "operator",
        permissions=[*VIEW_PERMISSIONS, "run_sync", "change_offer", "change_conflict"],
    )


@pytest.fixture
def staff(db):
    """Staff without any permission: may act, may not read."""
    return make_user("staff", is_staff=True)


@pytest.fixture
def outsider(db):
    """Logged in, no permission at all."""
    return make_user("outsider")


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api(superuser) -> APIClient:
    """A client logged in as a superuser."""
    return client_for(superuser)
