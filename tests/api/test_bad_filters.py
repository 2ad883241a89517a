"""Every list of the API refuses a bad filter value with a 400 that names the filter."""

from typing import Any

import pytest

from tests.api.conftest import API

pytestmark = pytest.mark.django_db

PRODUCTS = f"{API}/emag/products/products"
ORDERS = f"{API}/emag/orders"
CONFLICTS = f"{API}/emag/conflicts"
HISTORY = f"{API}/emag/products/history"

# Per list: query parameters, and the filter the 400 must name.
BAD_FILTERS: dict[str, list[tuple[dict[str, Any], str]]] = {
    PRODUCTS: [
        ({"account_type": "bg"}, "account_type"),
        ({"status": 7}, "status"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_max": "NaN"}, "price_max"),
        ({"validation_status": "1.5"}, "validation_status"),
        ({"validation_status": 10**20}, "validation_status"),
        ({"synced_since": "yesterday"}, "synced_since"),
        ({"ordering": "raw"}, "ordering"),
        ({"search": "x" * 101}, "search"),
        ({"search": "a\x00b"}, "search"),
    ],
    ORDERS: [
        ({"status": 9}, "status"),
        ({"type": 1}, "type"),
        ({"date_to": "x"}, "date_to"),
        ({"account_type": "bg"}, "account_type"),
    ],
    CONFLICTS: [
        ({"status": "pending"}, "status"),
        ({"field": "colour"}, "field"),
        ({"offer": "first"}, "offer"),
        ({"account_type": "xx"}, "account_type"),
    ],
    HISTORY: [
        ({"status": "exploded"}, "status"),
        ({"mode": "fast"}, "mode"),
        ({"account_type": "nope"}, "account_type"),
        ({"limit": 101}, "limit"),
    ],
}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [(url, params, field) for url, cases in BAD_FILTERS.items() for params, field in cases],
)
def test_a_bad_filter_value_is_a_400_naming_the_filter(api, url, params, field):
    response = api.get(url, params)

    assert response.status_code == 400
    assert field in response.json()
