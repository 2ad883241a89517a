"""Changelist filters whose choices are known up front.

Django's default filter on a plain column lists its values with SELECT DISTINCT over the
whole table; these filters know their choices, so a page never scans the table for them.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from emag_sync.accounts import account_choices, get_accounts
from emag_sync.admin.display import (
    OFFER_VALIDATION_STATUS_LABELS,
    VALIDATION_STATUS_LABELS,
    StrOrPromise,
)
from emag_sync.models import PushState
from emag_sync.selectors import (
    offer_has_local_edits,
    offer_has_open_conflicts,
    offer_has_push_state,
)


class AccountFilter(admin.SimpleListFilter):
    title = _("account")
    parameter_name = "account"
    # The column holding the account name, on the filtered model.
    field_path = "account"

    def lookups(self, request, model_admin):
        return account_choices()

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_path: self.value()})
        return queryset


class OfferAccountFilter(AccountFilter):
    field_path = "offer__account"


class YesNoFilter(admin.SimpleListFilter):
    """A yes/no filter; subclasses say what "yes" means."""

    def condition(self) -> Q | Exists:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class InStockFilter(YesNoFilter):
    title = _("in stock")
    parameter_name = "in_stock"

    def condition(self):
        return Q(general_stock__gt=0)


class MissingFilter(YesNoFilter):
    title = _("missing from eMAG")
    parameter_name = "missing"

    def condition(self):
        return Q(missing_since__isnull=False)


class ReadWarningsFilter(YesNoFilter):
    title = _("stored with read warnings")
    parameter_name = "read_warnings"

    def condition(self):
        return ~Q(read_warnings=[])


class HasLocalEditsFilter(YesNoFilter):
    title = _("has local edits")
    parameter_name = "local_edits"

    def condition(self):
        return offer_has_local_edits()


class PushStateFilter(admin.SimpleListFilter):
    """Offers by the state of their latest push to eMAG (pending, rejected, ...)."""

    title = _("push to eMAG")
    parameter_name = "push"

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in PushState if state != PushState.DROPPED]

    def queryset(self, request, queryset):
        if self.value() in PushState.values:
            return queryset.filter(offer_has_push_state(self.value()))
        return queryset


class HasOpenConflictsFilter(YesNoFilter):
    title = _("has open conflicts")
    parameter_name = "open_conflicts"

    def condition(self):
        return offer_has_open_conflicts()


class ChoicesFilter(admin.SimpleListFilter):
    """A filter on an integer column whose meaningful values are documented by eMAG."""

    labels: Mapping[int, StrOrPromise]

    def lookups(self, request, model_admin):
        return [(str(value), f"{value} · {label}") for value, label in self.labels.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.parameter_name: int(value)})


class ValidationStatusFilter(ChoicesFilter):
    title = _("validation status")
    parameter_name = "validation_status"
    labels = {value: label for value, label in VALIDATION_STATUS_LABELS.items() if value <= 12}


class OfferValidationStatusFilter(ChoicesFilter):
    title = _("offer validation status")
    parameter_name = "offer_validation_status"
    labels = OFFER_VALIDATION_STATUS_LABELS


class AccountDateRangeFilter(admin.FieldListFilter):
    """Filter a date-time column by calendar days, both ends included, on each account's clock.

    eMAG shows a seller dates in the account's time zone, so "orders of 15 September" means
    that day in Bucharest for a Romanian account, not in UTC. Presets are links; any range
    can be typed into the two date inputs (an empty one leaves that end open).
    """

    template = "admin/emag_sync/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.parameter_from = f"{field_path}_from"
        self.parameter_to = f"{field_path}_to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.date_from = self._day(self.parameter_from)
        self.date_to = self._day(self.parameter_to)
        # The form below the presets sends the page's other parameters along (not the page
        # number, nor the flag of a previous bad filter, which would turn an error into a loop).
        ours = {self.parameter_from, self.parameter_to, PAGE_VAR, ERROR_FLAG}
        self.other_parameters = [
            (key, value)
            for key, values in request.GET.lists()
            if key not in ours
            for value in values
        ]

    def expected_parameters(self):
        return [self.parameter_from, self.parameter_to]

    def _day(self, parameter: str) -> date | None:
        # Django 5 keeps each used parameter as the list of its values.
        values = cast(list[str] | None, self.used_parameters.get(parameter))
        if not values or not values[-1]:
            return None
        try:
            return date.fromisoformat(values[-1])
        except ValueError as error:
            raise IncorrectLookupParameters(f"{parameter}: {error}") from None

    @staticmethod
    def today() -> date:
        """Return today on the accounts' clock (UTC when they disagree)."""
        zones = {account.timezone for account in get_accounts().values()}
        zone = zones.pop() if len(zones) == 1 else UTC
        return timezone.now().astimezone(zone).date()

    def presets(self) -> list[tuple[StrOrPromise, date | None, date | None]]:
        today = self.today()
        return [
            (_("Any date"), None, None),
            (_("Today"), today, today),
            (_("Yesterday"), today - timedelta(days=1), today - timedelta(days=1)),
            (_("Past 7 days"), today - timedelta(days=6), today),
            (_("This month"), today.replace(day=1), today),
            (_("Past 30 days"), today - timedelta(days=29), today),
        ]

    def choices(self, changelist):
        for label, first, last in self.presets():
            values = {}
            if first:
                values[self.parameter_from] = first.isoformat()
            if last:
                values[self.parameter_to] = last.isoformat()
            yield {
                "selected": (self.date_from, self.date_to) == (first, last),
                "query_string": changelist.get_query_string(
                    values, [self.parameter_from, self.parameter_to]
                ),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.date_from is None and self.date_to is None:
            return queryset
        accounts_by_zone: dict = {}
        for name, account in get_accounts().items():
            accounts_by_zone.setdefault(account.timezone, []).append(name)
        if len(accounts_by_zone) == 1:
            # The usual case: one range on the indexed column, read in date order.
            [zone] = accounts_by_zone
            return queryset.filter(self._bounds(zone))
        # Rows of an account no longer configured are read on UTC days.
        names = [name for group in accounts_by_zone.values() for name in group]
        condition = ~Q(account__in=names) & self._bounds(UTC)
        for zone, group in accounts_by_zone.items():
            condition |= Q(account__in=group) & self._bounds(zone)
        return queryset.filter(condition)

    def _bounds(self, zone) -> Q:
        bounds = Q()
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=zone)
            bounds &= Q(**{f"{self.field_path}__gte": start})
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=zone)
            bounds &= Q(**{f"{self.field_path}__lt": end})
        return bounds
