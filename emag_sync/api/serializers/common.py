"""What every serializer shares: strict input, storable JSON, account names, errors."""

import math
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from emag_sync.accounts import resolve_account_names

# The largest id a BIGINT column holds.
MAX_BIGINT = 2**63 - 1
ACCOUNT_HELP = "An account name (main, fbe, ... as configured), `all`, or `both` (= all)."


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that names unknown fields instead of silently dropping them.

    A typo ("price" for "sale_price", "max_page") would otherwise change nothing, or sync more
    than was meant, without a word.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {key: [f"Unknown field. Allowed: {allowed}."] for key in unknown}
                )
        return super().to_internal_value(data)


def storable_json(value: Any, *, depth: int = 0) -> Any:
    """Return a JSON value unchanged if every database can store it, else raise ValidationError.

    PostgreSQL's jsonb refuses the NUL character, and no JSON column takes NaN or infinity.
    """
    if depth > 32:
        raise serializers.ValidationError("Nested too deeply (at most 32 levels).")
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Text may not contain the NUL character.")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise serializers.ValidationError("Numbers must be finite.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            storable_json(str(key), depth=depth + 1)
            storable_json(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            storable_json(item, depth=depth + 1)
    return value


def account_names_from(value: str) -> list[str]:
    """Return the account names an account_type value means, or raise ValidationError."""
    try:
        return resolve_account_names(value.strip())
    except KeyError as error:
        raise serializers.ValidationError(error.args[0]) from None


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
