"""Write a page of offer rows (and their EANs) in a fixed number of statements.

On PostgreSQL rows are streamed with COPY, which costs PostgreSQL and Python far less than
per-value SQL literals for wide rows with large JSON values:

- offers known to be new (the page writer has just looked them up) are copied straight
  into the offer table, their primary keys drawn by the table's own default;
- offers that may exist are copied into a temporary table and moved into the offer table by
  one `INSERT ... SELECT ... ON CONFLICT DO UPDATE`.

Elsewhere (SQLite) Django's bulk create and bulk upsert are used. Every path keeps the same
contract: rows are keyed on (account, emag_id), the listed columns are overwritten, and
local-only columns are never touched by an update.
"""

import operator
from typing import Any

import orjson
from django.db import connection

from emag_sync.models import Offer
from emag_sync.payloads.offers import MIRROR_FIELDS

UPSERT_FIELDS = [*MIRROR_FIELDS, "raw", "content_hash", "synced_at", "missing_since"]
# Columns only a seller writes: a new row gets their defaults, an update never touches them.
LOCAL_ONLY_FIELDS = ["local_notes", "custom_attributes"]
INSERT_FIELDS = ["account", "emag_id", *UPSERT_FIELDS, "first_seen_at", *LOCAL_ONLY_FIELDS]
STAGING_TABLE = "emag_sync_offer_staging"

_fields = {field.name: field for field in Offer._meta.concrete_fields}
JSON_FIELDS = frozenset(
    name for name, field in _fields.items() if field.get_internal_type() == "JSONField"
)


# What a new row holds in the columns only a seller writes.
LOCAL_DEFAULTS = {name: _fields[name].get_default() for name in LOCAL_ONLY_FIELDS}


class JsonText(str):
    """A JSON column value already encoded (when the page was parsed): COPY sends it as is."""

    __slots__ = ()


def encode_json(value: Any) -> JsonText:
    """Return a JSON column value encoded once, for any of the write paths below."""
    return JsonText(orjson.dumps(value).decode())


def offers_insert(rows: list[dict[str, Any]]) -> None:
    """Insert offer rows that the caller has just found missing, in its transaction.

    Raises IntegrityError when another writer has stored one of them since (only a second
    sync of the same account could, which the run claim prevents). The error ends the
    caller's transaction, so the caller writes the page again, upserting.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        Offer.objects.bulk_create([Offer(**_decoded(row)) for row in rows])
        return
    with connection.cursor() as cursor:
        _copy(cursor, Offer._meta.db_table, INSERT_FIELDS, rows)


def offers_upsert(rows: list[dict[str, Any]]) -> None:
    """Insert or update offer rows (dicts of INSERT_FIELDS), keyed on (account, emag_id)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_upsert(rows)
        return
    Offer.objects.bulk_create(
        [Offer(**_decoded(row)) for row in rows],
        update_conflicts=True,
        unique_fields=["account", "emag_id"],
        update_fields=UPSERT_FIELDS,
    )


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: orjson.loads(value.encode()) if isinstance(value, JsonText) else value
        for name, value in row.items()
    }


def _copy(cursor, table: str, names: list[str], rows: list[dict[str, Any]]) -> None:
    """Stream rows (dicts holding every name) into a table."""
    columns = ", ".join(f'"{_fields[name].column}"' for name in names)
    pick = operator.itemgetter(*names)
    json_positions = [position for position, name in enumerate(names) if name in JSON_FIELDS]
    # The driver's own cursor streams COPY; Django's error classes still apply to it.
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(
            # Identifiers come from model metadata, values are streamed by COPY.
            f'COPY "{table}" ({columns}) FROM STDIN'  # nosec B608
        ) as copy,
    ):
        for row in rows:
            values = list(pick(row))
            for position in json_positions:
                if not isinstance(values[position], JsonText):
                    values[position] = encode_json(values[position])
            copy.write_row(values)


def _copy_upsert(rows: list[dict[str, Any]]) -> None:
    table = Offer._meta.db_table
    column_list = ", ".join(f'"{_fields[name].column}"' for name in INSERT_FIELDS)
    updates = ", ".join(
        f'"{_fields[name].column}" = EXCLUDED."{_fields[name].column}"' for name in UPSERT_FIELDS
    )
    with connection.cursor() as cursor:
        # A session-local table, emptied by the statement that reads it, so it is reused by
        # every page of this connection without leaking rows between pages or transactions.
        cursor.execute(
            # Identifiers come from model metadata, values are bound by COPY.
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{STAGING_TABLE}" '  # nosec B608
            f'AS SELECT {column_list} FROM "{table}" WITH NO DATA'
        )
        _copy(cursor, STAGING_TABLE, INSERT_FIELDS, rows)
        cursor.execute(
            # Identifiers come from model metadata, values are bound by COPY.
            f'WITH staged AS (DELETE FROM "{STAGING_TABLE}" RETURNING *) '  # nosec B608
            f'INSERT INTO "{table}" ({column_list}) SELECT {column_list} FROM staged '
            f"ON CONFLICT (account, emag_id) DO UPDATE SET {updates}"
        )
