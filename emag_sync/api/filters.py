"""FilterSets of the API's lists. Every filter is validated: a bad value is a 400 naming it."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field

from emag_sync.accounts import resolve_account_names
from emag_sync.api.serializers.common import ACCOUNT_HELP
from emag_sync.models import (
    Conflict,
    ConflictStatus,
    EditableField,
    Offer,
    OfferPush,
    OfferStatus,
    Order,
    PushState,
    SyncMode,
    SyncRun,
    SyncStatus,
)
from emag_sync.models.fields import MAX_BIGINT
from emag_sync.selectors import offer_search


class AccountTypeField(forms.CharField):
    """A form field that turns an account name, `all` or `both` into the names it means."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return resolve_account_names(value.strip())
        except KeyError as error:
            # As a parameter: the message quotes the value, which may hold a "%".
            raise forms.ValidationError("%(reason)s", params={"reason": error.args[0]}) from None


class AccountTypeFilter(django_filters.CharFilter):
    """Filter by an account name, or `all`/`both`; an unknown name is a 400."""

    field_class = AccountTypeField

    def __init__(self, *args, account_field: str = "account", **kwargs):
        kwargs.setdefault("help_text", ACCOUNT_HELP)
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("field_name", account_field)
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


def _describe(filter_: django_filters.Filter, schema: dict) -> None:
    """Tell drf-spectacular a custom filter's type, range and help text."""
    help_text = filter_.extra.get("help_text")
    if help_text:
        schema["description"] = str(help_text)
    extend_schema_field(schema)(filter_)


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter: NumberFilter would take 1.5 and quietly drop the half."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schema = {"type": "integer"}
        for bound in ("min_value", "max_value"):
            if self.extra.get(bound) is not None:
                schema[bound.replace("_value", "imum")] = self.extra[bound]
        _describe(self, schema)


class StrictBooleanField(forms.Field):
    """true/false (or 1/0, any case); anything else is an error, not quietly "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def clean(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(gettext("Use true or false.")) from None


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _describe(self, {"type": "boolean"})


class EnglishOrderingFilter(django_filters.OrderingFilter):
    """An ordering filter whose choice labels stay English whatever language is active.

    django-filter formats its "(descending)" labels when the FilterSet class is created, so
    they would freeze whichever language was active when this module was first imported (a
    Romanian request, say), and the committed schema would depend on which test ran first.
    """

    descending_fmt = "%s (descending)"


class ApiFilterSet(django_filters.FilterSet):
    """A FilterSet whose form class is built once per FilterSet class, not once per request.

    django-filter assembles a new form class from the filters every time a FilterSet is made,
    a few milliseconds of each list request. These filters are the same for every request, so
    one class serves them all; each request's form still gets fields of its own.
    """

    def get_form_class(self):
        filterset_class = type(self)
        # Looked up on the class itself: a subclass has filters, so a form class, of its own.
        form_class = filterset_class.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            filterset_class._form_class = form_class
        return form_class


class OfferFilter(ApiFilterSet):
    """Filters and ordering of the offer list; they act on eMAG's values, not local ones."""

    account_type = AccountTypeFilter()
    status = django_filters.TypedChoiceFilter(
        choices=OfferStatus.choices, coerce=int, help_text="0 inactive, 1 active, 2 end of life."
    )
    validation_status = IntegerFilter(min_value=0, max_value=32767)
    offer_validation_status = IntegerFilter(min_value=0, max_value=32767)
    in_stock = StrictBooleanFilter(
        method="filter_in_stock", help_text="true: general stock above 0; false: none."
    )
    missing = StrictBooleanFilter(
        method="filter_missing", help_text="true: offers the last full pass did not see."
    )
    price_min = django_filters.NumberFilter(
        field_name="sale_price", lookup_expr="gte", max_digits=16, decimal_places=4
    )
    price_max = django_filters.NumberFilter(
        field_name="sale_price", lookup_expr="lte", max_digits=16, decimal_places=4
    )
    synced_since = django_filters.IsoDateTimeFilter(
        field_name="synced_at",
        lookup_expr="gte",
        help_text="Offers whose eMAG content changed at or after this time (ISO 8601).",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="An eMAG id, EAN or PNK (exact), any part of a SKU, or part of a name.",
    )
    ordering = EnglishOrderingFilter(
        fields=(
            ("id", "id"),
            ("emag_id", "emag_id"),
            ("part_number", "part_number"),
            ("name", "name"),
            ("sale_price", "sale_price"),
            ("general_stock", "general_stock"),
            ("synced_at", "synced_at"),
        ),
        # Fixed English labels, for the reason EnglishOrderingFilter gives.
        field_labels={
            name: name.replace("_", " ").capitalize()
            for name in (
                "id",
                "emag_id",
                "part_number",
                "name",
                "sale_price",
                "general_stock",
                "synced_at",
            )
        },
        help_text=gettext_lazy("Sort by these fields; a leading - sorts descending."),
    )

    class Meta:
        model = Offer
        fields: list[str] = []

    # django-filter calls a filter's method only with a value: an absent or empty parameter
    # (None) leaves the queryset alone before the method is reached.
    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return (
            queryset.filter(general_stock__gt=0) if value else queryset.exclude(general_stock__gt=0)
        )

    def filter_missing(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(missing_since__isnull=not value)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return offer_search(offers=queryset, term=value)


class SyncRunFilter(ApiFilterSet):
    account_type = AccountTypeFilter()
    status = django_filters.ChoiceFilter(choices=SyncStatus.choices)
    mode = django_filters.ChoiceFilter(choices=SyncMode.choices)

    class Meta:
        model = SyncRun
        fields: list[str] = []


class OfferPushFilter(ApiFilterSet):
    account_type = AccountTypeFilter()
    state = django_filters.ChoiceFilter(choices=PushState.choices)
    field = django_filters.ChoiceFilter(
        choices=EditableField.choices, field_name="values", lookup_expr="has_key"
    )
    offer = IntegerFilter(field_name="offer_id", min_value=1, max_value=MAX_BIGINT)
    run = IntegerFilter(field_name="run_id", min_value=1, max_value=MAX_BIGINT)

    class Meta:
        model = OfferPush
        fields: list[str] = []


class ConflictFilter(ApiFilterSet):
    account_type = AccountTypeFilter(account_field="offer__account")
    status = django_filters.ChoiceFilter(choices=ConflictStatus.choices)
    field = django_filters.ChoiceFilter(choices=EditableField.choices)
    offer = IntegerFilter(field_name="offer_id", min_value=1, max_value=MAX_BIGINT)

    class Meta:
        model = Conflict
        fields: list[str] = []


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

    def filter_read_warnings(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        warned = Q(read_warnings=[])
        return queryset.exclude(warned) if value else queryset.filter(warned)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not (term.isascii() and term.isdigit()) or int(term) > MAX_BIGINT:
            return queryset.none()
        return queryset.filter(emag_id=int(term))
