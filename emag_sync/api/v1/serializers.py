"""Requests and answers of /api/v1 in the predecessor's shapes. Inputs reuse v2's checks."""

from django.contrib.auth.models import AbstractUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from emag_sync.api.serializers import ProductSyncInput
from emag_sync.api.serializers.common import StrictInputSerializer
from emag_sync.models import Offer, OfferStatus, SyncRun

# Fields named `data`, `errors` or `partial` (the API's names) look to mypy like overrides of
# Serializer's attributes of those names; DRF's metaclass takes declared fields off the class, so
# at runtime they override nothing. Those lines carry `type: ignore[assignment]`.
OFFER_STATUS_NAMES: dict[int | None, str] = {
    OfferStatus.INACTIVE: "inactive",
    OfferStatus.ACTIVE: "active",
    OfferStatus.END_OF_LIFE: "end_of_life",
}


class V1LoginInput(StrictInputSerializer):
    """A username or an email in either field, and the password (JSON or a form)."""

    username = serializers.CharField(required=False, allow_blank=True, max_length=254)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    password = serializers.CharField(
        required=False, allow_blank=True, max_length=4096, trim_whitespace=False
    )
    remember_me = serializers.BooleanField(
        required=False, help_text="Accepted; tokens last as configured."
    )


class V1TokenOutput(serializers.Serializer):
    access_token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    refresh_token = serializers.CharField(
        help_text="Send as the Bearer token of POST /api/v1/auth/refresh-token."
    )
    token_type = serializers.CharField(help_text="bearer")
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives.")


class V1RefreshInput(StrictInputSerializer):
    refresh_token = serializers.CharField(required=False, max_length=4096)


class V1UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    full_name = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    is_superuser = serializers.BooleanField()
    role = serializers.SerializerMethodField(help_text="admin, manager, operator or viewer.")
    permissions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="date_joined")
    last_login = serializers.DateTimeField(allow_null=True)

    def get_full_name(self, user: AbstractUser) -> str:
        return user.get_full_name() or user.get_username()

    def get_role(self, user: AbstractUser) -> str:
        if user.is_superuser:
            return "admin"
        if user.is_staff:
            return "manager"
        return "operator" if user.has_perm("emag_sync.run_sync") else "viewer"

    def get_permissions(self, user: AbstractUser) -> list[str]:
        return sorted(user.get_all_permissions())


class V1ProductSyncInput(ProductSyncInput):
    """The predecessor's sync request: v2's, without the selective lists it never had."""

    # DRF drops an inherited field set to None; the stubs see a field's type changing.
    filters = None  # type: ignore[assignment]
    ids = None  # type: ignore[assignment]
    skus = None  # type: ignore[assignment]


class V1RunNamesMixin:
    """The predecessor's `operation` and `started_at` of a run."""

    def get_operation(self, run: SyncRun) -> str:
        return f"{run.mode}_sync"

    @extend_schema_field(serializers.DateTimeField())
    def get_started_at(self, run: SyncRun) -> str:
        # A queued run has not started: the time it was asked for, never a null (the page
        # showed that as 1970).
        return serializers.DateTimeField().to_representation(run.started_at or run.created_at)


class V1RunOutput(V1RunNamesMixin, serializers.ModelSerializer):
    """A run as the predecessor's status, statistics and history listed it."""

    id = serializers.CharField()
    account_type = serializers.CharField(source="account")
    operation = serializers.SerializerMethodField(help_text="full_sync, incremental_sync, ...")
    started_at = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(source="finished_at", allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    total_items = serializers.IntegerField(source="items_seen", help_text="Offers read.")
    created_items = serializers.IntegerField(source="items_created")
    updated_items = serializers.IntegerField(source="items_updated")
    failed_items = serializers.IntegerField(source="items_failed")

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "account_type",
            "operation",
            "status",
            "started_at",
            "completed_at",
            "duration_seconds",
            "total_items",
            "created_items",
            "updated_items",
            "failed_items",
        ]
        read_only_fields = fields


class V1HistoryRunOutput(V1RunOutput):
    processed_items = serializers.IntegerField(source="items_seen")
    errors = serializers.JSONField()  # type: ignore[assignment]  # a declared field

    class Meta(V1RunOutput.Meta):
        fields = [*V1RunOutput.Meta.fields, "processed_items", "errors"]
        read_only_fields = fields


class V1CurrentSyncOutput(V1RunNamesMixin, serializers.Serializer):
    """The sync the status follows: a running one, else the oldest queued."""

    id = serializers.CharField()
    account_type = serializers.CharField(source="account")
    operation = serializers.SerializerMethodField()
    started_at = serializers.SerializerMethodField()
    total_items = serializers.SerializerMethodField(
        help_text="Offers the run will read (0 until counted)."
    )
    processed_items = serializers.IntegerField(source="items_seen")

    def get_total_items(self, run: SyncRun) -> int:
        return run.items_total or 0


class V1StatusOutput(serializers.Serializer):
    is_running = serializers.BooleanField()
    current_sync = V1CurrentSyncOutput(allow_null=True)
    recent_syncs = V1RunOutput(many=True)


class V1StatisticsOutput(serializers.Serializer):
    products_by_account = serializers.DictField(child=serializers.IntegerField())
    total_products = serializers.IntegerField()
    recent_syncs = V1RunOutput(many=True)


class V1ProductOutput(serializers.ModelSerializer):
    """An offer under the predecessor's names; its price is a number, as it was."""

    id = serializers.CharField()
    emag_id = serializers.CharField()
    sku = serializers.CharField(source="part_number")
    account_type = serializers.CharField(source="account")
    price = serializers.FloatField(source="sale_price", allow_null=True)
    stock_quantity = serializers.SerializerMethodField()
    is_active = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="active, inactive or end_of_life.")
    sync_status = serializers.SerializerMethodField(help_text="synced, or missing.")
    last_synced_at = serializers.DateTimeField(source="synced_at")
    created_at = serializers.DateTimeField(source="first_seen_at")
    updated_at = serializers.DateTimeField(source="synced_at")

    class Meta:
        model = Offer
        fields = [
            "id",
            "emag_id",
            "sku",
            "name",
            "account_type",
            "price",
            "currency",
            "stock_quantity",
            "is_active",
            "status",
            "sync_status",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_stock_quantity(self, offer: Offer) -> int:
        return offer.general_stock or 0

    def get_is_active(self, offer: Offer) -> bool:
        return offer.status == OfferStatus.ACTIVE

    def get_status(self, offer: Offer) -> str:
        return OFFER_STATUS_NAMES.get(offer.status, "unknown")

    def get_sync_status(self, offer: Offer) -> str:
        return "missing" if offer.missing_since else "synced"


V1_PRODUCT_COLUMNS = (
    "id",
    "emag_id",
    "part_number",
    "name",
    "account",
    "sale_price",
    "currency",
    "general_stock",
    "status",
    "missing_since",
    "synced_at",
    "first_seen_at",
)


# Query parameters it does not know are ignored, as the predecessor and v2's filters do.
class V1ProductQuery(serializers.Serializer):
    skip = serializers.IntegerField(min_value=0, max_value=1_000_000_000, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=50)
    account_type = serializers.CharField(required=False, allow_blank=True, max_length=40)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)


class V1PaginationOutput(serializers.Serializer):
    skip = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()


class V1ProductPageOutput(serializers.Serializer):
    products = V1ProductOutput(many=True)
    pagination = V1PaginationOutput()


class V1ProductListOutput(serializers.Serializer):
    status = serializers.CharField(help_text="success")
    data = V1ProductPageOutput()  # type: ignore[assignment]  # a declared field


class V1HistoryQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)
    account_type = serializers.CharField(required=False, allow_blank=True, max_length=40)
    status = serializers.CharField(required=False, allow_blank=True, max_length=20)


class V1HistoryPageOutput(serializers.Serializer):
    syncs = V1HistoryRunOutput(many=True)
    count = serializers.IntegerField()


class V1HistoryOutput(serializers.Serializer):
    status = serializers.CharField(help_text="success")
    data = V1HistoryPageOutput()  # type: ignore[assignment]  # a declared field


class V1SyncDataOutput(serializers.Serializer):
    """The runs' totals once they ended; only their ids while they are queued."""

    total_processed = serializers.IntegerField(required=False)
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    unchanged = serializers.IntegerField(required=False)
    failed = serializers.IntegerField(required=False)
    errors = serializers.ListField(  # type: ignore[assignment]  # a declared field
        child=serializers.CharField(), required=False
    )  # a declared field
    run_ids = serializers.ListField(child=serializers.IntegerField())


class V1SyncOutput(serializers.Serializer):
    status = serializers.CharField(
        help_text="accepted (queued), or when finished completed or the worst status of the runs."
    )
    message = serializers.CharField()
    sync_id = serializers.CharField(help_text="The first run's id.")
    data = V1SyncDataOutput()  # type: ignore[assignment]  # a declared field


class V1CancelDataOutput(serializers.Serializer):
    sync_id = serializers.CharField()


class V1CancelOutput(serializers.Serializer):
    status = serializers.CharField(help_text="success")
    message = serializers.CharField()
    data = V1CancelDataOutput()  # type: ignore[assignment]  # a declared field


class V1ConnectionDataOutput(serializers.Serializer):
    account_type = serializers.CharField()
    base_url = serializers.CharField()
    total_products = serializers.IntegerField()


class V1ConnectionOutput(serializers.Serializer):
    status = serializers.CharField(help_text="success")
    message = serializers.CharField()
    data = V1ConnectionDataOutput()  # type: ignore[assignment]  # a declared field
