"""Conflicts: review base, local and eMAG values side by side, and decide one or many."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from emag_sync.admin.display import StrOrPromise, account_column, field_value
from emag_sync.admin.filters import OfferAccountFilter
from emag_sync.admin.selection import CheckedSelectionMixin
from emag_sync.models import Conflict, ConflictResolution, ConflictStatus
from emag_sync.selectors import conflict_search
from emag_sync.services.conflicts import conflict_resolve

RESOLUTION_WORDS: dict[str, StrOrPromise] = {
    ConflictResolution.ACCEPT_EMAG: _("accepted eMAG's value"),
    ConflictResolution.KEEP_LOCAL: _("kept the local value"),
}
# The offer columns a conflict row shows; its JSON payload columns are never needed here.
OFFER_COLUMNS = [
    "offer__account",
    "offer__emag_id",
    "offer__part_number",
    "offer__name",
    "offer__currency",
]


@admin.register(Conflict)
class ConflictAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = [
        "offer_link",
        "account_badge",
        "field",
        "base",
        "local",
        "emag",
        "detected_at",
        "detected_in_link",
        "status",
        "decide",
    ]
    list_filter = ["status", OfferAccountFilter, "field", "resolution"]
    search_fields = ["offer__part_number", "offer__name"]
    search_help_text = _("SKU or offer name, with or without diacritics.")
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    actions = ["accept_emag", "keep_local"]
    change_form_template = "admin/emag_sync/conflict/change_form.html"
    fields = (
        "offer_link",
        "account_badge",
        "field",
        "comparison",
        "status",
        "resolution",
        "detected_at",
        "detected_in_link",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = fields

    class Media:
        css = {"all": ["emag_sync/admin.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("offer", "resolved_by")
            .only(
                *[field.name for field in Conflict._meta.concrete_fields],
                *OFFER_COLUMNS,
                "resolved_by__username",
            )
        )

    def get_search_results(self, request, queryset, search_term):
        """Match every word in the offer's SKU or, with or without diacritics, in its name."""
        return conflict_search(conflicts=queryset, term=search_term), False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- values side by side --------------------------------------------------------------

    def _show(self, conflict, value):
        return field_value(conflict.field, value, conflict.offer.currency)

    @admin.display(description=_("offer"), ordering="offer__part_number")
    def offer_link(self, conflict):
        url = reverse("admin:emag_sync_offer_change", args=[conflict.offer_id])
        label = conflict.offer.part_number or conflict.offer.emag_id
        return format_html('<a href="{}" title="{}">{}</a>', url, conflict.offer.name, label)

    account_badge = account_column("offer__account")

    @admin.display(description=_("base (last synced)"))
    def base(self, conflict):
        return self._show(conflict, conflict.base_value)

    @admin.display(description=_("local"))
    def local(self, conflict):
        return format_html(
            '<span class="mf-side-local">{}</span>', self._show(conflict, conflict.local_value)
        )

    @admin.display(description=_("eMAG now"))
    def emag(self, conflict):
        return format_html(
            '<span class="mf-side-emag">{}</span>', self._show(conflict, conflict.emag_value)
        )

    @admin.display(description=_("values"))
    def comparison(self, conflict):
        return format_html(
            '<table class="mf-compare"><thead><tr><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody><tr><td>{}</td>"
            '<td class="mf-side-local">{}</td><td class="mf-side-emag">{}</td></tr></tbody></table>',
            gettext("Base (last synced eMAG value)"),
            gettext("Local"),
            gettext("eMAG now"),
            self._show(conflict, conflict.base_value),
            self._show(conflict, conflict.local_value),
            self._show(conflict, conflict.emag_value),
        )

    @admin.display(description=_("detected in"), ordering="detected_in")
    def detected_in_link(self, conflict):
        if conflict.detected_in_id is None:
            return "—"
        url = reverse("admin:emag_sync_syncrun_change", args=[conflict.detected_in_id])
        return format_html(
            '<a href="{}">{}</a>',
            url,
            gettext("run #%(run)s") % {"run": conflict.detected_in_id},
        )

    @admin.display(description=_("decide"))
    def decide(self, conflict):
        """Per-row buttons; they submit the changelist form (and its CSRF token) elsewhere."""
        if conflict.status != ConflictStatus.OPEN:
            return conflict.get_resolution_display() or "—"
        url = reverse("admin:emag_sync_conflict_resolve", args=[conflict.pk])
        return format_html(
            '<span class="mf-decide">'
            '<button type="submit" class="button" formaction="{}" name="resolution" value="{}">'
            "{}</button> "
            '<button type="submit" class="button" formaction="{}" name="resolution" value="{}">'
            "{}</button></span>",
            url,
            ConflictResolution.ACCEPT_EMAG,
            ConflictResolution.ACCEPT_EMAG.label,
            url,
            ConflictResolution.KEEP_LOCAL,
            ConflictResolution.KEEP_LOCAL.label,
        )

    # --- deciding -------------------------------------------------------------------------

    @admin.action(
        description=_("Accept eMAG's value for the selected conflicts"), permissions=["change"]
    )
    def accept_emag(self, request, queryset):
        self._resolve(request, queryset, ConflictResolution.ACCEPT_EMAG)

    @admin.action(
        description=_("Keep the local value for the selected conflicts"), permissions=["change"]
    )
    def keep_local(self, request, queryset):
        self._resolve(request, queryset, ConflictResolution.KEEP_LOCAL)

    def _resolve(self, request, queryset, resolution: str) -> int:
        resolved = conflict_resolve(
            conflicts=list(queryset.select_related(None).only("pk")),
            resolution=resolution,
            user=request.user,
        )
        if resolved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d conflict: %(outcome)s.",
                    "%(count)d conflicts: %(outcome)s.",
                    resolved,
                )
                % {"count": resolved, "outcome": RESOLUTION_WORDS[resolution]},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("Nothing to decide: those conflicts were already resolved."),
                messages.WARNING,
            )
        return resolved

    def get_urls(self):
        resolve = path(
            "<int:conflict_id>/resolve/",
            self.admin_site.admin_view(self.resolve_view),
            name="emag_sync_conflict_resolve",
        )
        return [resolve, *super().get_urls()]

    def resolve_view(self, request, conflict_id: int):
        """Decide one conflict from its row or its page, then go back where the click came from."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        resolution = request.POST.get("resolution")
        if resolution not in RESOLUTION_WORDS:
            self.message_user(
                request, gettext("Choose “Accept eMAG” or “Keep local”."), messages.ERROR
            )
        else:
            conflict = get_object_or_404(Conflict, pk=conflict_id)
            self._resolve(request, Conflict.objects.filter(pk=conflict.pk), resolution)
        return HttpResponseRedirect(self._back_url(request))

    def _back_url(self, request) -> str:
        for candidate in (request.POST.get("next"), request.headers.get("Referer")):
            if candidate and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return candidate
        return reverse("admin:emag_sync_conflict_changelist") + "?status__exact=open"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing on this page is edited through the form: it is decided with its buttons.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete_link": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)
