"""Builders shared by the admin tests: offers and orders in bulk, overlay, runs, users."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from emag_sync.models import (
    Conflict,
    EmagRequestLog,
    LocalEdit,
    Offer,
    OfferChange,
    Order,
    OrderLine,
    OrderStatusChange,
    SyncRun,
)


def make_offers(account: str, count: int, *, first_id: int = 1) -> list[Offer]:
    """Insert offers the way a sync leaves them (with EAN rows), in bulk; return them."""
    now = timezone.now()
    offers = Offer.objects.bulk_create(
        Offer(
            account=account,
            emag_id=emag_id,
            part_number=f"{account.upper()}-SKU-{emag_id:05d}",
            part_number_key=f"PNK{emag_id:06d}",
            name=f"Test product {emag_id} {'blue' if emag_id % 2 else 'green'} widget",
            sale_price=Decimal("10.5000") + emag_id,
            currency="RON",
            general_stock=emag_id % 4,  # a quarter out of stock
            status=1,
            validation_status=9,
            offer_validation_status=1,
            ean=[f"59{emag_id:011d}"],
            raw={"id": emag_id, "stock": [{"warehouse_id": 1, "value": emag_id % 4}]},
            content_hash=f"hash-{emag_id}".encode(),
            synced_at=now,
            first_seen_at=now,
        )
        for emag_id in range(first_id, first_id + count)
    )
    return offers


def make_overlay(offers: list[Offer], *, run: SyncRun | None = None, user=None) -> None:
    """Give every tenth offer a local price, an open conflict and a change in its history."""
    now = timezone.now()
    chosen = offers[::10]
    LocalEdit.objects.bulk_create(
        LocalEdit(offer=offer, field="sale_price", value="99.0000", edited_by=user, edited_at=now)
        for offer in chosen
    )
    Conflict.objects.bulk_create(
        Conflict(
            offer=offer,
            field="sale_price",
            base_value=f"{offer.sale_price:.4f}",
            local_value="99.0000",
            emag_value="88.0000",
            detected_in=run,
            detected_at=now,
        )
        for offer in chosen
    )
    OfferChange.objects.bulk_create(
        OfferChange(
            offer=offer,
            field="general_stock",
            old_value=1,
            new_value=offer.general_stock,
            run=run,
            changed_at=now,
        )
        for offer in offers[::5]
    )


def make_orders(
    account: str, count: int, *, first_id: int = 1, offers: Sequence[Offer] = ()
) -> list[Order]:
    """Insert orders the way a sync leaves them, in bulk: 1-3 lines, a status history.

    Statuses cycle through eMAG's six, types alternate FBS and FBE, and each order is an
    hour older than the one before. Lines point at the given offers, in turn, when any.
    """
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            account=account,
            emag_id=emag_id,
            status=emag_id % 6,
            type=3 if emag_id % 2 else 2,
            payment_mode_id=1,
            payment_mode="RAMBURS",
            date=now - timedelta(hours=emag_id),
            modified=now - timedelta(hours=emag_id),
            customer={"name": f"Client {emag_id}"},
            customer_name=f"Client {emag_id} {'Popescu' if emag_id % 3 else 'Ionescu'}",
            total=Decimal("100.5000") + emag_id,
            currency="RON",
            raw={"id": emag_id},
            content_hash=f"order-{emag_id}".encode(),
            synced_at=now,
            first_seen_at=now,
        )
        for emag_id in range(first_id, first_id + count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            account=account,
            product_id=offer.emag_id if offer else None,
            offer=offer,
            ext_part_number=offer.part_number if offer else f"LINE-{order.emag_id}-{number}",
            name=f"Line {number} of order {order.emag_id}",
            quantity=number + 1,
            sale_price=Decimal("25.0000"),
            currency="RON",
            vat_rate=Decimal("0.2100"),
        )
        for position, order in enumerate(orders)
        for number in range(1 + order.emag_id % 3)
        for offer in [offers[(position + number) % len(offers)] if offers else None]
    )
    OrderStatusChange.objects.bulk_create(
        OrderStatusChange(
            order=order,
            from_status=previous,
            to_status=status,
            changed_at=order.modified,
            source="sync",
            recorded_at=now,
        )
        for order in orders
        for previous, status in [(None, 1), (1, order.status)]
        if previous is None or status != 1
        if status is not None and order.modified is not None
    )
    return orders


def make_runs(count: int, *, account: str = "main", kind: str = "offers") -> list[SyncRun]:
    """Insert finished runs of a stream, each with a few logged eMAG requests."""
    now = timezone.now()
    runs = SyncRun.objects.bulk_create(
        SyncRun(
            kind=kind,
            account=account,
            status="completed" if number % 3 else "partial",
            pages_total=13,
            pages_done=13,
            items_seen=1274,
            errors=[] if number % 3 else [{"page": 4, "message": "eMAG answered 503"}],
            started_at=now,
            finished_at=now,
            heartbeat_at=now,
            triggered_by="schedule",
        )
        for number in range(count)
    )
    EmagRequestLog.objects.bulk_create(
        EmagRequestLog(
            account=account,
            resource="product_offer",
            action="read",
            status_code=200,
            latency_ms=80,
            run=run,
            created_at=now,
        )
        for run in runs
        for _ in range(3)
    )
    return runs


def client_with(django_user_model, *codenames: str, username: str = "seller") -> Client:
    """Log in a staff user holding only the given emag_sync permissions."""
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="emag_sync", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def run_changelist_action(client: Client, changelist: str, action: str, selected, **options):
    """Post an admin changelist action on the `selected` objects (or pks); return the answer."""
    pks = [getattr(item, "pk", item) for item in selected]
    return client.post(changelist, {"action": action, "_selected_action": pks}, **options)
