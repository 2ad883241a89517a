"""Pushes become light offer/save items, in batches of 50: the pure part of a push."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from emag_sync.services.push_plan import batches, offer_update, request_preview


@dataclass
class Push:
    emag_id: int
    values: dict = field(default_factory=dict)
    offer_id: int | None = None
    stock_warehouse: int = 1
    handling_warehouse: int = 1


def test_each_local_field_becomes_its_light_save_key_with_exact_decimals():
    push = Push(
        7,
        {
            "sale_price": "12.3400",
            "recommended_price": "15.0000",
            "min_sale_price": "10.0000",
            "max_sale_price": "20.0000",
            "general_stock": 4,
            "handling_time": 2,
            "vat_id": 3,
            "status": 0,
        },
        offer_id=555,
        stock_warehouse=2,
        handling_warehouse=2,
    )

    update = offer_update(push)

    assert update.sale_price == Decimal("12.3400") and update.offer_id == 555
    assert update.as_payload() == {
        "id": 7,
        "sale_price": "12.3400",
        "recommended_price": "15.0000",
        "min_sale_price": "10.0000",
        "max_sale_price": "20.0000",
        "stock": [{"warehouse_id": 2, "value": 4}],
        "handling_time": [{"warehouse_id": 2, "value": 2}],
        "vat_id": 3,
        "status": 0,
    }


def test_only_the_fields_pushed_are_sent():
    assert offer_update(Push(7, {"status": 1})).as_payload() == {"id": 7, "status": 1}


def test_a_local_only_field_is_never_turned_into_a_request():
    with pytest.raises(ValueError, match="not pushable"):
        offer_update(Push(7, {"name": "Renamed"}))


def test_140_pushes_make_3_batches_of_at_most_50():
    assert [len(batch) for batch in batches(list(range(140)))] == [50, 50, 40]
    assert list(batches([])) == []
    with pytest.raises(ValueError):
        list(batches([1], size=51))


def test_a_preview_lists_each_request_as_it_would_be_sent():
    preview = request_preview("https://emag.test/api-3", [Push(1, {"status": 0})] * 1)

    assert preview == [
        {
            "method": "POST",
            "url": "https://emag.test/api-3/offer/save",
            "body": [{"id": 1, "status": 0}],
        }
    ]
