# Indexes behind the API's offer search, and the permission to run syncs.
#
# The search (emag_sync.selectors.offer_search) matches an eMAG id or EAN exactly, a PNK
# case-insensitively, a SKU by case-insensitive prefix and a name by case-insensitive
# substring. Django writes those lookups on PostgreSQL as UPPER(column::text) = / LIKE, so
# the indexes below are on UPPER(column): a B-tree with text_pattern_ops serves the prefix
# whatever the database collation, and a pg_trgm GIN index serves the substring. SQLite has
# neither operator class nor trigram indexes; there the PostgreSQL-only part does nothing.

from django.db import migrations, models

POSTGRES_INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS offer_name_upper_trgm "
    "ON emag_sync_offer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS offer_sku_upper_prefix "
    "ON emag_sync_offer ((UPPER(part_number::text)) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS offer_pnk_upper ON emag_sync_offer ((UPPER(part_number_key::text)))",
]
# The extension stays on the way back: other tables may use it.
POSTGRES_INDEXES_REVERSE = [
    "DROP INDEX IF EXISTS offer_pnk_upper",
    "DROP INDEX IF EXISTS offer_sku_upper_prefix",
    "DROP INDEX IF EXISTS offer_name_upper_trgm",
]


def create_postgres_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRES_INDEXES:
        schema_editor.execute(statement)


def drop_postgres_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRES_INDEXES_REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("emag_sync", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="syncrun",
            options={
                "get_latest_by": "created_at",
                "ordering": ["-created_at", "-id"],
                "permissions": [("run_sync", "Can start, cancel and test eMAG syncs")],
            },
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(fields=["emag_id"], name="offer_emag_id"),
        ),
        migrations.RunPython(create_postgres_search_indexes, drop_postgres_search_indexes),
    ]
