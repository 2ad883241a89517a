"""Acknowledge new orders on eMAG safely: re-read, acknowledge only if still new, re-read.

Reference: docs/emag-api.md §5.2. Until acknowledged, eMAG may cancel an order at the
customer's request, so the local status 1 is only a hint (the predecessor acknowledged
local rows blindly and set status 2 without asking eMAG, §6.10 item 19). For each local
order in status 1 this service reads the order from eMAG; an order still new is
acknowledged, read again and stored with status 2 and `acknowledged_at`; any other status
(cancelled, or acknowledged elsewhere) is only stored. Acknowledging twice is harmless on
eMAG's side, and a failure with one order is listed on the run while the others go on.
"""

import logging
from collections.abc import Callable, Generator
from typing import Any

from django.utils import timezone

from emag_sync.client import EmagAuthError, EmagClient, EmagError, EmagIpNotWhitelisted
from emag_sync.models import Order, OrderStatus, SyncKind, SyncMode, SyncRun, SyncStatus
from emag_sync.payloads.values import PayloadError, parse_integer
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.sync_engine import RunContext, RunRequest, Stream, Unit, stream_run

logger = logging.getLogger(__name__)


class OrderNotFound(Exception):
    """eMAG returned nothing for an order id stored here."""


# What an acknowledge run is claimed with, here or queued by a trigger.
ACKNOWLEDGE_REQUEST = RunRequest(
    kind=SyncKind.ACKNOWLEDGE,
    mode=SyncMode.SELECTIVE,
    parameters={"status": int(OrderStatus.NEW)},
)


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
    return stream_run(
        AcknowledgeStream(),
        account=account,
        triggered_by=triggered_by,
        run_id=run_id,
        on_progress=on_progress,
    )


class AcknowledgeStream(Stream):
    """The acknowledge stream's plan (the orders stored as new) and its unit (one order)."""

    label = "Order acknowledgement"

    def request(self) -> RunRequest:
        return ACKNOWLEDGE_REQUEST

    def units(self, context: RunContext) -> Generator[Unit, None, None]:
        candidates = list(
            Order.objects.filter(account=context.account.name, status=OrderStatus.NEW)
            .order_by("date", "emag_id")
            .values_list("emag_id", "type")
        )
        SyncRun.objects.filter(pk=context.run.pk).update(
            items_total=len(candidates), pages_total=len(candidates)
        )
        for emag_id, order_type in candidates:
            unit = _Acknowledgement(context, emag_id, order_type)
            yield Unit(work=unit.run, where={"order": emag_id}, on_interrupt=unit.interrupted)
            if unit.refused:
                return


class _Acknowledgement:
    """One order: read it, acknowledge it if still new, read it again and store it."""

    def __init__(self, context: RunContext, emag_id: int, order_type: int | None) -> None:
        self.context, self.emag_id, self.order_type = context, emag_id, order_type
        self.acknowledged = False
        # eMAG refused the credentials or the IP: no other order can do better.
        self.refused = False

    def run(self) -> None:
        context, emag_id, account = self.context, self.emag_id, self.context.account
        acknowledged_at = None
        try:
            current = _read_order(context.client, emag_id, self.order_type)
            if _status_of(current) == OrderStatus.NEW:
                context.client.acknowledge_order(emag_id)
                self.acknowledged = True
                acknowledged_at = timezone.now()
                current = _read_order(context.client, emag_id, self.order_type)
        except (EmagError, OrderNotFound) as error:
            context.outcome.items_failed += 1
            context.outcome.errors.append({"order": emag_id, "message": str(error)})
            logger.warning("Acknowledging order %s of %s failed: %s", emag_id, account.name, error)
            if self.acknowledged:
                self._keep_acknowledgement()
            if isinstance(error, EmagAuthError | EmagIpNotWhitelisted):
                context.outcome.status = SyncStatus.FAILED
                self.refused = True
            return
        # Each order is stored as soon as eMAG has answered for it: an acknowledgement is a
        # change on eMAG's side that the mirror must not lose if the run dies a moment later.
        result = order_page_write(
            run=context.run,
            account=account.name,
            zone=account.timezone,
            payloads=[current],
            fetched_at=timezone.now(),
            page=1,
            calls=context.calls.drain(),
            acknowledged_at=acknowledged_at,
            order_type=self.order_type,
        )
        context.outcome.errors.extend(result.errors)
        context.outcome.warn(result.warnings)
        if self.acknowledged and result.statuses.get(emag_id) == OrderStatus.NEW:
            logger.info(
                "Order %s of %s still reads as new after acknowledging", emag_id, account.name
            )

    def interrupted(self, error: BaseException) -> None:
        """Keep an acknowledgement eMAG took when the run stops before the order is stored."""
        if self.acknowledged:
            self._keep_acknowledgement()

    def _keep_acknowledgement(self) -> None:
        # eMAG took the acknowledgement but the order was not stored after it: keep the
        # fact; the next order sync brings the new status.
        Order.objects.filter(account=self.context.account.name, emag_id=self.emag_id).update(
            acknowledged_at=timezone.now()
        )


def _read_order(client: EmagClient, emag_id: int, order_type: int | None) -> dict[str, Any]:
    # eMAG's `type` filter defaults to 3, so an FBE order is found only with type=2.
    filters = {"id": emag_id} if order_type is None else {"id": emag_id, "type": order_type}
    orders = client.read_orders(page=1, per_page=1, **filters)
    if not orders:
        raise OrderNotFound(f"order {emag_id} was not found on eMAG")
    return orders[0]


def _status_of(payload: dict[str, Any]) -> int | None:
    try:
        return parse_integer(payload.get("status"), "status")
    except PayloadError:
        return None


__all__ = ["OrderNotFound", "orders_acknowledge"]
