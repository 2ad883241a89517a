# What PostgreSQL gets beyond the models: search indexes, payload compression, TOAST target.
#
# Nothing here changes the models, so on any other database (SQLite, the embedded profile)
# every operation does nothing and the search reads the table instead.
#
# - Search (selectors.offer_search, order_search): the offer name and any part of a SKU, and an
#   order's customer name, are matched as case-insensitive substrings of their upper-cased
#   stored copies (the `*_search` generated columns), which pg_trgm GIN indexes serve; a PNK is
#   matched exactly through a B-tree on its copy; an EAN exactly by containment in the offer's
#   own `ean` list (`ean @> '["..."]'`), which a jsonb_path_ops GIN index answers, so a sync
#   writes an offer's EANs with the offer and no row per EAN.
# - Raw payloads (`raw`, about 2 kB of JSON per offer, more per order) are compressed with lz4
#   instead of pglz where the server has it (PostgreSQL 14 or newer built with lz4, as Debian's
#   and the official images are): several times cheaper to compress, a few percent more space.
# - Offer rows keep any compressed payload over 1 kB out of line (toast_tuple_target): with the
#   default target (about 2 kB) the payload stays inside the row, which would be three times as
#   wide, and a search rechecking candidate rows would read that many more pages.

from django.db import migrations

TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"

SEARCH_INDEXES = {
    "offer_name_search_trgm": "emag_sync_offer USING gin (name_search gin_trgm_ops)",
    "offer_sku_search_trgm": "emag_sync_offer USING gin (part_number_search gin_trgm_ops)",
    "offer_pnk_search": "emag_sync_offer (part_number_key_search)",
    "offer_ean": "emag_sync_offer USING gin (ean jsonb_path_ops)",
    "order_customer_search_trgm": "emag_sync_order USING gin (customer_name_search gin_trgm_ops)",
}

PAYLOAD_COLUMNS = [("emag_sync_offer", "raw"), ("emag_sync_order", "raw")]

OFFER_TOAST_TARGET = 1024


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _has_lz4(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int >= 140000")
        if not cursor.fetchone()[0]:
            return False
        # A server built without lz4 refuses the setting: keep pglz there.
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = "
            "'default_toast_compression' AND 'lz4' = ANY(enumvals))"
        )
        return cursor.fetchone()[0]


def _set_payload_compression(schema_editor, method: str) -> None:
    for table, column in PAYLOAD_COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION {method}'
        )


def add_postgresql_storage_and_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    # The extension stays on the way back: other tables may use it.
    schema_editor.execute(TRIGRAM_EXTENSION)
    for name, target in SEARCH_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    if _has_lz4(schema_editor):
        _set_payload_compression(schema_editor, "lz4")
    schema_editor.execute(
        f"ALTER TABLE emag_sync_offer SET (toast_tuple_target = {OFFER_TOAST_TARGET})"
    )


def remove_postgresql_storage_and_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    schema_editor.execute("ALTER TABLE emag_sync_offer RESET (toast_tuple_target)")
    if _has_lz4(schema_editor):
        _set_payload_compression(schema_editor, "default")
    for name in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("emag_sync", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            add_postgresql_storage_and_indexes,
            remove_postgresql_storage_and_indexes,
            elidable=False,
        ),
    ]
