# The search matches any part of a SKU, not only its start (issue 23): the prefix index on the
# upper-cased SKU (migration 0008) gives way to a trigram index, as the name has (PostgreSQL
# only; elsewhere the search scans, as before).

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS offer_sku_search_trgm "
    "ON emag_sync_offer USING gin (part_number_search gin_trgm_ops)",
    "DROP INDEX IF EXISTS offer_sku_search_prefix",
]
REVERSE = [
    "CREATE INDEX IF NOT EXISTS offer_sku_search_prefix "
    "ON emag_sync_offer (part_number_search text_pattern_ops)",
    "DROP INDEX IF EXISTS offer_sku_search_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("emag_sync", "0015_read_warnings"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(REVERSE)),
    ]
