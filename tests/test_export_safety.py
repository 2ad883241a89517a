"""Every CSV export is safe to open: no text a customer or seller wrote runs as a formula."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from emag_sync.exports import csv_safe_text
from emag_sync.models import SyncKind
from emag_sync.services.offer_pages import Checkpoint, offer_page_write
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.sync_runs import sync_run_claim
from tests.orders_support import BUCHAREST

pytestmark = pytest.mark.django_db

# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# One payload written by a hostile hand per trigger, as the examples.
HOSTILE = {
    "=": '=HYPERLINK("http://x","y")',
    "+": "+1+1",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}
NUMBER_COLUMNS = {
    "sale_price",
    "lines_net",
    "lines_vat",
    "shipping",
    "vouchers",
    "total",
    "refunded_amount",
}


def hostile_offer(position: int, trigger: str) -> dict:
    text = HOSTILE[trigger]
    return {
        "id": 100 + position,
        "part_number": f"{trigger}SKU{position}",
        "part_number_key": f"{trigger}PNK{position}",
        "name": text,
        "brand": text,
        "currency": "RON",
        # A negative price is a number the code writes itself: it stays a number.
        "sale_price": "-5.0000",
        "ean": [f"{trigger}594000000000{position}"],
    }


def hostile_order(position: int, trigger: str) -> dict:
    text = HOSTILE[trigger]
    return {
        "id": 200 + position,
        "status": 0,
        "type": 3,
        "date": "2025-09-15 12:30:00",
        "payment_mode": text,
        "delivery_mode": text,
        "refund_status": text,
        "reason_cancellation": {"id": 24, "name": text},
        "details": {"locker_id": text, "locker_name": text},
        "customer": {"name": text},
        "shipping_tax": "0.0000",
        "vouchers": [{"sale_price": "-8.0645", "sale_price_vat": "-1.9355", "vat": "0.24"}],
        "products": [
            {
                "id": 1,
                "product_id": 1,
                "ext_part_number": f"{trigger}1+1",
                "quantity": 1,
                "sale_price": "100.0000",
                "vat": "0.2100",
            }
        ],
    }


@pytest.fixture
def hostile_mirror():
    """Store, the way a sync does, an offer and an order per trigger with hostile text."""
    now = timezone.now()
    offers_run = sync_run_claim(account="main", kind=SyncKind.OFFERS)
    offer_page_write(
        run=offers_run,
        account="main",
        payloads=[hostile_offer(n, trigger) for n, trigger in enumerate(TRIGGERS)],
        fetched_at=now,
        strategy="emag_priority",
        page=1,
        checkpoint=Checkpoint(account="main", stream=SyncKind.OFFERS, mode="full", next_page=2),
    )
    orders_run = sync_run_claim(account="main", kind=SyncKind.ORDERS, mode="incremental")
    order_page_write(
        run=orders_run,
        account="main",
        zone=BUCHAREST,
        payloads=[hostile_order(n, trigger) for n, trigger in enumerate(TRIGGERS)],
        fetched_at=now,
        page=1,
    )


def rows_of(body: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


def assert_safe(rows: list[dict], expected_rows: int) -> None:
    """No text cell starts a formula; numbers, the negative ones included, stay numbers."""
    assert len(rows) == expected_rows
    for row in rows:
        for column, cell in row.items():
            if column in NUMBER_COLUMNS:
                assert cell == "" or Decimal(cell) == Decimal(cell.lstrip("'")), (column, cell)
                assert not cell.startswith("'"), (column, cell)
            else:
                assert not cell.startswith(TRIGGERS), (column, cell)


def assert_offers_neutralised(rows: list[dict]) -> None:
    assert_safe(rows, len(TRIGGERS))
    by_id = {int(row["emag_id"]): row for row in rows}
    for position, trigger in enumerate(TRIGGERS):
        row = by_id[100 + position]
        assert row["name"] == row["brand"] == "'" + HOSTILE[trigger]
        assert row["part_number"] == f"'{trigger}SKU{position}"
        # EANs are stored stripped: a tab or carriage return before one is gone already.
        ean = f"594000000000{position}"
        assert row["ean"] == (f"'{trigger}{ean}" if trigger.strip() else ean)
        assert row["sale_price"] == "-5.0000"


def assert_orders_neutralised(rows: list[dict]) -> None:
    assert_safe(rows, len(TRIGGERS))
    by_id = {int(row["emag_id"]): row for row in rows}
    for position, trigger in enumerate(TRIGGERS):
        row = by_id[200 + position]
        neutral = "'" + HOSTILE[trigger]
        assert row["payment_mode"] == row["delivery_mode"] == neutral
        # The customer's name is stored stripped, which can uncover a formula: still caught.
        assert row["customer_name"] == "'" + HOSTILE[trigger].strip()
        assert row["reason_cancellation_name"] == row["refund_status"] == neutral
        assert row["locker_id"] == row["locker_name"] == neutral
        # A joined value is neutralised as the cell it becomes.
        assert row["items"] == f"'{trigger}1+1 x 1"
        assert row["vouchers"] == "-10.0000" and row["reason_cancellation"] == "24"


def test_the_neutraliser_prefixes_exactly_the_formula_starts():
    assert [csv_safe_text(f"{trigger}x") for trigger in TRIGGERS] == [
        f"'{trigger}x" for trigger in TRIGGERS
    ]
    assert csv_safe_text("Ana Popescu") == "Ana Popescu"
    assert csv_safe_text("a=1") == "a=1" and csv_safe_text("") == ""


def test_the_export_command_neutralises_every_hostile_text_cell(hostile_mirror, capfd):
    call_command("emag_export", "products")
    offers = capfd.readouterr().out
    call_command("emag_export", "orders")
    orders = capfd.readouterr().out

    assert_offers_neutralised(rows_of(offers))
    assert_orders_neutralised(rows_of(orders))


def test_the_admin_export_neutralises_every_hostile_text_cell(hostile_mirror, admin_client):
    bodies = {}
    for model in ("offer", "order"):
        response = admin_client.get(reverse(f"admin:emag_sync_{model}_export"))
        assert response.status_code == 200
        bodies[model] = b"".join(response.streaming_content).decode()

    assert_offers_neutralised(rows_of(bodies["offer"]))
    assert_orders_neutralised(rows_of(bodies["order"]))


def test_the_api_csv_neutralises_every_hostile_text_cell(hostile_mirror, admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    bodies = {}
    for name in ("products-list", "orders-list"):
        response = api.get(reverse(f"api:{name}"), {"format": "csv"})
        assert response.status_code == 200
        bodies[name] = b"".join(response.streaming_content).decode()

    assert_offers_neutralised(rows_of(bodies["products-list"]))
    assert_orders_neutralised(rows_of(bodies["orders-list"]))
