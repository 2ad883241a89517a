"""Write one page of offers, its checkpoint and its run counters in one transaction.

A page is first parsed (`offer_page_parse`: mapping, hashing and JSON encoding, no database),
then written in one transaction that holds only database work. The write
issues at most a fixed number of statements whatever the page size, skipping those with
nothing to do: one read of the page's stored rows (and one more of the full columns of changed
ones), a COPY of new rows, an upsert of changed ones, and one statement each for change
history, local edits, conflicts, request log, checkpoint and counters: five for a page of new
offers. Unchanged offers (same content hash) are not written at all, so a sync of an
unchanged catalogue writes no offer rows.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from emag_sync.models import (
    Conflict,
    ConflictResolution,
    ConflictStatus,
    LocalEdit,
    Offer,
    OfferChange,
    SyncRun,
    SyncState,
)
from emag_sync.payloads.offers import (
    AUDITED_FIELDS,
    MIRROR_FIELDS,
    offer_columns,
    offer_payload_fields,
)
from emag_sync.payloads.values import PayloadError, canonical_json, hash_canonical
from emag_sync.services.conflicts import decide_conflict
from emag_sync.services.local_edits import emag_value
from emag_sync.services.offer_upsert import (
    JSON_FIELDS,
    LOCAL_DEFAULTS,
    JsonText,
    encode_json,
    offers_insert,
    offers_upsert,
)
from emag_sync.services.push_outbox import pushed_values_in_flight, pushes_confirm
from emag_sync.services.request_log import PageResult, page_progress_record

# What tells whether a stored offer is new, unchanged, changed or coming back.
STATE_FIELDS = ["id", "emag_id", "content_hash", "missing_since", "synced_at"]
# What a changed offer's history, EANs and conflicts are worked out from: its columns, and
# its stored payload for the parts kept only there.
EXISTING_FIELDS = [*STATE_FIELDS, *MIRROR_FIELDS, "raw"]


@dataclass
class Checkpoint:
    """Where the stream resumes once this page is committed."""

    account: str
    stream: str
    mode: str
    next_page: int
    complete_pass: bool = False


@dataclass
class ParsedOffer:
    # Everything mapped from the payload, for comparing with the stored offer.
    columns: dict[str, Any]
    digest: bytes
    # The row to write if the offer is new or changed: every INSERT_FIELDS column, with the
    # JSON ones (the raw payload as the canonical JSON that was hashed) encoded once.
    row: dict[str, Any]


@dataclass
class ParsedPage:
    """A page of payloads turned into column values, ready for `offer_page_write`."""

    offers: dict[int, ParsedOffer] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    warnings: dict[int, dict] = field(default_factory=dict)


@dataclass
class OfferPageResult(PageResult):
    # From BEGIN to COMMIT: the database's share of the page.
    transaction_seconds: float = 0.0


def _json_safe(value: Any) -> Any:
    """Return a value JSONField can store exactly: Decimals as their 4-place strings."""
    if hasattr(value, "quantize"):
        return f"{value:.4f}"
    return value


def _stored_columns(row: dict[str, Any]) -> dict[str, Any]:
    """Return a stored offer's columns with the parts read from its payload, as offer_columns."""
    payload = row.pop("raw")
    return {**row, **offer_payload_fields(payload)}


def _stored_states(*, account: str, emag_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return what tells new, unchanged and changed apart for the account's stored offers."""
    rows = Offer.objects.filter(account=account, emag_id__in=emag_ids).values(*STATE_FIELDS)
    return {row["emag_id"]: row for row in rows}


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [name for name in AUDITED_FIELDS if old.get(name) != new.get(name)]


def offer_page_parse(
    payloads: list, *, account: str, fetched_at: datetime, page: int | None = None
) -> ParsedPage:
    """Map, hash and encode a page of offer payloads fetched at `fetched_at`; no database.

    An offer without an id becomes an error; one with fields that cannot be read is kept
    with them empty and a warning naming it. A repeated id keeps the last copy, as an upsert
    would.
    """
    parsed = ParsedPage()
    local_defaults = {
        name: encode_json(default) if name in JSON_FIELDS else default
        for name, default in LOCAL_DEFAULTS.items()
    }
    for position, payload in enumerate(payloads):
        try:
            columns = offer_columns(payload)
        except PayloadError as error:
            offer_id = payload.get("id") if isinstance(payload, dict) else None
            parsed.errors.append(
                {"page": page, "offer": offer_id, "position": position, "message": str(error)}
            )
            continue
        canonical = canonical_json(payload)
        digest = hash_canonical(canonical)
        row = {
            "account": account,
            "emag_id": columns["emag_id"],
            **{
                name: encode_json(columns[name]) if name in JSON_FIELDS else columns[name]
                for name in MIRROR_FIELDS
            },
            "raw": JsonText(canonical.decode()),
            "content_hash": digest,
            "synced_at": fetched_at,
            "missing_since": None,
            "first_seen_at": fetched_at,
            **local_defaults,
        }
        parsed.offers[columns["emag_id"]] = ParsedOffer(columns=columns, digest=digest, row=row)
        parsed.warnings.pop(columns["emag_id"], None)
        if columns["read_warnings"]:
            parsed.warnings[columns["emag_id"]] = {
                "page": page,
                "offer": columns["emag_id"],
                "message": "; ".join(columns["read_warnings"]),
            }
    return parsed


def offer_page_write(
    *,
    run: SyncRun,
    account: str,
    payloads: list,
    fetched_at: datetime,
    strategy: str,
    page: int | None = None,
    checkpoint: Checkpoint | None = None,
    calls: list | None = None,
) -> OfferPageResult:
    """Upsert a page of offer payloads and record its effects; return what it did."""
    parsed = offer_page_parse(payloads, account=account, fetched_at=fetched_at, page=page)
    page_write: dict[str, Any] = {
        "run": run,
        "account": account,
        "parsed": parsed,
        "fetched_at": fetched_at,
        "strategy": strategy,
        "page": page,
        "checkpoint": checkpoint,
        "calls": calls or [],
    }
    try:
        return _page_write(**page_write)
    except IntegrityError:
        # Another writer stored one of the page's new offers between their look-up and their
        # insert, and the transaction went with the error: write the page again, reading
        # what is stored now and upserting what still looks new.
        return _page_write(**page_write, upsert_new=True)


def _page_write(
    *,
    run: SyncRun,
    account: str,
    parsed: ParsedPage,
    fetched_at: datetime,
    strategy: str,
    page: int | None,
    checkpoint: Checkpoint | None,
    calls: list,
    upsert_new: bool = False,
) -> OfferPageResult:
    """Write a parsed page in one transaction and return what it did."""
    offers = parsed.offers
    result = OfferPageResult(
        seen=len(offers) + len(parsed.errors),
        failed=len(parsed.errors),
        errors=list(parsed.errors),
        warned=len(parsed.warnings),
        warnings=list(parsed.warnings.values()),
        emag_ids=list(offers),
    )
    started = time.perf_counter()
    with transaction.atomic():
        stored = _stored_states(account=account, emag_ids=result.emag_ids)
        changed_ids = [
            row["id"]
            for emag_id, row in stored.items()
            if row["content_hash"] != offers[emag_id].digest
        ]
        # Each statement below is skipped when it has nothing to do: most pages of a first
        # sync are all new, and most of a resync unchanged.
        existing = (
            {
                row["emag_id"]: _stored_columns(row)
                for row in Offer.objects.filter(pk__in=changed_ids).values(*EXISTING_FIELDS)
            }
            if changed_ids
            else {}
        )
        new_rows: list[dict[str, Any]] = []
        rewritten_rows: list[dict[str, Any]] = []
        changes: list[OfferChange] = []
        changed_columns: dict[int, tuple[dict, dict]] = {}
        for emag_id, offer in offers.items():
            columns = offer.columns
            state = stored.get(emag_id)
            if state is None:
                result.created += 1
                new_rows.append(offer.row)
            elif state["content_hash"] != offer.digest:
                result.updated += 1
                old = existing[emag_id]
                changed_columns[old["id"]] = (old, columns)
                changes.extend(
                    OfferChange(
                        offer_id=old["id"],
                        field=name,
                        old_value=_json_safe(old[name]),
                        new_value=_json_safe(columns[name]),
                        run=run,
                        changed_at=fetched_at,
                    )
                    for name in _changed_fields(old, columns)
                )
                rewritten_rows.append(offer.row)
            elif state["missing_since"] is None:
                result.unchanged += 1
            else:
                # Seen again after being missing, its content unchanged: only restored, and it
                # keeps when that content last changed.
                result.unchanged += 1
                rewritten_rows.append({**offer.row, "synced_at": state["synced_at"]})

        if upsert_new:
            offers_upsert(new_rows)
        else:
            offers_insert(new_rows)
        offers_upsert(rewritten_rows)
        if changes:
            OfferChange.objects.bulk_create(changes)
        in_flight = pushed_values_in_flight(offer_ids=changed_columns) if changed_columns else {}
        _apply_conflict_strategy(
            run=run,
            strategy=strategy,
            changed_columns=changed_columns,
            fetched_at=fetched_at,
            in_flight=in_flight,
        )
        if in_flight:
            pushes_confirm(
                offer_columns_by_id={pk: new for pk, (_, new) in changed_columns.items()}
            )
        if checkpoint is not None:
            _save_checkpoint(checkpoint, run)
        page_progress_record(run=run, result=result, page=page, calls=calls)
    result.transaction_seconds = time.perf_counter() - started
    return result


@contextmanager
def commits_without_waiting_for_disk() -> Iterator[None]:
    """Let this connection's COMMITs return before PostgreSQL has flushed them to disk.

    For an offer run's page scan, and only there: a crash of the database server within the
    flush delay (wal_writer_delay, 200 ms by default) then loses the scan's last commits, each
    whole and none out of order, which leaves the run as a crash of its own process would:
    pages roll back with their checkpoints and counters, and the next run reads them from eMAG
    again. Set once for the session rather than in each page's transaction, it costs no
    statement a page.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # A connection lost meanwhile took the setting with it.
        if connection.connection is not None and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _save_checkpoint(checkpoint: Checkpoint, run: SyncRun) -> None:
    values: dict[str, Any] = {"next_page": checkpoint.next_page, "run": run}
    if checkpoint.complete_pass:
        values["last_complete_pass_at"] = timezone.now()
    key = {"account": checkpoint.account, "stream": checkpoint.stream, "mode": checkpoint.mode}
    # One UPDATE per page; the row is created once in the stream's life.
    if not SyncState.objects.filter(**key).update(**values):
        SyncState.objects.create(**key, **values)


def _apply_conflict_strategy(
    *,
    run: SyncRun,
    strategy: str,
    changed_columns: dict[int, tuple[dict, dict]],
    fetched_at: datetime,
    in_flight: dict[tuple[int, str], list[Any]] | None = None,
) -> None:
    """Settle local edits on fields that eMAG changed in this page, per the run's strategy.

    eMAG showing a value a push of ours sent (`in_flight`) is our own write arriving, not a
    change of eMAG's: a newer local edit of that field stands, with no conflict.
    """
    if not changed_columns:
        return
    edits = list(LocalEdit.objects.filter(offer_id__in=list(changed_columns)))
    if not edits:
        return
    open_conflicts = {
        (conflict.offer_id, conflict.field): conflict
        for conflict in Conflict.objects.filter(
            offer_id__in=[edit.offer_id for edit in edits], status=ConflictStatus.OPEN
        )
    }
    drop_edit_ids: list[int] = []
    conflicts_to_create: list[Conflict] = []
    conflicts_to_update: list[Conflict] = []
    for edit in edits:
        old, new = changed_columns[edit.offer_id]
        base, current = emag_value(old, edit.field), emag_value(new, edit.field)
        if base == current:
            continue  # only the local side changed: the edit stands
        if edit.value != current and current in (in_flight or {}).get(
            (edit.offer_id, edit.field), ()
        ):
            continue  # eMAG took a value we pushed before this newer edit: it stands
        outcome = decide_conflict(
            strategy=strategy, edit=edit, new_emag_value=current, fetched_at=fetched_at
        )
        existing = open_conflicts.get((edit.offer_id, edit.field))
        if not outcome.keep_edit:
            drop_edit_ids.append(edit.pk)
        if existing and (outcome.converged or not outcome.keep_edit):
            existing.status = ConflictStatus.RESOLVED
            existing.resolution = (
                ConflictResolution.CONVERGED
                if outcome.converged
                else ConflictResolution.ACCEPT_EMAG
            )
            existing.resolved_at = fetched_at
            conflicts_to_update.append(existing)
        elif existing and outcome.open_conflict:
            existing.emag_value = current
            existing.detected_in = run
            conflicts_to_update.append(existing)
        elif outcome.open_conflict:
            conflicts_to_create.append(
                Conflict(
                    offer_id=edit.offer_id,
                    field=edit.field,
                    base_value=base,
                    local_value=edit.value,
                    emag_value=current,
                    detected_in=run,
                    detected_at=fetched_at,
                )
            )
    LocalEdit.objects.filter(pk__in=drop_edit_ids).delete()
    Conflict.objects.bulk_update(
        conflicts_to_update, ["status", "resolution", "resolved_at", "emag_value", "detected_in"]
    )
    Conflict.objects.bulk_create(conflicts_to_create)
