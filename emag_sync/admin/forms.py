"""Admin forms: the dashboard's "Sync" request and the offer's local overlay."""

import re
from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.text import Truncator, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from emag_sync.accounts import ALL_ACCOUNTS, account_choices, get_accounts
from emag_sync.admin.display import (
    OFFER_VALIDATION_STATUS_LABELS,
    VALIDATION_STATUS_LABELS,
    StrOrPromise,
    field_value,
)
from emag_sync.models import (
    MONEY,
    ConflictStrategy,
    EditableField,
    Offer,
    OfferStatus,
    SyncMode,
)
from emag_sync.selectors import offer_local_edits
from emag_sync.services.local_edits import (
    LocalEditError,
    emag_value,
    json_storage_problem,
    local_edits_check,
)
from emag_sync.services.offer_sync import OfferSyncOptions
from emag_sync.services.sync_engine import SyncOptionsError

# The largest eMAG id a BIGINT column holds, and the largest stock filter: as the API's.
MAX_EMAG_ID = 2**63 - 1
MAX_STOCK_FILTER = 2**31 - 1


def _status_choices(labels: Mapping[int, StrOrPromise]) -> list[tuple[str, StrOrPromise]]:
    # Lazy, so each request shows the labels in its own language.
    return [("", _("Any"))] + [
        (str(value), format_lazy("{} · {}", value, label)) for value, label in labels.items()
    ]


def _stock_filter(label: StrOrPromise, help_text: StrOrPromise) -> forms.IntegerField:
    """Return an optional exact-stock filter, bounded as eMAG's integer filters are."""
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=MAX_STOCK_FILTER, help_text=help_text
    )


class SyncRequestForm(forms.Form):
    """Everything an offer sync can be asked to do, each option explained where it is set."""

    account = forms.ChoiceField(
        label=_("Account"),
        help_text=_(
            "The seller account to read from eMAG. “All accounts” queues one run per "
            "account; they run side by side, each within its own eMAG rate limit."
        ),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=SyncMode.choices,
        initial=SyncMode.INCREMENTAL,
        widget=forms.RadioSelect,
        help_text=_(
            "Full: every offer, active and inactive; offers eMAG no longer returns are "
            "marked missing. Incremental: active offers only, continuing where the last incremental "
            "run stopped, so short runs cover the catalogue in turn. Selective: only the SKUs, ids "
            "or filters given below; nothing is marked missing."
        ),
    )
    conflict_strategy = forms.ChoiceField(
        label=_("Conflict strategy"),
        choices=ConflictStrategy.choices,
        initial=ConflictStrategy.EMAG_PRIORITY,
        help_text=_(
            "When eMAG changed a field you also edited locally: eMAG priority drops your "
            "local value; local priority keeps it; newest wins keeps whichever changed last (an eMAG "
            "change is dated when the sync read it); manual review keeps yours and opens a conflict "
            "for you to decide."
        ),
    )
    max_pages = forms.IntegerField(
        label=_("Max pages"),
        required=False,
        min_value=1,
        help_text=_(
            "Incremental only: how many new pages (100 offers each) this run reads, "
            "continuing where the last incremental run stopped (the page before is read again). "
            "Empty reads on to the last page; the next run starts over at page 1. A full sync "
            "reads every page."
        ),
    )
    include_inactive = forms.BooleanField(
        label=_("Include inactive"),
        required=False,
        help_text=_("Incremental only: read inactive offers too. A full sync always reads them."),
    )
    skus = forms.CharField(
        label=_("SKUs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text=_("Selective only: your part numbers, one per line or separated by commas."),
    )
    emag_ids = forms.CharField(
        label=_("eMAG ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text=_(
            "Selective only: eMAG seller product ids, separated by spaces, commas or lines."
        ),
    )
    status = forms.ChoiceField(
        label=_("Offer status"),
        required=False,
        choices=[("", _("Any"))] + [(str(value), label) for value, label in OfferStatus.choices],
        help_text=_("Selective filter: only offers in this status on eMAG."),
    )
    part_number_key = forms.CharField(
        label=_("PNK"),
        required=False,
        max_length=32,
        help_text=_("Selective filter: eMAG's product key (part_number_key), exactly."),
    )
    general_stock = _stock_filter(
        _("Stock"), _("Selective filter: offers whose stock eMAG reports as exactly this number.")
    )
    estimated_stock = _stock_filter(
        _("Estimated stock"),
        _("Selective filter: offers whose estimated stock is exactly this number."),
    )
    validation_status = forms.ChoiceField(
        label=_("Validation status"),
        required=False,
        choices=_status_choices(
            {value: label for value, label in VALIDATION_STATUS_LABELS.items() if value <= 12}
        ),
        help_text=_("Selective filter: eMAG's documentation validation status."),
    )
    offer_validation_status = forms.ChoiceField(
        label=_("Offer validation status"),
        required=False,
        choices=_status_choices(OFFER_VALIDATION_STATUS_LABELS),
        help_text=_("Selective filter: whether eMAG accepts the offer's price."),
    )
    translation_validation_status = forms.ChoiceField(
        label=_("Translation validation status"),
        required=False,
        choices=_status_choices(VALIDATION_STATUS_LABELS),
        help_text=_("Selective filter: eMAG's translation validation status."),
    )

    FILTER_FIELDS = (
        "status",
        "part_number_key",
        "general_stock",
        "estimated_stock",
        "validation_status",
        "offer_validation_status",
        "translation_validation_status",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(ALL_ACCOUNTS, _("All accounts")), *account_choices()]

    def clean_emag_ids(self) -> list[int]:
        ids = []
        for token in re.split(r"[\s,;]+", self.cleaned_data["emag_ids"].strip()):
            if not token:
                continue
            if not token.isdigit() or not 0 < int(token) <= MAX_EMAG_ID:
                raise ValidationError(
                    _("“%(token)s” is not an eMAG id (a positive whole number).") % {"token": token}
                )
            ids.append(int(token))
        return ids

    def clean_skus(self) -> list[str]:
        # Part numbers may contain spaces, so only lines and commas separate them.
        return [
            sku.strip() for sku in re.split(r"[\n,]+", self.cleaned_data["skus"]) if sku.strip()
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        mode = data["mode"]
        selective = mode == SyncMode.SELECTIVE
        incremental = mode == SyncMode.INCREMENTAL
        # Options of other modes stay in the (hidden) inputs; they are ignored, not an error.
        try:
            data["options"] = OfferSyncOptions.from_values(
                mode=mode,
                conflict_strategy=data["conflict_strategy"],
                max_pages=data.get("max_pages") if incremental else None,
                include_inactive=bool(data.get("include_inactive")) if incremental else False,
                filters={
                    name: data[name]
                    for name in self.FILTER_FIELDS
                    if selective and data.get(name) not in (None, "")
                },
                ids=data["emag_ids"] if selective else [],
                skus=data["skus"] if selective else [],
            )
        except SyncOptionsError as error:
            raise ValidationError(str(error)) from None
        return data

    def account_names(self) -> list[str]:
        account = self.cleaned_data["account"]
        return list(get_accounts()) if account == ALL_ACCOUNTS else [account]


def _money_field(label) -> forms.DecimalField:
    # eMAG's prices are without VAT (docs/emag-api.md §3.4), and so are the local ones.
    return forms.DecimalField(
        required=False,
        min_value=Decimal("0.0001"),
        label=format_lazy(_("{label} (without VAT)"), label=label),
        **MONEY,
    )


# Not "local_": the model's own local-only columns (local_notes) already use that prefix.
OVERLAY_PREFIX = "overlay_"


class OfferOverlayForm(forms.ModelForm):
    """Edit an offer's local values; eMAG's columns are never written from here.

    Each editable field gets an `overlay_<field>` input: a value becomes a local edit, an
    emptied input drops the edit so eMAG's value shows again.
    """

    overlay_sale_price = _money_field(_("Local sale price"))
    overlay_recommended_price = _money_field(_("Local recommended price"))
    overlay_min_sale_price = _money_field(_("Local minimum sale price"))
    overlay_max_sale_price = _money_field(_("Local maximum sale price"))
    overlay_general_stock = forms.IntegerField(required=False, min_value=0, max_value=65535)
    overlay_handling_time = forms.IntegerField(
        required=False, min_value=0, max_value=255, label=_("Local handling days")
    )
    overlay_status = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("eMAG's value")), *OfferStatus.choices],
    )
    overlay_vat_id = forms.IntegerField(
        required=False,
        min_value=1,
        label=_("Local VAT rate id"),
        help_text=_("One of eMAG's vat/read."),
    )
    overlay_name = forms.CharField(required=False, max_length=255)
    overlay_brand = forms.CharField(required=False, max_length=255)
    overlay_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = Offer
        fields = ["local_notes", "custom_attributes"]
        widgets = {
            "local_notes": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "custom_attributes": forms.Textarea(attrs={"rows": 3, "cols": 80}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer = self.instance
        self.local_edits = {edit.field: edit for edit in offer_local_edits(offer=offer)}
        account = get_accounts().get(offer.account)
        for field in EditableField:
            form_field = self.fields[OVERLAY_PREFIX + field.value]
            form_field.label = form_field.label or gettext("Local %(field)s") % {
                "field": str(field.label).lower()
            }
            # The admin renders help texts unescaped, and eMAG's values (descriptions are
            # HTML) are data: strip, shorten and escape them here.
            shown = field_value(field.value, emag_value(offer, field.value), offer.currency)
            # A space where each tag was, so "<p>Alb</p><p>Ideal" reads "Alb Ideal".
            shown = " ".join(strip_tags(shown.replace(">", "> ")).split())
            parts = [format_html(gettext("eMAG: {}."), Truncator(shown).chars(80))]
            edit = self.local_edits.get(field.value)
            if edit:
                form_field.initial = edit.value
                who = edit.edited_by.get_username() if edit.edited_by else gettext("someone")
                parts.append(
                    format_html(
                        gettext("Local value set by {} on {} UTC."),
                        who,
                        f"{edit.edited_at:%Y-%m-%d %H:%M}",
                    )
                )
            if field == EditableField.STOCK and account and account.is_fulfilled_by_emag:
                form_field.disabled = True
                parts.append(gettext("Fulfilled by eMAG (FBE): eMAG manages the stock."))
            else:
                parts.append(gettext("Empty: eMAG's value applies."))
            form_field.help_text = format_html_join(" ", "{}", ((part,) for part in parts))

    def clean_custom_attributes(self) -> dict:
        attributes = self.cleaned_data["custom_attributes"]
        if attributes in (None, ""):
            return {}
        if not isinstance(attributes, dict):
            raise ValidationError(
                gettext('Write an object of names and values, e.g. {"shelf": "B2"}.')
            )
        # Python reads NaN, infinity and \u0000 as JSON; the database does not store them.
        problem = json_storage_problem(attributes)
        if problem:
            raise ValidationError(problem)
        return attributes

    def clean(self):
        data = super().clean()
        changes = dict(self.overlay_changes())
        try:
            # All together: eMAG's rules between prices see every value entered.
            local_edits_check(offer=self.instance, edits=changes)
        except LocalEditError as error:
            for field, messages in error.errors.items():
                for message in messages:
                    self.add_error(OVERLAY_PREFIX + field, message)
        return data

    def overlay_changes(self) -> list[tuple[str, object]]:
        """Return (field, new local value or None to drop it) for each overlay input changed."""
        changes = []
        for name in self.changed_data:
            if not name.startswith(OVERLAY_PREFIX) or name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if value == "":
                value = None
            if isinstance(value, Decimal):
                value = str(value)
            changes.append((name.removeprefix(OVERLAY_PREFIX), value))
        return changes
