"""Import local prices, stock, handling time, VAT rate and status from a CSV or XLSX file.

django-import-export reads the file, previews it row by row with each row's errors, and
runs the import; this module only tells it how a row finds its offer and what the row
changes. Nothing is saved by django-import-export's own model save: each row's values are
checked with eMAG's rules as it is read, and the accepted ones are written together at the
end by the local-edit service (`offers_local_values_write`), entering the push outbox.

A row names its offer by `part_number` (the seller's SKU) or `emag_id`, plus `account`
where a SKU is in several accounts; the other columns are the API's names of the pushable
fields. An empty cell changes nothing. Prices are without VAT. Romanian files read too: `;`
as the separator and a decimal comma (`1.234,50`).
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from import_export import fields, resources
from import_export.formats import base_formats

from emag_sync.models import EditableField, Offer
from emag_sync.selectors import offer_local_values_prefetch
from emag_sync.services.local_edits import (
    MONEY_FIELDS,
    LocalEditError,
    emag_value,
    local_edits_check,
    offers_local_values_write,
)

# Column (the API's name) -> editable field. The export's columns, so an exported file
# edited in a spreadsheet imports back.
IMPORT_COLUMNS = {
    "sale_price": EditableField.SALE_PRICE,
    "recommended_price": EditableField.RECOMMENDED_PRICE,
    "min_sale_price": EditableField.MIN_SALE_PRICE,
    "max_sale_price": EditableField.MAX_SALE_PRICE,
    "general_stock": EditableField.STOCK,
    "handling_time": EditableField.HANDLING_TIME,
    "vat_id": EditableField.VAT_ID,
    "status": EditableField.STATUS,
}
KEY_COLUMNS = ("account", "part_number", "emag_id")
COLUMN_OF_FIELD = {field: column for column, field in IMPORT_COLUMNS.items()}


def decimal_text(value: Any) -> Any:
    """Return a number written with a decimal comma (Romanian, `1.234,50`) as `1234.50`.

    A text with both separators takes the last one as the decimal mark; a text with only
    commas takes the comma. Anything else (numbers from XLSX included) is returned as is.
    """
    if not isinstance(value, str):
        return value
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if "," not in text:
        return text
    if "." in text and text.rindex(".") > text.rindex(","):
        return text.replace(",", "")
    return text.replace(".", "").replace(",", ".")


class OfferCsv(base_formats.CSV):
    """CSV with `,` or `;` between columns (Excel in Romanian writes `;`)."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        in_stream = in_stream.removeprefix("\ufeff")
        header = in_stream.split("\n", 1)[0]
        kwargs.setdefault("delimiter", ";" if header.count(";") > header.count(",") else ",")
        return super().create_dataset(in_stream, **kwargs)


class OfferXlsx(base_formats.XLSX):
    """XLSX, first sheet."""


IMPORT_FORMATS = [OfferCsv, OfferXlsx]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class OfferLocalValuesResource(resources.ModelResource):
    """Rows of offers' new local values: found by SKU or eMAG id, written as local edits."""

    account = fields.Field(attribute="account", column_name="account", readonly=True)
    part_number = fields.Field(attribute="part_number", column_name="part_number", readonly=True)
    emag_id = fields.Field(attribute="emag_id", column_name="emag_id", readonly=True)
    # The preview shows each value in effect before and after the row: `import_values`
    # holds them (the local value where set, else eMAG's), never the eMAG columns.
    sale_price = fields.Field(attribute="import_values__sale_price", column_name="sale_price")
    recommended_price = fields.Field(
        attribute="import_values__recommended_price", column_name="recommended_price"
    )
    min_sale_price = fields.Field(
        attribute="import_values__min_sale_price", column_name="min_sale_price"
    )
    max_sale_price = fields.Field(
        attribute="import_values__max_sale_price", column_name="max_sale_price"
    )
    general_stock = fields.Field(attribute="import_values__stock", column_name="general_stock")
    handling_time = fields.Field(
        attribute="import_values__handling_time", column_name="handling_time"
    )
    vat_id = fields.Field(attribute="import_values__vat_id", column_name="vat_id")
    status = fields.Field(attribute="import_values__status", column_name="status")

    class Meta:
        model = Offer
        fields = (*KEY_COLUMNS, *IMPORT_COLUMNS)
        import_order = (*KEY_COLUMNS, *IMPORT_COLUMNS)
        skip_unchanged = False
        report_skipped = True
        # The library's HTML diff styles each change inline, which the Content-Security-Policy
        # blocks; `after_import_row` writes a plain "before → after" per cell instead.
        skip_html_diff = True
        store_instance = True

    def before_import(self, dataset, **kwargs):
        """Load every offer the file names in two queries, with its local values."""
        headers = set(dataset.headers or [])
        if not headers & {"part_number", "emag_id"}:
            raise ValidationError(
                "The file needs a part_number or an emag_id column to find each offer "
                f"(its columns: {', '.join(dataset.headers or []) or 'none'})."
            )
        if not headers & IMPORT_COLUMNS.keys():
            raise ValidationError(
                f"The file has none of the columns that can be imported: {', '.join(IMPORT_COLUMNS)}."
            )
        part_numbers = {
            str(row.get("part_number")).strip()
            for row in dataset.dict
            if not _blank(row.get("part_number"))
        }
        emag_ids = {
            int(row["emag_id"])
            for row in dataset.dict
            if str(row.get("emag_id") or "").strip().isdigit()
        }
        offers = offer_local_values_prefetch(
            Offer.objects.filter(Q(part_number__in=part_numbers) | Q(emag_id__in=emag_ids))
        )
        self.values_to_write: dict[Offer, dict[str, Any]] = {}
        self.offers_by_sku: dict[str, list[Offer]] = {}
        self.offers_by_id: dict[int, list[Offer]] = {}
        for offer in offers:
            offer.import_local = {edit.field: edit.value for edit in offer.overlay_edits}
            offer.import_values = {
                field: offer.import_local.get(field, emag_value(offer, field))
                for field in IMPORT_COLUMNS.values()
            }
            self.offers_by_sku.setdefault(offer.part_number, []).append(offer)
            self.offers_by_id.setdefault(offer.emag_id, []).append(offer)

    def get_instance(self, instance_loader, row):
        """Return the row's offer, or raise ValidationError saying why there is none."""
        account = None if _blank(row.get("account")) else str(row["account"]).strip()
        sku = None if _blank(row.get("part_number")) else str(row["part_number"]).strip()
        emag_id = None if _blank(row.get("emag_id")) else str(row["emag_id"]).strip()
        if sku:
            candidates, named = self.offers_by_sku.get(sku, []), f"part_number {sku}"
        elif emag_id:
            if not emag_id.isdigit():
                raise ValidationError({"emag_id": f"{emag_id!r} is not an eMAG id"})
            candidates, named = self.offers_by_id.get(int(emag_id), []), f"emag_id {emag_id}"
        else:
            raise ValidationError("The row has neither a part_number nor an emag_id.")
        if account:
            candidates = [offer for offer in candidates if offer.account == account]
        if not candidates:
            where = f" in account {account}" if account else ""
            raise ValidationError(f"No offer with {named}{where}.")
        if len(candidates) > 1:
            accounts = ", ".join(sorted(offer.account for offer in candidates))
            raise ValidationError(
                f"{named} is an offer in several accounts ({accounts}): add an account column."
            )
        # A copy: the preview's "before" must not see the row's new values.
        offer = candidates[0]
        offer.import_values = dict(offer.import_values)
        return offer

    def init_instance(self, row=None):
        raise ValidationError("Offers come from eMAG: an import changes existing offers only.")

    def import_instance(self, instance, row, **kwargs):
        """Check the row's values with eMAG's rules; keep the accepted ones for saving."""
        edits = {
            field: decimal_text(row[column]) if field in MONEY_FIELDS else row[column]
            for column, field in IMPORT_COLUMNS.items()
            if column in row and not _blank(row[column])
        }
        edits = {
            field: _whole_number(value) if field not in MONEY_FIELDS else value
            for field, value in edits.items()
        }
        try:
            normalized = local_edits_check(
                offer=instance,
                edits=edits,
                current_local={
                    field: value
                    for field, value in instance.import_local.items()
                    if field in MONEY_FIELDS
                },
            )
        except LocalEditError as error:
            raise ValidationError(
                {
                    COLUMN_OF_FIELD.get(field, field): messages
                    for field, messages in (error.errors or {"__all__": [error.message]}).items()
                }
            ) from None
        instance.import_edits = normalized
        instance.import_before = dict(instance.import_values)
        instance.import_values.update(normalized)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not import_validation_errors and not getattr(instance, "import_edits", None)

    def save_instance(self, instance, is_create, row, **kwargs):
        """Keep the row's checked values for `after_import` (never a model save)."""
        if self._is_dry_run(kwargs):
            return
        # An offer named by two rows ends with the later row's values, as if applied in turn.
        self.values_to_write.setdefault(instance, {}).update(instance.import_edits)

    def after_import(self, dataset, result, **kwargs):
        """Write every accepted row's values at once: a few queries for the whole file."""
        if self.values_to_write:
            offers_local_values_write(values_by_offer=self.values_to_write, user=kwargs.get("user"))

    def after_import_row(self, row, row_result, **kwargs):
        offer = row_result.instance
        before = getattr(offer, "import_before", None)
        if before is None:
            return
        cells = [offer.account, offer.part_number, str(offer.emag_id)]
        for field in IMPORT_COLUMNS.values():
            old, new = before.get(field), offer.import_values.get(field)
            cells.append(f"{old} → {new}" if old != new else ("" if old is None else str(old)))
        row_result.diff = cells

    def save_m2m(self, instance, row, **kwargs):
        """Offers have no relations an import sets."""


def _whole_number(value: Any) -> Any:
    # XLSX gives 5 as 5.0 and a CSV may say "5,0": a whole number either way.
    text = decimal_text(value) if isinstance(value, str) else value
    try:
        number = Decimal(str(text))
    except ArithmeticError:
        return value
    return int(number) if number.is_finite() and number == number.to_integral_value() else value
