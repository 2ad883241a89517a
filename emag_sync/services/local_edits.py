"""Write local edits: the overlay on eMAG's values.

The eMAG columns of an offer always hold what eMAG last returned. A seller's local value
for an editable field is a LocalEdit; the effective value is the local one while it exists.
When a sync sees eMAG change a field that also has a local edit, the run's conflict
strategy decides (`conflicts.decide_conflict`).

Local values of the pushable fields reach eMAG through the outbox (`push_outbox`): every
write here records, in the same transaction, what the next push must send. Values are
checked with eMAG's own rules first (`local_edits_check`), so the outbox only ever holds
values eMAG can accept.
"""

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from emag_sync.models import (
    Conflict,
    ConflictResolution,
    ConflictStatus,
    EditableField,
    LocalEdit,
    Offer,
)
from emag_sync.payloads.values import PayloadError, parse_integer, parse_money

MONEY_FIELDS = frozenset(
    {
        EditableField.SALE_PRICE,
        EditableField.RECOMMENDED_PRICE,
        EditableField.MIN_SALE_PRICE,
        EditableField.MAX_SALE_PRICE,
    }
)
INTEGER_FIELDS = frozenset(
    {EditableField.STOCK, EditableField.HANDLING_TIME, EditableField.STATUS, EditableField.VAT_ID}
)
TEXT_LIMITS = {EditableField.NAME: 255, EditableField.BRAND: 255, EditableField.DESCRIPTION: None}
# What the light offer/save can change on an existing offer (docs/emag-api.md §3.5).
# Name, brand and description stay local: content updates need eMAG's documentation flow
# and ownership of the product.
PUSHABLE_FIELDS = frozenset({*MONEY_FIELDS, *INTEGER_FIELDS})
# Fields kept per warehouse on eMAG: an offer stocked in several warehouses cannot take one value.
PER_WAREHOUSE_FIELDS: dict[str, str] = {
    EditableField.STOCK: "stock",
    EditableField.HANDLING_TIME: "handling_time",
}


# JSON deeper than this is refused: nobody's custom attributes nest that far.
MAX_JSON_DEPTH = 32


class LocalEditError(ValueError):
    """A local edit that cannot be accepted (unknown field, bad value, FBE stock, eMAG's rules).

    `errors` maps each field at fault to its messages, so forms and the API name the field.
    """

    def __init__(self, message: str, *, field: str | None = None, errors=None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = errors or ({field: [message]} if field else {})

    @classmethod
    def for_fields(cls, errors: dict[str, list[str]]) -> "LocalEditError":
        summary = "; ".join(message for messages in errors.values() for message in messages)
        return cls(summary, errors=errors)


def json_storage_problem(value: Any, *, depth: int = 0) -> str | None:
    """Return why a JSON value could not be stored in every database, or None if it can.

    PostgreSQL's jsonb refuses the NUL character, and no JSON column (nor SQLite's JSON_VALID
    check) takes NaN or infinity, which Python's json module reads without complaint.
    """
    if depth > MAX_JSON_DEPTH:
        return gettext("Nested too deeply (at most %(levels)s levels).") % {
            "levels": MAX_JSON_DEPTH
        }
    if isinstance(value, str):
        return gettext("Text may not contain the NUL character.") if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else gettext("Numbers must be finite.")
    if isinstance(value, Mapping):
        items = [item for pair in value.items() for item in (str(pair[0]), pair[1])]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = json_storage_problem(item, depth=depth + 1)
        if problem:
            return problem
    return None


def emag_value(columns: dict[str, Any] | Offer, field: str) -> Any:
    """Return eMAG's value of an editable field in the JSON form local edits use."""
    get = columns.get if isinstance(columns, dict) else lambda name: getattr(columns, name)
    if field == EditableField.HANDLING_TIME:
        handling = get("handling_time") or []
        first = handling[0] if handling and isinstance(handling[0], dict) else {}
        return parse_integer(first.get("value"), "handling_time") if first else None
    value = get(field)
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    return value


def normalize_local_value(field: str, value: Any) -> Any:
    """Validate a local value for a field and return its stored JSON form."""
    if field not in EditableField.values:
        raise LocalEditError(gettext("%(field)r is not an editable field") % {"field": field})
    if field in MONEY_FIELDS:
        try:
            amount = parse_money(value, field)
        except PayloadError as error:
            raise LocalEditError(str(error)) from None
        if amount is None or amount <= 0:
            raise LocalEditError(gettext("%(field)s must be a price above 0") % {"field": field})
        return f"{amount:.4f}"
    if field in INTEGER_FIELDS:
        try:
            number = parse_integer(value, field)
        except PayloadError as error:
            raise LocalEditError(str(error)) from None
        if number is None:
            raise LocalEditError(gettext("%(field)s is required") % {"field": field})
        if field == EditableField.STATUS and number not in (0, 1, 2):
            raise LocalEditError(
                gettext("status must be 0 (inactive), 1 (active) or 2 (end of life)")
            )
        if field == EditableField.VAT_ID:
            if number < 1:
                raise LocalEditError(
                    gettext("vat_id must be one of eMAG's VAT rate ids (1 or more)")
                )
            return number
        limit = 65535 if field == EditableField.STOCK else 255
        if field != EditableField.STATUS and not 0 <= number <= limit:
            raise LocalEditError(
                gettext("%(field)s must be between 0 and %(limit)s")
                % {"field": field, "limit": limit}
            )
        return number
    if not isinstance(value, str):
        raise LocalEditError(gettext("%(field)s must be text") % {"field": field})
    text_limit = TEXT_LIMITS[EditableField(field)]
    if field != EditableField.DESCRIPTION and not value.strip():
        raise LocalEditError(gettext("%(field)s cannot be empty") % {"field": field})
    if text_limit and len(value) > text_limit:
        raise LocalEditError(
            gettext("%(field)s must be at most %(limit)s characters")
            % {"field": field, "limit": text_limit}
        )
    return value


def local_edit_check(*, offer: Offer, field: str, value: Any) -> Any:
    """Return the stored form of a local value for an offer's field, or raise LocalEditError.

    Checks the value alone (see `local_edits_check` for the rules between fields). Writes
    nothing: forms and the API use it to report every bad field before any is saved.
    """
    from emag_sync.accounts import get_accounts

    account = get_accounts().get(offer.account)
    if field == EditableField.STOCK and account and account.is_fulfilled_by_emag:
        raise LocalEditError(
            gettext("stock of an offer fulfilled by eMAG (FBE) is managed by eMAG"), field=field
        )
    try:
        normalized = normalize_local_value(field, value)
    except LocalEditError as error:
        raise LocalEditError(error.message, field=field) from None
    if field in PER_WAREHOUSE_FIELDS:
        entries = getattr(offer, PER_WAREHOUSE_FIELDS[field]) or []
        if len(entries) > 1:
            raise LocalEditError(
                gettext(
                    "%(field)s: this offer has %(count)s warehouses on eMAG; set it per "
                    "warehouse on eMAG, one value cannot be pushed"
                )
                % {"field": field, "count": len(entries)},
                field=field,
            )
    if field == EditableField.VAT_ID:
        _check_vat_id(offer=offer, vat_id=normalized)
    return normalized


def _check_vat_id(*, offer: Offer, vat_id: int) -> None:
    from emag_sync.services.vat_rates import VatRatesUnavailable, vat_ids_accepted

    try:
        accepted = vat_ids_accepted(account=offer.account)
    except VatRatesUnavailable as error:
        raise LocalEditError(
            gettext(
                "vat_id cannot be checked now: eMAG's list of VAT rates is unavailable "
                "(%(error)s); try again later"
            )
            % {"error": error},
            field=EditableField.VAT_ID,
        ) from None
    if vat_id not in accepted:
        known = ", ".join(str(known_id) for known_id in sorted(accepted)) or gettext("none")
        raise LocalEditError(
            gettext("vat_id %(vat_id)s is not one eMAG accepts (vat/read lists: %(known)s)")
            % {"vat_id": vat_id, "known": known},
            field=EditableField.VAT_ID,
        )


def local_edits_check(
    *, offer: Offer, edits: Mapping[str, Any], current_local: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the stored forms of several local values for one offer, or raise LocalEditError.

    `edits` maps fields to new local values (None: drop the local value). Each value is
    checked alone, then eMAG's rules between prices (docs/emag-api.md §3.4) are checked on the
    effective values the change leaves (a local value where one is set, else eMAG's):
    min_sale_price < max_sale_price, sale_price inside [min, max], recommended_price above
    sale_price. Only a rule that involves a field being changed is checked, and the error
    names the changed fields. Writes nothing. `current_local` (field -> local value) saves
    the read of the offer's local prices when the caller has them for many offers at once.
    """
    errors: dict[str, list[str]] = {}
    normalized: dict[str, Any] = {}
    for field, value in edits.items():
        if value is None:
            if field not in EditableField.values:
                errors.setdefault(field, []).append(f"{field!r} is not an editable field")
            normalized[field] = None
            continue
        try:
            normalized[field] = local_edit_check(offer=offer, field=field, value=value)
        except LocalEditError as error:
            for name, messages in (error.errors or {field: [error.message]}).items():
                errors.setdefault(name, []).extend(messages)
    if not errors:
        problems = _price_rule_problems(
            offer=offer, changes=normalized, current_local=current_local
        )
        for field, message in problems:
            errors.setdefault(field, []).append(message)
    if errors:
        raise LocalEditError.for_fields(errors)
    return normalized


def _price_rule_problems(
    *, offer: Offer, changes: Mapping[str, Any], current_local: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Return (field, message) for each of eMAG's price rules the changed prices break."""
    if not MONEY_FIELDS & changes.keys():
        return []
    current = (
        current_local
        if current_local is not None
        else {
            edit.field: edit.value
            for edit in LocalEdit.objects.filter(offer=offer, field__in=list(MONEY_FIELDS))
        }
    )

    def effective(field: str) -> Decimal | None:
        value = changes[field] if field in changes else current.get(field)
        if value is None:
            value = emag_value(offer, field)
        return None if value is None else Decimal(str(value))

    sale, low, high = (
        effective(EditableField.SALE_PRICE),
        effective(EditableField.MIN_SALE_PRICE),
        effective(EditableField.MAX_SALE_PRICE),
    )
    recommended = effective(EditableField.RECOMMENDED_PRICE)
    range_fields = (EditableField.MIN_SALE_PRICE, EditableField.MAX_SALE_PRICE)
    if low is not None and high is not None and high <= low:
        return _blamed(
            changes,
            range_fields,
            gettext("max_sale_price (%(high)s) must be above min_sale_price (%(low)s)")
            % {"high": f"{high:.2f}", "low": f"{low:.2f}"},
        )
    problems: list[tuple[str, str]] = []
    if sale is not None and low is not None and high is not None and not low <= sale <= high:
        problems += _blamed(
            changes,
            (*range_fields, EditableField.SALE_PRICE),
            gettext(
                "sale_price %(sale)s must be within [%(low)s, %(high)s] (min_sale_price and "
                "max_sale_price: the local ones where set, else eMAG's)"
            )
            % {"sale": f"{sale:.2f}", "low": f"{low:.2f}", "high": f"{high:.2f}"},
        )
    if recommended is not None and sale is not None and recommended <= sale:
        problems += _blamed(
            changes,
            (EditableField.RECOMMENDED_PRICE, EditableField.SALE_PRICE),
            gettext(
                "recommended_price (%(recommended)s) must be above sale_price (%(sale)s); "
                "eMAG shows it as the price before a discount"
            )
            % {"recommended": f"{recommended:.2f}", "sale": f"{sale:.2f}"},
        )
    return problems


def _blamed(
    changes: Mapping[str, Any], fields: tuple[str, ...], message: str
) -> list[tuple[str, str]]:
    """Return (field, message) for each of a broken rule's fields that this change sets."""
    return [(field, message) for field in fields if field in changes]


@transaction.atomic
def local_edit_set(
    *, offer: Offer, field: str, value: Any, user: User | None = None
) -> LocalEdit | None:
    """Record a local value for one field; a value equal to eMAG's removes the edit instead.

    The value is checked with eMAG's rules first; a pushable one is queued for the next
    push in the same transaction.
    """
    normalized = local_edits_check(offer=offer, edits={field: value})[field]
    offers_local_values_write(values_by_offer={offer: {field: normalized}}, user=user)
    return LocalEdit.objects.filter(offer=offer, field=field).first()


@transaction.atomic
def local_edit_clear(*, offer: Offer, field: str) -> int:
    """Drop the local value of a field so eMAG's value shows again; return rows deleted.

    A push of that field not yet sent is dropped with it.
    """
    from emag_sync.services.push_outbox import outbox_forget

    deleted, _ = LocalEdit.objects.filter(offer=offer, field=field).delete()
    outbox_forget(offer=offer, fields=[field])
    return deleted


@transaction.atomic
def offer_local_update(
    *,
    offer: Offer,
    edits: dict[str, Any] | None = None,
    local_data: dict[str, Any] | None = None,
    user: User | None = None,
) -> Offer:
    """Apply several local changes to an offer at once: all of them, or none on an error.

    `edits` maps editable fields to local values; None drops the local value so eMAG's shows
    again. `local_data` sets the local-only `local_notes` and `custom_attributes`. The
    values are checked together first (eMAG's rules between prices see them all).
    """
    normalized = local_edits_check(offer=offer, edits=edits or {})
    offers_local_values_write(values_by_offer={offer: normalized}, user=user)
    local_columns = {
        name: value
        for name, value in (local_data or {}).items()
        if name in ("local_notes", "custom_attributes")
    }
    if local_columns:
        # Only these columns: a whole-row save could put back eMAG values a sync just wrote.
        Offer.objects.filter(pk=offer.pk).update(**local_columns)
    return offer


@transaction.atomic
def offers_local_values_write(
    *, values_by_offer: Mapping[Offer, Mapping[str, Any]], user: User | None = None
) -> None:
    """Write checked local values of many offers in a few queries, whatever their count.

    `values_by_offer` holds what `local_edits_check` returned for each offer. Per field: None
    drops the local value (its open conflicts end as eMAG's); a value equal to eMAG's drops
    it too (they end converged); any other value is stored and, if pushable, queued.
    """
    from emag_sync.services.push_outbox import outbox_forget_many, outbox_record_many

    now = timezone.now()
    stored: list[LocalEdit] = []
    pushed: dict[Offer, dict[str, Any]] = {}
    dropped: dict[tuple[str, str], list[int]] = {}  # (field, resolution) -> offer ids
    forgotten: dict[int, set[str]] = {}
    for offer, values in values_by_offer.items():
        for field, value in values.items():
            if value is None or value == emag_value(offer, field):
                resolution: str = (
                    ConflictResolution.ACCEPT_EMAG
                    if value is None
                    else ConflictResolution.CONVERGED
                )
                dropped.setdefault((field, resolution), []).append(offer.pk)
                forgotten.setdefault(offer.pk, set()).add(field)
                continue
            stored.append(
                LocalEdit(offer=offer, field=field, value=value, edited_by=user, edited_at=now)
            )
            if field in PUSHABLE_FIELDS:
                pushed.setdefault(offer, {})[field] = value
    for (field, ending), offer_ids in dropped.items():
        LocalEdit.objects.filter(field=field, offer_id__in=offer_ids).delete()
        # Dropping the local value by hand takes eMAG's (the seller decided); meeting eMAG's
        # value is nobody's decision.
        by = user if ending == ConflictResolution.ACCEPT_EMAG else None
        _close_conflicts(offer_ids=offer_ids, field=field, resolution=ending, user=by)
    LocalEdit.objects.bulk_create(
        stored,
        update_conflicts=True,
        unique_fields=["offer", "field"],
        update_fields=["value", "edited_by", "edited_at"],
    )
    outbox_forget_many(fields_by_offer=forgotten)
    outbox_record_many(values_by_offer=pushed, user=user)


def _close_conflicts(
    *, offer_ids: list[int], field: str, resolution: str, user: User | None = None
) -> int:
    return Conflict.objects.filter(
        offer_id__in=offer_ids, field=field, status=ConflictStatus.OPEN
    ).update(
        status=ConflictStatus.RESOLVED,
        resolution=resolution,
        resolved_by=user,
        resolved_at=timezone.now(),
    )
