"""How the admin shows accounts, statuses and values: one colour per account everywhere."""

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from emag_sync.accounts import get_accounts
from emag_sync.models import EditableField, OfferStatus, OrderStatus, OrderType, SyncStatus
from emag_sync.services.local_edits import MONEY_FIELDS

# The predecessor's colours (MAIN blue, FBE green); further accounts take the palette in
# the order EMAG_ACCOUNTS lists them, so a colour never changes between pages. admin.css
# declares the same colours as classes (account_colour_class); a test keeps them equal.
ACCOUNT_COLOURS = {"main": "#1668dc", "fbe": "#2f8a0e"}
PALETTE = ["#7a3ec8", "#c2570c", "#b8256e", "#0b7f86", "#5b6b0f", "#8a5a00"]

STATUS_COLOURS: dict[str, str] = {
    SyncStatus.QUEUED: "#6b7280",
    SyncStatus.RUNNING: "#1668dc",
    SyncStatus.COMPLETED: "#2f8a0e",
    SyncStatus.PARTIAL: "#b45309",
    SyncStatus.FAILED: "#c62828",
    SyncStatus.CANCELLED: "#4b5563",
    SyncStatus.INTERRUPTED: "#6d28d9",
}

# eMAG's documented validation statuses (docs/emag-api.md §4.3); 13-17 are translation-only.
# A label a person reads: plain text or a lazy translation (resolved per request). The
# type checker knows the lazy kind by its stubs' name; django-stubs-ext is a dev requirement.
if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
else:
    StrOrPromise = str | Promise

VALIDATION_STATUS_LABELS = {
    0: _("Draft"),
    1: _("In MKTP validation"),
    2: _("Awaiting brand validation"),
    3: _("Waiting for EAN approval"),
    4: _("Documentation validation pending"),
    5: _("Brand rejected"),
    6: _("EAN rejected"),
    8: _("Documentation rejected"),
    9: _("Approved"),
    10: _("Blocked"),
    11: _("Update awaiting approval"),
    12: _("Update rejected"),
    13: _("Waiting for salable offer"),
    14: _("Translation failed"),
    15: _("Translation in progress"),
    16: _("Translation pending"),
    17: _("Partial translation"),
}
OFFER_VALIDATION_STATUS_LABELS = {1: _("Saleable"), 2: _("Invalid price")}


def _palette_index(name: str) -> int:
    others = [account for account in get_accounts() if account not in ACCOUNT_COLOURS]
    index = others.index(name) if name in others else len(others)
    return index % len(PALETTE)


def account_colour(name: str) -> str:
    """Return the account's colour: fixed for main and fbe, else by its configured position."""
    return ACCOUNT_COLOURS.get(name) or PALETTE[_palette_index(name)]


def account_colour_class(name: str) -> str:
    """Return the stylesheet class giving an element the account's colour (`--mf-account`).

    Colours come from classes in admin.css rather than style attributes, which a
    Content-Security-Policy without 'unsafe-inline' styles would block.
    """
    return f"mf-colour-{name}" if name in ACCOUNT_COLOURS else f"mf-colour-{_palette_index(name)}"


def account_tag(name: str) -> SafeString:
    return format_html(
        '<span class="mf-tag mf-account-tag {}">{}</span>', account_colour_class(name), name.upper()
    )


def status_tag(status: str) -> SafeString:
    label = SyncStatus(status).label if status in SyncStatus.values else status
    return format_html('<span class="mf-tag mf-status-{}">{}</span>', status, label)


def order_status_tag(status: int | None) -> SafeString:
    """Show an order status as a tag with its name; its colour comes from the stylesheet."""
    if status is None:  # eMAG sent none: the order lists it among its read warnings
        return format_html(
            '<span class="mf-tag" title="{}">{}</span>', gettext("eMAG sent no status"), "—"
        )
    label = OrderStatus(status).label if status in OrderStatus.values else f"status {status}"
    return format_html(
        '<span class="mf-tag mf-order-status-{}" title="{}">{}</span>',
        status,
        gettext("eMAG status %(status)s") % {"status": status},
        label,
    )


# Sellers say FBE and FBS; the full names stay in the title.
ORDER_TYPE_SHORT: dict[int, str] = {
    OrderType.FULFILLED_BY_EMAG: "FBE",
    OrderType.FULFILLED_BY_SELLER: "FBS",
}


def order_type_label(value: int | None) -> SafeString:
    if value is None or value not in ORDER_TYPE_SHORT:
        return format_html('<span class="mf-muted">{}</span>', "—" if value is None else value)
    return format_html(
        '<abbr title="{}">{}</abbr>', OrderType(value).label, ORDER_TYPE_SHORT[value]
    )


def account_zone(name: str) -> tzinfo:
    """Return the time zone the account's eMAG dates are written in (UTC if unknown)."""
    account = get_accounts().get(name)
    return account.timezone if account else UTC


def account_time(moment: datetime | None, account: str) -> str:
    """Show a moment as eMAG shows it to the account's seller: local wall time, no zone.

    In the active language's short format: `15.09.2025, 14:30` in Romanian, `2025-09-15 14:30`
    in English.
    """
    if moment is None:
        return "—"
    local = moment.astimezone(account_zone(account))
    return formats.date_format(local, "SHORT_DATETIME_FORMAT", use_l10n=True)


def count(value: int | None) -> str:
    """Show a count with its thousands grouped the active language's way: 12.345 or 12,345."""
    if value is None:
        return "—"
    return formats.number_format(value, use_l10n=True, force_grouping=True)


# How an amount's currency is written after it, where the language has its own word: `lei`.
CURRENCY_WORDS = {"RON": pgettext_lazy("currency written after an amount", "RON")}


def validation_label(value: int | None, labels: Mapping[int, StrOrPromise]) -> str:
    if value is None:
        return "—"
    return f"{value} · {labels.get(value, gettext('unknown'))}"


def money(value: Decimal | str | None, currency: str = "") -> str:
    """Show a price in the active language's format, with two decimals unless that would hide
    a digit that is stored: `1.403,49 lei` or `1.403,4876 lei` (Romanian), `1,403.49 RON`.

    Only the display is localised: stored values, the API and CSV exports keep the exact
    machine form (`1403.4876`).
    """
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return str(value)
    cents = amount.quantize(Decimal("0.01"))
    # Finite (checked above), so the exponent is a number.
    places = 2 if amount == cents else -int(amount.as_tuple().exponent)
    shown = formats.number_format(amount, places, use_l10n=True, force_grouping=True)
    return f"{shown} {CURRENCY_WORDS.get(currency, currency)}".strip()


def field_value(field: str, value: Any, currency: str = "") -> str:
    """Show an editable field's value (as local edits and conflicts store it) for people."""
    if value is None:
        return "—"
    if field in MONEY_FIELDS:
        return money(value, currency)
    if field == EditableField.STATUS and value in OfferStatus.values:
        return str(OfferStatus(value).label)
    if field == EditableField.HANDLING_TIME:
        try:
            days = int(value)
        except (TypeError, ValueError):
            return str(value)
        return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
    return str(value)


# Who started a run, where it was not a person (tasks.py, the commands, the worker).
TRIGGER_LABELS: dict[str, StrOrPromise] = {
    "schedule": pgettext_lazy("triggered by", "schedule"),
    "cli": pgettext_lazy("triggered by", "command line"),
    "first start": pgettext_lazy("triggered by", "first start"),
    "resumed at worker start": pgettext_lazy("triggered by", "resumed at worker start"),
}
SCHEDULE_TRIGGER_PREFIX = "schedule: "


def trigger_label(triggered_by: str) -> str:
    """Name who started a run in the reader's language; a person's user name stays as it is."""
    if triggered_by in TRIGGER_LABELS:
        return str(TRIGGER_LABELS[triggered_by])
    if triggered_by.startswith(SCHEDULE_TRIGGER_PREFIX):
        entry = triggered_by.removeprefix(SCHEDULE_TRIGGER_PREFIX)
        return pgettext("triggered by", "schedule: %(entry)s") % {"entry": entry}
    return triggered_by


def pretty_json(value: Any) -> SafeString:
    """Render JSON indented in a scrollable block; the empty cases stay short."""
    if value is None:  # eMAG sent nothing: shown as every other empty value is
        return format_html('<span class="mf-muted">{}</span>', "—")
    if value in ([], {}):
        return format_html('<span class="mf-muted">{}</span>', json.dumps(value))
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    return format_html('<pre class="mf-json">{}</pre>', text)


# Shown first on an offer's or order's page, and only when it has read warnings.
READ_WARNINGS_FIELDSET = (
    _("Could not be read (left empty; the raw payload keeps what eMAG sent)"),
    {"fields": ["read_warnings_list"]},
)


@admin.display(description=_("read warnings"))
def read_warnings_list(self, obj) -> SafeString:
    """Show what could not be read of an item eMAG sent, one line per field."""
    items = format_html_join("", "<li>{}</li>", ((warning,) for warning in obj.read_warnings))
    return format_html('<ul class="mf-warning-text">{}</ul>', items)


def age(moment: datetime | None, *, now: datetime | None = None) -> str:
    """Say how long ago something happened, in the largest sensible unit."""
    if moment is None:
        return gettext("never")
    now = now or timezone.now()
    if now - moment < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment, now, depth=1)}


def period(span: timedelta) -> str:
    """Say how long a period is, in words ("3 hours", "1 hour, 30 minutes")."""
    start = timezone.now()
    return timesince(start, start + span, depth=2)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def copy_button(value: Any) -> SafeString:
    """Show a value with a button that copies it to the clipboard (see static copy.js)."""
    if value in (None, ""):
        return format_html('<span class="mf-muted">{}</span>', "—")
    return format_html(
        '<span class="mf-copyable"><code>{}</code>'
        '<button type="button" class="mf-copy" data-copy="{}" title="{}">{}</button></span>',
        value,
        value,
        gettext("Copy to clipboard"),
        gettext("Copy"),
    )


# --- read-only columns of a ModelAdmin, made from a model field --------------------------------


def json_column(field_name: str, description: StrOrPromise):
    """Return a ModelAdmin display of a JSON field, indented in a scrollable block."""

    @admin.display(description=description)
    def show(self, obj):
        return pretty_json(getattr(obj, field_name))

    return show


def rendered_column(field_path: str, description: StrOrPromise, render: Callable[[Any], Any]):
    """Return a sortable ModelAdmin display of a field as `render` shows it.

    `field_path` may follow relations the way lookups do (`offer__account`).
    """

    @admin.display(description=description, ordering=field_path)
    def show(self, obj):
        for name in field_path.split("__"):
            obj = getattr(obj, name)
        return render(obj)

    return show


def copy_column(field_name: str, description: StrOrPromise):
    """Return a ModelAdmin display of a field with a button that copies it."""

    @admin.display(description=description)
    def show(self, obj):
        return copy_button(getattr(obj, field_name))

    return show


def account_column(field_path: str = "account"):
    """Return a ModelAdmin display of the row's account as its coloured tag."""
    return rendered_column(field_path, _("account"), account_tag)


def run_column(field_name: str, description: StrOrPromise):
    """Return a ModelAdmin display linking to the row's sync run (`field_name`), or a dash."""

    @admin.display(description=description, ordering=field_name)
    def show(self, obj):
        run_id = getattr(obj, f"{field_name}_id")
        if run_id is None:
            return "—"
        url = reverse("admin:emag_sync_syncrun_change", args=[run_id])
        return format_html('<a href="{}">#{}</a>', url, run_id)

    return show


def money_column(field_name: str, description: StrOrPromise):
    """Return a ModelAdmin display of an amount in the row's `currency`."""

    @admin.display(description=description, ordering=field_name)
    def show(self, obj):
        return money(getattr(obj, field_name), obj.currency)

    return show


def account_time_column(field_name: str, description: StrOrPromise):
    """Return a ModelAdmin display of a moment on the row's account's clock."""

    @admin.display(description=description, ordering=field_name)
    def show(self, obj):
        return account_time(getattr(obj, field_name), obj.account)

    return show
