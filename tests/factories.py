"""The objects tests store by hand, with plain defaults for whatever a test does not name.

Each factory writes one row as a sync, a person or a health check would have left it; a test
passes only the fields its case is about.
"""

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from emag_sync.models import Conflict, HealthCheck, LocalEdit, Offer, Order, SyncKind, SyncRun

_emag_ids = itertools.count(700_000)


def make_user(username: str, *, permissions=(), **fields):
    """Store a user with a password derived from the name and the given emag_sync permissions."""
    fields.setdefault("email", f"{username}@example.com")
    user = get_user_model().objects.create_user(
        username=username, password=f"{username}-password-1", **fields
    )
    if permissions:
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="emag_sync", codename__in=permissions)
        )
    return get_user_model().objects.get(pk=user.pk)  # drop the permission cache


def make_superuser(username: str):
    """Create a superuser whose password is `<username>-password-1`, as make_user's."""
    return get_user_model().objects.create_superuser(
        username=username, password=f"{username}-password-1", email=f"{username}@example.com"
    )


def make_offer(account: str = "main", **fields) -> Offer:
    """Store an offer as a sync would have, with sensible defaults for what a test omits."""
    now = timezone.now()
    emag_id = fields.pop("emag_id", None) or next(_emag_ids)
    eans = fields.pop("ean", [])
    defaults: dict[str, Any] = {
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
    """Store a sync run in `status`: started 10 s ago, finished now unless queued or running."""
    now = timezone.now()
    defaults: dict[str, Any] = {
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
    """Store a conflict on the offer's field: base 100, local 90, eMAG 110."""
    defaults: dict[str, Any] = {
        "base_value": "100.0000",
        "local_value": "90.0000",
        "emag_value": "110.0000",
        "detected_at": timezone.now(),
    }
    defaults.update(fields)
    return Conflict.objects.create(offer=offer, field=field, status=status, **defaults)


def make_local_edit(offer: Offer, field: str, value: str, *, edited_by=None) -> LocalEdit:
    """Store a local value of an offer, edited now (by `edited_by`, or by nobody named)."""
    return LocalEdit.objects.create(
        offer=offer, field=field, value=value, edited_by=edited_by, edited_at=timezone.now()
    )


def make_order(account="main", *, emag_id, status=1, order_type=3, ordered_at=None, **fields):
    """Store an order as a sync would have: seen a day ago, synced an hour ago."""
    now = timezone.now()
    defaults: dict[str, Any] = {
        "date": ordered_at or now,
        "content_hash": f"hash-{emag_id}".encode(),
        "synced_at": now - timedelta(hours=1),
        "first_seen_at": now - timedelta(days=1),
    }
    defaults.update(fields)
    return Order.objects.create(
        account=account, emag_id=emag_id, status=status, type=order_type, **defaults
    )


def make_health_check(*, status="ok", **fields) -> HealthCheck:
    """Store a health check that found the database and the broker up, taken now."""
    defaults: dict[str, Any] = {
        "checked_at": timezone.now(),
        "database_ok": True,
        "broker_ok": True,
    }
    defaults.update(fields)
    return HealthCheck.objects.create(status=status, **defaults)
