"""The sandbox's offer writes: the light `offer/save` and `PATCH offer_stock/{id}`.

Rules from docs/emag-api.md §3.4 (field rules), §3.5 (light offer update, stock-only
update, FBE stock) and §1.5 (per-item results of offer/save, HTTP statuses of offer_stock).
Where eMAG's wording is documented it is used; the other messages say what eMAG's rule says.
An item is applied whole or not at all, and every applied item counts one save of its offer,
so tests can tell a write sent twice from one sent once.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from emag_sync.sandbox.resources import VAT_IDS, AccountState
from emag_sync.sandbox.wire import InputError, json_bytes

# Reference §1.4: bulk saves take at most 50 entities per request.
MAX_OFFERS_PER_SAVE = 50
MAX_STOCK = 65535
MAX_HANDLING_DAYS = 255
PRICE_FIELDS = ("sale_price", "recommended_price", "min_sale_price", "max_sale_price")
LIGHT_SAVE_KEYS = frozenset(
    {*PRICE_FIELDS, "id", "currency_type", "stock", "handling_time", "vat_id", "status"}
)
# What the result of an item is keyed by: the seller's id (the reference's assumption) or
# eMAG's own offer id (`offer_details.id`, which the official example may show).
RESULT_KEYS = ("id", "offer_id")

# §3.5, eMAG's own wording.
STOCK_NEGATIVE = "Stock should be 0 or more"
STOCK_NOT_INTEGER = (
    "The stock field is mandatory. Its value must be a whole (integer) number. "
    "Decimals are not allowed. (ex: 5)"
)
FBE_STOCK = "The stock of an offer fulfilled by eMAG is managed by eMAG and cannot be changed"
UNKNOWN_OFFER = "This offer does not exist"


def campaign_message(campaign: str) -> str:
    # §1.5, the official offer_stock 400 example.
    return f"The offer is included in the active campaign {campaign}, thus the stock has NOT been changed."


def save_offers_light(state: AccountState, parameters: Any, *, result_key: str = "id") -> bytes:
    """Apply a light offer/save body (a list of offers) and return per-offer results."""
    offers = parameters if isinstance(parameters, list) else [parameters]
    if not offers or not all(isinstance(offer, dict) for offer in offers):
        raise InputError("The request body must be a JSON array of offers")
    if len(offers) > MAX_OFFERS_PER_SAVE:
        raise InputError(f"Maximum {MAX_OFFERS_PER_SAVE} offers can be saved per request")
    ids = [_offer_id(offer.get("id")) for offer in offers]
    repeated = sorted({offer_id for offer_id in ids if ids.count(offer_id) > 1})
    if repeated:
        # Results are keyed by offer: two items of one offer could not both be answered.
        raise InputError(f"Offer ids sent more than once in one request: {repeated}")
    results: dict[str, dict[str, Any]] = {}
    changed: list[int] = []
    for offer_id, offer in zip(ids, offers, strict=True):
        stored = state.offers.items.get(offer_id)
        if stored is None:
            results[str(offer_id)] = _item_result([UNKNOWN_OFFER])
            continue
        changes, problems = _offer_changes(state, stored, offer)
        key = offer_id
        if result_key == "offer_id":
            key = (stored.get("offer_details") or {}).get("id", offer_id)
        if not problems:
            stored.update(changes)
            state.saves[offer_id] += 1
            changed.append(offer_id)
        results[str(key)] = _item_result(problems)
    if changed:
        state.offers.changed(changed)
    return json_bytes({"isError": False, "messages": [], "errors": [], "results": results})


def patch_offer_stock(state: AccountState, resource_id: str | None, body: Any) -> tuple[int, bytes]:
    """Apply `PATCH offer_stock/{id}` with body `{"stock": N}`; return (status, body)."""
    try:
        offer_id = int(resource_id or "")
    except ValueError:
        return 404, json_bytes({"message": "Invalid URL"})
    stored = state.offers.items.get(offer_id)
    if stored is None:
        return 404, json_bytes({"message": UNKNOWN_OFFER})
    value = body.get("stock") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return 400, json_bytes({"message": "Invalid content"})
    problem = None
    if state.fulfilled_by_emag:
        problem = FBE_STOCK
    elif offer_id in state.campaigns:
        problem = campaign_message(state.campaigns[offer_id])
    elif not 0 <= value <= MAX_STOCK:
        problem = STOCK_NEGATIVE if value < 0 else f"Stock must be at most {MAX_STOCK}"
    if problem:
        errors = [{"message": problem, "field": "stock"}]
        return 400, json_bytes({"message": "Validation errors in your request", "errors": errors})
    warehouses = stored.get("stock") or [{"warehouse_id": 1, "value": 0}]
    stored.update(_stock_columns([{**warehouses[0], "value": value}, *warehouses[1:]]))
    state.saves[offer_id] += 1
    state.offers.changed([offer_id])
    return 204, b""


def _offer_id(raw_id: Any) -> int:
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
        raise InputError("The id field is mandatory for every offer")
    try:
        return int(raw_id)
    except ValueError:
        raise InputError(f"Invalid value for id: {raw_id!r}") from None


def _item_result(problems: list[str]) -> dict[str, Any]:
    return {"isError": bool(problems), "messages": problems}


def _offer_changes(
    state: AccountState, stored: dict[str, Any], offer: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Return the stored fields an item changes, and eMAG's reasons to refuse it."""
    problems: list[str] = []
    changes: dict[str, Any] = {}
    unknown = sorted(set(offer) - LIGHT_SAVE_KEYS)
    if unknown:
        problems.append(f"Unknown fields for the light offer update: {', '.join(unknown)}")

    prices: dict[str, Decimal | None] = {name: _decimal(stored.get(name)) for name in PRICE_FIELDS}
    for name in PRICE_FIELDS:
        if name in offer:
            amount = _decimal(offer[name])
            # NaN and infinities have a letter for an exponent: refused with the others.
            exponent = amount.as_tuple().exponent if amount is not None else None
            if amount is None or not isinstance(exponent, int) or amount <= 0 or exponent < -4:
                problems.append(f"The {name} must be a number above 0 with at most 4 decimals")
                continue
            prices[name] = amount
            changes[name] = f"{amount:.4f}"
    sale, low, high = prices["sale_price"], prices["min_sale_price"], prices["max_sale_price"]
    if low is not None and high is not None and high <= low:
        problems.append("The max_sale_price must be greater than the min_sale_price")
    elif sale is not None and low is not None and high is not None and not low <= sale <= high:
        problems.append(
            f"The sale_price {sale:.4f} must be between the min_sale_price {low:.4f} "
            f"and the max_sale_price {high:.4f}"
        )
    recommended = prices["recommended_price"]
    if "recommended_price" in offer or "sale_price" in offer:
        if recommended is not None and sale is not None and recommended <= sale:
            problems.append("The recommended_price must be greater than the sale_price")

    if "stock" in offer:
        stock, stock_problems = _warehouse_values(offer["stock"], stored.get("stock"), MAX_STOCK)
        if state.fulfilled_by_emag:
            problems.append(FBE_STOCK)
        elif stored["id"] in state.campaigns:
            problems.append(campaign_message(state.campaigns[stored["id"]]))
        elif stock_problems:
            problems.extend(stock_problems)
        else:
            changes.update(_stock_columns(stock))
    if "handling_time" in offer:
        handling, handling_problems = _warehouse_values(
            offer["handling_time"], stored.get("handling_time"), MAX_HANDLING_DAYS
        )
        if handling_problems:
            problems.append(
                f"The handling_time must be a whole number of days from 0 to {MAX_HANDLING_DAYS}"
            )
        else:
            changes["handling_time"] = handling
    if "vat_id" in offer:
        vat_id = _integer(offer["vat_id"])
        if vat_id not in VAT_IDS:
            problems.append(f"Invalid vat_id {offer['vat_id']!r}: see vat/read for the valid ones")
        else:
            changes["vat_id"] = vat_id
    if "status" in offer:
        status = _integer(offer["status"])
        if status not in (0, 1, 2):
            problems.append("The status must be 0 (inactive), 1 (active) or 2 (end of life)")
        else:
            changes["status"] = status
    if "currency_type" in offer and offer["currency_type"] not in ("EUR", "PLN"):
        problems.append("The currency_type must be EUR or PLN")
    return changes, problems


def _warehouse_values(
    value: Any, stored: Any, maximum: int
) -> tuple[list[dict[str, int]], list[str]]:
    """Merge `[{warehouse_id, value}]` into the stored per-warehouse list."""
    entries = value if isinstance(value, list) else None
    if not entries or not all(isinstance(entry, dict) for entry in entries):
        return [], [STOCK_NOT_INTEGER]
    merged = {
        int(entry["warehouse_id"]): dict(entry)
        for entry in (stored or [])
        if isinstance(entry, dict) and "warehouse_id" in entry
    }
    problems: list[str] = []
    for entry in entries:
        warehouse, amount = _integer(entry.get("warehouse_id", 1)), _integer(entry.get("value"))
        if warehouse is None or warehouse < 1 or amount is None:
            problems.append(STOCK_NOT_INTEGER)
        elif amount < 0:
            problems.append(STOCK_NEGATIVE)
        elif amount > maximum:
            problems.append(f"The value must be at most {maximum}")
        else:
            merged[warehouse] = {"warehouse_id": warehouse, "value": amount}
    return [merged[warehouse] for warehouse in sorted(merged)], problems


def _stock_columns(stock: list[dict[str, int]]) -> dict[str, Any]:
    total = sum(entry["value"] for entry in stock)
    return {"stock": stock, "general_stock": total, "estimated_stock": total}


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
