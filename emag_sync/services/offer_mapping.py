"""Turn one product_offer/read payload into Offer column values.

Reference: emag-api-reference.md §4.1 (documented fields) and §4.2 (what real responses
carry). eMAG is loose with types: prices come as 4-decimal strings or JSON numbers,
`ownership` as a boolean where the doc says 1/2, validation statuses as lists. Each value
is parsed strictly into its column type; only the id is required: a value that cannot be
parsed leaves its column empty with a warning naming the field, and the offer is stored.
"""

import hashlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson

from emag_sync.models.fields import CONTENT_HASH_BYTES

MONEY_QUANTUM = Decimal("0.0001")
MAX_MONEY = Decimal("999999999999.9999")

# Fields that move with the competition, not with the seller's data: kept current on every
# sync, but left out of the change history, which would otherwise be mostly noise.
COMPETITION_FIELDS = frozenset(
    {"number_of_offers", "buy_button_rank", "best_offer_sale_price", "best_offer_recommended_price"}
)


T = TypeVar("T")


class PayloadError(ValueError):
    """A payload value from eMAG that cannot be stored as its column's type."""


class OfferPayloadError(PayloadError):
    """An offer payload value that cannot be stored as its column's type."""


def read_or_warn(warnings: list[str], read: Callable[[], T], empty: T) -> T:
    """Return what `read` gives, or `empty` with the reason added to `warnings`.

    The rule for every optional field of an eMAG payload: one whose value cannot be read
    leaves its column empty and says why, and the rest of the payload is still stored.
    """
    try:
        return read()
    except PayloadError as error:
        warnings.append(str(error))
        return empty


def canonical_json(payload: dict[str, Any]) -> bytes:
    """Return a payload as sorted, compact UTF-8 JSON: equal content, equal bytes.

    orjson's output is byte for byte what `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` gives, in less than half the time.
    """
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def hash_canonical(canonical: bytes) -> bytes:
    """Return the content hash of a payload's canonical JSON: its SHA-256, first 16 bytes.

    128 bits tell a change apart as surely as 256 for this purpose, and 16 raw bytes keep
    offer rows 48 bytes narrower than 64 hex characters.
    """
    return hashlib.sha256(canonical).digest()[:CONTENT_HASH_BYTES]


def content_hash(payload: dict[str, Any]) -> bytes:
    """Return a stable hash of a payload: equal content gives an equal hash, key order aside."""
    return hash_canonical(canonical_json(payload))


def _text(payload: dict, key: str, max_length: int | None = None) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise OfferPayloadError(f"{key} should be text, got {type(value).__name__}")
    text = str(value)
    if max_length is not None and len(text) > max_length:
        raise OfferPayloadError(f"{key} is longer than {max_length} characters")
    return text


def _integer(payload: dict, key: str) -> int | None:
    return parse_integer(payload.get(key), key)


def parse_integer(value: Any, key: str) -> int | None:
    """Return an int from an int, an integral float or a numeric string; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise OfferPayloadError(f"{key} should be a whole number, got {value!r}") from None
        if number == number.to_integral_value():
            return int(number)
    raise OfferPayloadError(f"{key} should be a whole number, got {value!r}")


def parse_money(value: Any, key: str) -> Decimal | None:
    """Return an exact Decimal with 4 places from a string or a JSON number, never via float math."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise OfferPayloadError(f"{key} should be a price, got {value!r}")
    try:
        # str() of a float is its shortest round-tripping form, so 51.6477 stays 51.6477.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise OfferPayloadError(f"{key} should be a price, got {value!r}") from None
    if not amount.is_finite() or abs(amount) > MAX_MONEY:
        raise OfferPayloadError(f"{key} is out of range: {value!r}")
    if amount != amount.quantize(MONEY_QUANTUM):
        raise OfferPayloadError(f"{key} has more than 4 decimals: {value!r}")
    return amount.quantize(MONEY_QUANTUM)


def _money(payload: dict, key: str) -> Decimal | None:
    return parse_money(payload.get(key), key)


def _json_list(payload: dict, key: str) -> list:
    value = payload.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    raise OfferPayloadError(f"{key} should be a list, got {type(value).__name__}")


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
        raise OfferPayloadError(f"ean should be a list, got {type(value).__name__}")
    eans = []
    for item in value:
        text = str(item).strip()
        if text and text not in eans:
            if len(text) > 32:
                raise OfferPayloadError(f"ean {text[:40]!r} is too long")
            eans.append(text)
    return eans


def offer_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the mirror columns of an offer payload, or raise OfferPayloadError without an id.

    Only the id is required. A field whose value cannot be read is left empty and its reason
    listed in `read_warnings`, so an offer is never lost for one odd value.
    """
    if not isinstance(payload, dict):
        raise OfferPayloadError(f"an offer should be an object, got {type(payload).__name__}")
    emag_id = parse_integer(payload.get("id"), "id")
    if emag_id is None or emag_id <= 0:
        raise OfferPayloadError("id is missing")
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
        return read_or_warn(noted, lambda: _json_list(payload, key), [])

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
