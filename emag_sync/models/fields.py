"""Model fields of our own."""

from typing import Any

from django.db import models

# Bytes of a payload's SHA-256 kept as its content hash (offers and orders).
CONTENT_HASH_BYTES = 16
# The largest value a BIGINT column (an eMAG id) holds: a longer number cannot be an id here,
# and asking the database for one would fail instead of finding nothing.
MAX_BIGINT = 2**63 - 1


class PayloadField(models.JSONField):
    """A JSON document kept whole: PostgreSQL `json` (checked text) instead of `jsonb`.

    eMAG's raw payloads are written with every change and only ever read back whole, never
    queried inside. PostgreSQL stores `json` as the text it is given, which costs far less
    than building `jsonb` (for a page of offers, a large part of the database's work) and
    keeps the document as it was sent. Elsewhere it is a plain JSONField.
    """

    def db_type(self, connection) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression, connection) -> Any:
        # The driver decodes `json` itself (Django asks it for the text of `jsonb` only).
        if value is None or not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)
