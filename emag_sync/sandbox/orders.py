"""Generate deterministic orders in eMAG's order/read wire form and move them between statuses.

Fields follow docs/emag-api.md §5.4 (documented and observed keys), statuses and their
allowed moves follow the transition matrix of §5.1. Dates are naive `YYYY-mm-dd HH:MM:SS`
strings in the account's local time, as eMAG sends them.
"""

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from emag_sync.sandbox.catalogue import (
    DEFAULT_SEED,
    PRICE_SCALE,
    build_product,
    default_currency,
    format_price,
    net_units_from_gross,
)
from emag_sync.sandbox.romanian import (
    BANKS,
    CANCELLATION_REASONS,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    LOCALITIES,
    LOCKER_NAMES,
    STREETS,
)

DEFAULT_TIMEZONE = ZoneInfo("Europe/Bucharest")
WIRE_DATETIME = "%Y-%m-%d %H:%M:%S"

CANCELLED, NEW, IN_PROGRESS, PREPARED, FINALIZED, RETURNED = 0, 1, 2, 3, 4, 5
FULFILLED_BY_EMAG, FULFILLED_BY_SELLER = 2, 3
# docs/emag-api.md §5.1; 1 -> 2 is missing on purpose: only order/acknowledge makes that move.
ALLOWED_TRANSITIONS: dict[int, frozenset[int]] = {
    NEW: frozenset({CANCELLED}),
    IN_PROGRESS: frozenset({IN_PROGRESS, PREPARED, FINALIZED, CANCELLED}),
    PREPARED: frozenset({PREPARED, FINALIZED, CANCELLED}),
    FINALIZED: frozenset({PREPARED, FINALIZED, CANCELLED, RETURNED}),
    CANCELLED: frozenset({IN_PROGRESS, PREPARED, FINALIZED, CANCELLED}),
    RETURNED: frozenset(),
}
# (payment_mode_id, payment_mode, detailed_payment_method, weight)
PAYMENT_MODES = (
    (1, "RAMBURS", "Plată la livrare", 55),
    (2, "TRANSFER BANCAR", "eCREDIT", 8),
    (3, "CARD ONLINE", "Card online", 37),
)
# Romania's standard VAT went from 19% to 21% on 1 August 2025; order lines keep the old
# rate, so a realistic history carries both.
RO_VAT_CHANGE = "2025-08-01 00:00:00"
OLDEST_ORDER_AGE = timedelta(days=120)
# eMAG's amounts carry 4 decimals.
VOUCHER_QUANTUM = Decimal("0.0001")
FIRST_ORDER_ID = 3_100_000_000


def local_time(moment: datetime, timezone: tzinfo) -> str:
    """Return an aware moment as eMAG's zone-less local `YYYY-mm-dd HH:MM:SS` string."""
    return moment.astimezone(timezone).strftime(WIRE_DATETIME)


def generate_orders(
    account: str,
    count: int,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    *,
    offers: Sequence[dict[str, Any]] = (),
    timezone: tzinfo = DEFAULT_TIMEZONE,
    currency: str | None = None,
    fulfilled_by_emag: bool | None = None,
) -> list[dict[str, Any]]:
    """Return `count` orders placed over the last months before `now`, sorted by id.

    Product lines point at the given offers (the account's catalogue) when there are any.
    FBE accounts (`fulfilled_by_emag`, default: the account is named `fbe`) get mostly
    type-2 orders, the others mostly type 3.
    """
    now = now or datetime.now(UTC)
    # Seeded generator for simulated data, not security.
    rng = random.Random(f"{seed}:orders:{account}")  # nosec B311
    # Squaring skews ages towards the present: shops get more orders lately than months ago,
    # and the last day always holds some still-new ones.
    ages = sorted((rng.random() ** 2 * OLDEST_ORDER_AGE for _ in range(count)), reverse=True)
    order_id = FIRST_ORDER_ID + rng.randint(0, 50_000_000)
    orders = []
    for age in ages:
        order_id += rng.randint(1, 40_000)
        orders.append(
            build_order(
                rng,
                order_id=order_id,
                placed_at=now - age,
                now=now,
                offers=offers,
                timezone=timezone,
                currency=currency or default_currency(account),
                fulfilled_by_emag=account == "fbe"
                if fulfilled_by_emag is None
                else fulfilled_by_emag,
                seed=seed,
            )
        )
    return orders


def build_order(
    rng: random.Random,
    *,
    order_id: int,
    placed_at: datetime,
    now: datetime,
    offers: Sequence[dict[str, Any]],
    timezone: tzinfo,
    currency: str,
    fulfilled_by_emag: bool,
    seed: int = DEFAULT_SEED,
    status: int | None = None,
) -> dict[str, Any]:
    """Return one order placed at `placed_at`; its status follows its age unless given."""
    age_hours = (now - placed_at).total_seconds() / 3600
    if status is None:
        status = _status_for_age(rng, age_hours)
    modified_at = min(placed_at + timedelta(hours=rng.random() * min(age_hours, 168)), now)
    placed, modified = local_time(placed_at, timezone), local_time(modified_at, timezone)
    payment_mode_id, payment_mode, detailed_method, _ = rng.choices(
        PAYMENT_MODES, weights=[mode[3] for mode in PAYMENT_MODES]
    )[0]
    by_emag = rng.random() < (0.9 if fulfilled_by_emag else 0.03)
    pickup = rng.random() < 0.35
    customer = _customer(rng, placed, pickup=pickup)
    vat = _vat_rate(currency, placed)
    order: dict[str, Any] = {
        "id": order_id,
        "vendor_name": "Sandbox Seller SRL",
        "type": FULFILLED_BY_EMAG if by_emag else FULFILLED_BY_SELLER,
        "parent_id": None,
        "date": placed,
        "modified": modified,
        "payment_mode": payment_mode,
        "detailed_payment_method": detailed_method,
        "delivery_mode": "pickup" if pickup else "courier",
        "details": _delivery_details(rng, pickup),
        "observation": rng.choice((None, None, "Vă rog sunați înainte de livrare.")),
        "status": status,
        "payment_status": 1 if payment_mode_id == 3 else 0,
        "customer": customer,
        "products": _product_lines(rng, offers, placed, currency, vat, seed=seed),
        "shipping_tax": rng.choice(("14.9900", 14.99, "0.0000", "19.9900", 0)),
        "shipping_tax_voucher_split": [],
        "vouchers": _vouchers(rng, placed, vat) if rng.random() < 0.15 else [],
        "proforms": [],
        "attachments": [],
        "cashed_co": "0.0000",
        "cashed_cod": "0.0000",
        "cancellation_request": None,
        "has_editable_products": 0 if by_emag else 1,
        "refunded_amount": "0.0000",
        "is_complete": 0 if status == NEW and rng.random() < 0.3 else 1,
        "refund_status": None,
        "maximum_date_for_shipment": local_time(placed_at + timedelta(days=2), timezone),
        "late_shipment": 0,
        "flags": [],
        "emag_club": int(rng.random() < 0.25),
        "finalization_date": None,
        "weekend_delivery": 0,
        "is_storno": False,
        "reason_cancellation": None,
        "enforced_vendor_courier_accounts": [],
        "payment_mode_id": payment_mode_id,
    }
    if status != NEW:
        move_order(order, status, modified, rng=rng)
    return order


def move_order(order: dict[str, Any], status: int, now_local: str, *, rng: random.Random) -> None:
    """Set an order's status and the fields eMAG fills in alongside it."""
    order["status"] = status
    order["modified"] = now_local
    if status != NEW:
        order["is_complete"] = 1
    if status == CANCELLED:
        order["reason_cancellation"] = rng.choice(CANCELLATION_REASONS)
    elif status == FINALIZED:
        order["finalization_date"] = now_local
        order["attachments"] = [
            {"name": f"Factura {order['id']}", "url": _invoice_url(order), "type": 1}
        ]
        if order["payment_mode_id"] == 1:
            order["payment_status"] = 1
            order["cashed_cod"] = _order_total(order)
    elif status == RETURNED:
        order["refunded_amount"] = _order_total(order)
        order["refund_status"] = "refunded"
    if order["payment_mode_id"] == 2 and status in (IN_PROGRESS, PREPARED, FINALIZED):
        order["payment_status"] = 1
    for line in order["products"]:
        line["modified"] = now_local


def _status_for_age(rng: random.Random, age_hours: float) -> int:
    if age_hours < 24:
        return rng.choices((NEW, IN_PROGRESS, PREPARED, CANCELLED), weights=(35, 40, 15, 10))[0]
    if age_hours < 72:
        return rng.choices((IN_PROGRESS, PREPARED, FINALIZED, CANCELLED), weights=(25, 25, 40, 10))[
            0
        ]
    return rng.choices((FINALIZED, CANCELLED, RETURNED), weights=(82, 12, 6))[0]


def _vat_rate(currency: str, placed_local: str) -> str:
    if currency == "BGN":
        return "0.2000"
    return "0.2100" if placed_local >= RO_VAT_CHANGE else "0.1900"


def _customer(rng: random.Random, placed_local: str, *, pickup: bool) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    name = f"{first} {last}"
    city, county, postal_prefix, locality_id = rng.choice(LOCALITIES)
    phone = "07" + "".join(rng.choices("0123456789", k=8))
    street = f"{rng.choice(STREETS)} nr. {rng.randint(1, 180)}"
    if rng.random() < 0.4:
        street += f", bl. {rng.randint(1, 40)}, sc. {rng.choice('ABC')}, ap. {rng.randint(1, 90)}"
    postal_code = f"{postal_prefix}{rng.randint(1000, 9999)}"
    shipping_street = f"{street} [EasyBox #{rng.randint(1000, 9999)}]" if pickup else street
    company = None
    if legal_entity := rng.random() < 0.12:
        company = f"SC {rng.choice(COMPANY_WORDS)} {rng.choice(LAST_NAMES)} SRL"
    return {
        "id": rng.randint(1_000_000, 99_999_999),
        "mkt_id": rng.randint(1_000_000, 99_999_999),
        "name": name,
        # eMAG hides the buyer's address behind a hash.
        "email": f"{rng.getrandbits(128):032x}",
        "company": company,
        "gender": rng.choice(("M", "F")),
        "code": f"RO{rng.randint(10_000_000, 49_999_999)}" if legal_entity else None,
        "registration_number": f"J{rng.randint(1, 52):02d}/{rng.randint(100, 9999)}/2019"
        if legal_entity
        else None,
        "bank": rng.choice(BANKS) if legal_entity else None,
        "iban": f"RO{rng.randint(10, 99)}BTRL{rng.getrandbits(52):016d}" if legal_entity else None,
        "fax": None,
        "legal_entity": int(legal_entity),
        "is_vat_payer": int(legal_entity and rng.random() < 0.8),
        "liable_person": name if legal_entity else None,
        "phone_1": phone,
        "phone_2": None,
        "phone_3": None,
        "billing_name": company or name,
        "billing_phone": phone,
        "billing_country": "RO",
        "billing_suburb": county,
        "billing_city": city,
        "billing_locality_id": locality_id,
        "billing_street": street,
        "billing_postal_code": postal_code,
        "shipping_country": "RO",
        "shipping_suburb": county,
        "shipping_city": city,
        "shipping_locality_id": locality_id,
        "shipping_street": shipping_street,
        "shipping_postal_code": postal_code,
        "shipping_contact": name,
        "shipping_phone": phone,
        "created": placed_local,
        "modified": placed_local,
    }


def _delivery_details(rng: random.Random, pickup: bool) -> dict[str, Any]:
    if not pickup:
        return {
            "locker_id": None,
            "locker_name": None,
            "locker_delivery_eligible": 0,
            "courier_external_office_id": None,
        }
    return {
        "locker_id": str(rng.randint(1000, 9999)),
        "locker_name": f"{rng.choice(LOCKER_NAMES)} {rng.choice(LOCALITIES)[0]}",
        "locker_delivery_eligible": 1,
        "courier_external_office_id": None,
    }


def _product_lines(
    rng: random.Random,
    offers: Sequence[dict[str, Any]],
    placed_local: str,
    currency: str,
    vat: str,
    *,
    seed: int,
) -> list[dict[str, Any]]:
    lines = []
    for _ in range(rng.choices((1, 2, 3), weights=(70, 22, 8))[0]):
        if offers:
            offer = rng.choice(offers)
            product_id, pnk, part_number = (
                offer["id"],
                offer["part_number_key"],
                offer["part_number"],
            )
            name, price = offer["name"], _price_units(offer["sale_price"])
        else:
            product = build_product(seed, f"order-line:{rng.getrandbits(32)}")
            product_id = rng.randint(1_000, 250_000)
            pnk, part_number = product["part_number_key"], product["part_number"]
            name, price = product["name"], net_units_from_gross(product["gross_cents"], 0.21)
        quantity = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        lines.append(
            {
                "id": rng.randint(100_000_000, 999_999_999),
                # Observed both ways: eMAG sometimes sends the seller's product id as a string.
                "product_id": str(product_id) if rng.random() < 0.3 else product_id,
                "mkt_id": rng.randint(1_000_000, 99_999_999),
                "name": name,
                "status": 1,
                "part_number": pnk,
                "part_number_key": pnk,
                "ext_part_number": part_number,
                "currency": currency,
                "quantity": quantity,
                "initial_qty": quantity,
                "storno_qty": 0,
                "sale_price": format_price(price),
                "original_price": format_price(price),
                "vat": vat,
                "retained_amount": 0,
                "reversible_vat_charging": 0,
                "created": placed_local,
                "modified": placed_local,
                "details": [],
                "recycle_warranties": [],
                "serial_numbers": [],
                "product_voucher_split": [],
                "attachments": [],
            }
        )
    return lines


def voucher_amounts(value: int, vat: str) -> tuple[str, str]:
    """Return (sale_price, sale_price_vat) of a voucher worth `value` VAT included.

    eMAG's field table (docs/emag-api.md §5.4): `sale_price` is the voucher's value without VAT and
    `sale_price_vat` the VAT on that value (`sale_price × vat`), not the gross; both are
    negative. A 10 lei voucher at 24% is -8.0645 and -1.9355, as in eMAG's order example.
    """
    rate = Decimal(vat)
    net = (-Decimal(value) / (1 + rate)).quantize(VOUCHER_QUANTUM, rounding=ROUND_HALF_UP)
    vat_part = (net * rate).quantize(VOUCHER_QUANTUM, rounding=ROUND_HALF_UP)
    return f"{net:.4f}", f"{vat_part:.4f}"


def _vouchers(rng: random.Random, placed_local: str, vat: str) -> list[dict[str, Any]]:
    value = rng.choice((10, 20, 25, 50))
    sale_price, sale_price_vat = voucher_amounts(value, vat)
    return [
        {
            "voucher_id": rng.randint(1_000_000, 9_999_999),
            "voucher_name": f"Voucher {value} lei",
            "sale_price_vat": sale_price_vat,
            "sale_price": sale_price,
            "vat": vat,
            "status": 1,
            "issue_date": placed_local[:10],
            "created": placed_local,
            "modified": placed_local,
        }
    ]


def _price_units(value: str | float) -> int:
    return int(Decimal(str(value)) * PRICE_SCALE)


def _order_total(order: dict[str, Any]) -> str:
    total = sum(_price_units(line["sale_price"]) * line["quantity"] for line in order["products"])
    return format_price(total)


def _invoice_url(order: dict[str, Any]) -> str:
    return f"https://sandbox.local/invoices/{order['id']}.pdf"
