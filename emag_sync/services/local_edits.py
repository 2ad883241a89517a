"""Write local edits: the overlay on eMAG's values.

The eMAG columns of an offer always hold what eMAG last returned. A seller's local value
for an editable field is a LocalEdit; the effective value is the local one while it exists.
When a sync sees eMAG change a field that also has a local edit, the run's conflict
strategy decides (`conflicts.decide_conflict`). Writing local edits back to eMAG is a later
feature: today they only live here.
"""

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

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
INTEGER_FIELDS = frozenset({EditableField.STOCK, EditableField.HANDLING_TIME, EditableField.STATUS})
TEXT_LIMITS = {EditableField.NAME: 255, EditableField.BRAND: 255, EditableField.DESCRIPTION: None}


# JSON deeper than this is refused: nobody's custom attributes nest that far.
MAX_JSON_DEPTH = 32


class LocalEditError(ValueError):
    """A local edit that cannot be accepted (unknown field, bad value, FBE stock)."""


def json_storage_problem(value: Any, *, depth: int = 0) -> str | None:
    """Return why a JSON value could not be stored in every database, or None if it can.

    PostgreSQL's jsonb refuses the NUL character, and no JSON column (nor SQLite's JSON_VALID
    check) takes NaN or infinity, which Python's json module reads without complaint.
    """
    if depth > MAX_JSON_DEPTH:
        return f"Nested too deeply (at most {MAX_JSON_DEPTH} levels)."
    if isinstance(value, str):
        return "Text may not contain the NUL character." if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else "Numbers must be finite."
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
        raise LocalEditError(f"{field!r} is not an editable field")
    if field in MONEY_FIELDS:
        try:
            amount = parse_money(value, field)
        except PayloadError as error:
            raise LocalEditError(str(error)) from None
        if amount is None or amount <= 0:
            raise LocalEditError(f"{field} must be a price above 0")
        return f"{amount:.4f}"
    if field in INTEGER_FIELDS:
        try:
            number = parse_integer(value, field)
        except PayloadError as error:
            raise LocalEditError(str(error)) from None
        if number is None:
            raise LocalEditError(f"{field} is required")
        if field == EditableField.STATUS and number not in (0, 1, 2):
            raise LocalEditError("status must be 0 (inactive), 1 (active) or 2 (end of life)")
        limit = 65535 if field == EditableField.STOCK else 255
        if field != EditableField.STATUS and not 0 <= number <= limit:
            raise LocalEditError(f"{field} must be between 0 and {limit}")
        return number
    if not isinstance(value, str):
        raise LocalEditError(f"{field} must be text")
    text_limit = TEXT_LIMITS[EditableField(field)]
    if field != EditableField.DESCRIPTION and not value.strip():
        raise LocalEditError(f"{field} cannot be empty")
    if text_limit and len(value) > text_limit:
        raise LocalEditError(f"{field} must be at most {text_limit} characters")
    return value


def local_edit_check(*, offer: Offer, field: str, value: Any) -> Any:
    """Return the stored form of a local value for an offer's field, or raise LocalEditError.

    Writes nothing: forms and the API use it to report every bad field before any is saved.
    """
    from emag_sync.accounts import get_accounts

    account = get_accounts().get(offer.account)
    if field == EditableField.STOCK and account and account.is_fulfilled_by_emag:
        raise LocalEditError("stock of an offer fulfilled by eMAG (FBE) is managed by eMAG")
    return normalize_local_value(field, value)


@transaction.atomic
def local_edit_set(
    *, offer: Offer, field: str, value: Any, user: User | None = None
) -> LocalEdit | None:
    """Record a local value for one field; a value equal to eMAG's removes the edit instead."""
    normalized = local_edit_check(offer=offer, field=field, value=value)
    if normalized == emag_value(offer, field):
        LocalEdit.objects.filter(offer=offer, field=field).delete()
        _close_conflicts(offer_ids=[offer.pk], field=field, resolution=ConflictResolution.CONVERGED)
        return None
    edit, _ = LocalEdit.objects.update_or_create(
        offer=offer,
        field=field,
        defaults={"value": normalized, "edited_by": user, "edited_at": timezone.now()},
    )
    return edit


@transaction.atomic
def local_edit_clear(*, offer: Offer, field: str) -> int:
    """Drop the local value of a field so eMAG's value shows again; return rows deleted."""
    deleted, _ = LocalEdit.objects.filter(offer=offer, field=field).delete()
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
    again. `local_data` sets the local-only `local_notes` and `custom_attributes`.
    """
    for field, value in (edits or {}).items():
        if value is None:
            local_edit_clear(offer=offer, field=field)
            # Dropping the local value takes eMAG's: a conflict over it has nothing left.
            _close_conflicts(
                offer_ids=[offer.pk],
                field=field,
                resolution=ConflictResolution.ACCEPT_EMAG,
                user=user,
            )
        else:
            local_edit_set(offer=offer, field=field, value=value, user=user)
    local_columns = {
        name: value
        for name, value in (local_data or {}).items()
        if name in ("local_notes", "custom_attributes")
    }
    if local_columns:
        # Only these columns: a whole-row save could put back eMAG values a sync just wrote.
        Offer.objects.filter(pk=offer.pk).update(**local_columns)
    return offer


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
