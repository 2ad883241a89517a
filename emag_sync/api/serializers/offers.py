"""Offers: the list and detail output, local edits, change history."""

from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from emag_sync.api.serializers.common import StrictInputSerializer, storable_json
from emag_sync.models import (
    Conflict,
    EditableField,
    LocalEdit,
    Offer,
    OfferChange,
)
from emag_sync.payloads.offers import PRICE_FIELDS
from emag_sync.payloads.values import MONEY_QUANTUM
from emag_sync.selectors import offer_current_push
from emag_sync.services.local_edits import LocalEditError, local_edits_check


class LocalEditOutput(serializers.ModelSerializer):
    value = serializers.JSONField(help_text="Prices are strings with 4 decimals.")
    edited_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null: a sync."
    )

    class Meta:
        model = LocalEdit
        fields = ["field", "value", "edited_by", "edited_at"]
        read_only_fields = fields


class OfferConflictOutput(serializers.ModelSerializer):
    base_value = serializers.JSONField()
    local_value = serializers.JSONField()
    emag_value = serializers.JSONField()

    class Meta:
        model = Conflict
        fields = ["id", "field", "base_value", "local_value", "emag_value", "detected_at"]
        read_only_fields = fields


OFFER_LIST_FIELDS = [
    "id",
    "account_type",
    "emag_id",
    "emag_offer_id",
    "part_number",
    "part_number_key",
    "name",
    "brand",
    *PRICE_FIELDS,
    "currency",
    "vat_id",
    "status",
    "general_stock",
    "estimated_stock",
    "validation_status",
    "validation_status_description",
    "offer_validation_status",
    "offer_validation_status_description",
    "ean",
    "number_of_offers",
    "buy_button_rank",
    "best_offer_sale_price",
    "url",
    "synced_at",
    "first_seen_at",
    "missing_since",
    "local_edits",
    "has_open_conflicts",
    "push_state",
    "push_messages",
]


# The offer columns a list shows: a list page loads these and nothing else.
OFFER_LIST_COLUMNS = [
    "account",
    *(
        name
        for name in OFFER_LIST_FIELDS
        if name
        not in {"account_type", "local_edits", "has_open_conflicts", "push_state", "push_messages"}
    ),
]


class OfferOutput(serializers.ModelSerializer):
    """An offer as eMAG last returned it, with the seller's local values beside it."""

    account_type = serializers.CharField(source="account")
    status = serializers.IntegerField(
        allow_null=True, help_text="0 inactive, 1 active, 2 end of life."
    )
    ean = serializers.ListField(child=serializers.CharField())
    local_edits = LocalEditOutput(
        many=True,
        source="local_edit_list",
        help_text="Local values that override eMAG's (the overlay).",
    )
    has_open_conflicts = serializers.BooleanField()
    push_state = serializers.SerializerMethodField(
        help_text="The latest push of the local values to eMAG: pending, sending, applied, "
        "confirmed, rejected or uncertain; null when nothing is on its way."
    )
    push_messages = serializers.SerializerMethodField(
        help_text="eMAG's messages on the latest push (why it was rejected)."
    )

    class Meta:
        model = Offer
        fields = OFFER_LIST_FIELDS
        read_only_fields = fields

    def get_push_state(self, offer: Offer) -> str | None:
        push = offer_current_push(offer)
        return push.state if push else None

    def get_push_messages(self, offer: Offer) -> list[str]:
        push = offer_current_push(offer)
        return list(push.messages) if push else []


class OfferListOutput(OfferOutput):
    # No docstring: the schema's description is OfferOutput's.

    # `offer` is an Offer from `offer_list_with_overlay`, which sets `local_edit_list` and
    # `has_open_conflicts` on it.
    def to_representation(self, offer: Any) -> dict[str, Any]:
        """Render an offer of a list page from its attributes, without DRF's field dispatch.

        The output is OfferOutput's, which walks every declared field for every offer: about
        0.15 ms an offer on the bench machine, more than the query of a 50-offer page, and
        a page may hold 1,000. tests/api/test_offer_list_output.py holds the two equal.
        """
        return {
            "id": offer.pk,
            "account_type": offer.account,
            "emag_id": offer.emag_id,
            "emag_offer_id": offer.emag_offer_id,
            "part_number": offer.part_number,
            "part_number_key": offer.part_number_key,
            "name": offer.name,
            "brand": offer.brand,
            "sale_price": _price(offer.sale_price),
            "recommended_price": _price(offer.recommended_price),
            "min_sale_price": _price(offer.min_sale_price),
            "max_sale_price": _price(offer.max_sale_price),
            "currency": offer.currency,
            "vat_id": offer.vat_id,
            "status": offer.status,
            "general_stock": offer.general_stock,
            "estimated_stock": offer.estimated_stock,
            "validation_status": offer.validation_status,
            "validation_status_description": offer.validation_status_description,
            "offer_validation_status": offer.offer_validation_status,
            "offer_validation_status_description": offer.offer_validation_status_description,
            "ean": [str(ean) for ean in offer.ean],
            "number_of_offers": offer.number_of_offers,
            "buy_button_rank": offer.buy_button_rank,
            "best_offer_sale_price": _price(offer.best_offer_sale_price),
            "url": offer.url,
            "synced_at": self._moment(offer.synced_at),
            "first_seen_at": self._moment(offer.first_seen_at),
            "missing_since": self._moment(offer.missing_since),
            "local_edits": (
                self.fields["local_edits"].to_representation(offer.local_edit_list)
                if offer.local_edit_list
                else []
            ),
            "has_open_conflicts": offer.has_open_conflicts,
            "push_state": self.get_push_state(offer),
            "push_messages": self.get_push_messages(offer),
        }

    @cached_property
    def _timezone(self) -> tzinfo:
        # DRF renders times in the timezone current when the answer is rendered.
        return timezone.get_current_timezone()

    def _moment(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        text = value.astimezone(self._timezone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _price(value: Decimal | None) -> str | None:
    # Prices are numeric(16, 4) columns: four decimals, as DRF's DecimalField renders them.
    return None if value is None else f"{value.quantize(MONEY_QUANTUM):f}"


class OfferDetailOutput(OfferOutput):
    open_conflicts = OfferConflictOutput(many=True)
    # Parts of eMAG's payload that the offer reads from `raw` rather than from columns.
    description = serializers.CharField(read_only=True)
    stock = serializers.JSONField(read_only=True, help_text="Stock per warehouse.")
    handling_time = serializers.JSONField(read_only=True)
    availability = serializers.JSONField(read_only=True)
    validation_status_detail = serializers.JSONField(read_only=True)
    translation_validation_status_detail = serializers.JSONField(read_only=True)
    offer_validation_status_detail = serializers.JSONField(read_only=True, allow_null=True)
    doc_errors = serializers.JSONField(read_only=True, allow_null=True)
    images = serializers.JSONField(read_only=True)
    characteristics = serializers.JSONField(read_only=True)
    family = serializers.JSONField(read_only=True, allow_null=True)
    attachments = serializers.JSONField(read_only=True)
    offer_details = serializers.JSONField(read_only=True, allow_null=True)
    manufacturer = serializers.JSONField(read_only=True, allow_null=True)
    eu_representative = serializers.JSONField(read_only=True, allow_null=True)
    safety_information = serializers.CharField(read_only=True)

    class Meta:
        model = Offer
        fields = [
            *OFFER_LIST_FIELDS,
            "brand_name",
            "description",
            "category_id",
            "vendor_category_id",
            "warranty",
            "stock",
            "handling_time",
            "availability",
            "validation_status_detail",
            "translation_validation_status",
            "translation_validation_status_detail",
            "offer_validation_status_detail",
            "doc_errors",
            "ownership",
            "best_offer_recommended_price",
            "genius_eligibility",
            "genius_eligibility_type",
            "genius_computed",
            "images",
            "characteristics",
            "family",
            "attachments",
            "offer_details",
            "manufacturer",
            "eu_representative",
            "safety_information",
            "local_notes",
            "custom_attributes",
            "open_conflicts",
        ]
        read_only_fields = fields


def _price_input() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        required=False,
        allow_null=True,
        help_text="Without VAT, as eMAG's prices are.",
    )


class OfferUpdateInput(StrictInputSerializer):
    """Local values for an offer. null drops a local value, so eMAG's shows again."""

    sale_price = _price_input()
    recommended_price = _price_input()
    min_sale_price = _price_input()
    max_sale_price = _price_input()
    general_stock = serializers.IntegerField(
        min_value=0,
        max_value=65535,
        required=False,
        allow_null=True,
        help_text="Read-only on offers fulfilled by eMAG (FBE).",
    )
    handling_time = serializers.IntegerField(
        min_value=0, max_value=255, required=False, allow_null=True
    )
    status = serializers.IntegerField(min_value=0, max_value=2, required=False, allow_null=True)
    vat_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="One of eMAG's vat/read ids."
    )
    name = serializers.CharField(max_length=255, required=False, allow_null=True)
    brand = serializers.CharField(max_length=255, required=False, allow_null=True)
    description = serializers.CharField(
        max_length=100_000, required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    local_notes = serializers.CharField(
        max_length=100_000, required=False, allow_blank=True, trim_whitespace=False
    )
    custom_attributes = serializers.DictField(required=False, validators=[storable_json])

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError(gettext("Send at least one field to change."))
        offer = self.context["offer"]
        edits = {field: value for field, value in attrs.items() if field in EditableField.values}
        try:
            # Together: eMAG's rules between prices see every value sent.
            local_edits_check(offer=offer, edits=edits)
        except LocalEditError as error:
            raise serializers.ValidationError(error.errors) from None
        return attrs

    def split(self) -> tuple[dict, dict]:
        """Return (overlay edits, local-only columns) from the validated data."""
        edits = {k: v for k, v in self.validated_data.items() if k in EditableField.values}
        local = {k: v for k, v in self.validated_data.items() if k not in EditableField.values}
        return edits, local


class OfferChangeOutput(serializers.ModelSerializer):
    old_value = serializers.JSONField()
    new_value = serializers.JSONField()
    run_id = serializers.IntegerField(allow_null=True, help_text="The sync that saw the change.")

    class Meta:
        model = OfferChange
        fields = ["id", "field", "old_value", "new_value", "run_id", "changed_at"]
        read_only_fields = fields
