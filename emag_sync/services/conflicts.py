"""Decide and resolve conflicts: a field changed both locally and on eMAG.

A sync applies the run's conflict strategy (`decide_conflict`) to each local edit whose
field eMAG changed; under `manual` it opens a Conflict, which a seller resolves
(`conflict_resolve`) by accepting eMAG's value, keeping the local one, or setting a new one.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from emag_sync.models import (
    Conflict,
    ConflictResolution,
    ConflictStatus,
    ConflictStrategy,
    LocalEdit,
)
from emag_sync.services.local_edits import PUSHABLE_FIELDS, LocalEditError, local_edit_set
from emag_sync.services.push_outbox import outbox_forget, outbox_record


@transaction.atomic
def conflict_resolve(
    *, conflicts: list[Conflict], resolution: str, value: Any = None, user: User | None = None
) -> int:
    """Resolve open conflicts: accept eMAG's value, keep the local one, or set a new value."""
    if resolution not in (
        ConflictResolution.ACCEPT_EMAG,
        ConflictResolution.KEEP_LOCAL,
        ConflictResolution.SET,
    ):
        raise LocalEditError(f"unknown resolution {resolution!r}")
    ids = [conflict.pk for conflict in conflicts]
    open_conflicts = list(
        Conflict.objects.select_for_update()
        .filter(pk__in=ids, status=ConflictStatus.OPEN)
        .select_related("offer")
    )
    now = timezone.now()
    for conflict in open_conflicts:
        if resolution == ConflictResolution.ACCEPT_EMAG:
            LocalEdit.objects.filter(offer_id=conflict.offer_id, field=conflict.field).delete()
            # The push held back for the review has nothing left to send.
            outbox_forget(offer=conflict.offer, fields=[conflict.field])
        elif resolution == ConflictResolution.SET:
            local_edit_set(offer=conflict.offer, field=conflict.field, value=value, user=user)
        elif conflict.field in PUSHABLE_FIELDS:
            # Keeping the local value over eMAG's: the push held back for the review goes.
            kept = LocalEdit.objects.filter(
                offer_id=conflict.offer_id, field=conflict.field
            ).first()
            if kept is not None:
                outbox_record(offer=conflict.offer, values={kept.field: kept.value}, user=user)
        conflict.status = ConflictStatus.RESOLVED
        conflict.resolution = resolution
        conflict.resolved_by = user
        conflict.resolved_at = now
    Conflict.objects.bulk_update(
        open_conflicts, ["status", "resolution", "resolved_by", "resolved_at"]
    )
    return len(open_conflicts)


@dataclass
class ConflictOutcome:
    """What a sync does with one local edit whose field eMAG also changed."""

    keep_edit: bool
    open_conflict: bool = False
    converged: bool = False


def decide_conflict(
    *, strategy: str, edit: LocalEdit, new_emag_value: Any, fetched_at: datetime
) -> ConflictOutcome:
    """Apply a conflict strategy to a field changed both locally and on eMAG.

    eMAG gives offers no change time, so an eMAG change is dated when the sync fetched
    the page that shows it. Under `newest_wins` a local edit made after that fetch (while
    the run was in flight) wins; one made before it loses to eMAG's newer value.
    """
    if edit.value == new_emag_value:
        return ConflictOutcome(keep_edit=False, converged=True)
    if strategy == ConflictStrategy.EMAG_PRIORITY:
        return ConflictOutcome(keep_edit=False)
    if strategy == ConflictStrategy.LOCAL_PRIORITY:
        return ConflictOutcome(keep_edit=True)
    if strategy == ConflictStrategy.NEWEST_WINS:
        return ConflictOutcome(keep_edit=edit.edited_at > fetched_at)
    return ConflictOutcome(keep_edit=True, open_conflict=True)
