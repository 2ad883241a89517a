"""What every serializer shares: strict input, storable JSON, account names, errors."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers

from emag_sync.accounts import resolve_account_names
from emag_sync.services.local_edits import json_storage_problem

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
                    {
                        key: [
                            gettext("Unknown field. Allowed: %(allowed)s.") % {"allowed": allowed}
                        ]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


def storable_json(value: Any) -> Any:
    """Return a JSON value unchanged if every database can store it, else raise ValidationError.

    PostgreSQL's jsonb refuses the NUL character, and no JSON column takes NaN or infinity.
    """
    problem = json_storage_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


def account_names_from(value: str) -> list[str]:
    """Return the account names an account_type value means, or raise ValidationError."""
    try:
        return resolve_account_names(value.strip())
    except KeyError as error:
        raise serializers.ValidationError(error.args[0]) from None


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
