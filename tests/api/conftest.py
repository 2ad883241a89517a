"""Fixtures of the API tests: users with and without permissions, clients, offers."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from emag_sync.models import Conflict, Offer, SyncKind, SyncRun

API = "/api/v2"
VIEW_PERMISSIONS = ["view_offer", "view_syncrun", "view_conflict", "view_offerchange"]
_emag_ids = itertools.count(700_000)


@pytest.fixture(autouse=True)
def _fresh_throttles(settings):
    """Start every test with empty throttle counts and rates no ordinary test reaches."""
    settings.API_THROTTLE_SYNC = "10000/minute"
    settings.API_THROTTLE_LOGIN = "10000/minute"
    settings.API_THROTTLE_LOGIN_IP = "10000/minute"
    cache.clear()
    yield
    cache.clear()


def make_user(username: str, *, permissions=(), **fields):
    fields.setdefault("email", f"{username}@example.com")
    user = get_user_model().objects.create_user(
        username=username, password=f"{username}-password-1", **fields
    )
    if permissions:
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="emag_sync", codename__in=permissions)
        )
    return get_user_model().objects.get(pk=user.pk)  # drop the permission cache


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(
        username="root", password="root-password-1", email="root@example.com"
    )


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


def make_offer(account: str = "main", **fields) -> Offer:
    """Store an offer as a sync would have, with sensible defaults for what a test omits."""
    now = timezone.now()
    emag_id = fields.pop("emag_id", None) or next(_emag_ids)
    eans = fields.pop("ean", [])
    defaults = {
        "part_number": f"SKU-{emag_id}",
        "part_number_key": f"PNK{emag_id}",
        "name": f"Offer {emag_id}",
        "sale_price": Decimal("100.0000"),
        "currency": "RON",
        "status": 1,
        "general_stock": 5,
        "content_hash": f"hash-{emag_id}".encode(),
        "synced_at": now - timedelta(hours=1),
        "first_seen_at": now - timedelta(days=1),
    }
    defaults.update(fields)
    return Offer.objects.create(account=account, emag_id=emag_id, ean=eans, **defaults)


def make_run(account: str = "main", *, kind=SyncKind.OFFERS, status="completed", **fields):
    now = timezone.now()
    defaults = {
        "mode": "incremental",
        "started_at": now - timedelta(seconds=10),
        "heartbeat_at": now,
        "finished_at": None if status in ("queued", "running") else now,
    }
    if status == "queued":
        defaults.update(started_at=None, heartbeat_at=None)
    defaults.update(fields)
    return SyncRun.objects.create(account=account, kind=kind, status=status, **defaults)


def make_conflict(offer: Offer, *, field="sale_price", status="open", **fields) -> Conflict:
    defaults = {
        "base_value": "100.0000",
        "local_value": "90.0000",
        "emag_value": "110.0000",
        "detected_at": timezone.now(),
    }
    defaults.update(fields)
    return Conflict.objects.create(offer=offer, field=field, status=status, **defaults)
