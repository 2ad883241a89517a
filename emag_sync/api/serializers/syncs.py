"""Sync runs: their output, the sync request, status, connection tests, statistics."""

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from emag_sync.accounts import ACCOUNT_ALIASES, ALL_ACCOUNTS, get_accounts
from emag_sync.api.serializers.common import (
    ACCOUNT_HELP,
    StrictInputSerializer,
    account_names_from,
)
from emag_sync.models import ConflictStrategy, SyncMode, SyncRun
from emag_sync.models.fields import MAX_BIGINT
from emag_sync.services.offer_sync import MAX_PAGES_INCREMENTAL_ONLY, validate_offer_filters
from emag_sync.services.sync_engine import SyncOptionsError

# Fields named `data`, `errors` or `partial` (the API's names) look to mypy like overrides of
# Serializer's attributes of those names; DRF's metaclass takes declared fields off the class, so
# at runtime they override nothing. Those lines carry `type: ignore[assignment]`.
# Each id or SKU of a selective sync is one eMAG request; a longer list is a full sync.
MAX_SELECTIVE_ITEMS = 100


class SyncBusyOutput(serializers.Serializer):
    detail = serializers.CharField()
    run_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The runs that hold the accounts' streams."
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "object", "additionalProperties": True},
        "description": "What went wrong: each error has a message, and a page when it has one.",
    }
)
class RunErrorsField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    pass


class SyncRunOutput(serializers.ModelSerializer):
    account_type = serializers.CharField(source="account")
    parameters = JsonObjectField()
    errors = RunErrorsField()  # type: ignore[assignment]  # a declared field
    duration_seconds = serializers.FloatField(allow_null=True)
    items_per_second = serializers.FloatField(allow_null=True)
    progress_percent = serializers.IntegerField(allow_null=True)
    eta_seconds = serializers.FloatField(
        allow_null=True, help_text="Seconds left, from the pace so far; null when unknown."
    )

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "kind",
            "account_type",
            "mode",
            "conflict_strategy",
            "parameters",
            "status",
            "triggered_by",
            "pages_total",
            "pages_done",
            "progress_percent",
            "items_total",
            "items_seen",
            "items_created",
            "items_updated",
            "items_unchanged",
            "items_failed",
            "items_missing",
            "requests",
            "throttled",
            "retries",
            "pages_second_chance",
            "errors",
            "resumed_from_page",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "duration_seconds",
            "items_per_second",
            "eta_seconds",
        ]
        read_only_fields = fields


class OfferSyncFiltersInput(StrictInputSerializer):
    """eMAG's product_offer filters a selective sync sends."""

    # The filters and their ranges: docs/emag-api.md §3.3.
    id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, required=False)
    status = serializers.IntegerField(min_value=0, max_value=2, required=False)
    part_number = serializers.CharField(max_length=64, required=False)
    part_number_key = serializers.CharField(max_length=32, required=False)
    general_stock = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    estimated_stock = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    validation_status = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    offer_validation_status = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    translation_validation_status = serializers.IntegerField(
        min_value=0, max_value=32767, required=False
    )

    def validate(self, attrs: dict) -> dict:
        try:
            return validate_offer_filters(attrs)
        except SyncOptionsError as error:
            raise serializers.ValidationError(str(error)) from None


class ProductSyncInput(StrictInputSerializer):
    """The predecessor's sync request, plus `ids` and `skus` for selective syncs."""

    account_type = serializers.CharField(default="both", max_length=40, help_text=ACCOUNT_HELP)
    mode = serializers.ChoiceField(choices=SyncMode.choices, default=SyncMode.INCREMENTAL)
    max_pages = serializers.IntegerField(
        min_value=1,
        max_value=100_000,
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Incremental only: new 100-offer pages this run reads (default: all); refused "
            "with other modes."
        ),
    )
    items_per_page = serializers.IntegerField(
        min_value=1,
        max_value=100,
        default=100,
        help_text="Accepted for compatibility; pages are always eMAG's maximum of 100.",
    )
    include_inactive = serializers.BooleanField(default=False)
    conflict_strategy = serializers.ChoiceField(
        choices=ConflictStrategy.choices, default=ConflictStrategy.EMAG_PRIORITY
    )
    filters = OfferSyncFiltersInput(required=False, help_text="Selective: eMAG-side filters.")
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_BIGINT),
        required=False,
        max_length=MAX_SELECTIVE_ITEMS,
        help_text="Selective: eMAG seller product ids.",
    )
    skus = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_SELECTIVE_ITEMS,
        help_text="Selective: SKUs (part numbers).",
    )
    run_async = serializers.BooleanField(
        default=False, help_text="false: answer when the syncs end; true: queue them, 202."
    )

    def validate_account_type(self, value: str) -> str:
        account_names_from(value)
        return value.strip().lower()

    def validate(self, attrs: dict) -> dict:
        selective = bool(attrs.get("filters") or attrs.get("ids") or attrs.get("skus"))
        if attrs["mode"] == SyncMode.SELECTIVE and not selective:
            raise serializers.ValidationError(
                {"filters": [gettext("A selective sync needs filters, ids or skus.")]}
            )
        if attrs["mode"] != SyncMode.SELECTIVE and selective:
            raise serializers.ValidationError(
                {"mode": [gettext("filters, ids and skus apply to selective syncs only.")]}
            )
        if attrs["mode"] != SyncMode.INCREMENTAL and attrs.get("max_pages") is not None:
            raise serializers.ValidationError({"max_pages": [MAX_PAGES_INCREMENTAL_ONLY]})
        attrs["accounts"] = account_names_from(attrs["account_type"])
        return attrs


class SyncTotalsOutput(serializers.Serializer):
    processed = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    missing = serializers.IntegerField()


class SyncFinishedOutput(serializers.Serializer):
    status = serializers.CharField(help_text="completed, or the worst status of the runs.")
    message = serializers.CharField()
    run_ids = serializers.ListField(child=serializers.IntegerField())
    runs = SyncRunOutput(many=True)
    totals = SyncTotalsOutput()


class SyncQueuedOutput(serializers.Serializer):
    status = serializers.CharField(help_text="accepted")
    message = serializers.CharField()
    run_ids = serializers.ListField(child=serializers.IntegerField())
    runs = SyncRunOutput(many=True)


class SyncStatusOutput(serializers.Serializer):
    is_running = serializers.BooleanField(help_text="Whether any offer sync is queued or running.")
    running_syncs = SyncRunOutput(many=True, help_text="Queued and running syncs, live.")
    recent_syncs = SyncRunOutput(many=True, help_text="The latest runs, newest first.")


class ConnectionTestQuery(serializers.Serializer):
    account_type = serializers.CharField(
        required=False, max_length=40, help_text="One account name (default: the first one)."
    )

    def validate_account_type(self, value: str) -> str:
        name = value.strip().lower()
        if name == ALL_ACCOUNTS or name in ACCOUNT_ALIASES:
            raise serializers.ValidationError(gettext("Test one account at a time."))
        return account_names_from(name)[0]

    def validate(self, attrs: dict) -> dict:
        attrs.setdefault("account_type", next(iter(get_accounts())))
        return attrs


class ConnectionCheckOutput(serializers.Serializer):
    account_type = serializers.CharField()
    ok = serializers.BooleanField()
    latency_ms = serializers.IntegerField(help_text="eMAG's answer time, without queueing.")
    total_products = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class AccountStatisticsOutput(serializers.Serializer):
    account_type = serializers.CharField()
    offers = serializers.IntegerField(help_text="Offers eMAG still returns.")
    active = serializers.IntegerField()
    inactive = serializers.IntegerField()
    end_of_life = serializers.IntegerField()
    in_stock = serializers.IntegerField(help_text="Offers with general stock above 0.")
    stock_total = serializers.IntegerField(help_text="Sum of eMAG's general stock.")
    missing = serializers.IntegerField(help_text="Offers the last full pass did not see.")
    open_conflicts = serializers.IntegerField()
    last_successful_sync = SyncRunOutput(allow_null=True)


class RecentRunsOutput(serializers.Serializer):
    runs = serializers.IntegerField(help_text="Finished offer runs looked at (the latest 20).")
    completed = serializers.IntegerField()
    partial = serializers.IntegerField()  # type: ignore[assignment]  # a declared field
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    interrupted = serializers.IntegerField(
        help_text="Stopped by a worker's shutdown; the next start resumes them."
    )
    success_rate = serializers.FloatField(
        allow_null=True,
        help_text="Completed runs among those neither cancelled nor interrupted, from 0 to 1.",
    )
    items_per_second = serializers.FloatField(allow_null=True)


class StatisticsOutput(serializers.Serializer):
    total_products = serializers.IntegerField()
    products_by_account = serializers.DictField(child=serializers.IntegerField())
    open_conflicts = serializers.IntegerField()
    accounts = AccountStatisticsOutput(many=True)
    recent_runs = RecentRunsOutput()
