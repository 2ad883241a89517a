"""Orders stored by an older mapping are recomputed from their payloads, in batches, counted."""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emag_sync.models import Order, OrderLine, SyncKind
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.sync_runs import sync_run_claim
from tests.orders_support import BUCHAREST

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "fixtures" / "emag" / "order_read_documentation_example.json"


def example(order_id: int, **changes) -> dict:
    order = json.loads(FIXTURE.read_text())["orders"][0]
    order.update(id=order_id, type=3, **changes)
    return order


def store(payloads: list[dict]) -> None:
    run = sync_run_claim(account="main", kind=SyncKind.ORDERS, mode="incremental")
    order_page_write(
        run=run, account="main", zone=BUCHAREST, payloads=payloads, fetched_at=timezone.now()
    )


def as_the_old_mapping_left_them(order_ids) -> None:
    """Put back what the mapping stored before: only `sale_price_vat` counted for a voucher."""
    Order.objects.filter(emag_id__in=order_ids).update(
        total_vouchers=Decimal("-1.9355"), total=Decimal("1197.9645")
    )


def recompute(*arguments) -> str:
    out = io.StringIO()
    call_command("emag_orders_recompute", *arguments, stdout=out)
    return out.getvalue()


def test_it_recomputes_voucher_totals_from_the_payload_and_says_how_many_changed():
    store([example(order_id) for order_id in range(1, 6)])
    as_the_old_mapping_left_them([1, 2, 3])

    said = recompute()

    assert "Read 5 orders: totals changed on 3, other columns only on 0" in said
    assert set(Order.objects.values_list("total_vouchers", "total")) == {
        (Decimal("-10.0000"), Decimal("1189.9000"))
    }
    assert "totals changed on 0" in recompute()


def test_it_corrects_a_line_pnk_taken_from_the_seller_code():
    line = {**example(1)["products"][0], "part_number": "SW506AMT", "ext_part_number": "SW506AMT"}
    store([example(1, products=[line])])
    OrderLine.objects.update(part_number_key="SW506AMT")

    said = recompute()

    assert "1 lines changed" in said
    assert OrderLine.objects.get().part_number_key == ""


def test_a_dry_run_counts_and_writes_nothing():
    store([example(1), example(2)])
    as_the_old_mapping_left_them([1, 2])

    said = recompute("--dry-run")

    assert "totals would change on 2" in said
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("1197.9645")}


def test_each_batch_costs_the_same_statements_whatever_its_size():
    store([example(order_id) for order_id in range(1, 41)])
    as_the_old_mapping_left_them(range(1, 41))
    with CaptureQueriesContext(connection) as one_batch:
        recompute("--account", "main", "--batch-size", "40")
    as_the_old_mapping_left_them(range(1, 41))
    with CaptureQueriesContext(connection) as two_batches:
        recompute("--account", "main", "--batch-size", "20")

    # Per batch: its orders, their lines, one update (and the transaction's two statements);
    # then one read that finds no more orders. Never a statement per order.
    per_batch = len(one_batch.captured_queries) - 1
    assert per_batch <= 6
    assert len(two_batches.captured_queries) - 1 == 2 * per_batch
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("1189.9000")}


def test_it_rejects_an_unknown_account():
    with pytest.raises(CommandError, match="nowhere"):
        recompute("--account", "nowhere")
