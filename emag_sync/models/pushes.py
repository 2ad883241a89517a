"""The outbox of local values on their way to eMAG, and the record of every push of every offer."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .fields import user_link
from .offers import Offer
from .runs import sync_run_link


class PushState(models.TextChoices):
    # Waiting for the next push; later edits of the offer coalesce into it.
    PENDING = "pending", _("Pending")
    # In a batch sent (or about to be) by a push run; a new edit opens a new pending push.
    SENDING = "sending", _("Sending")
    # eMAG accepted the item; the local value stays effective until a read shows eMAG holding it.
    APPLIED = "applied", _("Applied")
    # A read (a sync, or the push's own read-back) showed eMAG holding every value.
    CONFIRMED = "confirmed", _("Confirmed")
    # eMAG refused the item (its messages are kept); not sent again until edited or retried.
    REJECTED = "rejected", _("Rejected")
    # The request's outcome is unknown (timeout, cut, 5xx, garbage): read back before resending.
    UNCERTAIN = "uncertain", _("Uncertain")
    # Nothing left to send: every field was reverted, cleared or lost to eMAG's change.
    DROPPED = "dropped", _("Dropped")


# States whose values may already be on eMAG, or soon: a sync seeing them is no conflict.
IN_FLIGHT_STATES = (PushState.SENDING, PushState.APPLIED, PushState.UNCERTAIN)
# States a push ends in.
CLOSED_STATES = (PushState.CONFIRMED, PushState.REJECTED, PushState.DROPPED)


class OfferPush(models.Model):
    """One push of one offer's local values to eMAG: the outbox entry, then its record.

    Each offer has at most one pending push, which later edits update with their newest
    values (`values`, in the local-edit JSON form). Once a push run takes it, it becomes
    the record of that send: the values sent, by whom they were set, the run, the outcome
    and eMAG's messages.
    """

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="pushes"
    )
    account = models.CharField(
        _("account"), max_length=32, help_text=_("The offer's account (claims go by it).")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=PushState.choices, default=PushState.PENDING
    )
    values = models.JSONField(
        _("values"), default=dict, help_text=_("Field -> local value to send (prices without VAT).")
    )
    requested_by = user_link(_("requested by"))
    requested_at = models.DateTimeField(
        _("requested at"), help_text=_("When the last edit coalesced into it.")
    )
    run = sync_run_link("pushes")
    sends = models.SmallIntegerField(
        _("sends"), default=0, help_text=_("Requests that carried it.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    messages = models.JSONField(
        _("messages"), default=list, blank=True, help_text=_("eMAG's messages.")
    )
    # The offer's newest push, the one its push state shows; older ones are its history.
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        verbose_name = _("offer push")
        verbose_name_plural = _("offer pushes")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(state="pending"),
                name="uniq_pending_push_per_offer",
            ),
            models.UniqueConstraint(
                fields=["offer"], condition=Q(is_current=True), name="uniq_current_push_per_offer"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "state"], name="offerpush_account_state"),
            models.Index(fields=["offer", "-id"], name="offerpush_offer_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {sorted(self.values)} ({self.state})"
