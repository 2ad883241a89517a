"""Offers: browse, search, filter and export the mirror; edit the local overlay."""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from emag_sync.admin.bulk import BulkChangeMixin
from emag_sync.admin.display import (
    OFFER_VALIDATION_STATUS_LABELS,
    READ_WARNINGS_FIELDSET,
    VALIDATION_STATUS_LABELS,
    account_column,
    copy_column,
    field_value,
    json_column,
    money,
    read_warnings_list,
    validation_label,
)
from emag_sync.admin.exports import CsvExportMixin
from emag_sync.admin.filters import (
    AccountFilter,
    HasLocalEditsFilter,
    HasOpenConflictsFilter,
    InStockFilter,
    MissingFilter,
    OfferValidationStatusFilter,
    PushStateFilter,
    ReadWarningsFilter,
    ValidationStatusFilter,
)
from emag_sync.admin.forms import OVERLAY_PREFIX, OfferOverlayForm
from emag_sync.admin.imports import OfferImportMixin
from emag_sync.admin.mirror import EmagMirrorMixin
from emag_sync.admin.pagination import CappedCountMixin
from emag_sync.admin.selection import CheckedSelectionMixin
from emag_sync.exports import offer_csv_rows
from emag_sync.models import EditableField, LocalEdit, Offer, PushState
from emag_sync.selectors import (
    offer_change_history,
    offer_current_push,
    offer_open_conflicts,
    offer_overlay_prefetch,
    offer_search,
)
from emag_sync.services.local_edits import emag_value, offer_local_update
from emag_sync.services.offer_push import offer_push_now

# The columns the changelist shows: the raw payload (and what is read from it) stays in the
# database instead of crossing the wire for every row.
LIST_COLUMNS = [
    "account",
    "emag_id",
    "part_number",
    "name",
    "sale_price",
    "currency",
    "general_stock",
    "status",
    "validation_status",
    "offer_validation_status",
    "synced_at",
    "missing_since",
]
CHANGE_HISTORY_SHOWN = 50
# Columns that exist only here, never sent by eMAG: saved straight from the form.
LOCAL_COLUMNS = ("local_notes", "custom_attributes")


class OfferChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        offers = super().get_queryset(request, exclude_parameters).only(*LIST_COLUMNS)
        return offer_overlay_prefetch(offers)


@admin.register(Offer)
class OfferAdmin(
    EmagMirrorMixin,
    CheckedSelectionMixin,
    OfferImportMixin,
    BulkChangeMixin,
    CsvExportMixin,
    CappedCountMixin,
    admin.ModelAdmin,
):
    # Export CSV's changelist with the Import link beside it (see OfferImportMixin).
    change_list_template = "admin/emag_sync/offer/change_list.html"
    form = OfferOverlayForm
    list_display = [
        "sku",
        "short_name",
        "account_badge",
        "price",
        "stock_level",
        "status",
        "validation",
        "synced_at",
        "push_state",
        "flags",
    ]
    list_display_links = ["sku"]
    list_filter = [
        AccountFilter,
        "status",
        ValidationStatusFilter,
        OfferValidationStatusFilter,
        InStockFilter,
        MissingFilter,
        ReadWarningsFilter,
        HasLocalEditsFilter,
        HasOpenConflictsFilter,
        PushStateFilter,
    ]
    # The search itself is get_search_results; a non-empty list shows the search box.
    search_fields = ["part_number"]
    search_help_text = _(
        "Any part of a SKU, words of a name, or exactly a PNK, an EAN or an eMAG id."
    )
    list_per_page = 100
    # Facet counts would COUNT the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    ordering = ["account", "emag_id"]
    actions = ["export_selected_csv", "bulk_change", "push_now"]
    csv_rows = staticmethod(offer_csv_rows)
    change_form_template = "admin/emag_sync/offer/change_form.html"
    fieldsets = [
        (
            _("Local overlay"),
            {
                "description": _(
                    "Your values for this offer. They take precedence over eMAG's "
                    "until eMAG changes the same field (then the sync's conflict strategy "
                    "decides). Prices are without VAT, as eMAG's are. Prices, stock, handling "
                    "time, status and VAT rate are checked with eMAG's rules and pushed to "
                    "eMAG; name, brand and description stay local."
                ),
                "fields": [
                    ("overlay_sale_price", "overlay_recommended_price"),
                    ("overlay_min_sale_price", "overlay_max_sale_price"),
                    ("overlay_general_stock", "overlay_handling_time", "overlay_status"),
                    "overlay_vat_id",
                    "push_detail",
                    ("overlay_name", "overlay_brand"),
                    "overlay_description",
                    "local_notes",
                    "custom_attributes",
                ],
            },
        ),
        (
            _("Identity (from eMAG)"),
            {
                "fields": [
                    "account_badge",
                    ("emag_id_copy", "offer_id"),
                    ("sku_copy", "pnk_copy"),
                    "name",
                    ("brand", "brand_name"),
                    ("category_id", "vendor_category_id"),
                    "eans",
                    "url",
                ]
            },
        ),
        (
            _("Price (from eMAG)"),
            {
                "fields": [
                    ("sale_price", "recommended_price", "currency"),
                    ("min_sale_price", "max_sale_price"),
                    ("vat_id", "warranty"),
                ]
            },
        ),
        (
            _("Stock and status (from eMAG)"),
            {
                "fields": [
                    ("status", "general_stock", "estimated_stock"),
                    "stock_json",
                    "handling_time_json",
                    "availability_json",
                ]
            },
        ),
        (
            _("Validation (from eMAG)"),
            {
                "fields": [
                    "validation",
                    "validation_status_description",
                    "validation_status_detail_json",
                    "offer_validation",
                    "offer_validation_status_detail_json",
                    "translation_validation",
                    "doc_errors_json",
                ]
            },
        ),
        (
            _("Competition (from eMAG)"),
            {
                "fields": [
                    ("number_of_offers", "buy_button_rank"),
                    ("best_offer_sale_price", "best_offer_recommended_price"),
                    ("genius_eligibility", "genius_eligibility_type", "genius_computed"),
                    "ownership",
                ]
            },
        ),
        (
            _("Content (from eMAG)"),
            {
                "classes": ["collapse"],
                "fields": [
                    "description",
                    "images_json",
                    "characteristics_json",
                    "family_json",
                    "attachments_json",
                    "offer_details_json",
                    "manufacturer_json",
                    "eu_representative_json",
                    "safety_information",
                ],
            },
        ),
        (
            _("Sync"),
            {"fields": [("synced_at", "first_seen_at", "missing_since"), "content_hash_hex"]},
        ),
        (_("Raw payload from eMAG"), {"classes": ["collapse"], "fields": ["raw_json"]}),
    ]
    # Everything shown except the overlay inputs and the local-only columns comes from eMAG.
    readonly_fields = [
        name
        for name in flatten_fieldsets(fieldsets)
        if not name.startswith(OVERLAY_PREFIX) and name not in LOCAL_COLUMNS
    ] + ["read_warnings_list"]

    # --- permissions: only local values change here (EmagMirrorMixin refuses add and delete)

    def get_fieldsets(self, request, obj=None):
        warnings = [READ_WARNINGS_FIELDSET] if obj is not None and obj.read_warnings else []
        if self.has_change_permission(request, obj):
            return [*warnings, *self.fieldsets]
        # A viewer sees the local values in the table below the fieldsets, not as inputs.
        (title, options), *rest = self.fieldsets
        local_only = {**options, "fields": ["push_detail", "local_notes", "custom_attributes"]}
        return [*warnings, (title, local_only), *rest]

    read_warnings_list = read_warnings_list

    # --- changelist -----------------------------------------------------------------------

    changelist_class = OfferChangeList

    def mirror_search(self, queryset, term):
        """Match a SKU's start, every word of a name, or a PNK, EAN or eMAG id exactly."""
        return offer_search(offers=queryset, term=term)

    @admin.display(description=_("SKU"), ordering="part_number")
    def sku(self, offer):
        return offer.part_number or f"#{offer.emag_id}"

    @admin.display(description=_("name"), ordering="name")
    def short_name(self, offer):
        return offer.name if len(offer.name) <= 70 else offer.name[:67] + "…"

    account_badge = account_column()

    @staticmethod
    def _local(offer, field: str):
        """Return the offer's local value of a field, from the changelist's prefetch."""
        for edit in getattr(offer, "overlay_edits", []):
            if edit.field == field:
                return edit.value
        return None

    @admin.display(description=_("price"), ordering="sale_price")
    def price(self, offer):
        emag_price = money(offer.sale_price, offer.currency)
        local = self._local(offer, EditableField.SALE_PRICE)
        if local is None:
            return emag_price
        return format_html(
            '<strong title="{}">{}</strong> <span class="mf-muted">eMAG {}</span>',
            gettext("Local value; eMAG has %(price)s") % {"price": emag_price},
            money(local, offer.currency),
            emag_price,
        )

    @admin.display(description=_("stock"), ordering="general_stock")
    def stock_level(self, offer):
        emag_stock = "—" if offer.general_stock is None else offer.general_stock
        local = self._local(offer, EditableField.STOCK)
        if local is None:
            return emag_stock
        return format_html(
            '<strong>{}</strong> <span class="mf-muted">eMAG {}</span>', local, emag_stock
        )

    @admin.display(description=_("validation"), ordering="validation_status")
    def validation(self, offer):
        return validation_label(offer.validation_status, VALIDATION_STATUS_LABELS)

    @admin.display(description=_("offer validation"))
    def offer_validation(self, offer):
        return validation_label(offer.offer_validation_status, OFFER_VALIDATION_STATUS_LABELS)

    @admin.display(description=_("translation validation"))
    def translation_validation(self, offer):
        return validation_label(offer.translation_validation_status, VALIDATION_STATUS_LABELS)

    def has_push_permission(self, request):
        # Pushing spends the account's eMAG request budget, as a sync does.
        return request.user.has_perm("emag_sync.run_sync")

    @admin.action(description=_("Push to eMAG now"), permissions=["push"])
    def push_now(self, request, queryset):
        queued = 0
        with transaction.atomic():
            for offer in queryset.only("pk", "account", "emag_id"):
                queued += offer_push_now(offer=offer, user=request.user) is not None
        if queued:
            self.message_user(
                request,
                ngettext(
                    "Pushing %(count)d offer to eMAG now.",
                    "Pushing %(count)d offers to eMAG now.",
                    queued,
                )
                % {"count": queued},
            )
        else:
            self.message_user(
                request,
                gettext("Nothing to push: no selected offer has a local value waiting."),
                messages.WARNING,
            )

    @admin.display(description=_("push"))
    def push_state(self, offer):
        push = offer_current_push(offer)
        if push is None:
            return "—"
        # eMAG's messages say why a push was refused: shown on hover.
        return format_html(
            '<span class="mf-push mf-push-{}" title="{}">{}</span>',
            push.state,
            "; ".join(push.messages),
            PushState(push.state).label.lower(),
        )

    @admin.display(description=_("Push to eMAG"))
    def push_detail(self, offer):
        push = offer_current_push(offer)
        history = reverse("admin:emag_sync_offerpush_changelist") + f"?q={offer.part_number}"
        if push is None:
            return format_html(
                '{} <a href="{}">{}</a>',
                gettext("Nothing on its way."),
                history,
                gettext("Every push of this offer"),
            )
        said = (
            gettext(": eMAG said %(messages)s.") % {"messages": "; ".join(push.messages)}
            if push.messages
            else "."
        )
        return format_html(
            '<strong class="mf-push mf-push-{}">{}</strong>{} <a href="{}">{}</a>',
            push.state,
            PushState(push.state).label,
            said,
            history,
            gettext("Every push of this offer"),
        )

    @admin.display(description="")
    def flags(self, offer):
        flags = []
        if getattr(offer, "overlay_edits", None):
            flags.append(
                ("mf-flag-local", gettext("Has local values"), pgettext("offer flag", "local"))
            )
        if getattr(offer, "open_conflict_list", None):
            flags.append(
                (
                    "mf-flag-conflict",
                    gettext("Open conflict waiting for review"),
                    pgettext("offer flag", "conflict"),
                )
            )
        if offer.missing_since:
            flags.append(
                (
                    "mf-flag-missing",
                    gettext("Not returned by eMAG's last full pass"),
                    pgettext("offer flag", "missing"),
                )
            )
        return format_html_join(" ", '<span class="mf-flag {}" title="{}">{}</span>', flags)

    # --- detail ---------------------------------------------------------------------------

    # Labels start with a capital anyway, so "eMAG id" would read "EMAG id".
    emag_id_copy = copy_column("emag_id", _("Product id on eMAG"))

    @admin.display(description=_("Offer id on eMAG"))
    def offer_id(self, offer):
        return offer.emag_offer_id or "—"

    sku_copy = copy_column("part_number", _("SKU"))
    pnk_copy = copy_column("part_number_key", _("PNK"))

    @admin.display(description=_("EANs"))
    def eans(self, offer):
        return ", ".join(str(ean) for ean in offer.ean or []) or "—"

    stock_json = json_column("stock", _("stock per warehouse"))
    handling_time_json = json_column("handling_time", _("handling time"))
    availability_json = json_column("availability", _("availability"))
    validation_status_detail_json = json_column("validation_status_detail", _("validation detail"))
    offer_validation_status_detail_json = json_column(
        "offer_validation_status_detail", _("offer validation detail")
    )
    doc_errors_json = json_column("doc_errors", _("documentation errors"))
    images_json = json_column("images", _("images"))
    characteristics_json = json_column("characteristics", _("characteristics"))
    family_json = json_column("family", _("family"))
    attachments_json = json_column("attachments", _("attachments"))
    offer_details_json = json_column("offer_details", _("offer details"))
    manufacturer_json = json_column("manufacturer", _("manufacturer"))
    eu_representative_json = json_column("eu_representative", _("EU representative"))
    raw_json = json_column("raw", _("payload"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            conflicts = list(offer_open_conflicts(offer=obj))
            context.update(
                open_conflicts=[
                    (
                        conflict,
                        field_value(conflict.field, conflict.local_value, obj.currency),
                        field_value(conflict.field, conflict.emag_value, obj.currency),
                    )
                    for conflict in conflicts
                ],
                conflicts_url=reverse("admin:emag_sync_conflict_changelist")
                + f"?offer__id__exact={obj.pk}&status__exact=open",
                change_history=list(offer_change_history(offer=obj, limit=CHANGE_HISTORY_SHOWN)),
                change_history_limit=CHANGE_HISTORY_SHOWN,
                local_edit_rows=self._local_edit_rows(context["adminform"].form, obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _local_edit_rows(form, offer):
        return [
            {
                "field": EditableField(edit.field).label,
                "local": field_value(edit.field, edit.value, offer.currency),
                "emag": field_value(edit.field, emag_value(offer, edit.field), offer.currency),
                "edited_by": edit.edited_by.get_username() if edit.edited_by else "—",
                "edited_at": edit.edited_at,
            }
            for edit in form.local_edits.values()
        ]

    def save_model(self, request, obj, form, change):
        # Only the local-only columns: a full save could write back eMAG columns that a
        # sync changed since this page was loaded.
        local_columns = [name for name in LOCAL_COLUMNS if name in form.changed_data]
        if local_columns:
            obj.save(update_fields=local_columns)
        changes = dict(form.overlay_changes())
        if not changes:
            return
        # All at once, as the form checked them: a new price range and a price inside it.
        offer_local_update(offer=obj, edits=changes, user=request.user)
        kept = set(LocalEdit.objects.filter(offer=obj).values_list("field", flat=True))
        for field, value in changes.items():
            label = EditableField(field).label.lower()
            if value is None:
                self.message_user(
                    request,
                    gettext("Dropped the local %(field)s: eMAG's value applies.")
                    % {"field": label},
                )
            elif field not in kept:
                self.message_user(
                    request,
                    gettext("The %(field)s you entered equals eMAG's, so no local value is kept.")
                    % {"field": label},
                    messages.INFO,
                )
