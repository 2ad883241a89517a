"""The "Change price or stock" action: a form, a preview of old and new values, then apply."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from emag_sync.models import EditableField
from emag_sync.services.bulk_edits import (
    BULK_FIELDS,
    BulkChangeError,
    BulkOperation,
    bulk_change_apply,
    bulk_change_check,
    bulk_change_rows,
)


class BulkChangeForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Field"),
        choices=[(field.value, EditableField(field).label) for field in BULK_FIELDS],
    )
    operation = forms.ChoiceField(
        label=_("Operation"),
        choices=[(operation.value, operation.label) for operation in BulkOperation],
    )
    amount = forms.DecimalField(
        min_value=0,
        max_digits=14,
        decimal_places=4,
        label=_("Amount"),
        help_text=_(
            "A price or an amount in the offer's currency, without VAT (as eMAG's prices "
            "are), a percentage, or a number of units of stock. New prices are rounded to "
            "2 decimals."
        ),
    )

    def clean(self):
        data = super().clean()
        if {"field", "operation", "amount"} <= data.keys():
            try:
                bulk_change_check(
                    field=data["field"], operation=data["operation"], amount=data["amount"]
                )
            except BulkChangeError as error:
                raise forms.ValidationError(str(error)) from None
        return data


class BulkChangeMixin:
    """Adds the bulk change action to the offer admin; it needs the change permission."""

    @admin.action(description=_("Change price or stock (with preview)"), permissions=["change"])
    def bulk_change(self, request, queryset):
        step = request.POST.get("bulk_step")
        form = BulkChangeForm(request.POST if step else None)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Change price or stock"),
            "opts": self.opts,
            "form": form,
            "queryset_count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        if step and form.is_valid():
            data = form.cleaned_data
            if step == "apply":
                changed, refused = bulk_change_apply(
                    offer_ids=queryset.values_list("pk", flat=True),
                    field=data["field"],
                    operation=data["operation"],
                    amount=data["amount"],
                    user=request.user,
                )
                label = str(EditableField(data["field"]).label).lower()
                self.message_user(
                    request,
                    ngettext(
                        "Changed the local %(field)s of %(count)d offer; queued to push.",
                        "Changed the local %(field)s of %(count)d offers; queued to push.",
                        changed,
                    )
                    % {"field": label, "count": changed},
                    messages.SUCCESS,
                )
                if refused:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d offer refused and left unchanged, as the preview showed.",
                            "%(count)d offers refused and left unchanged, as the preview showed.",
                            len(refused),
                        )
                        % {"count": len(refused)},
                        messages.WARNING,
                    )
                return None
            rows = bulk_change_rows(
                offers=queryset,
                field=data["field"],
                operation=data["operation"],
                amount=data["amount"],
            )
            context.update(
                rows=rows,
                changing=sum(row.changes for row in rows),
                refused=sum(bool(row.error) for row in rows),
                is_price=data["field"] != EditableField.STOCK,
            )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/emag_sync/offer/bulk_change.html", context)
