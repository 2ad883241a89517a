"""Offers ("products"): statistics, the list (JSON or CSV), one offer, its local edits and
its change history."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.accounts import get_accounts
from emag_sync.api.filters import OfferFilter
from emag_sync.api.openapi import READ_ERRORS, csv_list_schema, error_responses
from emag_sync.api.pagination import DetailListPagination, LimitSkipPagination
from emag_sync.api.serializers import (
    OFFER_LIST_COLUMNS,
    OfferChangeOutput,
    OfferDetailOutput,
    OfferListOutput,
    OfferUpdateInput,
    StatisticsOutput,
)
from emag_sync.api.views.base import (
    VIEW_OFFER,
    VIEW_SYNC_RUN,
    ApiListView,
    ApiView,
    CsvListView,
    acting_user,
    not_found_as_404,
)
from emag_sync.exports import offer_csv_rows
from emag_sync.models import Offer
from emag_sync.selectors import (
    offer_change_list,
    offer_get,
    offer_list,
    offer_list_with_overlay,
    offer_statistics,
)
from emag_sync.services.local_edits import LocalEditError, offer_local_update


class ProductStatisticsView(ApiView):
    read_permissions = (VIEW_OFFER, VIEW_SYNC_RUN)

    @extend_schema(
        tags=["products"],
        summary="Offers, stock and conflicts per account; how recent syncs went",
        responses={200: StatisticsOutput, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        statistics = offer_statistics(accounts=list(get_accounts()))
        return Response(StatisticsOutput(statistics).data)


@csv_list_schema(
    tag="products",
    summary="Offers, filtered, searched, sorted and paged; ?format=csv streams them all",
    output=OfferListOutput,
    noun="offer",
    description=(
        "JSON pages by default (`limit` with `offset`, or `skip`). With `format=csv` (or "
        "`Accept: text/csv`) every offer the filters select is streamed as CSV, unpaged."
    ),
)
class OfferListView(CsvListView):
    read_permissions = (VIEW_OFFER,)
    serializer_class = OfferListOutput
    filterset_class = OfferFilter
    pagination_class = LimitSkipPagination
    csv_filename = "offers.csv"

    def get_queryset(self) -> QuerySet[Offer]:
        return offer_list_with_overlay().only(*OFFER_LIST_COLUMNS)

    def csv_rows(self):
        # The plain list: the CSV needs neither the overlay nor the conflict flag.
        return offer_csv_rows(self.filter_queryset(offer_list()))


class OfferDetailView(ApiView):
    read_permissions = (VIEW_OFFER,)
    write_permission = "emag_sync.change_offer"

    def _offer(self, pk: int) -> Offer:
        with not_found_as_404(f"No offer #{pk}."):
            return offer_get(offer_id=pk)

    @extend_schema(
        tags=["products"],
        summary="One offer, with its local values and open conflicts",
        responses={200: OfferDetailOutput, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(OfferDetailOutput(self._offer(pk)).data)

    @extend_schema(
        tags=["products"],
        summary="Set or drop local values of an offer",
        description=(
            "Local values overlay eMAG's (stock is eMAG's own on FBE offers). null drops a "
            "local value. Every field is checked before any is saved."
        ),
        request=OfferUpdateInput,
        responses={200: OfferDetailOutput, **error_responses(400, *READ_ERRORS, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        offer = self._offer(pk)
        update = OfferUpdateInput(data=request.data, context={"offer": offer})
        update.is_valid(raise_exception=True)
        edits, local_data = update.split()
        try:
            offer_local_update(
                offer=offer, edits=edits, local_data=local_data, user=acting_user(request)
            )
        except LocalEditError as error:
            raise ValidationError(error.errors or {"non_field_errors": [str(error)]}) from None
        return Response(OfferDetailOutput(self._offer(pk)).data)


@extend_schema(
    tags=["products"],
    summary="An offer's change history, newest first",
    responses={200: OfferChangeOutput(many=True), **error_responses(400, *READ_ERRORS, 404)},
)
class OfferChangesView(ApiListView):
    read_permissions = (VIEW_OFFER,)
    serializer_class = OfferChangeOutput
    pagination_class = DetailListPagination
    filter_backends = []

    def get_queryset(self):
        with not_found_as_404(f"No offer #{self.kwargs['pk']}."):
            return offer_change_list(offer_id=self.kwargs["pk"])
