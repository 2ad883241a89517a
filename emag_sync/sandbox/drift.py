"""Change a sandbox catalogue and its orders over time, the way a live seller account moves.

Offers get new prices and stock, appear, vanish and change status; orders arrive as new
(status 1) and move along eMAG's transition matrix (docs/emag-api.md §5.1), including
cancellations before the seller acknowledged them. Every change is reported by id so tests
can check a sync picked it up.
"""

import random
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from emag_sync.sandbox.catalogue import PRICE_SCALE, build_offer, build_product, format_price
from emag_sync.sandbox.orders import (
    CANCELLED,
    FINALIZED,
    IN_PROGRESS,
    NEW,
    PREPARED,
    RETURNED,
    build_order,
    local_time,
    move_order,
)
from emag_sync.sandbox.store import ItemStore

# How a drift's `changes` split over the kinds of offer change (the rest are price changes).
OFFER_CHANGE_SHARES = {
    "stock_changed": 0.30,
    "status_changed": 0.15,
    "added": 0.10,
    "removed": 0.10,
}
# Next statuses a live order takes, weighted; 1 -> 2 is absent (only acknowledge does it).
ORDER_MOVES: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {
    IN_PROGRESS: ((PREPARED, FINALIZED, CANCELLED), (55, 30, 15)),
    PREPARED: ((FINALIZED, CANCELLED), (85, 15)),
}
CANCEL_NEW_ORDER_CHANCE = 0.3
RETURN_FINALIZED_CHANCE = 0.15


def drift_offers(
    store: ItemStore,
    rng: random.Random,
    *,
    changes: int,
    seed: int,
    product_prefix: str,
    currency: str,
) -> dict[str, list[int]]:
    """Apply `changes` offer changes and return the changed ids per kind of change."""
    counts = {kind: int(changes * share) for kind, share in OFFER_CHANGE_SHARES.items()}
    counts["price_changed"] = changes - sum(counts.values())
    summary: dict[str, list[int]] = {kind: [] for kind in counts}
    existing = store.sorted_ids()
    touched = rng.sample(existing, min(changes - counts["added"], len(existing)))
    for kind in ("removed", "status_changed", "stock_changed", "price_changed"):
        summary[kind], touched = sorted(touched[: counts[kind]]), touched[counts[kind] :]

    for offer_id in summary["removed"]:
        del store.items[offer_id]
    for offer_id in summary["status_changed"]:
        offer = store.items[offer_id]
        offer["status"] = rng.choice((0, 0, 2)) if offer["status"] == 1 else 1
    for offer_id in summary["stock_changed"]:
        _set_stock(store.items[offer_id], rng)
    for offer_id in summary["price_changed"]:
        _set_price(store.items[offer_id], rng)

    next_id = max(existing, default=rng.randint(1_000, 250_000))
    for index in range(counts["added"]):
        next_id += rng.randint(1, 40)
        product = build_product(seed, f"{product_prefix}:{index}")
        store.items[next_id] = build_offer(product, seller_id=next_id, rng=rng, currency=currency)
        summary["added"].append(next_id)

    store.changed([offer_id for ids in summary.values() for offer_id in ids])
    return summary


def _set_stock(offer: dict[str, Any], rng: random.Random) -> None:
    stock = 0 if rng.random() < 0.2 else rng.randint(1, 250)
    if stock == offer["general_stock"]:
        stock += 1
    offer["general_stock"] = stock
    offer["estimated_stock"] = max(stock - rng.choice((0, 0, 1)), 0)
    offer["stock"] = [{"warehouse_id": 1, "value": stock}]


def _set_price(offer: dict[str, Any], rng: random.Random) -> None:
    price = offer["sale_price"]
    units = int(Decimal(str(price)) * PRICE_SCALE)
    new_units = max(units * rng.choice((90, 93, 95, 97, 103, 105, 108, 110)) // 100, 100)
    offer["sale_price"] = format_price(new_units, as_number=not isinstance(price, str))


def drift_orders(
    store: ItemStore,
    rng: random.Random,
    *,
    changes: int,
    now: datetime,
    timezone: tzinfo,
    currency: str,
    fulfilled_by_emag: bool,
    offers: list[dict[str, Any]],
    seed: int,
) -> dict[str, list[int]]:
    """Add new orders and move existing ones along the status matrix; return ids per kind."""
    now_local = local_time(now, timezone)
    summary: dict[str, list[int]] = {"added": [], "status_changed": [], "cancelled": []}
    existing = store.sorted_ids()
    live = [order_id for order_id in existing if store.items[order_id]["status"] != RETURNED]
    for order_id in sorted(rng.sample(live, min(changes // 2, len(live)))):
        order = store.items[order_id]
        new_status = _next_status(order["status"], rng)
        if new_status is None:
            continue
        move_order(order, new_status, now_local, rng=rng)
        summary["cancelled" if new_status == CANCELLED else "status_changed"].append(order_id)

    next_id = max(existing, default=3_100_000_000)
    for _ in range(max(1, changes // 5)):
        next_id += rng.randint(1, 40_000)
        placed_at = now - timedelta(seconds=rng.randint(0, 300))
        store.items[next_id] = build_order(
            rng,
            order_id=next_id,
            placed_at=placed_at,
            now=now,
            offers=offers,
            timezone=timezone,
            currency=currency,
            fulfilled_by_emag=fulfilled_by_emag,
            seed=seed,
            status=NEW,
        )
        # A brand-new order carries the moment it was placed as its last modification.
        store.items[next_id]["modified"] = local_time(placed_at, timezone)
        summary["added"].append(next_id)

    store.changed([order_id for ids in summary.values() for order_id in ids])
    return summary


def _next_status(status: int, rng: random.Random) -> int | None:
    if status == NEW:
        return CANCELLED if rng.random() < CANCEL_NEW_ORDER_CHANCE else None
    if status == FINALIZED:
        return RETURNED if rng.random() < RETURN_FINALIZED_CHANCE else None
    if status in ORDER_MOVES:
        choices, weights = ORDER_MOVES[status]
        return rng.choices(choices, weights=weights)[0]
    return None
