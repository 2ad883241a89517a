"""The FilterSet of the order list. Imported only once the orders models exist."""

import django_filters
from django.db.models import Q, QuerySet

from emag_sync.api.filters import (
    AccountTypeFilter,
    ApiFilterSet,
    IntegerFilter,
    StrictBooleanFilter,
)
from emag_sync.models import Order
from emag_sync.models.fields import MAX_BIGINT


class OrderFilter(ApiFilterSet):
    account_type = AccountTypeFilter()
    status = IntegerFilter(
        min_value=0,
        max_value=5,
        help_text="0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned.",
    )
    type = IntegerFilter(
        min_value=2, max_value=3, help_text="2 fulfilled by eMAG (FBE), 3 by the seller."
    )
    date_from = django_filters.IsoDateTimeFilter(
        field_name="date", lookup_expr="gte", help_text="Ordered at or after."
    )
    date_to = django_filters.IsoDateTimeFilter(
        field_name="date", lookup_expr="lte", help_text="Ordered at or before."
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=20, help_text="An eMAG order id."
    )
    read_warnings = StrictBooleanFilter(
        method="filter_read_warnings",
        help_text="true: orders stored with a field that could not be read (see read_warnings).",
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_read_warnings(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        warned = Q(read_warnings=[])
        return queryset.exclude(warned) if value else queryset.filter(warned)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not (term.isascii() and term.isdigit()) or int(term) > MAX_BIGINT:
            return queryset.none()
        return queryset.filter(emag_id=int(term))
