"""An order payload becomes typed columns: exact money, aware UTC dates, documented totals."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from emag_sync.payloads.orders import order_columns, parse_emag_datetime
from emag_sync.payloads.values import PayloadError
from tests.orders_support import BUCHAREST


def line(**overrides) -> dict:
    values = {
        "id": 512_000_001,
        "product_id": "4306074",
        "part_number": "D7658AXYB",
        "part_number_key": "D7658AXYB",
        "ext_part_number": "SW506AMT",
        "name": "Mașină de tuns iarba",
        "status": 1,
        "quantity": 2,
        "initial_qty": 2,
        "storno_qty": 0,
        "sale_price": "100.0000",
        "original_price": "100.0000",
        "currency": "RON",
        "vat": "0.1900",
        "product_voucher_split": [],
    }
    values.update(overrides)
    return values


def order(**overrides) -> dict:
    values = {
        "id": 3_115_229_985,
        "status": 2,
        "type": 3,
        "is_complete": 1,
        "payment_mode_id": 1,
        "payment_mode": "RAMBURS",
        "detailed_payment_method": "Plată la livrare",
        "payment_status": 0,
        "cashed_co": "0.0000",
        "cashed_cod": 0,
        "delivery_mode": "pickup",
        "details": {"locker_id": "9194", "locker_name": "easybox Mega Mall", "extra": 1},
        "date": "2025-09-15 12:30:00",
        "modified": "2025-09-15 12:45:10",
        "maximum_date_for_shipment": "2025-09-17 12:30:00",
        "finalization_date": None,
        "shipping_tax": 14.99,
        "shipping_tax_voucher_split": [],
        "vouchers": [],
        "attachments": [],
        "is_storno": False,
        "reason_cancellation": None,
        "customer": {"name": "Ana Popescu", "billing_name": "SC Ana SRL"},
        "products": [line()],
    }
    values.update(overrides)
    return values


def test_documented_fields_are_typed_and_dates_are_aware_utc():
    columns, lines = order_columns(order(), BUCHAREST)

    assert columns["emag_id"] == 3_115_229_985
    assert (columns["status"], columns["type"], columns["is_complete"]) == (2, 3, True)
    assert columns["payment_mode_id"] == 1 and columns["payment_mode"] == "RAMBURS"
    assert columns["cashed_co"] == Decimal("0.0000") and columns["cashed_cod"] == Decimal("0.0000")
    assert (columns["locker_id"], columns["locker_name"]) == ("9194", "easybox Mega Mall")
    assert columns["details"]["extra"] == 1
    # 12:30 in Bucharest in September is summer time, UTC+3.
    assert columns["date"] == datetime(2025, 9, 15, 9, 30, tzinfo=UTC)
    assert columns["modified"] == datetime(2025, 9, 15, 9, 45, 10, tzinfo=UTC)
    assert columns["maximum_date_for_shipment"] == datetime(2025, 9, 17, 9, 30, tzinfo=UTC)
    assert columns["finalization_date"] is None
    assert columns["shipping_tax"] == Decimal("14.9900")
    assert columns["customer_name"] == "Ana Popescu"
    assert columns["is_storno"] is False
    [only] = lines
    assert only["emag_line_id"] == 512_000_001
    assert only["product_id"] == 4306074  # sent as a string
    assert only["part_number_key"] == "D7658AXYB" and only["ext_part_number"] == "SW506AMT"
    assert only["sale_price"] == Decimal("100.0000") and only["vat_rate"] == Decimal("0.1900")


def test_a_winter_date_is_read_with_the_winter_offset():
    assert parse_emag_datetime("2025-01-10 08:00:00", BUCHAREST) == datetime(
        2025, 1, 10, 6, 0, tzinfo=UTC
    )


def test_a_time_in_the_hour_repeated_when_daylight_saving_ends_is_read_as_its_first_pass():
    # 03:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC; never read late.
    assert parse_emag_datetime("2025-10-26 03:30:00", BUCHAREST) == datetime(
        2025, 10, 26, 0, 30, tzinfo=UTC
    )


def test_totals_add_net_lines_their_vat_shipping_and_vouchers_worth_value_plus_vat():
    columns, _ = order_columns(
        order(
            products=[
                line(quantity=2, sale_price="100.0000", vat="0.1900"),
                line(id=2, quantity=1, sale_price="10.0700", vat="0.2100"),
                line(id=3, quantity=5, sale_price="999.0000", status=0),  # removed line
            ],
            shipping_tax="14.9900",
            vouchers=[
                # eMAG's meaning: the value without VAT, and the VAT on it (21%).
                {"voucher_id": 1, "sale_price": "-16.5289", "sale_price_vat": "-3.4711"},
                {
                    "voucher_id": 2,
                    "sale_price": "-4.1322",
                    "sale_price_vat": "-0.8678",
                    "status": 0,
                },
            ],
        ),
        BUCHAREST,
    )

    assert columns["total_lines_net"] == Decimal("210.0700")
    # 200 × 0.19 = 38 and 10.07 × 0.21 = 2.1147.
    assert columns["total_lines_vat"] == Decimal("40.1147")
    assert columns["total_shipping"] == Decimal("14.9900")
    assert columns["total_vouchers"] == Decimal("-20.0000")
    assert columns["total"] == Decimal("245.1747")
    assert columns["currency"] == "RON"


def test_a_vat_rate_sent_as_a_percentage_is_read_as_a_rate():
    columns, lines = order_columns(order(products=[line(vat="19")]), BUCHAREST)

    assert lines[0]["vat_rate"] == Decimal("0.1900")
    assert columns["total_lines_vat"] == Decimal("38.0000")


def test_an_order_without_lines_totals_its_shipping_only():
    columns, lines = order_columns(order(products=[], shipping_tax="0.0000"), BUCHAREST)

    assert lines == []
    assert columns["total"] == Decimal("0.0000") and columns["currency"] == ""


def test_a_64_bit_id_is_kept_exactly():
    columns, _ = order_columns(order(id=2**40), BUCHAREST)

    assert columns["emag_id"] == 1_099_511_627_776


def test_only_a_missing_id_fails_an_order():
    with pytest.raises(PayloadError, match="id is missing"):
        order_columns(order(id=None), BUCHAREST)


@pytest.mark.parametrize(
    ("overrides", "column", "empty", "message"),
    [
        ({"status": None}, "status", None, "status is missing"),
        ({"date": "15/09/2025"}, "date", None, "date should be YYYY-mm-dd HH:ii:ss"),
        ({"shipping_tax": "free"}, "shipping_tax", None, "shipping_tax should be a price"),
        ({"customer": "Ana"}, "customer", {}, "customer should be an object"),
        ({"payment_mode_id": "card"}, "payment_mode_id", None, "payment_mode_id"),
        ({"details": "locker"}, "details", None, "details should be an object"),
        ({"reason_cancellation": "soon"}, "reason_cancellation", None, "reason_cancellation"),
    ],
)
def test_an_unreadable_field_is_left_empty_and_listed_and_the_order_kept(
    overrides, column, empty, message
):
    columns, lines = order_columns(order(**overrides), BUCHAREST)

    assert columns[column] == empty
    assert columns["emag_id"] == 3_115_229_985 and len(lines) == 1
    assert len(columns["read_warnings"]) == 1
    assert message in columns["read_warnings"][0]


def test_an_unreadable_line_field_is_left_empty_and_named_with_its_line():
    columns, lines = order_columns(order(products=[line(quantity="two")]), BUCHAREST)

    assert lines[0]["quantity"] == 0 and lines[0]["sale_price"] == Decimal("100.0000")
    assert columns["read_warnings"] == ["products[0].quantity should be a whole number, got 'two'"]


def test_a_line_that_is_not_an_object_is_skipped_with_a_warning():
    columns, lines = order_columns(order(products=["SW506AMT", line()]), BUCHAREST)

    assert len(lines) == 1
    assert columns["read_warnings"] == ["products[0] should be an object, got str"]
