"""Changelist filters whose choices are known up front.

Django's default filter on a plain column lists its values with SELECT DISTINCT over the
whole table; these filters know their choices, so a page never scans the table for them.
"""

from django.contrib import admin
from django.db.models import Exists, Q

from emag_sync.accounts import account_choices
from emag_sync.admin.display import OFFER_VALIDATION_STATUS_LABELS, VALIDATION_STATUS_LABELS
from emag_sync.selectors import offer_has_local_edits, offer_has_open_conflicts


class AccountFilter(admin.SimpleListFilter):
    title = "account"
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
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class InStockFilter(YesNoFilter):
    title = "in stock"
    parameter_name = "in_stock"

    def condition(self):
        return Q(general_stock__gt=0)


class MissingFilter(YesNoFilter):
    title = "missing from eMAG"
    parameter_name = "missing"

    def condition(self):
        return Q(missing_since__isnull=False)


class HasLocalEditsFilter(YesNoFilter):
    title = "has local edits"
    parameter_name = "local_edits"

    def condition(self):
        return offer_has_local_edits()


class HasOpenConflictsFilter(YesNoFilter):
    title = "has open conflicts"
    parameter_name = "open_conflicts"

    def condition(self):
        return offer_has_open_conflicts()


class ChoicesFilter(admin.SimpleListFilter):
    """A filter on an integer column whose meaningful values are documented by eMAG."""

    labels: dict[int, str]

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
    title = "validation status"
    parameter_name = "validation_status"
    labels = {value: label for value, label in VALIDATION_STATUS_LABELS.items() if value <= 12}


class OfferValidationStatusFilter(ChoicesFilter):
    title = "offer validation status"
    parameter_name = "offer_validation_status"
    labels = OFFER_VALIDATION_STATUS_LABELS
