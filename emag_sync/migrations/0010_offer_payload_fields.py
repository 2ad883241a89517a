# Read what an offer only shows from its stored payload instead of from columns of its own.
#
# Sixteen columns (description, stock, images, characteristics, validation details, ...) were
# copies of parts of `raw` that an offer only shows: nothing filters, sorts or lists them.
# Each sync wrote them twice, and they were most of an offer's row in the table (raw itself
# lives in TOAST), so a search that rechecks rows read far more pages than it needs.
#
# The model now reads them from `raw` (Offer's FromPayload attributes). Dropping a column
# leaves its bytes in every stored row, so on PostgreSQL the table is then rewritten once
# (VACUUM FULL: seconds for 100,000 offers, during which the table is locked), and new rows
# keep their payload out of line (toast_tuple_target). Reversing this migration brings the
# columns back and fills them from `raw` again.

from django.db import migrations

from emag_sync.services.offer_mapping import offer_payload_fields

PAYLOAD_COLUMNS = [
    "attachments",
    "availability",
    "characteristics",
    "description",
    "doc_errors",
    "eu_representative",
    "family",
    "handling_time",
    "images",
    "manufacturer",
    "offer_details",
    "offer_validation_status_detail",
    "safety_information",
    "stock",
    "translation_validation_status_detail",
    "validation_status_detail",
]
BATCH = 1000


def narrow_offer_rows(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Without the dropped columns a row would fall under PostgreSQL's default TOAST target
    # (about 2 kB) with its payload compressed inside it, three times as wide as the row
    # alone. A 1 kB target moves every compressed payload over 1 kB out of the row.
    schema_editor.execute("ALTER TABLE emag_sync_offer SET (toast_tuple_target = 1024)")
    schema_editor.execute("VACUUM FULL emag_sync_offer")


def restore_toast_target(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE emag_sync_offer RESET (toast_tuple_target)")


def fill_columns_from_payload(apps, schema_editor):
    Offer = apps.get_model("emag_sync", "Offer")
    offers = Offer.objects.only("id", "raw").order_by("id")
    last_id = 0
    while batch := list(offers.filter(id__gt=last_id)[:BATCH]):
        for offer in batch:
            values = offer_payload_fields(offer.raw)
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
            name="description",
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
            name="handling_time",
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
            name="stock",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="translation_validation_status_detail",
        ),
        migrations.RemoveField(
            model_name="offer",
            name="validation_status_detail",
        ),
        # The table without the dropped columns' bytes, its payloads kept out of its rows.
        migrations.RunPython(narrow_offer_rows, restore_toast_target),
    ]
