"""Turn one order/read payload into Order and OrderLine column values, totals included.

Reference: docs/emag-api.md §5.4. eMAG is loose with types here as with offers: money
as 4-decimal strings or JSON numbers, the seller's product id as a string, flags as 0/1 or
booleans, `reason_cancellation` as a number or an object `{id, name}`, an empty `details`
as `[]`. Dates are zone-less local times of the account's platform.

Only what identifies an order (its id) is required: an order is always stored with its
whole payload. Each other field is read in every shape eMAG is known to send; one that
cannot be read at all is left empty and listed in the order's `read_warnings`.
"""

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from emag_sync.models.orders import CANCELLATION_REASONS
from emag_sync.payloads.values import (
    MONEY_QUANTUM,
    PayloadError,
    parse_integer,
    parse_list,
    parse_money,
    parse_text,
    read_or_warn,
)

T = TypeVar("T")

# eMAG's date format (§1.4, §5.3); some fields carry a date alone.
EMAG_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d")
VAT_QUANTUM = Decimal("0.0001")
ZERO = Decimal("0.0000")
ACTIVE_LINE = 1
INACTIVE_VOUCHER = 0

__all__ = [
    "order_columns",
    "order_line_columns",
    "order_totals",
    "parse_emag_datetime",
]


def parse_emag_datetime(value: Any, zone: tzinfo, key: str = "date") -> datetime | None:
    """Return eMAG's zone-less local time, read in the account's zone, as aware UTC.

    An ambiguous time (the repeated hour when daylight saving ends) is its first
    occurrence (fold=0): never later than the truth, so a cursor built from it stays safe.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{key} should be a date, got {value!r}")
    text = value.strip()
    for layout in EMAG_DATETIME_FORMATS:
        try:
            naive = datetime.strptime(text, layout)  # noqa: DTZ007 (zoned on the next line)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).astimezone(UTC)
    raise PayloadError(f"{key} should be YYYY-mm-dd HH:ii:ss, got {value!r}")


def _text(value: Any, key: str, max_length: int) -> str:
    return parse_text(value, key)[:max_length]


def _flag(value: Any, key: str) -> bool | None:
    if value is None or value == "":
        return None
    return bool(parse_integer(value, key))


def _object(value: Any, key: str) -> dict | None:
    """Return an object; eMAG writes an empty one as `[]`."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if value == []:
        return {}
    raise PayloadError(f"{key} should be an object, got {type(value).__name__}")


def _vat_rate(value: Any, key: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"{key} should be a VAT rate, got {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise PayloadError(f"{key} should be a VAT rate, got {value!r}")
    # eMAG sends a rate ("0.1900"); a percentage ("19") would multiply VAT by a hundred.
    if rate > 1:
        rate = rate / 100
    return rate.quantize(VAT_QUANTUM, rounding=ROUND_HALF_UP)


def _cancellation_reason(value: Any, key: str) -> tuple[int | None, str]:
    """Return (reason id, its name) from a number or an object `{id, name}`."""
    if isinstance(value, dict):
        reason = parse_integer(value.get("id"), f"{key}.id")
        name = _text(value.get("name"), f"{key}.name", 255)
    else:
        reason, name = parse_integer(value, key), ""
    return reason, name or (CANCELLATION_REASONS.get(reason, "") if reason is not None else "")


class _Reader:
    """Read the fields of one payload object, each left empty with a warning if it can't be."""

    def __init__(self, payload: dict, warnings: list[str], prefix: str = ""):
        self.payload, self.warnings, self.prefix = payload, warnings, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def read(self, parse: Callable[[Any, str], T], name: str, empty: Any = None) -> T:
        value = self.payload.get(name)
        return read_or_warn(self.warnings, lambda: parse(value, self.key(name)), empty)

    def text(self, name: str, max_length: int) -> str:
        return self.read(lambda value, key: _text(value, key, max_length), name, "")

    def integer(self, name: str) -> int | None:
        return self.read(parse_integer, name)

    def money(self, name: str) -> Decimal | None:
        return self.read(parse_money, name)

    def flag(self, name: str) -> bool | None:
        return self.read(_flag, name)

    def json_list(self, name: str) -> list:
        return self.read(parse_list, name, [])

    def when(self, name: str, zone: tzinfo) -> datetime | None:
        return self.read(lambda value, key: parse_emag_datetime(value, zone, key), name)


def _line_pnk(line: _Reader) -> str:
    """Return a line's PNK: `part_number_key`, else a `part_number` that is not the seller's code.

    The doc says a line's `part_number` is the PNK, but real lines carry the seller's
    `ext_part_number` there beside a separate `part_number_key` (docs/emag-api.md §5.4).
    """
    pnk = line.text("part_number_key", 32)
    if pnk:
        return pnk
    part_number = line.text("part_number", 32)
    return "" if part_number == line.text("ext_part_number", 64) else part_number


def order_line_columns(line: Any, position: int, warnings: list[str]) -> dict[str, Any] | None:
    """Return the columns of an order's `products[position]`, or None if it is no object."""
    key = f"products[{position}]"
    if not isinstance(line, dict):
        warnings.append(f"{key} should be an object, got {type(line).__name__}")
        return None
    reader = _Reader(line, warnings, prefix=f"{key}.")
    status = reader.integer("status")
    return {
        "emag_line_id": reader.integer("id"),
        "product_id": reader.integer("product_id"),
        "part_number_key": _line_pnk(reader),
        "ext_part_number": reader.text("ext_part_number", 64),
        "name": reader.text("name", 10_000),
        "quantity": reader.integer("quantity") or 0,
        "initial_quantity": reader.integer("initial_qty"),
        "storno_quantity": reader.integer("storno_qty"),
        "sale_price": reader.money("sale_price"),
        "original_price": reader.money("original_price"),
        "currency": reader.text("currency", 3),
        "vat_rate": reader.read(_vat_rate, "vat"),
        "status": ACTIVE_LINE if status is None else status,
        "product_voucher_split": reader.json_list("product_voucher_split"),
        "raw": line,
    }


def _voucher_value(voucher: Any, position: int, warnings: list[str]) -> Decimal:
    """Return what an active voucher takes off the order: its value plus its VAT (negative).

    eMAG's field table: `sale_price` is the voucher's value without VAT and `sale_price_vat`
    the VAT on it, not the gross (docs/emag-api.md §5.4).
    """
    key = f"vouchers[{position}]"
    if not isinstance(voucher, dict):
        warnings.append(f"{key} should be an object, got {type(voucher).__name__}")
        return ZERO
    reader = _Reader(voucher, warnings, prefix=f"{key}.")
    if reader.integer("status") == INACTIVE_VOUCHER:
        return ZERO
    return (reader.money("sale_price") or ZERO) + (reader.money("sale_price_vat") or ZERO)


def order_totals(
    lines: list[dict[str, Any]],
    shipping_tax: Decimal | None,
    vouchers: list,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Return the order's totals (see the Order model for what each one means).

    A voucher whose amounts cannot be read counts as nothing, and says so in `warnings`.
    """
    net = vat = ZERO
    for line in lines:
        if line["status"] != ACTIVE_LINE or line["sale_price"] is None:
            continue
        line_net = line["sale_price"] * line["quantity"]
        net += line_net
        rate = line["vat_rate"] or ZERO
        vat += (line_net * rate).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)
    noted: list[str] = [] if warnings is None else warnings
    voucher_total = sum(
        (_voucher_value(voucher, position, noted) for position, voucher in enumerate(vouchers)),
        ZERO,
    )
    shipping = shipping_tax or ZERO
    return {
        "total_lines_net": net.quantize(MONEY_QUANTUM),
        "total_lines_vat": vat.quantize(MONEY_QUANTUM),
        "total_shipping": shipping,
        "total_vouchers": voucher_total.quantize(MONEY_QUANTUM),
        "total": (net + vat + shipping + voucher_total).quantize(MONEY_QUANTUM),
    }


def order_columns(
    payload: Any, zone: tzinfo, *, requested_type: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (order columns, line columns) of an order payload.

    Raises PayloadError only for a payload with no id (or not an object at all).
    `requested_type` is the `type` the order was read with, kept for an order that carries
    none. What could not be read is listed in the columns' `read_warnings`.
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"an order should be an object, got {type(payload).__name__}")
    emag_id = parse_integer(payload.get("id"), "id")
    if emag_id is None or emag_id <= 0:
        raise PayloadError("id is missing")
    warnings: list[str] = []
    order = _Reader(payload, warnings)

    status = order.integer("status")
    if payload.get("status") in (None, ""):
        warnings.append("status is missing")
    details = order.read(_object, "details")
    customer = order.read(_object, "customer", {}) or {}
    products = order.json_list("products")
    lines = [
        columns
        for position, line in enumerate(products)
        if (columns := order_line_columns(line, position, warnings)) is not None
    ]
    shipping_tax = order.money("shipping_tax")
    vouchers = order.json_list("vouchers")
    reason, reason_name = order.read(_cancellation_reason, "reason_cancellation", (None, ""))
    delivery = _Reader(details or {}, warnings, prefix="details.")
    order_type = order.integer("type")
    line_currencies = [line["currency"] for line in lines if line["currency"]]

    columns = {
        "emag_id": emag_id,
        "status": status,
        "type": requested_type if order_type is None else order_type,
        "is_complete": order.flag("is_complete"),
        "payment_mode_id": order.integer("payment_mode_id"),
        "payment_mode": order.text("payment_mode", 64),
        "detailed_payment_method": order.text("detailed_payment_method", 128),
        "payment_status": order.integer("payment_status"),
        "cashed_co": order.money("cashed_co"),
        "cashed_cod": order.money("cashed_cod"),
        "refunded_amount": order.money("refunded_amount"),
        "refund_status": order.text("refund_status", 64),
        "cancellation_request": payload.get("cancellation_request"),
        "delivery_mode": order.text("delivery_mode", 32),
        "details": details,
        "locker_id": delivery.text("locker_id", 64),
        "locker_name": delivery.text("locker_name", 255),
        "date": order.when("date", zone),
        "modified": order.when("modified", zone),
        "maximum_date_for_shipment": order.when("maximum_date_for_shipment", zone),
        "finalization_date": order.when("finalization_date", zone),
        "shipping_tax": shipping_tax,
        "shipping_tax_voucher_split": order.json_list("shipping_tax_voucher_split"),
        "vouchers": vouchers,
        "attachments": order.json_list("attachments"),
        "enforced_vendor_courier_accounts": payload.get("enforced_vendor_courier_accounts"),
        "is_storno": bool(order.flag("is_storno")),
        "reason_cancellation": reason,
        "reason_cancellation_name": reason_name,
        "observation": order.text("observation", 10_000),
        "customer": customer,
        "customer_name": _customer_name(customer),
        **order_totals(lines, shipping_tax, vouchers, warnings),
        # The order's own currency (observed), else its lines'.
        "currency": order.text("currency", 3) or (line_currencies[0] if line_currencies else ""),
    }
    columns["read_warnings"] = warnings
    return columns, lines


def _customer_name(customer: dict) -> str:
    for key in ("name", "billing_name", "shipping_contact", "company"):
        value = customer.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:255]
    return ""


# The columns a sync writes: everything order_columns returns, identity aside.
MIRROR_FIELDS = tuple(
    name for name in order_columns({"id": 1, "status": 1}, zone=UTC)[0] if name != "emag_id"
)
# The columns of a line, its payload aside.
LINE_FIELDS = tuple(name for name in order_line_columns({}, 0, []) or {} if name != "raw")
# What order_totals computes.
TOTAL_FIELDS = tuple(order_totals([], None, []))
