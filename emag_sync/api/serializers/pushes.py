"""Pushes of local values to eMAG: the push request, the record of each push."""

from rest_framework import serializers

from emag_sync.api.serializers.common import ACCOUNT_HELP, StrictInputSerializer, account_names_from
from emag_sync.api.serializers.syncs import JsonObjectField
from emag_sync.models import OfferPush


class PushInput(StrictInputSerializer):
    """Push the pending local values of one account, or of all."""

    account_type = serializers.CharField(default="both", max_length=40, help_text=ACCOUNT_HELP)
    dry_run = serializers.BooleanField(
        default=False, help_text="Answer with the requests a push would send, and send nothing."
    )

    def validate(self, attrs: dict) -> dict:
        attrs["accounts"] = account_names_from(attrs["account_type"])
        return attrs


class OfferPushOutput(serializers.ModelSerializer):
    """One push of one offer: its values, who set them, its run, outcome and eMAG's messages."""

    offer_id = serializers.IntegerField()
    emag_id = serializers.IntegerField(source="offer.emag_id")
    part_number = serializers.CharField(source="offer.part_number")
    account_type = serializers.CharField(source="account")
    pushed_fields = serializers.SerializerMethodField(help_text="The offer fields it carries.")
    values = JsonObjectField(help_text="Field -> value; prices without VAT, 4-decimal strings.")
    requested_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    run_id = serializers.IntegerField(allow_null=True, help_text="The push run that sent it.")
    messages = serializers.ListField(child=serializers.CharField(), help_text="eMAG's messages.")

    class Meta:
        model = OfferPush
        fields = [
            "id",
            "offer_id",
            "emag_id",
            "part_number",
            "account_type",
            "state",
            "pushed_fields",
            "values",
            "requested_by",
            "requested_at",
            "run_id",
            "sends",
            "sent_at",
            "finished_at",
            "messages",
        ]
        read_only_fields = fields

    def get_pushed_fields(self, push: OfferPush) -> list[str]:
        return sorted(push.values)
