"""Sync control: start, cancel, follow and test offer syncs; their history."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.api.filters import SyncRunFilter
from emag_sync.api.openapi import READ_ERRORS, error_responses
from emag_sync.api.pagination import HistoryPagination
from emag_sync.api.serializers import (
    ConnectionCheckOutput,
    ConnectionTestQuery,
    ErrorOutput,
    ProductSyncInput,
    SyncBusyOutput,
    SyncFinishedOutput,
    SyncQueuedOutput,
    SyncRunOutput,
    SyncStatusOutput,
)
from emag_sync.api.views.base import (
    RUN_SYNC,
    VIEW_SYNC_RUN,
    ApiListView,
    ApiView,
    SyncTriggerMixin,
    detail_response,
    not_found_as_404,
    validated,
)
from emag_sync.models import SyncKind, SyncRun, SyncStatus
from emag_sync.selectors import (
    sync_run_active_list,
    sync_run_get,
    sync_run_list,
)
from emag_sync.services.connection_test import account_connection_test
from emag_sync.services.offer_sync import OfferSyncOptions
from emag_sync.services.sync_engine import SyncOptionsError
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_cancel
from emag_sync.services.sync_triggers import offer_syncs_enqueue, offer_syncs_run

# How many runs the status answer lists besides the live ones (as the predecessor did).
RECENT_SYNCS_SHOWN = 10
# The worst status of several runs is the request's status.
STATUS_SEVERITY = [
    SyncStatus.FAILED,
    SyncStatus.PARTIAL,
    SyncStatus.INTERRUPTED,
    SyncStatus.CANCELLED,
    SyncStatus.COMPLETED,
]


def worst_status(runs: list[SyncRun]) -> str:
    """Return the status that sums up several runs: the worst of theirs."""
    statuses = {run.status for run in runs}
    return next((candidate for candidate in STATUS_SEVERITY if candidate in statuses), "failed")


# How sync_busy_response's answer is documented.
SYNC_BUSY_ANSWER = OpenApiResponse(SyncBusyOutput, description="An account is already syncing.")


def sync_busy_response(busy: SyncAlreadyRunning) -> Response:
    """Return the 409 answer to a sync request while an account's sync is queued or running."""
    body = {"detail": busy.explained(), "run_ids": [busy.run.pk] if busy.run else []}
    return Response(SyncBusyOutput(body).data, status=status.HTTP_409_CONFLICT)


def runs_started_response(runs: list[SyncRun], message: str, *, queued: bool = True) -> Response:
    """Return the answer listing started runs.

    202 "accepted" while they are queued, else 200 with their worst status.
    """
    body = {
        "status": "accepted" if queued else worst_status(runs),
        "message": message,
        "run_ids": [run.pk for run in runs],
        "runs": runs,
    }
    code = status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
    return Response(SyncQueuedOutput(body).data, status=code)


def runs_start_schema(
    *, tag: str, summary: str, request, ok, busy=SYNC_BUSY_ANSWER, description: str | None = None
):
    """Return the schema decorator of a request that starts runs.

    200 with `ok` when answered at once, 202 when queued, 409 (`busy`) when an account's run
    is already queued or running.
    """
    return extend_schema(
        tags=[tag],
        summary=summary,
        description=description,
        request=request,
        responses={
            200: ok,
            202: SyncQueuedOutput,
            409: busy,
            **error_responses(400, *READ_ERRORS, 429),
        },
    )


def finished_sync_body(runs: list[SyncRun]) -> dict:
    """Return the answer's parts of finished syncs: worst status, message, runs and totals."""
    totals = {
        "processed": sum(run.items_seen for run in runs),
        "created": sum(run.items_created for run in runs),
        "updated": sum(run.items_updated for run in runs),
        "unchanged": sum(run.items_unchanged for run in runs),
        "failed": sum(run.items_failed for run in runs),
        "missing": sum(run.items_missing for run in runs),
    }
    accounts = ", ".join(f"{run.account} {run.status}" for run in runs)
    message = (
        f"Offer sync finished ({accounts}): {totals['processed']} seen, {totals['created']} "
        f"created, {totals['updated']} updated, {totals['unchanged']} unchanged, "
        f"{totals['failed']} failed."
    )
    return {
        "status": worst_status(runs),
        "message": message,
        "run_ids": [run.pk for run in runs],
        "runs": runs,
        "totals": totals,
    }


def offer_syncs_start(data: dict, *, triggered_by: str) -> list[SyncRun]:
    """Run (run_async false) or queue the offer syncs a validated sync request asks for.

    Raises SyncAlreadyRunning when an account is busy, SyncOptionsError for bad options.
    """
    options = OfferSyncOptions.from_values(
        mode=data["mode"],
        conflict_strategy=data["conflict_strategy"],
        max_pages=data["max_pages"],
        include_inactive=data["include_inactive"],
        filters=data.get("filters"),
        ids=data.get("ids"),
        skus=data.get("skus"),
    )
    start = offer_syncs_enqueue if data["run_async"] else offer_syncs_run
    return start(accounts=data["accounts"], options=options, triggered_by=triggered_by)


class ProductSyncView(SyncTriggerMixin, ApiView):
    @runs_start_schema(
        tag="sync",
        summary="Start an offer sync",
        description=(
            "Sync offers of one account, or of all. With run_async false (the default) the "
            "answer comes when the syncs end; with run_async true they are queued for the "
            "workers and the answer is 202 with their run ids. 409 when an account's offer "
            "sync is already queued or running: then nothing is started."
        ),
        request=ProductSyncInput,
        ok=SyncFinishedOutput,
    )
    def post(self, request: Request) -> Response:
        data = validated(ProductSyncInput, request.data)
        try:
            runs = offer_syncs_start(data, triggered_by=request.user.get_username())
        except SyncAlreadyRunning as busy:
            return sync_busy_response(busy)
        except SyncOptionsError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from None
        if data["run_async"]:
            return runs_started_response(
                runs, f"Queued offer syncs of {', '.join(data['accounts'])}."
            )
        return Response(SyncFinishedOutput(finished_sync_body(runs)).data)


def offer_run_cancel(pk: int) -> tuple[SyncRun, bool]:
    """Ask an offer sync run to stop; return it and whether it had already ended.

    Raises NotFound for an unknown run.
    """
    with not_found_as_404(f"No offer sync run #{pk}."):
        run = sync_run_get(run_id=pk, kind=SyncKind.OFFERS)
    if not run.is_active:
        return run, True
    run = sync_run_cancel(run_id=run.pk)
    # A queued run is cancelled now, a running one stops after its page; it may also have
    # ended on its own in between.
    return run, not run.is_active and run.status != SyncStatus.CANCELLED


class ProductSyncCancelView(ApiView):
    write_permission = RUN_SYNC

    @extend_schema(
        tags=["sync"],
        summary="Cancel an offer sync",
        description=(
            "A queued run is cancelled at once; a running one stops after its current page "
            "and ends cancelled, keeping its checkpoint. 409 when the run already ended."
        ),
        responses={
            202: SyncRunOutput,
            409: OpenApiResponse(ErrorOutput, description="The run already ended."),
            **error_responses(*READ_ERRORS, 404),
        },
    )
    def delete(self, request: Request, pk: int) -> Response:
        run, ended_on_its_own = offer_run_cancel(pk)
        if ended_on_its_own:
            return detail_response(f"Run #{run.pk} already ended ({run.status}).")
        return Response(SyncRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class ProductSyncStatusView(ApiView):
    read_permissions = (VIEW_SYNC_RUN,)

    @extend_schema(
        tags=["sync"],
        summary="Running offer syncs, live, and the latest runs",
        responses={200: SyncStatusOutput, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        running = list(sync_run_active_list(kind=SyncKind.OFFERS))
        recent = list(sync_run_list(kind=SyncKind.OFFERS)[:RECENT_SYNCS_SHOWN])
        body = {"is_running": bool(running), "running_syncs": running, "recent_syncs": recent}
        return Response(SyncStatusOutput(body).data)


@extend_schema(
    tags=["sync"],
    summary="Offer sync runs with every counter, newest first",
    responses={200: SyncRunOutput(many=True), **error_responses(400, *READ_ERRORS)},
)
class ProductHistoryView(ApiListView):
    read_permissions = (VIEW_SYNC_RUN,)
    serializer_class = SyncRunOutput
    filterset_class = SyncRunFilter
    pagination_class = HistoryPagination

    def get_queryset(self) -> QuerySet[SyncRun]:
        return sync_run_list(kind=SyncKind.OFFERS)


class ProductTestConnectionView(SyncTriggerMixin, ApiView):
    @extend_schema(
        tags=["sync"],
        summary="Test an account's connection to eMAG",
        description=(
            "One cheap authenticated call. ok false comes with a message that tells bad "
            "credentials, an IP address eMAG has not whitelisted, and an unreachable eMAG apart."
        ),
        parameters=[ConnectionTestQuery],
        request=None,
        responses={200: ConnectionCheckOutput, **error_responses(400, *READ_ERRORS, 429)},
    )
    def post(self, request: Request) -> Response:
        account = validated(ConnectionTestQuery, request.query_params)["account_type"]
        check = account_connection_test(account=account)
        body = {
            "account_type": account,
            "ok": check.ok,
            "latency_ms": check.latency_ms,
            "total_products": check.total_products,
            "message": check.message,
        }
        return Response(ConnectionCheckOutput(body).data)
