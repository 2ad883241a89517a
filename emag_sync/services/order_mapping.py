"""Turn one order/read payload into Order and OrderLine column values, totals included.

Reference: emag-api-reference.md §5.4. eMAG is loose with types here as with offers: money
as 4-decimal strings or JSON numbers, the seller's product id as a string, flags as 0/1 or
booleans. Dates are zone-less local times of the account's platform. A value that cannot be
parsed fails the order with a message naming the field; the rest of the page is written.
"""

from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from emag_sync.services.offer_mapping import (
    MONEY_QUANTUM,
    OfferPayloadError,
    content_hash,
    parse_integer,
    parse_money,
)

# eMAG's date format (§1.4, §5.3); some fields carry a date alone.
EMAG_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d")
VAT_QUANTUM = Decimal("0.0001")
ZERO = Decimal("0.0000")
ACTIVE_LINE = 1
INACTIVE_VOUCHER = 0

__all__ = ["OrderPayloadError", "content_hash", "order_columns", "parse_emag_datetime"]


class OrderPayloadError(ValueError):
    """A payload value that cannot be stored as its column's type."""


def parse_emag_datetime(value: Any, zone: tzinfo, key: str = "date") -> datetime | None:
    """Return eMAG's zone-less local time, read in the account's zone, as aware UTC.

    An ambiguous time (the repeated hour when daylight saving ends) is its first
    occurrence (fold=0): never later than the truth, so a cursor built from it stays safe.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OrderPayloadError(f"{key} should be a date, got {value!r}")
    text = value.strip()
    for layout in EMAG_DATETIME_FORMATS:
        try:
            naive = datetime.strptime(text, layout)  # noqa: DTZ007 (zoned on the next line)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).astimezone(UTC)
    raise OrderPayloadError(f"{key} should be YYYY-mm-dd HH:ii:ss, got {value!r}")


def _text(payload: dict, key: str, max_length: int) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise OrderPayloadError(f"{key} should be text, got {type(value).__name__}")
    return str(value)[:max_length]


def _flag(payload: dict, key: str) -> bool | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    return bool(parse_integer(value, key))


def _json_list(payload: dict, key: str) -> list:
    value = payload.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise OrderPayloadError(f"{key} should be a list, got {type(value).__name__}")


def _vat_rate(value: Any, key: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise OrderPayloadError(f"{key} should be a VAT rate, got {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise OrderPayloadError(f"{key} should be a VAT rate, got {value!r}")
    # eMAG sends a rate ("0.1900"); a percentage ("19") would multiply VAT by a hundred.
    if rate > 1:
        rate = rate / 100
    return rate.quantize(VAT_QUANTUM, rounding=ROUND_HALF_UP)


def _line_columns(line: Any, position: int) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise OrderPayloadError(f"products[{position}] should be an object")
    key = f"products[{position}]"
    status = parse_integer(line.get("status"), f"{key}.status")
    return {
        "emag_line_id": parse_integer(line.get("id"), f"{key}.id"),
        "product_id": parse_integer(line.get("product_id"), f"{key}.product_id"),
        # The doc's `part_number` is the PNK; real answers also carry `part_number_key`.
        "part_number_key": _text(line, "part_number_key", 32) or _text(line, "part_number", 32),
        "ext_part_number": _text(line, "ext_part_number", 64),
        "name": _text(line, "name", 10_000),
        "quantity": parse_integer(line.get("quantity"), f"{key}.quantity") or 0,
        "initial_quantity": parse_integer(line.get("initial_qty"), f"{key}.initial_qty"),
        "storno_quantity": parse_integer(line.get("storno_qty"), f"{key}.storno_qty"),
        "sale_price": parse_money(line.get("sale_price"), f"{key}.sale_price"),
        "original_price": parse_money(line.get("original_price"), f"{key}.original_price"),
        "currency": _text(line, "currency", 3),
        "vat_rate": _vat_rate(line.get("vat"), f"{key}.vat"),
        "status": ACTIVE_LINE if status is None else status,
        "product_voucher_split": _json_list(line, "product_voucher_split"),
        "raw": line,
    }


def order_totals(
    lines: list[dict[str, Any]], shipping_tax: Decimal | None, vouchers: list
) -> dict[str, Any]:
    """Return the order's totals (see the Order model for what each one means)."""
    net = vat = ZERO
    for line in lines:
        if line["status"] != ACTIVE_LINE or line["sale_price"] is None:
            continue
        line_net = line["sale_price"] * line["quantity"]
        net += line_net
        rate = line["vat_rate"] or ZERO
        vat += (line_net * rate).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)
    voucher_total = ZERO
    for position, voucher in enumerate(vouchers):
        if not isinstance(voucher, dict):
            raise OrderPayloadError(f"vouchers[{position}] should be an object")
        if parse_integer(voucher.get("status"), f"vouchers[{position}].status") == INACTIVE_VOUCHER:
            continue
        amount = parse_money(voucher.get("sale_price_vat"), f"vouchers[{position}].sale_price_vat")
        voucher_total += amount or ZERO
    shipping = shipping_tax or ZERO
    currencies = [line["currency"] for line in lines if line["currency"]]
    return {
        "total_lines_net": net.quantize(MONEY_QUANTUM),
        "total_lines_vat": vat.quantize(MONEY_QUANTUM),
        "total_shipping": shipping,
        "total_vouchers": voucher_total.quantize(MONEY_QUANTUM),
        "total": (net + vat + shipping + voucher_total).quantize(MONEY_QUANTUM),
        "currency": currencies[0] if currencies else "",
    }


def order_columns(payload: Any, zone: tzinfo) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (order columns, line columns) of an order payload, or raise OrderPayloadError."""
    if not isinstance(payload, dict):
        raise OrderPayloadError(f"an order should be an object, got {type(payload).__name__}")
    try:
        return _order_columns(payload, zone)
    except OfferPayloadError as error:  # raised by the shared number and money parsers
        raise OrderPayloadError(str(error)) from None


def _order_columns(payload: dict, zone: tzinfo) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    emag_id = parse_integer(payload.get("id"), "id")
    if emag_id is None or emag_id <= 0:
        raise OrderPayloadError("id is missing")
    status = parse_integer(payload.get("status"), "status")
    if status is None:
        raise OrderPayloadError("status is missing")
    details = payload.get("details")
    if details is not None and not isinstance(details, dict):
        raise OrderPayloadError(f"details should be an object, got {type(details).__name__}")
    customer = payload.get("customer")
    if customer is not None and not isinstance(customer, dict):
        raise OrderPayloadError(f"customer should be an object, got {type(customer).__name__}")
    customer = customer or {}
    products = payload.get("products") or []
    if not isinstance(products, list):
        raise OrderPayloadError("products should be a list")
    lines = [_line_columns(line, position) for position, line in enumerate(products)]
    shipping_tax = parse_money(payload.get("shipping_tax"), "shipping_tax")
    vouchers = _json_list(payload, "vouchers")

    def when(key: str) -> datetime | None:
        return parse_emag_datetime(payload.get(key), zone, key)

    columns = {
        "emag_id": emag_id,
        "status": status,
        "type": parse_integer(payload.get("type"), "type"),
        "is_complete": _flag(payload, "is_complete"),
        "payment_mode_id": parse_integer(payload.get("payment_mode_id"), "payment_mode_id"),
        "payment_mode": _text(payload, "payment_mode", 64),
        "detailed_payment_method": _text(payload, "detailed_payment_method", 128),
        "payment_status": parse_integer(payload.get("payment_status"), "payment_status"),
        "cashed_co": parse_money(payload.get("cashed_co"), "cashed_co"),
        "cashed_cod": parse_money(payload.get("cashed_cod"), "cashed_cod"),
        "refunded_amount": parse_money(payload.get("refunded_amount"), "refunded_amount"),
        "delivery_mode": _text(payload, "delivery_mode", 32),
        "details": details,
        "locker_id": _text(details or {}, "locker_id", 64),
        "locker_name": _text(details or {}, "locker_name", 255),
        "date": when("date"),
        "modified": when("modified"),
        "maximum_date_for_shipment": when("maximum_date_for_shipment"),
        "finalization_date": when("finalization_date"),
        "shipping_tax": shipping_tax,
        "shipping_tax_voucher_split": _json_list(payload, "shipping_tax_voucher_split"),
        "vouchers": vouchers,
        "attachments": _json_list(payload, "attachments"),
        "enforced_vendor_courier_accounts": payload.get("enforced_vendor_courier_accounts"),
        "is_storno": bool(_flag(payload, "is_storno")),
        "reason_cancellation": parse_integer(
            payload.get("reason_cancellation"), "reason_cancellation"
        ),
        "observation": _text(payload, "observation", 10_000),
        "customer": customer,
        "customer_name": _customer_name(customer),
        **order_totals(lines, shipping_tax, vouchers),
    }
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
