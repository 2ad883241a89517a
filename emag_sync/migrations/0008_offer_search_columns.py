# Search on stored upper-case copies of name, SKU and PNK instead of on UPPER() expressions.
#
# The trigram index of migration 0004 finds candidate rows for a name search, but PostgreSQL
# then rechecks every candidate, and with expression indexes each recheck upper-cases the
# name, SKU and PNK again: a search matching a tenth of 100,000 offers spent most of its time
# there. Generated columns are upper-cased once, when the row is written. The indexes move
# from the expressions to the columns (PostgreSQL only, as in 0004).

import django.db.models.functions.text
from django.db import migrations, models

POSTGRES_INDEXES = [
    "DROP INDEX IF EXISTS offer_name_upper_trgm",
    "DROP INDEX IF EXISTS offer_sku_upper_prefix",
    "DROP INDEX IF EXISTS offer_pnk_upper",
    "CREATE INDEX IF NOT EXISTS offer_name_search_trgm "
    "ON emag_sync_offer USING gin (name_search gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS offer_sku_search_prefix "
    "ON emag_sync_offer (part_number_search text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS offer_pnk_search ON emag_sync_offer (part_number_key_search)",
]
POSTGRES_INDEXES_REVERSE = [
    "DROP INDEX IF EXISTS offer_name_search_trgm",
    "DROP INDEX IF EXISTS offer_sku_search_prefix",
    "DROP INDEX IF EXISTS offer_pnk_search",
    "CREATE INDEX IF NOT EXISTS offer_name_upper_trgm "
    "ON emag_sync_offer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS offer_sku_upper_prefix "
    "ON emag_sync_offer ((UPPER(part_number::text)) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS offer_pnk_upper ON emag_sync_offer ((UPPER(part_number_key::text)))",
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
        ("emag_sync", "0007_offer_write_cost"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="name_search",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper("name"),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="offer",
            name="part_number_key_search",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper("part_number_key"),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="offer",
            name="part_number_search",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper("part_number"),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(_run(POSTGRES_INDEXES), _run(POSTGRES_INDEXES_REVERSE)),
    ]
