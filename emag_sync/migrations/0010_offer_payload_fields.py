# Read what an offer only shows from its stored payload instead of from columns of its own.
#
# Thirteen columns (images, characteristics, validation details, ...) were copies of parts of
# `raw`: nothing filters, sorts, lists or edits them. Each sync wrote them twice, and they were
# half of an offer's row in the table (raw itself lives in TOAST), so a search that rechecks
# rows read twice the pages it needs.
#
# The model now reads them from `raw` (Offer's FromPayload attributes). Dropping a column
# leaves its bytes in every stored row, so on PostgreSQL the table is then rewritten once
# (VACUUM FULL: seconds for 100,000 offers, during which the table is locked). Reversing
# this migration brings the columns back and fills them from `raw` again.

from django.db import migrations

from emag_sync.services.offer_mapping import offer_payload_fields

PAYLOAD_COLUMNS = [
    "attachments",
    "availability",
    "characteristics",
    "doc_errors",
    "eu_representative",
    "family",
    "images",
    "manufacturer",
    "offer_details",
    "offer_validation_status_detail",
    "safety_information",
    "translation_validation_status_detail",
    "validation_status_detail",
]
BATCH = 1000


def rewrite_offer_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM FULL emag_sync_offer")


def fill_columns_from_payload(apps, schema_editor):
    Offer = apps.get_model("emag_sync", "Offer")
    offers = Offer.objects.only("id", "raw").order_by("id")
    last_id = 0
    while batch := list(offers.filter(id__gt=last_id)[:BATCH]):
        for offer in batch:
            values = offer_payload_fields(offer.raw if isinstance(offer.raw, dict) else {})
            for name in PAYLOAD_COLUMNS:
                setattr(offer, name, values[name])
        Offer.objects.bulk_update(batch, PAYLOAD_COLUMNS)
        last_id = batch[-1].id


class Migration(migrations.Migration):
    # VACUUM cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("emag_sync", "0009_order_customer_search"),
    ]

    operations = [
        # Runs last when reversed, once the columns are back.
        migrations.RunPython(migrations.RunPython.noop, fill_columns_from_payload),
        migrations.RemoveField(
            model_name="offer",
            name="attachments",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="availability",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="characteristics",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="doc_errors",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="eu_representative",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="family",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="images",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="manufacturer",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="offer_details",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="offer_validation_status_detail",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="safety_information",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="translation_validation_status_detail",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="validation_status_detail",
        ),
        # The table without the dropped columns' bytes.
        migrations.RunPython(rewrite_offer_table, migrations.RunPython.noop),
    ]
