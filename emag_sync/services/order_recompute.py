"""Read stored orders again from their raw payloads, with today's mapping: totals above all.

For orders stored before the mapping changed (vouchers worth `sale_price + sale_price_vat`
since 2 December 2026, a line's PNK never taken from the seller's code): their payloads
are kept whole, so their columns can be recomputed without asking eMAG. Orders are read
in batches of ids; each batch costs the same few statements whatever its size (orders,
their lines, one update of each), in its own transaction.
"""

from dataclasses import dataclass

from django.db import transaction

from emag_sync.accounts import get_accounts
from emag_sync.models import Order, OrderLine
from emag_sync.services.order_mapping import (
    LINE_FIELDS,
    MIRROR_FIELDS,
    TOTAL_FIELDS,
    OrderPayloadError,
    order_columns,
    order_line_columns,
)

DEFAULT_BATCH_SIZE = 500


@dataclass
class RecomputeResult:
    """What a recompute read and changed."""

    read: int = 0
    totals_changed: int = 0  # orders whose stored totals were not what their payload says
    other_changed: int = 0  # orders with only other columns changed
    lines_changed: int = 0
    unreadable: int = 0  # payloads without an id: left as they are


def orders_recompute(
    *,
    accounts: list[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> RecomputeResult:
    """Recompute stored orders' columns and lines from their raw payloads; return the counts.

    Only the given accounts' orders (default: all of them). With `dry_run`, nothing is
    written and the counts say what would change.
    """
    zones = {name: configured.timezone for name, configured in get_accounts().items()}
    orders = Order.objects.all()
    if accounts is not None:
        orders = orders.filter(account__in=accounts)
    result = RecomputeResult()
    last_pk = 0
    while True:
        batch = list(
            orders.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "account", "raw", *MIRROR_FIELDS)[:batch_size]
        )
        if not batch:
            return result
        last_pk = batch[-1].pk
        with transaction.atomic():
            _recompute_batch(batch, zones, result, dry_run=dry_run)


def _recompute_batch(
    batch: list[Order], zones: dict, result: RecomputeResult, *, dry_run: bool
) -> None:
    changed_orders: list[Order] = []
    changed_fields: set[str] = set()
    for order in batch:
        result.read += 1
        zone = zones.get(order.account)
        if zone is None:  # an account no longer configured: its clock is unknown
            continue
        try:
            columns, _ = order_columns(order.raw, zone, requested_type=order.type)
        except OrderPayloadError:
            result.unreadable += 1
            continue
        differing = [name for name in MIRROR_FIELDS if getattr(order, name) != columns[name]]
        if not differing:
            continue
        if any(name in TOTAL_FIELDS for name in differing):
            result.totals_changed += 1
        else:
            result.other_changed += 1
        for name in differing:
            setattr(order, name, columns[name])
        changed_orders.append(order)
        changed_fields.update(differing)
    changed_lines = _recomputed_lines([order.pk for order in batch])
    result.lines_changed += len(changed_lines)
    if dry_run:
        return
    if changed_orders:
        Order.objects.bulk_update(changed_orders, sorted(changed_fields), batch_size=len(batch))
    if changed_lines:
        OrderLine.objects.bulk_update(changed_lines, LINE_FIELDS, batch_size=len(changed_lines))


def _recomputed_lines(order_ids: list[int]) -> list[OrderLine]:
    """Return the lines of these orders whose columns differ from their payload, updated."""
    changed = []
    lines = OrderLine.objects.filter(order_id__in=order_ids).order_by("order_id", "id")
    for line in lines:
        # A line's position only names it in warnings, which a stored line does not keep.
        columns = order_line_columns(line.raw, 0, [])
        if columns is None:
            continue
        differing = [name for name in LINE_FIELDS if getattr(line, name) != columns[name]]
        if differing:
            for name in LINE_FIELDS:
                setattr(line, name, columns[name])
            changed.append(line)
    return changed
