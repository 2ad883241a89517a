"""Orders as eMAG really sends them: its documented example totals right, no order lost to a shape."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import responses

from emag_sync.models import Order, OrderLine, SyncRun
from emag_sync.sandbox import Sandbox, generate_orders
from emag_sync.sandbox.orders import voucher_amounts
from emag_sync.sandbox.responses_adapter import api_url, register
from emag_sync.services.order_sync import order_sync
from tests.conftest import point_accounts_at
from tests.orders_support import Clock

pytestmark = pytest.mark.django_db

BASE_URL = "http://sandbox.emag.test"
FIXTURE = Path(__file__).parent / "fixtures" / "emag" / "order_read_documentation_example.json"
# eMAG's documented order example was placed on 24 July 2014; the sync runs a week later.
EXAMPLE_NOW = datetime(2014, 8, 1, 9, 0, tzinfo=UTC)
EXAMPLE_SINCE = date(2014, 7, 1)
FOUR_PLACES = Decimal("0.0001")


def documentation_example() -> dict:
    return json.loads(FIXTURE.read_text())["orders"][0]


@pytest.fixture
def served(monkeypatch, settings, fast_retries):
    """Serve the given orders from a sandbox through `responses`; return a sync of them."""
    settings.EMAG_RATE_LIMIT = False
    mock_http = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock_http.start()

    def serve(orders: list[dict]) -> SyncRun:
        sandbox = Sandbox(offers={"main": 0, "fbe": 0}, rate_limit=False)
        sandbox.put_orders("main", orders)
        register(mock_http, sandbox, BASE_URL, methods=("POST",))
        point_accounts_at(monkeypatch, lambda name: api_url(BASE_URL, name))
        return order_sync(
            account="main", mode="full", since=EXAMPLE_SINCE, clock=Clock(EXAMPLE_NOW)
        )

    yield serve
    mock_http.stop()
    mock_http.reset()


def variant(order_id: int, **changes) -> dict:
    """Return eMAG's example order under another id, with some fields changed."""
    order = documentation_example()
    order["id"] = order_id
    order.update(changes)
    return order


def example_line(**changes) -> dict:
    line = copy.deepcopy(documentation_example()["products"][0])
    line.update(changes)
    return line


# --- Acceptance 1: eMAG's own example, through the sandbox ----------------------------------


def test_it_totals_emags_documented_order_example_to_what_the_customer_pays(served):
    run = served([documentation_example()])

    order = Order.objects.get(account="main", emag_id=41200)
    assert run.status == "completed" and run.items_created == 1 and run.items_warned == 0
    # One line of 967.6613 without VAT at 24%, and a voucher of -8.0645 plus its VAT -1.9355.
    assert order.total_lines_net == Decimal("967.6613")
    assert order.total_lines_vat == Decimal("232.2387")
    assert order.total_vouchers == Decimal("-10.0000")
    assert order.total == Decimal("1189.9000")
    assert order.read_warnings == []


def test_it_keeps_the_requested_type_and_the_documented_pnk_of_the_example(served):
    served([documentation_example()])

    order = Order.objects.get(account="main", emag_id=41200)
    line = OrderLine.objects.get(order=order)
    # The example predates `type`; it was read with eMAG's default filter, type 3.
    assert order.type == 3
    # With no seller code beside it, the doc's `part_number` is the PNK.
    assert line.part_number_key == "68133" and line.ext_part_number == ""
    assert order.details == {} and order.currency == "RON"


def test_the_sandbox_writes_a_voucher_as_emags_example_does():
    example = documentation_example()["vouchers"][0]

    assert voucher_amounts(10, example["vat"]) == (example["sale_price"], example["sale_price_vat"])


def test_every_sandbox_voucher_carries_the_vat_of_its_value_in_sale_price_vat():
    orders = generate_orders("main", 400, 42, EXAMPLE_NOW)
    vouchers = [voucher for order in orders for voucher in order["vouchers"]]

    assert len(vouchers) > 20
    for voucher in vouchers:
        value, rate = Decimal(voucher["sale_price"]), Decimal(voucher["vat"])
        vat = (value * rate).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
        assert Decimal(voucher["sale_price_vat"]) == vat < 0


# --- Acceptance 2: every shape eMAG is known to send is stored -------------------------------


def test_every_known_shape_is_stored_read_where_it_can_be_and_the_run_completes(served):
    run = served(
        [
            variant(1, status=0, reason_cancellation=24),
            variant(2, status=0, reason_cancellation={"id": 31, "name": "Cerut de partener"}),
            variant(3, details={"locker_id": "9194", "locker_name": "easybox Mega Mall"}),
            variant(4, details=[]),
            variant(5, cashed_co=None, cashed_cod=None),
            variant(6, cashed_co=12.5, cashed_cod=0),
            variant(7, cashed_co="0.0000", cashed_cod="1189.9000"),
            variant(8, products=[example_line(part_number_key="DC3ZN7MBM", part_number="4306074")]),
            variant(9, products=[example_line(part_number="4306074", ext_part_number="4306074")]),
            variant(10, type=2),
            variant(11, payment_mode_id=None, currency="RON", refund_status="refunded"),
            # Numbers as strings, money as JSON numbers.
            variant(
                12,
                payment_mode_id="1",
                shipping_tax=0,
                products=[
                    example_line(quantity="1", sale_price=967.6613, vat=0.24, product_id="1264")
                ],
            ),
        ]
    )

    orders = {order.emag_id: order for order in Order.objects.filter(account="main")}
    assert run.status == "completed" and run.items_failed == 0 and run.items_warned == 0
    assert set(orders) == set(range(1, 13))
    assert (orders[1].reason_cancellation, orders[1].reason_cancellation_name) == (
        24,
        "By customer request",
    )
    assert (orders[2].reason_cancellation, orders[2].reason_cancellation_name) == (
        31,
        "Cerut de partener",
    )
    assert (orders[3].locker_id, orders[3].locker_name) == ("9194", "easybox Mega Mall")
    assert orders[4].details == {} and orders[4].locker_id == ""
    assert (orders[5].cashed_co, orders[5].cashed_cod) == (None, None)
    assert (orders[6].cashed_co, orders[6].cashed_cod) == (Decimal("12.5000"), Decimal("0"))
    assert orders[7].cashed_cod == Decimal("1189.9000")
    pnk = dict(OrderLine.objects.values_list("order__emag_id", "part_number_key"))
    # A real line's `part_number` is the seller's code beside its PNK: never taken for one.
    assert pnk[8] == "DC3ZN7MBM" and pnk[9] == ""
    # The example carries no type: stored with the type it was read with, 3; one sent wins.
    assert orders[1].type == 3 and orders[10].type == 2
    assert orders[11].payment_mode_id is None and orders[11].refund_status == "refunded"
    assert orders[12].payment_mode_id == 1
    assert OrderLine.objects.get(order=orders[12]).product_id == 1264
    assert all(order.total == Decimal("1189.9000") for order in orders.values())


def test_a_field_that_cannot_be_read_leaves_it_empty_with_a_warning_on_the_order_and_run(served):
    run = served(
        [
            variant(21, reason_cancellation=["lipsă stoc"], status=0),
            variant(22, details="easybox"),
            variant(23, cashed_cod="plătit"),
            variant(24, products=[example_line(quantity="una")]),
            variant(25),
        ]
    )

    orders = {order.emag_id: order for order in Order.objects.filter(account="main")}
    assert run.status == "completed" and run.items_failed == 0
    assert set(orders) == {21, 22, 23, 24, 25}
    assert run.items_warned == 4
    assert {warning["order"] for warning in run.warnings} == {21, 22, 23, 24}
    assert orders[21].reason_cancellation is None and orders[21].status == 0
    assert orders[22].details is None
    assert orders[23].cashed_cod is None and orders[23].total == Decimal("1189.9000")
    assert OrderLine.objects.get(order=orders[24]).quantity == 0
    assert ["cashed_cod should be a price, got 'plătit'"] == orders[23].read_warnings
    assert "products[0].quantity" in orders[24].read_warnings[0]
    assert orders[25].read_warnings == []
    assert all(order.raw["id"] == emag_id for emag_id, order in orders.items())
