# Offers are found by EAN through their own `ean` list instead of a row per EAN.
#
# A page of 100 new offers wrote some 150 EAN rows, their two indexes and their foreign-key
# checks at commit: about a sixth of the page's transaction. The offer row already holds its
# EANs; on PostgreSQL a GIN index on them answers containment (`ean @> '["..."]'`), which
# costs a sync next to nothing. Going back rebuilds the rows from the offers' lists.

from django.db import migrations

CREATE_EAN_INDEX = (
    "CREATE INDEX IF NOT EXISTS offer_ean ON emag_sync_offer USING gin (ean jsonb_path_ops)"
)
DROP_EAN_INDEX = "DROP INDEX IF EXISTS offer_ean"


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


def refill_ean_rows(apps, schema_editor):
    offers = apps.get_model("emag_sync", "Offer")
    offer_eans = apps.get_model("emag_sync", "OfferEan")
    rows = []
    for offer_id, eans in offers.objects.values_list("pk", "ean").iterator(chunk_size=5000):
        rows.extend(offer_eans(offer_id=offer_id, ean=ean) for ean in eans or [])
        if len(rows) >= 5000:
            offer_eans.objects.bulk_create(rows)
            rows = []
    offer_eans.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("emag_sync", "0013_offer_missing_partial_index"),
    ]

    operations = [
        migrations.RunPython(_run(CREATE_EAN_INDEX), _run(DROP_EAN_INDEX)),
        # Backwards, after the table is back: its rows from the offers.
        migrations.RunPython(migrations.RunPython.noop, refill_ean_rows),
        migrations.DeleteModel(
            name="OfferEan",
        ),
    ]
