# Make each offer a sync writes cheaper for PostgreSQL.
#
# - Indexes no query needs go: the pattern-ops twins of the SKU and PNK indexes (the search
#   uses the UPPER() indexes of migration 0004), the plain PNK index (the search matches PNKs
#   through offer_pnk_upper) and the status index (offer_account_status serves status within
#   an account; three values across accounts are no use to a B-tree). The SKU keeps one plain
#   index, for sorting. EAN rows lose the pattern-ops twin of their EAN index (EANs are
#   matched exactly) and their offer index (the unique (offer, ean) index leads with it).
# - The raw payloads (about 2 kB of JSON per offer and more per order) become PostgreSQL
#   `json` instead of `jsonb` (see PayloadField): they are only ever read whole, and `json`
#   is stored as checked text, far cheaper to write. Existing values are cast in place.
# - They are compressed with lz4 instead of pglz where the server has it (PostgreSQL 14 or
#   newer, built with lz4, as Debian's and the official images are): several times cheaper
#   to compress, for a few percent more space.

import django.db.models.deletion
from django.db import migrations, models

import emag_sync.models.fields

LZ4_COLUMNS = [("emag_sync_offer", "raw"), ("emag_sync_order", "raw")]


def _set_compression(schema_editor, method):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int >= 140000")
        if not cursor.fetchone()[0]:
            return
        if method == "lz4":
            # A server built without lz4 refuses the setting: keep pglz there.
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = "
                "'default_toast_compression' AND 'lz4' = ANY(enumvals))"
            )
            if not cursor.fetchone()[0]:
                return
    for table, column in LZ4_COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION {method}'
        )


def compress_payloads_with_lz4(apps, schema_editor):
    _set_compression(schema_editor, "lz4")


def compress_payloads_with_pglz(apps, schema_editor):
    _set_compression(schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [
        ("emag_sync", "0006_request_log_plural_name"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offer",
            name="part_number",
            field=models.CharField(blank=True, max_length=64, verbose_name="SKU"),
        ),
        migrations.AlterField(
            model_name="offer",
            name="part_number_key",
            field=models.CharField(blank=True, max_length=32, verbose_name="PNK"),
        ),
        migrations.AlterField(
            model_name="offer",
            name="status",
            field=models.SmallIntegerField(
                choices=[(0, "Inactive"), (1, "Active"), (2, "End of life")], null=True
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(fields=["part_number"], name="offer_sku"),
        ),
        migrations.AlterField(
            model_name="offerean",
            name="ean",
            field=models.CharField(max_length=32),
        ),
        migrations.AlterField(
            model_name="offerean",
            name="offer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="ean_rows",
                to="emag_sync.offer",
            ),
        ),
        migrations.AddIndex(
            model_name="offerean",
            index=models.Index(fields=["ean"], name="offerean_ean"),
        ),
        migrations.AlterField(
            model_name="offer",
            name="raw",
            field=emag_sync.models.fields.PayloadField(
                default=dict, help_text="The payload exactly as eMAG sent it."
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="raw",
            field=emag_sync.models.fields.PayloadField(
                default=dict, help_text="The payload exactly as eMAG sent it."
            ),
        ),
        # After the type change, which resets a column's compression.
        migrations.RunPython(compress_payloads_with_lz4, compress_payloads_with_pglz),
    ]
