"""Orders: the list (JSON or CSV), one order, order syncs and acknowledging."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.api.filters import OrderFilter
from emag_sync.api.openapi import READ_ERRORS, csv_list_schema, error_responses
from emag_sync.api.pagination import DetailListPagination
from emag_sync.api.serializers import ErrorOutput, SyncQueuedOutput, SyncRunOutput
from emag_sync.api.serializers.orders import OrderDetailOutput, OrderListOutput, OrderSyncInput
from emag_sync.api.views.base import (
    ApiView,
    CsvListView,
    SyncTriggerMixin,
    detail_response,
    not_found_as_404,
    validated,
)
from emag_sync.api.views.syncs import runs_start_schema, runs_started_response, sync_busy_response
from emag_sync.exports import order_csv_rows
from emag_sync.models import Order, OrderStatus
from emag_sync.selectors import order_get, order_list_with_history
from emag_sync.services.sync_engine import SyncOptionsError
from emag_sync.services.sync_runs import SyncAlreadyRunning
from emag_sync.services.sync_triggers import (
    order_syncs_enqueue,
    order_syncs_run,
    orders_acknowledge_now,
)

VIEW_ORDER = "emag_sync.view_order"


@csv_list_schema(
    tag="orders",
    summary="Orders, filtered and paged, newest first; ?format=csv streams them all",
    output=OrderListOutput,
    noun="order",
)
class OrderListView(CsvListView):
    read_permissions = (VIEW_ORDER,)
    serializer_class = OrderListOutput
    filterset_class = OrderFilter
    pagination_class = DetailListPagination
    csv_filename = "orders.csv"

    def get_queryset(self) -> QuerySet[Order]:
        return order_list_with_history()

    def csv_rows(self):
        # The orders export's own columns: totals as stored, lines summarised.
        return order_csv_rows(self.filter_queryset(order_list_with_history()))


class OrderDetailView(ApiView):
    read_permissions = (VIEW_ORDER,)

    @extend_schema(
        tags=["orders"],
        summary="One order with its lines and status history",
        responses={200: OrderDetailOutput, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        with not_found_as_404(f"No order #{pk}."):
            order = order_get(order_id=pk)
        return Response(OrderDetailOutput(order).data)


class OrderSyncView(SyncTriggerMixin, ApiView):
    @runs_start_schema(
        tag="orders", summary="Start an order sync", request=OrderSyncInput, ok=SyncQueuedOutput
    )
    def post(self, request: Request) -> Response:
        data = validated(OrderSyncInput, request.data)
        start = order_syncs_enqueue if data["run_async"] else order_syncs_run
        try:
            runs = start(
                accounts=data["accounts"],
                mode=data["mode"],
                since=data["since"],
                triggered_by=request.user.get_username(),
            )
        except SyncAlreadyRunning as busy:
            return sync_busy_response(busy)
        except SyncOptionsError as error:
            raise ValidationError({"run_async": [str(error)]}) from None
        message = f"Order syncs of {', '.join(data['accounts'])}."
        return runs_started_response(runs, message, queued=data["run_async"])


class OrderAcknowledgeView(ApiView):
    write_permission = "emag_sync.change_order"

    @extend_schema(
        tags=["orders"],
        summary="Acknowledge a new order",
        description=(
            "Runs the account's acknowledge stream now, which acknowledges every new order "
            "of that account on eMAG, this one included. 409 when the order is not new or "
            "the account's acknowledge stream is busy."
        ),
        request=None,
        responses={
            200: SyncRunOutput,
            409: OpenApiResponse(ErrorOutput, description="Not a new order, or busy."),
            **error_responses(*READ_ERRORS, 404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        with not_found_as_404(f"No order #{pk}."):
            order = order_get(order_id=pk)
        if order.status != OrderStatus.NEW:
            return detail_response(f"Order #{pk} is not new (status {order.status}).")
        try:
            run = orders_acknowledge_now(
                account=order.account, triggered_by=request.user.get_username()
            )
        except SyncAlreadyRunning as busy:
            return detail_response(str(busy))
        return Response(SyncRunOutput(run).data)
