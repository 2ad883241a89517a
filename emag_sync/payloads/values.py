"""Read eMAG payload values strictly into column types: the rules offers and orders share.

eMAG is loose with types (prices as 4-decimal strings or JSON numbers, ids as strings, flags
as booleans): each reader here accepts every shape eMAG is known to send and raises
`PayloadError`, the one error type of payload parsing, for anything else. Pure functions:
nothing here touches the database or imports a service, so models may use them.
"""

import hashlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson

from emag_sync.models.fields import CONTENT_HASH_BYTES

MONEY_QUANTUM = Decimal("0.0001")
MAX_MONEY = Decimal("999999999999.9999")

T = TypeVar("T")


class PayloadError(ValueError):
    """A payload value from eMAG that cannot be stored as its column's type."""


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


def parse_text(value: Any, key: str) -> str:
    """Return text from a string or a number; None is empty, and a flag or a structure is no text."""
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise PayloadError(f"{key} should be text, got {type(value).__name__}")
    return str(value)


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
            raise PayloadError(f"{key} should be a whole number, got {value!r}") from None
        if number == number.to_integral_value():
            return int(number)
    raise PayloadError(f"{key} should be a whole number, got {value!r}")


def parse_money(value: Any, key: str) -> Decimal | None:
    """Return an exact Decimal with 4 places from a string or a JSON number, never via float math."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PayloadError(f"{key} should be a price, got {value!r}")
    try:
        # str() of a float is its shortest round-tripping form, so 51.6477 stays 51.6477.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"{key} should be a price, got {value!r}") from None
    if not amount.is_finite() or abs(amount) > MAX_MONEY:
        raise PayloadError(f"{key} is out of range: {value!r}")
    if amount != amount.quantize(MONEY_QUANTUM):
        raise PayloadError(f"{key} has more than 4 decimals: {value!r}")
    return amount.quantize(MONEY_QUANTUM)


def parse_list(value: Any, key: str) -> list[Any]:
    """Return a JSON list; None is empty, and a list of one written as the object itself counts.

    eMAG writes a one-item list as the bare object in places (its documentation's order example).
    """
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    raise PayloadError(f"{key} should be a list, got {type(value).__name__}")
