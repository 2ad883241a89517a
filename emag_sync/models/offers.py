"""Offers as eMAG returns them, with their local overlay, conflicts and change history."""

from typing import TYPE_CHECKING, Any, TypedDict

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from emag_sync.payloads.offers import offer_payload_fields

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from .fields import (
    account_column,
    content_hash_column,
    payload_column,
    read_warnings_column,
    user_link,
)
from .runs import sync_run_link
from .search import Folded


class MoneyDigits(TypedDict):
    max_digits: int
    decimal_places: int


# eMAG's amounts carry up to 4 decimals (docs/emag-api.md §3.4); every money column and form
# field takes this precision.
MONEY: MoneyDigits = {"max_digits": 16, "decimal_places": 4}


class FromPayload:
    """A read-only offer attribute taken from the stored eMAG payload, not from a column.

    For what an offer only shows: keeping it in `raw` alone spares every sync a second copy.
    """

    def __init__(self, short_description: "StrOrPromise | None" = None) -> None:
        # The admin labels a read-only attribute by its `short_description`.
        if short_description is not None:
            self.short_description = short_description

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None) -> Any:
        if instance is None:
            return self
        return offer_payload_fields(instance.raw)[self.name]


class OfferStatus(models.IntegerChoices):
    INACTIVE = 0, _("Inactive")
    ACTIVE = 1, _("Active")
    END_OF_LIFE = 2, _("End of life")


class Offer(models.Model):
    """One seller offer on eMAG, as eMAG last returned it, for one account.

    The eMAG columns always mirror eMAG; local edits live in `LocalEdit` as an overlay.
    Identity is eMAG's seller product id (`emag_id`), never the part number, so a
    part-number change updates the row instead of creating a duplicate.
    """

    account = account_column()
    emag_id = models.BigIntegerField(
        _("product id on eMAG"), help_text=_("eMAG seller product id (`id`).")
    )
    emag_offer_id = models.BigIntegerField(
        _("offer id on eMAG"),
        null=True,
        blank=True,
        help_text=_("eMAG's internal offer id (`offer_details.id`)."),
    )
    part_number = models.CharField(_("SKU"), max_length=64, blank=True)
    part_number_key = models.CharField(_("PNK"), max_length=32, blank=True)
    name = models.TextField(_("name"), blank=True)
    brand = models.CharField(_("brand"), max_length=255, blank=True)
    brand_name = models.CharField(_("brand name"), max_length=255, blank=True)
    url = models.TextField(_("URL"), blank=True)
    category_id = models.BigIntegerField(_("category id"), null=True, blank=True)
    vendor_category_id = models.CharField(_("seller's category id"), max_length=64, blank=True)

    sale_price = models.DecimalField(
        _("sale price"), **MONEY, null=True, blank=True, help_text=_("Without VAT.")
    )
    recommended_price = models.DecimalField(_("recommended price"), **MONEY, null=True, blank=True)
    min_sale_price = models.DecimalField(_("minimum sale price"), **MONEY, null=True, blank=True)
    max_sale_price = models.DecimalField(_("maximum sale price"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    vat_id = models.IntegerField(_("VAT rate id"), null=True, blank=True)
    warranty = models.IntegerField(_("warranty"), null=True, blank=True, help_text=_("Months."))

    status = models.SmallIntegerField(_("status"), choices=OfferStatus.choices, null=True)
    general_stock = models.IntegerField(_("stock"), null=True, blank=True)
    estimated_stock = models.IntegerField(_("estimated stock"), null=True, blank=True)

    validation_status = models.SmallIntegerField(
        _("validation status"), null=True, blank=True, db_index=True
    )
    validation_status_description = models.CharField(
        _("validation status description"), max_length=255, blank=True
    )
    translation_validation_status = models.SmallIntegerField(
        _("translation validation status"), null=True, blank=True
    )
    offer_validation_status = models.SmallIntegerField(
        _("offer validation status"), null=True, blank=True, db_index=True
    )
    offer_validation_status_description = models.CharField(
        _("offer validation status description"), max_length=255, blank=True
    )

    ownership = models.SmallIntegerField(
        _("ownership"),
        null=True,
        blank=True,
        help_text=_(
            "1 eligible for content updates, 2 not (eMAG returns true/false; stored as 1/2)."
        ),
    )
    number_of_offers = models.IntegerField(_("number of offers"), null=True, blank=True)
    buy_button_rank = models.IntegerField(_("buy button rank"), null=True, blank=True)
    best_offer_sale_price = models.DecimalField(
        _("best offer's sale price"), **MONEY, null=True, blank=True
    )
    best_offer_recommended_price = models.DecimalField(
        _("best offer's recommended price"), **MONEY, null=True, blank=True
    )
    genius_eligibility = models.SmallIntegerField(_("Genius eligibility"), null=True, blank=True)
    genius_eligibility_type = models.SmallIntegerField(
        _("Genius eligibility type"), null=True, blank=True
    )
    genius_computed = models.SmallIntegerField(_("Genius computed"), null=True, blank=True)

    # Searched exactly by one of them: on PostgreSQL through a GIN index (0002_postgresql),
    # so a sync writes an offer's EANs once, with the offer, and no row for each.
    ean = models.JSONField(_("EANs"), default=list, blank=True)
    read_warnings = read_warnings_column()

    raw = payload_column()
    # Only shown: read from `raw` (payloads.offers.PAYLOAD_FIELDS).
    description = FromPayload(_("description"))
    stock = FromPayload()  # per warehouse
    handling_time = FromPayload()
    availability = FromPayload()
    validation_status_detail = FromPayload()
    translation_validation_status_detail = FromPayload()
    offer_validation_status_detail = FromPayload()
    doc_errors = FromPayload()
    images = FromPayload()
    characteristics = FromPayload()
    family = FromPayload()
    attachments = FromPayload()
    offer_details = FromPayload()
    manufacturer = FromPayload()
    eu_representative = FromPayload()
    safety_information = FromPayload(_("safety information"))
    content_hash = content_hash_column()
    synced_at = models.DateTimeField(
        _("synced at"), db_index=True, help_text=_("When eMAG's content last changed.")
    )
    first_seen_at = models.DateTimeField(_("first seen"))
    missing_since = models.DateTimeField(
        _("missing since"),
        null=True,
        blank=True,
        help_text=_("Not returned by the last full pass."),
    )

    # Local-only data: never sent by eMAG, never touched by a sync.
    local_notes = models.TextField(_("local notes"), blank=True)
    custom_attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)

    # Upper-cased copies of what the search matches, kept by the database on every write, so
    # a search compares stored values instead of upper-casing each candidate row again; on
    # PostgreSQL each has its index (migration 0002_postgresql); they come first in the
    # table (0001_initial). The name is also folded (diacritics dropped, 0001_initial):
    # `cafetiera` finds `Cafetieră`. See selectors.offer_search.
    name_search = models.GeneratedField(
        expression=Folded("name"), output_field=models.TextField(), db_persist=True
    )
    part_number_search = models.GeneratedField(
        expression=Upper("part_number"), output_field=models.TextField(), db_persist=True
    )
    part_number_key_search = models.GeneratedField(
        expression=Upper("part_number_key"), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["account", "emag_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "emag_id"], name="uniq_offer_account_emag_id"
            )
        ]
        # Every index is paid for on each offer a sync writes, so each one here serves a query:
        # filters and sorts within an account; the search by PNK, any part of the SKU and
        # name has its PostgreSQL indexes in migration 0002_postgresql.
        indexes = [
            models.Index(fields=["account", "status"], name="offer_account_status"),
            models.Index(fields=["account", "part_number"], name="offer_account_sku"),
            # Sorting every account's offers by SKU.
            models.Index(fields=["part_number"], name="offer_sku"),
            # API search by eMAG id across every account (the unique index leads with account).
            models.Index(fields=["emag_id"], name="offer_emag_id"),
            # The "missing" filters. Only missing offers are indexed: the present ones, nearly
            # all, are never looked up by it, and a sync's new offers then add no entry.
            models.Index(
                fields=["missing_since"],
                name="offer_missing",
                condition=Q(missing_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.upper()} {self.part_number or self.emag_id}"


class EditableField(models.TextChoices):
    """Offer fields a seller may override locally; the PUSHABLE ones are sent to eMAG."""

    SALE_PRICE = "sale_price", _("Sale price")
    RECOMMENDED_PRICE = "recommended_price", _("Recommended price")
    MIN_SALE_PRICE = "min_sale_price", _("Minimum sale price")
    MAX_SALE_PRICE = "max_sale_price", _("Maximum sale price")
    STOCK = "general_stock", _("Stock")
    HANDLING_TIME = "handling_time", _("Handling time")
    STATUS = "status", _("Status")
    VAT_ID = "vat_id", _("VAT rate")
    NAME = "name", _("Name")
    DESCRIPTION = "description", _("Description")
    BRAND = "brand", _("Brand")


class LocalEdit(models.Model):
    """A local value for one field of an offer, overlaid on eMAG's value."""

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="local_edits"
    )
    field = models.CharField(_("field"), max_length=32, choices=EditableField.choices)
    value = models.JSONField(_("value"), help_text=_("Decimals are stored as strings, exactly."))
    edited_by = user_link(_("edited by"))
    edited_at = models.DateTimeField(_("edited at"))

    class Meta:
        verbose_name = _("local edit")
        verbose_name_plural = _("local edits")
        ordering = ["offer", "field"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "field"], name="uniq_local_edit_offer_field")
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.field}={self.value}"


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ConflictResolution(models.TextChoices):
    ACCEPT_EMAG = "accept_emag", _("Accept eMAG")
    KEEP_LOCAL = "keep_local", _("Keep local")
    SET = "set", _("Set a value")
    CONVERGED = "converged", _("Both sides agree")


class Conflict(models.Model):
    """A field changed on eMAG and locally since the last sync, waiting for a person."""

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="conflicts"
    )
    field = models.CharField(_("field"), max_length=32, choices=EditableField.choices)
    base_value = models.JSONField(
        _("base value"), null=True, help_text=_("eMAG's value at the previous sync.")
    )
    local_value = models.JSONField(_("local value"), null=True)
    emag_value = models.JSONField(_("value on eMAG"), null=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=ConflictResolution.choices, blank=True
    )
    detected_in = sync_run_link("conflicts", _("detected in"))
    detected_at = models.DateTimeField(_("detected at"))
    resolved_by = user_link(_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "field"],
                condition=Q(status="open"),
                name="uniq_open_conflict_offer_field",
            )
        ]
        indexes = [models.Index(fields=["status"], name="conflict_status")]

    def __str__(self) -> str:
        return f"{self.offer} {self.field} ({self.get_status_display()})"


class OfferChange(models.Model):
    """One field of one offer that a sync saw change on eMAG: the audit trail."""

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="changes"
    )
    field = models.CharField(_("field"), max_length=64)
    old_value = models.JSONField(_("old value"), null=True)
    new_value = models.JSONField(_("new value"), null=True)
    run = sync_run_link("offer_changes")
    changed_at = models.DateTimeField(_("changed at"), db_index=True)

    class Meta:
        verbose_name = _("offer change")
        verbose_name_plural = _("offer changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["offer", "-changed_at"], name="offerchange_offer_time")]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.field}: {self.old_value} -> {self.new_value}"
