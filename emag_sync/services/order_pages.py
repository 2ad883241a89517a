"""Write one page of orders, its cursor and its run counters in one transaction.

A page write issues a fixed number of statements whatever the page size: one read of the
page's stored orders, one upsert, one delete and one insert of the changed orders' lines,
one read of the offers they point at, one insert of status changes, then the request log,
the cursor and the counters. Orders whose content hash is unchanged are not written at all,
so re-reading an unchanged range writes no order rows.
"""

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from emag_sync.models import (
    Offer,
    Order,
    OrderLine,
    OrderStatusChange,
    StatusChangeSource,
    SyncKind,
    SyncRun,
    SyncState,
)
from emag_sync.payloads.orders import MIRROR_FIELDS, order_columns
from emag_sync.payloads.values import PayloadError, content_hash
from emag_sync.services.request_log import PageResult, page_progress_record

UPSERT_FIELDS = [*MIRROR_FIELDS, "raw", "content_hash", "synced_at"]
EXISTING_FIELDS = ["id", "emag_id", "content_hash", "status", "synced_at"]


@dataclass(frozen=True)
class CursorAdvance:
    """Where a stream's cursor goes once this page is committed.

    Incremental streams follow the newest `modified` the page shows, never below `floor`
    (what the cursor already covers) and never past `ceiling` (the run's start); other
    streams take `floor` as it is.
    """

    mode: str
    floor: datetime
    ceiling: datetime
    follow_modified: bool = True

    def value(self, newest_modified: datetime | None) -> datetime:
        candidate = self.floor
        if self.follow_modified and newest_modified is not None:
            candidate = max(candidate, newest_modified)
        return min(candidate, self.ceiling)


@dataclass
class OrderPageResult(PageResult):
    statuses: dict[int, int] = field(default_factory=dict)
    newest_modified: datetime | None = None
    cursor: datetime | None = None


def order_page_write(
    *,
    run: SyncRun,
    account: str,
    zone: tzinfo,
    payloads: list[dict],
    fetched_at: datetime,
    page: int | None = None,
    cursor: CursorAdvance | None = None,
    calls: list | None = None,
    acknowledged_at: datetime | None = None,
    order_type: int | None = None,
) -> OrderPageResult:
    """Upsert a page of order payloads with their lines and status changes; return what it did.

    With `acknowledged_at`, the orders were just acknowledged by this app: the time is
    stored on them and their status changes are recorded as `acknowledge`. `order_type` is
    the type the page was read with, kept for orders that carry none. Only an order without
    an id fails; one with fields that cannot be read is stored with them empty, and counted
    and listed as a warning.
    """
    result = OrderPageResult()
    parsed: dict[int, tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], bytes]] = {}
    for position, payload in enumerate(payloads):
        try:
            columns, lines = order_columns(payload, zone, requested_type=order_type)
        except PayloadError as error:
            order_id = payload.get("id") if isinstance(payload, dict) else None
            result.failed += 1
            result.errors.append(
                {"page": page, "order": order_id, "position": position, "message": str(error)}
            )
            continue
        # A repeated id within one page keeps the last copy, as an upsert would.
        parsed[columns["emag_id"]] = (payload, columns, lines, content_hash(payload))
    result.seen = len(parsed) + result.failed
    result.warnings = [
        {"page": page, "order": emag_id, "message": "; ".join(columns["read_warnings"])}
        for emag_id, (_, columns, _, _) in parsed.items()
        if columns["read_warnings"]
    ]
    result.warned = len(result.warnings)
    result.emag_ids = list(parsed)
    result.statuses = {emag_id: columns["status"] for emag_id, (_, columns, _, _) in parsed.items()}
    modified_times = [columns["modified"] for _, columns, _, _ in parsed.values()]
    result.newest_modified = max((m for m in modified_times if m is not None), default=None)
    source = StatusChangeSource.ACKNOWLEDGE if acknowledged_at else StatusChangeSource.SYNC

    with transaction.atomic():
        existing = {
            row["emag_id"]: row
            for row in Order.objects.filter(account=account, emag_id__in=list(parsed)).values(
                *EXISTING_FIELDS
            )
        }
        to_write: list[Order] = []
        lines_by_order: dict[int, list[dict]] = {}
        status_moves: dict[int, tuple[int | None, int, datetime]] = {}
        stale_line_orders: list[int] = []
        for emag_id, (payload, columns, lines, digest) in parsed.items():
            old = existing.get(emag_id)
            content_changed = old is None or old["content_hash"] != digest
            if old is None:
                result.created += 1
            elif content_changed:
                result.updated += 1
                stale_line_orders.append(old["id"])
            else:
                result.unchanged += 1
                if acknowledged_at is None:
                    continue
            if content_changed:
                lines_by_order[emag_id] = lines
            # A status eMAG did not send is no move; the order keeps a warning instead.
            if columns["status"] is not None and (
                old is None or old["status"] != columns["status"]
            ):
                status_moves[emag_id] = (
                    None if old is None else old["status"],
                    columns["status"],
                    columns["modified"] or fetched_at,
                )
            values = {
                **columns,
                "raw": payload,
                "content_hash": digest,
                "synced_at": fetched_at if content_changed or old is None else old["synced_at"],
            }
            if acknowledged_at is not None:
                values["acknowledged_at"] = acknowledged_at
            to_write.append(Order(account=account, first_seen_at=fetched_at, **values))

        written = Order.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["account", "emag_id"],
            update_fields=UPSERT_FIELDS + (["acknowledged_at"] if acknowledged_at else []),
        )
        order_pks = {order.emag_id: order.pk for order in written}
        if stale_line_orders:
            OrderLine.objects.filter(order_id__in=stale_line_orders).delete()
        _insert_lines(account, lines_by_order, order_pks)
        OrderStatusChange.objects.bulk_create(
            OrderStatusChange(
                order_id=order_pks[emag_id],
                from_status=from_status,
                to_status=to_status,
                changed_at=changed_at,
                source=source,
                run=run,
                recorded_at=fetched_at,
            )
            for emag_id, (from_status, to_status, changed_at) in status_moves.items()
        )
        if cursor is not None:
            result.cursor = cursor.value(result.newest_modified)
            _save_cursor(account=account, mode=cursor.mode, value=result.cursor, run=run)
        page_progress_record(run=run, result=result, page=page, calls=calls or [])
    return result


def _insert_lines(
    account: str, lines_by_order: dict[int, list[dict]], order_pks: dict[int, int]
) -> None:
    """Insert the lines of new and changed orders, linked to the offers they name."""
    product_ids = {
        line["product_id"]
        for lines in lines_by_order.values()
        for line in lines
        if line["product_id"] is not None
    }
    offer_pks = (
        dict(
            Offer.objects.filter(account=account, emag_id__in=product_ids).values_list(
                "emag_id", "pk"
            )
        )
        if product_ids
        else {}
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order_id=order_pks[emag_id],
            account=account,
            offer_id=offer_pks.get(line["product_id"]),
            **line,
        )
        for emag_id, lines in lines_by_order.items()
        for line in lines
    )


def _save_cursor(*, account: str, mode: str, value: datetime, run: SyncRun) -> None:
    key = {"account": account, "stream": SyncKind.ORDERS, "mode": mode}
    # One UPDATE per committed window; the row is created once in the stream's life.
    if not SyncState.objects.filter(**key).update(cursor=value, run=run):
        SyncState.objects.create(**key, cursor=value, run=run)


def order_lines_link_offers(*, account: str) -> int:
    """Link order lines stored before their offer was synced; return how many were linked."""
    matching_offer = Offer.objects.filter(account=account, emag_id=OuterRef("product_id"))
    linkable = OrderLine.objects.filter(
        account=account, offer__isnull=True, product_id__isnull=False
    ).filter(Exists(matching_offer))
    # Check first: a sync that changed nothing must write nothing, not even an empty UPDATE.
    if not linkable.exists():
        return 0
    return linkable.update(offer=Subquery(matching_offer.values("pk")[:1]))
