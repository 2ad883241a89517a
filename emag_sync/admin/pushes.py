"""Pushes: every send of local values to eMAG, with its outcome and eMAG's messages."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from emag_sync.admin.bases import OfferRecordAdmin
from emag_sync.admin.display import account_column
from emag_sync.admin.filters import AccountFilter
from emag_sync.models import OfferPush, PushState
from emag_sync.services.push_outbox import outbox_retry


@admin.register(OfferPush)
class OfferPushAdmin(OfferRecordAdmin):
    """Each push of each offer: fields and values, who set them, the run, the outcome."""

    list_display = [
        "offer_link",
        "account_badge",
        "state",
        "values",
        "requested_by",
        "requested_at",
        "run",
        "sends",
        "finished_at",
        "emag_messages",
    ]
    list_filter = [AccountFilter, "state"]
    search_fields = ["offer__part_number"]
    ordering = ["-requested_at", "-id"]
    actions = ["retry_rejected"]
    list_select_related = ["offer", "requested_by"]

    account_badge = account_column()

    @admin.display(description=_("eMAG's messages"))
    def emag_messages(self, push):
        return "; ".join(push.messages) or "—"

    def has_retry_permission(self, request):
        # Sending again spends the account's request budget, like a sync.
        return request.user.has_perm("emag_sync.run_sync")

    @admin.action(description=_("Send the selected rejected pushes again"), permissions=["retry"])
    def retry_rejected(self, request, queryset):
        queued = outbox_retry(
            pushes=queryset.filter(state=PushState.REJECTED).select_related("offer"),
            user=request.user,
        )
        self.message_user(
            request,
            ngettext(
                "Queued %(count)d push for the next push to eMAG.",
                "Queued %(count)d pushes for the next push to eMAG.",
                queued,
            )
            % {"count": queued},
        )
