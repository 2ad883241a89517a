"""How one eMAG offer payload becomes column values, quirks included (reference §4.1, §4.2)."""

import hashlib
from decimal import Decimal

import pytest

from emag_sync.services.offer_mapping import (
    COMPETITION_FIELDS,
    OfferPayloadError,
    canonical_json,
    content_hash,
    offer_columns,
    offer_payload_fields,
)


def test_it_reads_prices_given_as_4_decimal_strings_exactly():
    columns = offer_columns({"id": 7, "sale_price": "42.0100", "recommended_price": "99.9900"})
    assert columns["sale_price"] == Decimal("42.0100")
    assert columns["recommended_price"] == Decimal("99.9900")


def test_it_reads_prices_given_as_json_numbers_without_float_drift():
    columns = offer_columns({"id": 7, "sale_price": 51.6477, "best_offer_sale_price": 0.1})
    assert columns["sale_price"] == Decimal("51.6477")
    assert columns["best_offer_sale_price"] == Decimal("0.1000")


def test_it_leaves_a_price_with_more_than_4_decimals_empty_with_a_warning_naming_the_field():
    columns = offer_columns({"id": 7, "sale_price": "1.23456", "name": "Kept"})

    assert columns["sale_price"] is None and columns["name"] == "Kept"
    [warning] = columns["read_warnings"]
    assert "sale_price has more than 4 decimals" in warning


@pytest.mark.parametrize(
    ("payload", "column", "empty", "named"),
    [
        ({"sale_price": "abc"}, "sale_price", None, "sale_price should be a price"),
        ({"general_stock": "lots"}, "general_stock", None, "general_stock"),
        ({"name": {"ro": "x"}}, "name", "", "name should be text"),
        ({"ean": {"a": 1}}, "ean", [], "ean should be a list"),
        ({"validation_status": [{"value": "x"}]}, "validation_status", None, "validation_status"),
        ({"images": "one.jpg"}, "images", [], "images should be a list"),
    ],
)
def test_an_offer_with_an_unreadable_field_is_kept_with_that_field_empty(
    payload, column, empty, named
):
    columns = offer_columns({"id": 7, "part_number": "SKU-7", **payload})

    assert columns[column] == empty
    assert columns["emag_id"] == 7 and columns["part_number"] == "SKU-7"
    assert [named in warning for warning in columns["read_warnings"]] == [True]


def test_it_stores_boolean_ownership_as_the_documented_1_or_2():
    assert offer_columns({"id": 1, "ownership": True})["ownership"] == 1
    assert offer_columns({"id": 1, "ownership": False})["ownership"] == 2
    assert offer_columns({"id": 1, "ownership": 2})["ownership"] == 2


def test_it_takes_validation_status_value_and_description_from_the_list():
    columns = offer_columns(
        {
            "id": 1,
            "validation_status": [
                {"value": 9, "description": "Approved documentation", "errors": None}
            ],
            "offer_validation_status": {"value": 1, "description": "Saleable"},
        }
    )
    assert columns["validation_status"] == 9
    assert columns["validation_status_description"] == "Approved documentation"
    assert columns["offer_validation_status"] == 1
    assert columns["offer_validation_status_description"] == "Saleable"


def test_it_accepts_numbers_sent_as_strings_and_missing_optional_keys():
    columns = offer_columns({"id": "243409", "general_stock": "12", "status": 1})
    assert columns["emag_id"] == 243409
    assert columns["general_stock"] == 12
    assert columns["brand_name"] == ""
    assert columns["recommended_price"] is None
    assert columns["ean"] == []


def test_it_requires_the_seller_id():
    with pytest.raises(OfferPayloadError, match="id"):
        offer_columns({"part_number": "X"})


def test_it_keeps_the_internal_offer_id_from_offer_details():
    columns = offer_columns({"id": 1, "offer_details": {"id": 42840257, "emag_club": 1}})
    assert columns["emag_offer_id"] == 42840257


def test_the_content_hash_ignores_key_order_but_not_values():
    assert content_hash({"a": 1, "b": "x"}) == content_hash({"b": "x", "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_the_content_hash_is_16_bytes_a_stored_hex_hash_converts_to():
    payload = {"id": 7, "name": "Mașină de tuns iarba", "sale_price": "42.0100"}
    hex_hash = hashlib.sha256(canonical_json(payload)).hexdigest()

    assert len(content_hash(payload)) == 16
    # The first 32 hex characters of the full digest are those 16 bytes.
    assert bytes.fromhex(hex_hash[:32]) == content_hash(payload)


def test_competition_fields_are_the_four_fast_moving_ones():
    assert COMPETITION_FIELDS == {
        "number_of_offers",
        "buy_button_rank",
        "best_offer_sale_price",
        "best_offer_recommended_price",
    }


def test_shown_only_parts_of_a_stored_payload_that_is_not_an_object_are_empty():
    assert offer_payload_fields(None) == offer_payload_fields({})
    assert offer_payload_fields({})["images"] == [] and offer_payload_fields({})["family"] is None
