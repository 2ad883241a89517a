"""Turn one product_offer/read payload into Offer column values.

Reference: docs/emag-api.md §4.1 (documented fields) and §4.2 (what real responses
carry). eMAG is loose with types: prices come as 4-decimal strings or JSON numbers,
`ownership` as a boolean where the doc says 1/2, validation statuses as lists. Each value
is parsed strictly into its column type; only the id is required: a value that cannot be
parsed leaves its column empty with a warning naming the field, and the offer is stored.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from emag_sync.payloads.values import (
    PayloadError,
    parse_integer,
    parse_list,
    parse_money,
    parse_text,
    read_or_warn,
)

T = TypeVar("T")

# An offer's four prices, by their wire names (also the Offer fields holding them), in the
# order eMAG documents them; the currency is a separate field.
PRICE_FIELDS = ("sale_price", "recommended_price", "min_sale_price", "max_sale_price")

# Fields that move with the competition, not with the seller's data: kept current on every
# sync, but left out of the change history, which would otherwise be mostly noise.
COMPETITION_FIELDS = frozenset(
    {"number_of_offers", "buy_button_rank", "best_offer_sale_price", "best_offer_recommended_price"}
)


def _text(payload: dict, key: str, max_length: int | None = None) -> str:
    text = parse_text(payload.get(key), key)
    if max_length is not None and len(text) > max_length:
        raise PayloadError(f"{key} is longer than {max_length} characters")
    return text


def _integer(payload: dict, key: str) -> int | None:
    return parse_integer(payload.get(key), key)


def _money(payload: dict, key: str) -> Decimal | None:
    return parse_money(payload.get(key), key)


def _status_parts(value: Any, key: str) -> tuple[int | None, str, Any]:
    """Split a validation status (a list of objects, one object, or a bare number)."""
    if value is None:
        return None, "", None
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, dict):
        return (
            parse_integer(first.get("value"), f"{key}.value"),
            str(first.get("description") or "")[:255],
            value,
        )
    if isinstance(value, list):
        return None, "", value
    return parse_integer(value, key), "", value


def _ownership(value: Any) -> int | None:
    # The doc says 1 = eligible, 2 = not eligible; real responses say true/false.
    if value is None:
        return None
    if isinstance(value, bool):
        return 1 if value else 2
    return parse_integer(value, "ownership")


def _eans(payload: dict) -> list[str]:
    value = payload.get("ean")
    if value is None or value == "":
        return []
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list):
        raise PayloadError(f"ean should be a list, got {type(value).__name__}")
    eans = []
    for item in value:
        text = str(item).strip()
        if text and text not in eans:
            if len(text) > 32:
                raise PayloadError(f"ean {text[:40]!r} is too long")
            eans.append(text)
    return eans


def offer_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the mirror columns of an offer payload, or raise PayloadError without an id.

    Only the id is required. A field whose value cannot be read is left empty and its reason
    listed in `read_warnings`, so an offer is never lost for one odd value.
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"an offer should be an object, got {type(payload).__name__}")
    emag_id = parse_integer(payload.get("id"), "id")
    if emag_id is None or emag_id <= 0:
        raise PayloadError("id is missing")
    noted: list[str] = []

    def read(parse: Callable[[], T], empty: Any = None) -> T:
        return read_or_warn(noted, parse, empty)

    def text(key: str, max_length: int | None = None) -> str:
        return read(lambda: _text(payload, key, max_length), "")

    def integer(key: str) -> int | None:
        return read(lambda: _integer(payload, key))

    def money(key: str) -> Decimal | None:
        return read(lambda: _money(payload, key))

    def status(key: str) -> tuple[int | None, str, Any]:
        return read(lambda: _status_parts(payload.get(key), key), (None, "", None))

    offer_details = payload.get("offer_details")
    emag_offer_id = None
    if isinstance(offer_details, dict):
        emag_offer_id = read(lambda: parse_integer(offer_details.get("id"), "offer_details.id"))
    validation, validation_text, _ = status("validation_status")
    translation, _, _ = status("translation_validation_status")
    offer_validation, offer_validation_text, _ = status("offer_validation_status")
    return {
        "emag_id": emag_id,
        "emag_offer_id": emag_offer_id,
        "part_number": text("part_number", 64),
        "part_number_key": text("part_number_key", 32),
        "name": text("name"),
        "brand": text("brand", 255),
        "brand_name": text("brand_name", 255),
        "url": text("url"),
        "category_id": integer("category_id"),
        "vendor_category_id": text("vendor_category_id", 64),
        "sale_price": money("sale_price"),
        "recommended_price": money("recommended_price"),
        "min_sale_price": money("min_sale_price"),
        "max_sale_price": money("max_sale_price"),
        "currency": text("currency", 3),
        "vat_id": integer("vat_id"),
        "warranty": integer("warranty"),
        "status": integer("status"),
        "general_stock": integer("general_stock"),
        "estimated_stock": integer("estimated_stock"),
        "validation_status": validation,
        "validation_status_description": validation_text,
        "translation_validation_status": translation,
        "offer_validation_status": offer_validation,
        "offer_validation_status_description": offer_validation_text,
        "ownership": read(lambda: _ownership(payload.get("ownership"))),
        "number_of_offers": integer("number_of_offers"),
        "buy_button_rank": integer("buy_button_rank"),
        "best_offer_sale_price": money("best_offer_sale_price"),
        "best_offer_recommended_price": money("best_offer_recommended_price"),
        "genius_eligibility": integer("genius_eligibility"),
        "genius_eligibility_type": integer("genius_eligibility_type"),
        "genius_computed": integer("genius_computed"),
        "ean": read(lambda: _eans(payload), []),
        **offer_payload_fields(payload, noted),
        "read_warnings": noted,
    }


def offer_payload_fields(payload: Any, warnings: list[str] | None = None) -> dict[str, Any]:
    """Return the parts of an offer payload that are only shown.

    Also reads them from what a sync stored in `Offer.raw`: a missing key, or a stored value
    that is not an object at all, gives empty values; a value that cannot be read is empty
    too, its reason appended to `warnings` when given.
    """
    if not isinstance(payload, dict):
        payload = {}
    noted: list[str] = [] if warnings is None else warnings
    family = payload.get("family")
    offer_details = payload.get("offer_details")

    def text(key: str) -> str:
        return read_or_warn(noted, lambda: _text(payload, key), "")

    def listed(key: str) -> list:
        return read_or_warn(noted, lambda: parse_list(payload.get(key), key), [])

    return {
        "description": text("description"),
        "stock": listed("stock"),
        "handling_time": listed("handling_time"),
        "availability": listed("availability"),
        "validation_status_detail": _status_detail(payload, "validation_status", []),
        "translation_validation_status_detail": _status_detail(
            payload, "translation_validation_status", []
        ),
        "offer_validation_status_detail": _status_detail(payload, "offer_validation_status", None),
        "doc_errors": payload.get("doc_errors"),
        "images": listed("images"),
        "characteristics": listed("characteristics"),
        "family": family if isinstance(family, dict) else None,
        "attachments": listed("attachments"),
        "offer_details": offer_details if isinstance(offer_details, dict) else None,
        "manufacturer": payload.get("manufacturer"),
        "eu_representative": payload.get("eu_representative"),
        "safety_information": text("safety_information"),
    }


def _status_detail(payload: dict, key: str, empty: Any) -> Any:
    value = payload.get(key)
    return empty if value is None else value


# What an offer only shows (nothing filters, sorts or lists it; a local description or handling
# time lives in LocalEdit): read from the stored payload (`Offer.raw`) instead of being copied
# into columns of their own, so a sync writes each once and the offer table stays narrow enough
# to search quickly.
PAYLOAD_FIELDS = tuple(offer_payload_fields({}))
# The columns a sync writes: what offer_columns returns, identity and payload parts aside.
MIRROR_FIELDS = tuple(
    name
    for name in offer_columns({"id": 1})
    if name != "emag_id"  # the conflict key, never updated
    and name not in PAYLOAD_FIELDS
)
# What the change history follows: every part of an offer but the competition's (and what
# this app could not read of it, which is no value of eMAG's).
AUDITED_FIELDS = tuple(
    name
    for name in offer_columns({"id": 1})
    if name not in ("emag_id", "read_warnings") and name not in COMPETITION_FIELDS
)
