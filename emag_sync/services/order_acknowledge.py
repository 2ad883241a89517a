"""Acknowledge new orders on eMAG safely: re-read, acknowledge only if still new, re-read.

Reference: emag-api-reference.md §5.2. Until acknowledged, eMAG may cancel an order at the
customer's request, so the local status 1 is only a hint (the predecessor acknowledged
local rows blindly and set status 2 without asking eMAG, §6.10 item 19). For each local
order in status 1 this service reads the order from eMAG; an order still new is
acknowledged, read again and stored with status 2 and `acknowledged_at`; any other status
(cancelled, or acknowledged elsewhere) is only stored. Acknowledging twice is harmless on
eMAG's side, and a failure with one order is listed on the run while the others go on.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from emag_sync.accounts import EmagAccount, get_account
from emag_sync.client import EmagAuthError, EmagClient, EmagError, EmagIpNotWhitelisted
from emag_sync.models import Order, OrderStatus, SyncKind, SyncMode, SyncRun, SyncStatus
from emag_sync.ratelimit import get_rate_limiter
from emag_sync.services.offer_mapping import OfferPayloadError, parse_integer
from emag_sync.services.sync_engine import CallCollector
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.request_log import request_log_write
from emag_sync.services.sync_runs import (
    Heartbeat,
    sync_run_claim,
    sync_run_finish,
    sync_run_finish_after_error,
    sync_run_is_cancel_requested,
    sync_run_start,
)

logger = logging.getLogger(__name__)


class OrderNotFound(Exception):
    """eMAG returned nothing for an order id stored here."""


@dataclass
class _Tally:
    status: str = SyncStatus.COMPLETED
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    failed: int = 0


def orders_acknowledge(
    *,
    account: str,
    triggered_by: str = "cli",
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Acknowledge one account's still-new orders on eMAG and return the finished run.

    The run (kind `acknowledge`) lists per-order failures in its errors; its status
    changes with source `acknowledge` are the orders this run acknowledged.
    """
    emag_account = get_account(account)
    if run_id is not None:
        run = sync_run_start(run_id=run_id)
    else:
        run = sync_run_claim(
            account=emag_account.name,
            kind=SyncKind.ACKNOWLEDGE,
            mode=SyncMode.SELECTIVE,
            parameters={"status": int(OrderStatus.NEW)},
            triggered_by=triggered_by,
        )
    collector = CallCollector()
    client = EmagClient(emag_account, rate_limiter=get_rate_limiter(), on_call=collector)
    tally = _Tally()
    try:
        candidates = list(
            Order.objects.filter(account=emag_account.name, status=OrderStatus.NEW)
            .order_by("date", "emag_id")
            .values_list("emag_id", "type")
        )
        SyncRun.objects.filter(pk=run.pk).update(
            items_total=len(candidates), pages_total=len(candidates)
        )
        with Heartbeat(run) as heartbeat:
            for emag_id, order_type in candidates:
                if heartbeat.lost.is_set():
                    tally.status = SyncStatus.FAILED
                    tally.errors.append({"message": "the run lost its claim"})
                    break
                if sync_run_is_cancel_requested(run=run):
                    tally.status = SyncStatus.CANCELLED
                    break
                go_on = _acknowledge_one(
                    run, emag_account, client, collector, tally, emag_id, order_type
                )
                if not go_on:
                    break
                if on_progress:
                    on_progress(SyncRun.objects.get(pk=run.pk))
        request_log_write(collector.drain(), run=run)
        run.refresh_from_db(fields=["items_failed"])
        if tally.status == SyncStatus.COMPLETED and (tally.failed or run.items_failed):
            tally.status = SyncStatus.PARTIAL
        return sync_run_finish(
            run=run,
            status=tally.status,
            errors=tally.errors,
            warnings=tally.warnings,
            items_failed=run.items_failed + tally.failed,
        )
    except BaseException as error:
        sync_run_finish_after_error(run=run, error=error, calls=collector.drain())
        raise
    finally:
        client.close()


def _acknowledge_one(
    run: SyncRun,
    account: EmagAccount,
    client: EmagClient,
    collector: CallCollector,
    tally: _Tally,
    emag_id: int,
    order_type: int | None,
) -> bool:
    """Handle one order; return False when the run cannot go on (credentials refused)."""
    acknowledged, acknowledged_at = False, None
    try:
        current = _read_order(client, emag_id, order_type)
        if _status_of(current) == OrderStatus.NEW:
            client.acknowledge_order(emag_id)
            acknowledged = True
            acknowledged_at = timezone.now()
            current = _read_order(client, emag_id, order_type)
    except (EmagError, OrderNotFound) as error:
        tally.failed += 1
        tally.errors.append({"order": emag_id, "message": str(error)})
        logger.warning("Acknowledging order %s of %s failed: %s", emag_id, account.name, error)
        if acknowledged:
            # eMAG took the acknowledgement but the re-read failed: keep the fact; the
            # next order sync brings the new status.
            Order.objects.filter(account=account.name, emag_id=emag_id).update(
                acknowledged_at=timezone.now()
            )
        if isinstance(error, EmagAuthError | EmagIpNotWhitelisted):
            tally.status = SyncStatus.FAILED
            return False
        return True
    # Each order is stored as soon as eMAG has answered for it: an acknowledgement is a
    # change on eMAG's side that the mirror must not lose if the run dies a moment later.
    result = order_page_write(
        run=run,
        account=account.name,
        zone=account.timezone,
        payloads=[current],
        fetched_at=timezone.now(),
        page=1,
        calls=collector.drain(),
        acknowledged_at=acknowledged_at,
        order_type=order_type,
    )
    tally.errors.extend(result.errors)
    tally.warnings.extend(result.warnings)
    if acknowledged and result.statuses.get(emag_id) == OrderStatus.NEW:
        logger.info("Order %s of %s still reads as new after acknowledging", emag_id, account.name)
    return True


def _read_order(client: EmagClient, emag_id: int, order_type: int | None) -> dict:
    # eMAG's `type` filter defaults to 3, so an FBE order is found only with type=2.
    filters = {"id": emag_id} if order_type is None else {"id": emag_id, "type": order_type}
    orders = client.read_orders(page=1, per_page=1, **filters)
    if not orders:
        raise OrderNotFound(f"order {emag_id} was not found on eMAG")
    return orders[0]


def _status_of(payload: dict) -> int | None:
    try:
        return parse_integer(payload.get("status"), "status")
    except OfferPayloadError:
        return None


__all__ = ["OrderNotFound", "orders_acknowledge"]
