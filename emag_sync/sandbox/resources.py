"""The API actions the sandbox answers, each turning request parameters into a response body.

Reads and counts go through an account's `ItemStore`, so a page already served is served
again from its cached bytes. Rules come from docs/emag-api.md §3.2, §3.3 and §5.
"""

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from emag_sync.sandbox.catalogue import VAT_RATE_BY_CURRENCY
from emag_sync.sandbox.filters import (
    OfferFilters,
    OrderFilters,
    Page,
    parse_offer_filters,
    parse_order_filters,
    parse_page,
)
from emag_sync.sandbox.orders import CANCELLED, IN_PROGRESS, NEW, local_time, move_order
from emag_sync.sandbox.ratelimit import ORDERS_GROUP, OTHER_GROUP, SlidingWindowLimiter
from emag_sync.sandbox.store import ItemStore
from emag_sync.sandbox.wire import InputError, as_int, envelope, list_envelope

# Reduced VAT rates per currency, next to the standard one of VAT_RATE_BY_CURRENCY.
REDUCED_VAT_RATES = {"RON": 0.11, "BGN": 0.09, "HUF": 0.18}
# The ids vat/read lists (standard, reduced, super-reduced, zero); offer writes accept these.
VAT_IDS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Route:
    account: str
    action: str
    group: str
    # The id in the path: an order to acknowledge, an offer whose stock to patch.
    resource_id: str | None
    query: str


def parse_route(path: str) -> Route | None:
    """Split `/<account>/api-3/<resource>/<action>[/<id>]` into its parts."""
    path, _, query = path.partition("?")
    parts = [part for part in path.split("/") if part]
    if len(parts) < 4 or parts[1] != "api-3":
        return None
    account, rest = parts[0], parts[2:]
    group = ORDERS_GROUP if rest[0] == "order" else OTHER_GROUP
    if rest[:2] == ["order", "acknowledge"] and len(rest) == 3:
        return Route(account, "order/acknowledge", group, rest[2], query)
    if rest[0] == "offer_stock" and len(rest) == 2:
        return Route(account, "offer_stock", group, rest[1], query)
    return Route(account, "/".join(rest), group, None, query)


@dataclass
class AccountState:
    """Everything the sandbox knows about one seller account."""

    name: str
    username: str
    password: str
    timezone: tzinfo
    currency: str
    fulfilled_by_emag: bool
    offer_count: int
    order_count: int
    offers: ItemStore = field(default_factory=ItemStore)
    orders: ItemStore = field(default_factory=ItemStore)
    limiters: dict[str, SlidingWindowLimiter] = field(default_factory=dict)
    stats: dict[str, Counter[str]] = field(default_factory=dict)
    drift_rounds: int = 0
    # Applied offer writes per offer id, so a test can tell a write sent twice.
    saves: Counter[int] = field(default_factory=Counter)
    # Offers in a stock campaign (offer id -> campaign name): their stock cannot change.
    campaigns: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """An authenticated request, reduced to what the actions need."""

    state: AccountState
    parameters: dict[str, Any]
    order_id: str | None
    clock: Callable[[], datetime]


def read_offers(request: Request) -> bytes:
    page = parse_page(request.parameters, "products")
    filters = parse_offer_filters(request.parameters)
    return _page_body(request.state.offers, filters, page)


def count_offers(request: Request) -> bytes:
    page = parse_page(request.parameters, "products")
    return _count_body(request.state.offers, parse_offer_filters(request.parameters), page.size)


def read_orders(request: Request) -> bytes:
    page = parse_page(request.parameters, "orders")
    filters = parse_order_filters(request.parameters, counting=False)
    return _page_body(request.state.orders, filters, page)


def count_orders(request: Request) -> bytes:
    page = parse_page(request.parameters, "orders")
    filters = parse_order_filters(request.parameters, counting=True)
    return _count_body(request.state.orders, filters, page.size)


def read_vat(request: Request) -> bytes:
    # docs/emag-api.md §3.6: the item field names are undocumented; these read naturally.
    currency = request.state.currency
    rates = zip(
        VAT_IDS,
        (
            VAT_RATE_BY_CURRENCY.get(currency, 0.21),
            REDUCED_VAT_RATES.get(currency, 0.09),
            0.05,
            0.0,
        ),
        (1, 0, 0, 0),
        strict=True,
    )
    return envelope(
        [
            {"vat_id": vat_id, "vat_rate": rate, "is_default": default}
            for vat_id, rate, default in rates
        ]
    )


def acknowledge_order(request: Request) -> bytes:
    """Move a new order to "in progress" (docs/emag-api.md §5.2); repeating it changes nothing."""
    parameters = request.parameters
    raw_id = request.order_id or parameters.get("order_id") or parameters.get("id")
    if raw_id is None:
        raise InputError("Missing order id")
    order_id = as_int(raw_id, "order_id", minimum=1)
    orders = request.state.orders
    order = orders.items.get(order_id)
    if order is None:
        raise InputError(f"Order {order_id} was not found")
    if order["status"] == CANCELLED:
        raise InputError(f"Order {order_id} is canceled and cannot be acknowledged")
    if order["status"] == NEW:
        now_local = local_time(request.clock(), request.state.timezone)
        # Seeded generator for simulated data, not security.
        move_order(order, IN_PROGRESS, now_local, rng=random.Random(order_id))  # nosec B311
        orders.changed([order_id])
    return envelope([])


HANDLERS: dict[str, Callable[[Request], bytes]] = {
    "product_offer/read": read_offers,
    "product_offer/count": count_offers,
    "vat/read": read_vat,
    "order/read": read_orders,
    "order/count": count_orders,
    "order/acknowledge": acknowledge_order,
}


def prebuild_offer_pages(state: AccountState, page_size: int) -> int:
    """Build the count and every page of a full offer scan ahead; return the pages built.

    A benchmark then measures the client, not the simulator serializing the catalogue.
    """
    filters = OfferFilters()
    _count_body(state.offers, filters, page_size)
    pages = max(1, math.ceil(len(_matching_ids(state.offers, filters)) / page_size))
    for number in range(1, pages + 1):
        _page_body(state.offers, filters, Page(number=number, size=page_size))
    return pages


def _page_body(store: ItemStore, filters: OfferFilters | OrderFilters, page: Page) -> bytes:
    def build() -> bytes:
        ids = _matching_ids(store, filters)
        return list_envelope(
            store.item_json(item_id) for item_id in ids[page.start : page.start + page.size]
        )

    return store.body(("read", filters.key, page.number, page.size), build)


def _count_body(store: ItemStore, filters: OfferFilters | OrderFilters, page_size: int) -> bytes:
    def build() -> bytes:
        matching = len(_matching_ids(store, filters))
        pages = math.ceil(matching / page_size)
        return envelope({"noOfItems": matching, "noOfPages": pages, "itemsPerPage": page_size})

    return store.body(("count", filters.key, page_size), build)


def _matching_ids(store: ItemStore, filters: OfferFilters | OrderFilters) -> list[int]:
    # No filter at all (offers only: orders always filter on type) skips the scan.
    restricts = any(value is not None for value in filters.key)
    return store.matching_ids(filters.key, filters.matches if restricts else None)
