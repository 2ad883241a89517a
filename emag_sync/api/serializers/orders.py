"""Orders: the list and detail output and the order sync request.

Imported only once the orders models exist (see emag_sync/api/urls.py). The output shows
every column of the orders models but the raw payload, so a new column needs no change here.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from emag_sync.api.serializers.common import ACCOUNT_HELP, StrictInputSerializer, account_names_from
from emag_sync.models import Order, OrderLine, OrderStatusChange

# Large or internal columns the API never shows (`account` is shown as `account_type`;
# `customer_name_search` is the search's upper-case copy of `customer_name`).
HIDDEN_COLUMNS = {"raw", "content_hash", "account", "order", "customer_name_search"}


def shown_columns(model) -> list[str]:
    """Return the model's columns the API shows."""
    return [field.name for field in model._meta.concrete_fields if field.name not in HIDDEN_COLUMNS]


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = shown_columns(OrderLine)
        read_only_fields = fields


class OrderStatusChangeOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = shown_columns(OrderStatusChange)
        read_only_fields = fields


class OrderListOutput(serializers.ModelSerializer):
    account_type = serializers.CharField(source="account")

    class Meta:
        model = Order
        fields = ["account_type", *shown_columns(Order)]
        read_only_fields = fields


class OrderDetailOutput(OrderListOutput):
    lines = OrderLineOutput(many=True)
    status_changes = OrderStatusChangeOutput(many=True)

    class Meta:
        model = Order
        fields = ["account_type", *shown_columns(Order), "lines", "status_changes"]
        read_only_fields = fields


class OrderSyncInput(StrictInputSerializer):
    """The predecessor's order sync request, plus run_async."""

    # The predecessor's request: docs/emag-api.md §6.8.
    account_type = serializers.CharField(default="both", max_length=40, help_text=ACCOUNT_HELP)
    sync_mode = serializers.ChoiceField(
        choices=["incremental", "full", "historical"],
        default="incremental",
        help_text=(
            "incremental: orders changed since the last sync; full: orders created in the "
            "last days_back days (default EMAG_ORDERS_INITIAL_DAYS); historical: orders "
            "created since start_date."
        ),
    )
    days_back = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    start_date = serializers.DateField(required=False, help_text="Historical: the first day.")
    end_date = serializers.DateField(
        required=False, help_text="Not supported: a sync always reads up to now."
    )
    max_pages = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, help_text="Accepted; not needed."
    )
    status_filter = serializers.IntegerField(
        min_value=0, max_value=5, required=False, help_text="Accepted; every status is read."
    )
    auto_acknowledge = serializers.BooleanField(
        default=False, help_text="Accepted; acknowledging has its own endpoint and schedule."
    )
    run_async = serializers.BooleanField(default=False)

    def validate_account_type(self, value: str) -> str:
        account_names_from(value)
        return value.strip().lower()

    def validate(self, attrs: dict) -> dict:
        if "end_date" in attrs:
            raise serializers.ValidationError(
                {"end_date": [gettext("A sync always reads up to now.")]}
            )
        mode = attrs["sync_mode"]
        if mode == "historical" and "start_date" not in attrs:
            raise serializers.ValidationError(
                {"start_date": [gettext("A historical sync needs it.")]}
            )
        if mode != "historical" and "start_date" in attrs:
            raise serializers.ValidationError(
                {"start_date": [gettext("Only historical syncs take it.")]}
            )
        if mode != "full" and "days_back" in attrs:
            raise serializers.ValidationError({"days_back": [gettext("Only full syncs take it.")]})
        attrs["accounts"] = account_names_from(attrs["account_type"])
        attrs["mode"] = "incremental" if mode == "incremental" else "full"
        if mode == "historical":
            attrs["since"] = attrs["start_date"]
        elif "days_back" in attrs:
            attrs["since"] = timezone.localdate() - timedelta(days=attrs["days_back"])
        else:
            attrs["since"] = None
        return attrs
