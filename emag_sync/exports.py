"""CSV exports of the local mirror, streamed row by row (never built in memory).

Every export (the `emag_export` command, the admin's Export CSV, the API's `format=csv`)
writes its cells through `_cell`, so text that customers and sellers wrote can never run
as a spreadsheet formula: see `csv_safe_text`.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from emag_sync.models import Offer, Order, OrderStatus
from emag_sync.payloads.offers import PRICE_FIELDS

OFFER_CSV_COLUMNS = [
    "account",
    "emag_id",
    "part_number",
    "part_number_key",
    "name",
    "brand",
    *PRICE_FIELDS,
    "currency",
    "general_stock",
    "estimated_stock",
    "status",
    "validation_status",
    "offer_validation_status",
    "vat_id",
    "ean",
    "synced_at",
    "missing_since",
    "read_warnings",
]
ORDER_CSV_COLUMNS = [
    "account",
    "emag_id",
    "status",
    "status_name",
    "type",
    "date",
    "modified",
    "payment_mode_id",
    "payment_mode",
    "payment_status",
    "delivery_mode",
    "lines_net",
    "lines_vat",
    "shipping",
    "vouchers",
    "total",
    "currency",
    "customer_name",
    "lines",
    "items",
    "acknowledged_at",
    "synced_at",
    "reason_cancellation",
    "reason_cancellation_name",
    "refund_status",
    "refunded_amount",
    "cancellation_request",
    "locker_id",
    "locker_name",
    "read_warnings",
]
# Rows fetched per round trip: bounded memory whatever the catalogue size.
EXPORT_CHUNK = 2000


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_text(text: str) -> str:
    """Return text a spreadsheet shows as text: a leading `'` if it could start a formula."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _cell(value: Any) -> str:
    """Return a value as its CSV cell: text neutralised, numbers and dates as formatted here.

    A Decimal, an int or a date is written by this code, not by a person, so a negative
    amount stays a number; every text, joined lists included, goes through csv_safe_text.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool | int | Decimal):
        return str(value)
    if isinstance(value, list):
        return csv_safe_text(";".join(str(item) for item in value))
    if isinstance(value, dict):
        return csv_safe_text(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return csv_safe_text(str(value))


def offer_csv_rows(offers: QuerySet[Offer]) -> Iterator[list[str]]:
    """Yield the header, then one row per offer, prices exactly as stored."""
    yield OFFER_CSV_COLUMNS
    for row in offers.values_list(*OFFER_CSV_COLUMNS).iterator(chunk_size=EXPORT_CHUNK):
        yield [_cell(value) for value in row]


def order_csv_rows(orders: QuerySet[Order]) -> Iterator[list[str]]:
    """Yield the header, then one row per order: totals exactly as stored, lines summarised.

    `lines` counts the order's lines; `items` lists them as `SKU x quantity`, separated by
    semicolons. Pass a queryset with its lines prefetched (`order_list(with_lines=True)`).
    """
    yield ORDER_CSV_COLUMNS
    # A machine-readable file: the status names stay English whatever the reader's language.
    with translation.override("en"):
        status_names = {status.value: str(status.label) for status in OrderStatus}
    for order in orders.iterator(chunk_size=EXPORT_CHUNK):
        lines = list(order.lines.all())
        row = [
            order.account,
            order.emag_id,
            order.status,
            status_names.get(order.status, "") if order.status is not None else "",
            order.type,
            order.date,
            order.modified,
            order.payment_mode_id,
            order.payment_mode,
            order.payment_status,
            order.delivery_mode,
            order.total_lines_net,
            order.total_lines_vat,
            order.total_shipping,
            order.total_vouchers,
            order.total,
            order.currency,
            order.customer_name,
            len(lines),
            [f"{line.ext_part_number or line.product_id} x {line.quantity}" for line in lines],
            order.acknowledged_at,
            order.synced_at,
            order.reason_cancellation,
            order.reason_cancellation_name,
            order.refund_status,
            order.refunded_amount,
            order.cancellation_request,
            order.locker_id,
            order.locker_name,
            order.read_warnings,
        ]
        yield [_cell(value) for value in row]


class _Echo:
    """A file-like object whose write returns the line, for streaming responses."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Yield CSV-encoded lines for rows, one at a time."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
