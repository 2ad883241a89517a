"""Pushes to eMAG: push an account's outbox (or preview it), push one offer now, list pushes."""

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.accounts import get_account
from emag_sync.api.filters import OfferPushFilter
from emag_sync.api.openapi import READ_ERRORS, error_responses
from emag_sync.api.pagination import DetailListPagination
from emag_sync.api.serializers import (
    OfferPushOutput,
    PushInput,
    SyncBusyOutput,
)
from emag_sync.api.throttles import SyncTriggerThrottle
from emag_sync.api.views.base import RUN_SYNC, VIEW_OFFER, ApiListView, ApiView
from emag_sync.api.views.syncs import runs_start_schema, runs_started_response, sync_busy_response
from emag_sync.models import Offer, OfferPush
from emag_sync.selectors import offer_current_push, push_list
from emag_sync.services.offer_push import offer_push_now, offer_pushes_enqueue
from emag_sync.services.push_outbox import pushes_preview
from emag_sync.services.push_plan import request_preview
from emag_sync.services.sync_runs import SyncAlreadyRunning

# A dry run shows at most this many offers per account (20 requests).
PREVIEW_LIMIT = 1000

PushPreviewOutput = inline_serializer(
    "PushPreviewOutput",
    {
        "dry_run": serializers.BooleanField(),
        "requests": serializers.DictField(
            child=serializers.ListField(child=serializers.DictField()),
            help_text="Per account, each request a push would send: method, url and body.",
        ),
    },
)
PushNowOutput = inline_serializer(
    "PushNowOutput",
    {
        "queued": serializers.BooleanField(help_text="false: nothing local to send."),
        "push_state": serializers.CharField(allow_null=True),
        "detail": serializers.CharField(),
    },
)


class PushView(ApiView):
    write_permission = RUN_SYNC
    throttle_classes = [SyncTriggerThrottle]

    @runs_start_schema(
        tag="push",
        summary="Push pending local values to eMAG (or preview the requests)",
        description=(
            "Queues a push run per account (202 with their run ids); each sends the "
            "account's pending local values in light offer/save requests of up to 50 offers. "
            "With dry_run true the answer lists the requests it would send, and nothing is "
            "sent or queued. 409 when an account's push is already queued or running (it "
            "takes every pending value before it ends)."
        ),
        request=PushInput,
        ok=PushPreviewOutput,
        busy=OpenApiResponse(SyncBusyOutput, description="An account is already pushing."),
    )
    def post(self, request: Request) -> Response:
        push_request = PushInput(data=request.data)
        push_request.is_valid(raise_exception=True)
        accounts = push_request.validated_data["accounts"]
        if push_request.validated_data["dry_run"]:
            previews = {
                account: request_preview(
                    get_account(account).api_url,
                    pushes_preview(account=account, limit=PREVIEW_LIMIT),
                )
                for account in accounts
            }
            return Response({"dry_run": True, "requests": previews})
        try:
            runs = offer_pushes_enqueue(accounts=accounts, triggered_by=request.user.get_username())
        except SyncAlreadyRunning as busy:
            return sync_busy_response(busy)
        return runs_started_response(runs, f"Queued pushes of {', '.join(accounts)}.")


class ProductPushView(ApiView):
    write_permission = RUN_SYNC

    @extend_schema(
        tags=["push"],
        summary="Push one offer's local values to eMAG now",
        description=(
            "Queues the offer's pending local values (a rejected push is queued again with "
            "the current values) and sends the account's push at once."
        ),
        request=None,
        responses={202: PushNowOutput, 200: PushNowOutput, **error_responses(*READ_ERRORS, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            offer = Offer.objects.get(pk=pk)
        except Offer.DoesNotExist:
            raise NotFound(f"No offer #{pk}.") from None
        with transaction.atomic():
            pending = offer_push_now(offer=offer, user=request.user)
        if pending is None:
            current = offer_current_push(offer)
            return Response(
                {
                    "queued": False,
                    "push_state": current.state if current else None,
                    "detail": gettext(
                        "Nothing to push: the offer has no local value waiting for eMAG."
                    ),
                }
            )
        return Response(
            {"queued": True, "push_state": pending.state, "detail": gettext("Push queued.")},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(
    tags=["push"],
    summary="Pushes of local values to eMAG, newest first",
    responses={200: OfferPushOutput(many=True), **error_responses(400, *READ_ERRORS)},
)
class PushListView(ApiListView):
    read_permissions = (VIEW_OFFER,)
    serializer_class = OfferPushOutput
    filterset_class = OfferPushFilter
    pagination_class = DetailListPagination

    def get_queryset(self) -> QuerySet[OfferPush]:
        return push_list()
