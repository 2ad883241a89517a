"""Conflicts between local values and eMAG."""

from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers

from emag_sync.api.serializers.common import StrictInputSerializer, storable_json
from emag_sync.models import (
    Conflict,
    ConflictResolution,
    Offer,
)
from emag_sync.services.local_edits import LocalEditError, local_edits_check


class ConflictOfferOutput(serializers.ModelSerializer):
    account_type = serializers.CharField(source="account")

    class Meta:
        model = Offer
        fields = ["id", "account_type", "emag_id", "part_number", "name"]
        read_only_fields = fields


class ConflictOutput(serializers.ModelSerializer):
    offer = ConflictOfferOutput()
    base_value = serializers.JSONField(help_text="eMAG's value at the sync before.")
    local_value = serializers.JSONField()
    emag_value = serializers.JSONField()
    detected_in_run_id = serializers.IntegerField(source="detected_in_id", allow_null=True)
    resolved_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    resolution = serializers.ChoiceField(
        choices=ConflictResolution.choices,
        allow_blank=True,
        help_text="Empty while the conflict is open.",
    )

    class Meta:
        model = Conflict
        fields = [
            "id",
            "offer",
            "field",
            "base_value",
            "local_value",
            "emag_value",
            "status",
            "resolution",
            "detected_in_run_id",
            "detected_at",
            "resolved_by",
            "resolved_at",
        ]
        read_only_fields = fields


class ConflictResolveInput(StrictInputSerializer):
    resolution = serializers.ChoiceField(
        choices=[
            (ConflictResolution.ACCEPT_EMAG.value, ConflictResolution.ACCEPT_EMAG.label),
            (ConflictResolution.KEEP_LOCAL.value, ConflictResolution.KEEP_LOCAL.label),
            (ConflictResolution.SET.value, ConflictResolution.SET.label),
        ]
    )
    value = serializers.JSONField(
        required=False, help_text="With resolution set: the field's new local value."
    )

    def validate(self, attrs: dict) -> dict:
        conflict: Conflict = self.context["conflict"]
        if attrs["resolution"] != ConflictResolution.SET:
            if "value" in attrs:
                raise serializers.ValidationError(
                    {"value": [gettext("Only resolution set takes a value.")]}
                )
            return attrs
        if attrs.get("value") is None:
            raise serializers.ValidationError({"value": [gettext("Resolution set needs a value.")]})
        try:
            storable_json(attrs["value"])
            local_edits_check(offer=conflict.offer, edits={conflict.field: attrs["value"]})
        except LocalEditError as error:
            raise serializers.ValidationError({"value": [str(error)]}) from None
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"value": error.detail}) from None
        return attrs
