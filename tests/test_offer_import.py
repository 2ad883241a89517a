"""Import of local values from CSV or XLSX: a preview with per-row errors, then the good rows."""

from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from emag_sync.imports import OfferCsv, OfferLocalValuesResource, decimal_text
from emag_sync.models import LocalEdit, OfferPush, PushState
from tests.admin_support import make_offers
from tests.push_support import stored_offer

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:emag_sync_offer_import")
PROCESS_URL = reverse("admin:emag_sync_offer_process_import")
BAD_ROWS = {
    # row number in the file (1 = first data row) -> what is wrong with it
    17: ("MAIN-SKU-99999", "12.50", "3"),  # no such offer
    400: ("MAIN-SKU-00400", "abc", "3"),  # not a price
    999: ("MAIN-SKU-00999", "20.00", "-4"),  # stock below 0
}


def thousand_rows_csv(delimiter=",", decimal="."):
    """Return a CSV of 1,000 MAIN offers' new price and stock, with the 3 bad rows above."""
    lines = [delimiter.join(["part_number", "sale_price", "general_stock"])]
    for number in range(1, 1001):
        sku, price, stock = BAD_ROWS.get(
            number, (f"MAIN-SKU-{number:05d}", f"{20 + number % 7}.25", str(number % 9))
        )
        lines.append(delimiter.join([sku, price.replace(".", decimal), stock]))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def thousand_offers():
    return make_offers("main", 1000)


@pytest.fixture
def offers():
    return make_offers("main", 10)


def upload(client, content: bytes, name="offers.csv", file_format=0):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile(name, content), "format": file_format},
    )


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(PROCESS_URL, {**form.initial, "confirm": "Confirm import"})


# About 4 s: 1,000 rows read, checked and previewed, then the 997 good ones written at once.
@pytest.mark.slow
def test_a_thousand_row_file_previews_its_three_bad_rows_and_applies_the_rest(
    admin_client, thousand_offers
):
    preview = upload(admin_client, thousand_rows_csv())

    result = preview.context["result"]
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert sorted(errors) == sorted(BAD_ROWS)
    assert "No offer with part_number MAIN-SKU-99999" in str(errors[17])
    assert "sale_price" in errors[400]
    assert "general_stock" in errors[999]
    assert len(result.valid_rows()) == 997
    first = dict(zip(result.diff_headers, result.valid_rows()[0].diff, strict=True))
    assert first["part_number"] == "MAIN-SKU-00001"
    assert first["sale_price"] == "11.5000 → 21.2500" and first["general_stock"] == "1"
    assert preview.context["confirm_form"] is not None
    assert b"3 rows with errors" in preview.content and b"997 rows to apply" in preview.content
    assert not LocalEdit.objects.exists(), "the preview saved something"

    applied = confirm(admin_client, preview)

    assert applied.status_code == 302
    prices = dict(
        LocalEdit.objects.filter(field="sale_price").values_list("offer__emag_id", "value")
    )
    assert len(prices) == 997 and 400 not in prices and 999 not in prices
    assert prices[1] == "21.2500" and prices[1000] == "26.2500"
    assert OfferPush.objects.filter(state=PushState.PENDING).count() == 997


def test_an_offer_named_by_two_rows_ends_with_the_later_rows_values(admin_client, offers):
    content = (
        "part_number,sale_price,general_stock\n"
        "MAIN-SKU-00001,30,7\n"
        "MAIN-SKU-00002,31,\n"
        "MAIN-SKU-00001,32,\n"
    )
    preview = upload(admin_client, content.encode())
    assert not preview.context["result"].has_validation_errors()

    confirm(admin_client, preview)

    edits = LocalEdit.objects.filter(offer__part_number="MAIN-SKU-00001")
    assert dict(edits.values_list("field", "value")) == {
        "sale_price": "32.0000",
        "general_stock": 7,
    }
    assert OfferPush.objects.get(offer__part_number="MAIN-SKU-00001").values == {
        "sale_price": "32.0000",
        "general_stock": 7,
    }
    assert OfferPush.objects.filter(state=PushState.PENDING).count() == 2


def test_a_romanian_file_reads_semicolons_and_decimal_commas(admin_client, offers):
    content = "\ufeffpart_number;sale_price;general_stock\nMAIN-SKU-00001;1.234,50;7\n"
    preview = upload(admin_client, content.encode())
    assert not preview.context["result"].has_validation_errors()

    confirm(admin_client, preview)

    assert dict(LocalEdit.objects.values_list("field", "value")) == {
        "sale_price": "1234.5000",
        "general_stock": 7,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.234,50", "1234.50"), ("12,5", "12.5"), ("1,234.50", "1234.50"), ("12.50", "12.50")],
)
def test_decimal_commas_and_thousands_separators(text, expected):
    assert Decimal(decimal_text(text)) == Decimal(expected)


def test_an_xlsx_file_imports_too(admin_client, offers):
    sheet = tablib.Dataset(headers=["emag_id", "sale_price", "handling_time", "status"])
    sheet.append([2, 30.5, 3, 0])
    preview = upload(admin_client, sheet.export("xlsx"), name="offers.xlsx", file_format=1)
    assert not preview.context["result"].has_validation_errors(), preview.context["result"]

    confirm(admin_client, preview)

    assert dict(LocalEdit.objects.values_list("field", "value")) == {
        "sale_price": "30.5000",
        "handling_time": 3,
        "status": 0,
    }


def test_an_import_applies_emags_price_rules_and_saves_nothing_of_a_bad_row():
    offer = stored_offer()  # 1,200 within [1,003, 1,500]
    data = OfferCsv(encoding="utf-8").create_dataset(
        f"part_number,sale_price,min_sale_price\n{offer.part_number},1,\n"
    )

    result = OfferLocalValuesResource().import_data(data, dry_run=False)

    assert result.has_validation_errors()
    message = str(result.invalid_rows[0].error_dict["sale_price"])
    assert "within [1003.00, 1500.00]" in message
    assert not LocalEdit.objects.exists() and not OfferPush.objects.exists()


def test_the_import_never_creates_offers_nor_writes_emags_columns(offers):
    data = OfferCsv(encoding="utf-8").create_dataset(
        "part_number,sale_price\nMAIN-SKU-00005,99.00\nNEW-SKU,5.00\n"
    )

    result = OfferLocalValuesResource().import_data(data, dry_run=False)

    assert [row.number for row in result.invalid_rows] == [2]
    offer = offers[4]
    offer.refresh_from_db()
    assert offer.sale_price == Decimal("15.5000")  # eMAG's column as the sync left it
    assert LocalEdit.objects.get().value == "99.0000"


def test_a_file_without_a_key_column_is_refused_with_the_reason(admin_client, offers):
    preview = upload(admin_client, b"name,sale_price\nx,1\n")

    result = preview.context["result"]
    assert result.has_errors()
    assert "part_number or an emag_id column" in str(result.base_errors[0].error)
    assert "confirm_form" not in preview.context


def test_the_changelist_links_to_the_import_next_to_the_export(admin_client, offers):
    page = admin_client.get(reverse("admin:emag_sync_offer_changelist"))

    assert b'id="mf-import"' in page.content and b'id="mf-export-csv"' in page.content
    form = admin_client.get(IMPORT_URL)
    assert b"Prices are without VAT" in form.content
