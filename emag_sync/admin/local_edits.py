"""Local edits: every local value in one list, with who set it and eMAG's value beside it."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from emag_sync.admin.bases import OfferRecordAdmin
from emag_sync.admin.display import account_column, field_value
from emag_sync.admin.selection import CheckedSelectionMixin
from emag_sync.models import LocalEdit
from emag_sync.services.local_edits import emag_value, local_edit_clear


@admin.register(LocalEdit)
class LocalEditAdmin(CheckedSelectionMixin, OfferRecordAdmin):
    """Every local value in one list, with who set it; dropping one restores eMAG's."""

    list_display = [
        "offer_link",
        "account_badge",
        "field",
        "local",
        "emag",
        "edited_by",
        "edited_at",
    ]
    list_filter = ["field"]
    search_fields = ["offer__part_number"]
    ordering = ["-edited_at", "-id"]
    actions = ["drop_local_values"]

    def get_queryset(self, request):
        # emag_value reads the offer's columns and, for a description or a handling time, its
        # payload: loaded with the edit rather than one query per row.
        return super().get_queryset(request).select_related("offer", "edited_by")

    account_badge = account_column("offer__account")

    @admin.display(description=_("local value"))
    def local(self, edit):
        return field_value(edit.field, edit.value, edit.offer.currency)

    @admin.display(description=_("eMAG value"))
    def emag(self, edit):
        return field_value(edit.field, emag_value(edit.offer, edit.field), edit.offer.currency)

    def has_drop_permission(self, request):
        # Local values belong to their offer: whoever may edit offers may drop them.
        return request.user.has_perm("emag_sync.change_offer")

    @admin.action(
        description=_("Drop the selected local values (eMAG's apply again)"),
        permissions=["drop"],
    )
    def drop_local_values(self, request, queryset):
        dropped = sum(local_edit_clear(offer=edit.offer, field=edit.field) for edit in queryset)
        self.message_user(
            request,
            ngettext("Dropped %(count)d local value.", "Dropped %(count)d local values.", dropped)
            % {"count": dropped},
        )
