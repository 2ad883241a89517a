"""Write the outbox of local values bound for eMAG, and the outcomes of their pushes.

Every local edit of a pushable field records, in its own transaction, one pending push per
offer (`outbox_record`); later edits coalesce into it with their newest values, and an edit
reverted or cleared before its push leaves it (`outbox_forget`). A push run takes pending
pushes (`pushes_claim`): it sends what the local edits still say, skips fields under an
open conflict, and once taken a push belongs to its batch, so an edit made meanwhile opens
a new pending push that is sent next. Outcomes are written by `push_outcomes_record`,
`pushes_mark_uncertain` and `pushes_read_back`; `pushes_confirm` closes applied pushes a
read shows eMAG holding.

States and their meaning: models.pushes.PushState.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from emag_sync.client import ItemOutcome, OfferSaveResult
from emag_sync.models import (
    IN_FLIGHT_STATES,
    Conflict,
    ConflictStatus,
    LocalEdit,
    Offer,
    OfferPush,
    PushState,
    SyncRun,
)
from emag_sync.payloads.offers import offer_columns
from emag_sync.payloads.values import PayloadError
from emag_sync.services.local_edits import PUSHABLE_FIELDS, emag_value

logger = logging.getLogger(__name__)

# How many messages of eMAG's are kept per push.
MAX_MESSAGES_KEPT = 20
NOT_RETURNED = "eMAG no longer returns this offer: it cannot be updated"
SUPERSEDED = "not applied by eMAG (read back); a newer edit of the offer is sent instead"


def outbox_record(*, offer: Offer, values: Mapping[str, Any], user=None) -> OfferPush:
    """Queue checked local values of an offer for the next push, into its one pending push."""
    _check_pushable(values)
    with transaction.atomic():
        pending = _record_one(offer, values, user, timezone.now())
        push_soon(account=offer.account)
    return pending


def outbox_record_many(*, values_by_offer: Mapping[Offer, Mapping[str, Any]], user=None) -> None:
    """Queue checked local values of many offers, each into its one pending push.

    A few queries whatever the count: the pending pushes are locked and coalesced together,
    and the offers without one get theirs in one insert.
    """
    for values in values_by_offer.values():
        _check_pushable(values)
    if not values_by_offer:
        return
    now = timezone.now()
    with transaction.atomic():
        pending = {
            push.offer_id: push
            for push in OfferPush.objects.select_for_update().filter(
                offer_id__in=[offer.pk for offer in values_by_offer], state=PushState.PENDING
            )
        }
        for offer, values in values_by_offer.items():
            if offer.pk in pending:
                _merge(pending[offer.pk], values, user, now)
        OfferPush.objects.bulk_update(pending.values(), ["values", "requested_by", "requested_at"])
        opening = {o: v for o, v in values_by_offer.items() if o.pk not in pending}
        try:
            with transaction.atomic():
                _retire_current(offer_ids=[offer.pk for offer in opening])
                OfferPush.objects.bulk_create(
                    OfferPush(
                        offer=offer,
                        account=offer.account,
                        values=dict(values),
                        requested_by=user,
                        requested_at=now,
                    )
                    for offer, values in opening.items()
                )
        except IntegrityError:
            # Another transaction opened one of them meanwhile: one by one, coalescing.
            for offer, values in opening.items():
                _record_one(offer, values, user, now)
        for account in {offer.account for offer in values_by_offer}:
            push_soon(account=account)


def outbox_forget(*, offer: Offer, fields: Iterable[str]) -> None:
    """Drop fields from an offer's pending push (a revert or a clear); an empty push goes."""
    outbox_forget_many(fields_by_offer={offer.pk: fields})


def outbox_forget_many(*, fields_by_offer: Mapping[int, Iterable[str]]) -> None:
    """Drop fields from offers' pending pushes (by offer id); a push left empty goes."""
    forgotten = {
        offer_id: set(fields) & PUSHABLE_FIELDS for offer_id, fields in fields_by_offer.items()
    }
    forgotten = {offer_id: fields for offer_id, fields in forgotten.items() if fields}
    if not forgotten:
        return
    with transaction.atomic():
        kept: list[OfferPush] = []
        emptied: list[OfferPush] = []
        for pending in OfferPush.objects.select_for_update().filter(
            offer_id__in=list(forgotten), state=PushState.PENDING
        ):
            fields = forgotten[pending.offer_id]
            if not fields & pending.values.keys():
                continue
            pending.values = {
                name: value for name, value in pending.values.items() if name not in fields
            }
            (kept if pending.values else emptied).append(pending)
        OfferPush.objects.bulk_update(kept, ["values"])
        if emptied:
            # Never sent, nothing to say about it: an outbox entry, not yet a record. Each
            # offer's previous push (if any) is what its state shows again.
            OfferPush.objects.filter(pk__in=[push.pk for push in emptied]).delete()
            previous = (
                OfferPush.objects.filter(offer_id__in=[push.offer_id for push in emptied])
                .values("offer_id")
                .annotate(latest=Max("id"))
                .values_list("latest", flat=True)
            )
            OfferPush.objects.filter(pk__in=list(previous)).update(is_current=True)


def outbox_retry(*, pushes: Iterable[OfferPush], user=None) -> int:
    """Queue rejected pushes again with their offers' current local values; return how many."""
    queued = 0
    for push in pushes:
        if push.state != PushState.REJECTED:
            continue
        current = {
            edit.field: edit.value
            for edit in LocalEdit.objects.filter(
                offer_id=push.offer_id, field__in=list(push.values)
            )
        }
        if current:
            outbox_record(offer=push.offer, values=current, user=user)
            queued += 1
    return queued


def _retire_current(*, offer_ids: list[int]) -> None:
    """Make room for the offers' new push: their current one becomes history."""
    OfferPush.objects.filter(offer_id__in=offer_ids, is_current=True).update(is_current=False)


def _pending_for_update(offer_id: int) -> OfferPush | None:
    return (
        OfferPush.objects.select_for_update()
        .filter(offer_id=offer_id, state=PushState.PENDING)
        .first()
    )


def _check_pushable(values: Mapping[str, Any]) -> None:
    unknown = set(values) - PUSHABLE_FIELDS
    if unknown:
        raise ValueError(f"not pushable: {sorted(unknown)}")


def _record_one(offer: Offer, values: Mapping[str, Any], user, now) -> OfferPush:
    """Coalesce values into the offer's pending push, opening one if there is none."""
    pending = _pending_for_update(offer.pk)
    if pending is None:
        try:
            with transaction.atomic():
                _retire_current(offer_ids=[offer.pk])
                return OfferPush.objects.create(
                    offer=offer,
                    account=offer.account,
                    values=dict(values),
                    requested_by=user,
                    requested_at=now,
                )
        except IntegrityError:
            # Another transaction opened it meanwhile: coalesce into theirs.
            pending = _pending_for_update(offer.pk)
            if pending is None:
                raise
    _merge(pending, values, user, now)
    pending.save(update_fields=["values", "requested_by", "requested_at"])
    return pending


def _merge(pending: OfferPush, values: Mapping[str, Any], user, now) -> None:
    pending.values = {**pending.values, **values}
    pending.requested_by = user or pending.requested_by
    pending.requested_at = now


def push_soon(*, account: str) -> None:
    """Send the account's push task once the transaction commits; edits close together share one."""
    if settings.PUSH_ON_EDIT:
        transaction.on_commit(lambda: _send_push_task(account))


def _send_push_task(account: str) -> None:
    delay = settings.PUSH_AFTER_EDIT_SECONDS
    try:
        # One task per account per window: a bulk edit of 500 offers is one push, not 500.
        if not cache.add(f"emag:push-queued:{account}", 1, timeout=max(1, round(delay))):
            return
        from emag_sync.tasks import push_offers_task

        push_offers_task.apply_async(
            kwargs={"account": account, "triggered_by": "edit"}, countdown=delay
        )
    except Exception:
        # The edit is committed and pending; the scheduled push drains it within a minute.
        logger.exception("Could not queue the push of account %s", account)


# --- A push run's side ------------------------------------------------------------------------


@dataclass
class ClaimedPush:
    """A push taken by a run, with what its offer needs to be sent."""

    push: OfferPush
    emag_id: int
    offer_id: int | None
    stock_warehouse: int
    handling_warehouse: int

    @property
    def values(self) -> dict[str, Any]:
        return self.push.values


@dataclass
class ClaimReport:
    claimed: list[ClaimedPush] = field(default_factory=list)
    dropped: int = 0
    held: int = 0


def _selection(account: str, *, limit: int, lock: bool) -> list[OfferPush]:
    pushes = OfferPush.objects.filter(account=account, state=PushState.PENDING)
    if lock:
        pushes = pushes.select_for_update(skip_locked=True, of=("self",))
    # Oldest first; twice the limit, since some may have nothing to send.
    return list(pushes.select_related("offer").order_by("requested_at", "id")[: limit * 2])


def _split(pushes: list[OfferPush]) -> list[tuple[OfferPush, dict, dict]]:
    """Return (push, values to send, values held back by an open conflict) for each push.

    The values are what the offers' local edits say now: an edit dropped since (by a sync's
    conflict strategy, or a person) is not sent.
    """
    offer_ids = [push.offer_id for push in pushes]
    edits = {
        (edit.offer_id, edit.field): edit.value
        for edit in LocalEdit.objects.filter(
            offer_id__in=offer_ids, field__in=list(PUSHABLE_FIELDS)
        )
    }
    conflicted = set(
        Conflict.objects.filter(offer_id__in=offer_ids, status=ConflictStatus.OPEN).values_list(
            "offer_id", "field"
        )
    )
    split = []
    for push in pushes:
        current = {
            name: edits[(push.offer_id, name)]
            for name in push.values
            if (push.offer_id, name) in edits
        }
        held = {
            name: value for name, value in current.items() if (push.offer_id, name) in conflicted
        }
        send = {name: value for name, value in current.items() if name not in held}
        split.append((push, send, held))
    return split


def pushes_preview(*, account: str, limit: int) -> list[ClaimedPush]:
    """Return what a push of the account would send now, changing nothing (`--dry-run`)."""
    preview: list[ClaimedPush] = []
    for push, send, _held in _split(_selection(account, limit=limit, lock=False)):
        if send and len(preview) < limit:
            push.values = send
            preview.append(_claimed(push))
    return preview


def pushes_claim(*, account: str, run: SyncRun, limit: int) -> ClaimReport:
    """Take up to `limit` pending pushes of the account for a run, oldest first.

    Each sends what the offer's local edits say now; a field with an open conflict stays
    pending (in a push of its own) until the conflict is resolved.
    """
    report = ClaimReport()
    now = timezone.now()
    with transaction.atomic():
        taken: list[OfferPush] = []
        kept_back: list[OfferPush] = []
        closed: list[OfferPush] = []
        for push, send, held in _split(_selection(account, limit=limit, lock=True)):
            if not send or len(taken) >= limit:
                if not send and not held:
                    push.state, push.values, push.finished_at = PushState.DROPPED, {}, now
                    push.messages = ["nothing left to send: the local values were dropped"]
                    closed.append(push)
                    report.dropped += 1
                elif held:
                    report.held += 1
                continue
            push.state, push.values, push.run, push.sent_at = PushState.SENDING, send, run, now
            taken.append(push)
            if held:
                kept_back.append(
                    OfferPush(
                        offer_id=push.offer_id,
                        account=account,
                        values=held,
                        requested_by=push.requested_by,
                        requested_at=push.requested_at,
                    )
                )
        OfferPush.objects.bulk_update(
            [*taken, *closed], ["state", "values", "run", "sent_at", "finished_at", "messages"]
        )
        if kept_back:
            _retire_current(offer_ids=[push.offer_id for push in kept_back])
            OfferPush.objects.bulk_create(kept_back)
    report.held += len(kept_back)
    report.claimed = [_claimed(push) for push in taken]
    return report


def push_work_exists(*, account: str) -> bool:
    """Return whether a push of the account has anything to send or to read back."""
    return OfferPush.objects.filter(
        account=account,
        state__in=(PushState.PENDING, PushState.SENDING, PushState.UNCERTAIN),
    ).exists()


def pushes_unfinished(*, account: str, run: SyncRun) -> list[ClaimedPush]:
    """Take over pushes whose outcome is unknown: uncertain ones, and sends a crash left.

    Single-flight per account means no other push run holds them.
    """
    with transaction.atomic():
        pushes = list(
            OfferPush.objects.select_for_update(of=("self",))
            .filter(account=account, state__in=(PushState.SENDING, PushState.UNCERTAIN))
            .select_related("offer")
            .order_by("id")
        )
        for push in pushes:
            push.state, push.run = PushState.UNCERTAIN, run
        OfferPush.objects.bulk_update(pushes, ["state", "run"])
    return [_claimed(push) for push in pushes]


def _claimed(push: OfferPush) -> ClaimedPush:
    offer = push.offer
    return ClaimedPush(
        push=push,
        emag_id=offer.emag_id,
        offer_id=offer.emag_offer_id,
        stock_warehouse=_warehouse(offer.stock),
        handling_warehouse=_warehouse(offer.handling_time),
    )


def _warehouse(entries: Any) -> int:
    # Reference §3.4: warehouse_id is 1 for a single-warehouse seller.
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        try:
            return int(entries[0].get("warehouse_id") or 1)
        except (TypeError, ValueError):
            return 1
    return 1


@dataclass
class OutcomeCounts:
    applied: int = 0
    rejected: int = 0
    uncertain: int = 0


def push_outcomes_record(
    *, pushes: list[ClaimedPush], results: Mapping[int, OfferSaveResult]
) -> OutcomeCounts:
    """Store eMAG's answer for each item of a batch; items it did not answer stay uncertain."""
    counts = OutcomeCounts()
    now = timezone.now()
    changed = []
    for claimed in pushes:
        push = claimed.push
        result = results.get(claimed.emag_id)
        push.sends += 1
        push.messages = list(result.messages[:MAX_MESSAGES_KEPT]) if result else []
        if result is None or result.outcome == ItemOutcome.UNKNOWN:
            push.state = PushState.UNCERTAIN
            push.messages = ["eMAG's answer had no result for this offer; it will be read back"]
            counts.uncertain += 1
        elif result.outcome == ItemOutcome.APPLIED:
            push.state, push.finished_at = PushState.APPLIED, now
            counts.applied += 1
        else:
            push.state, push.finished_at = PushState.REJECTED, now
            counts.rejected += 1
        changed.append(push)
    # A sync that read eMAG holding the values meanwhile has confirmed a push already: keep it.
    _save_unless_confirmed(changed, ["state", "sends", "messages", "finished_at"])
    return counts


def pushes_mark_uncertain(*, pushes: list[ClaimedPush], reason: str, sent: bool = True) -> int:
    """Mark pushes whose request's outcome is unknown; the run reads them back."""
    for claimed in pushes:
        claimed.push.state = PushState.UNCERTAIN
        claimed.push.sends += 1 if sent else 0
        claimed.push.messages = [reason[:1000]]
    _save_unless_confirmed([claimed.push for claimed in pushes], ["state", "sends", "messages"])
    return len(pushes)


def _save_unless_confirmed(pushes: list[OfferPush], fields: list[str]) -> None:
    if not pushes:
        return
    with transaction.atomic():
        confirmed = set(
            OfferPush.objects.filter(
                pk__in=[push.pk for push in pushes], state=PushState.CONFIRMED
            ).values_list("pk", flat=True)
        )
        OfferPush.objects.bulk_update([p for p in pushes if p.pk not in confirmed], fields)


def emag_holds(payload: Mapping[str, Any] | None, values: Mapping[str, Any]) -> bool:
    """Return whether an offer as eMAG returned it holds every one of the pushed values."""
    if payload is None:
        return False
    try:
        columns = offer_columns(dict(payload))
    except PayloadError:
        return False
    return all(emag_value(columns, name) == value for name, value in values.items())


@dataclass
class ReadBackCounts:
    applied: int = 0
    resend: int = 0
    rejected: int = 0


def pushes_read_back(
    *, pushes: list[ClaimedPush], payloads: Mapping[int, Mapping[str, Any] | None]
) -> ReadBackCounts:
    """Settle uncertain pushes from eMAG's offers read back by id.

    eMAG holding every value: applied. Not holding them: pending again, to be sent once more
    (behind a newer pending edit of the offer, whose values win). An offer eMAG no longer
    returns (None): rejected.
    """
    counts = ReadBackCounts()
    now = timezone.now()
    with transaction.atomic():
        for claimed in pushes:
            push = claimed.push
            payload = payloads.get(claimed.emag_id)
            if claimed.emag_id in payloads and payload is None:
                push.state, push.finished_at, push.messages = (
                    PushState.REJECTED,
                    now,
                    [NOT_RETURNED],
                )
                counts.rejected += 1
            elif emag_holds(payload, push.values):
                push.state, push.finished_at = PushState.APPLIED, now
                push.messages = ["read back: eMAG holds the values"]
                counts.applied += 1
            else:
                counts.resend += 1
                _send_again(push, now, reason=SUPERSEDED)
            push.save(update_fields=["state", "finished_at", "messages"])
    return counts


def pushes_return(*, pushes: list[ClaimedPush], reason: str) -> int:
    """Put pushes eMAG certainly did not apply (throttled, refused whole) back in the outbox."""
    now = timezone.now()
    with transaction.atomic():
        for claimed in pushes:
            _send_again(claimed.push, now, reason=f"{reason}; sent again by the next push")
            claimed.push.save(update_fields=["state", "finished_at", "messages"])
    return len(pushes)


def _send_again(push: OfferPush, now, *, reason: str) -> None:
    """Make a push pending again, or fold its values under a newer pending push of the offer."""
    newer = _pending_for_update(push.offer_id)
    if newer is None:
        push.state, push.messages = PushState.PENDING, []
        return
    newer.values = {**push.values, **newer.values}
    newer.save(update_fields=["values"])
    push.state, push.finished_at, push.messages = PushState.DROPPED, now, [reason]


def pushes_confirm(*, offer_columns_by_id: Mapping[int, Mapping[str, Any]]) -> int:
    """Close in-flight pushes whose values the offers' fresh eMAG columns hold; return how many.

    `offer_columns_by_id` maps offer pks to columns as `offer_columns` maps a payload.
    """
    if not offer_columns_by_id:
        return 0
    pushes = list(
        OfferPush.objects.filter(
            offer_id__in=list(offer_columns_by_id), state__in=IN_FLIGHT_STATES
        ).only("pk", "offer_id", "values")
    )
    held = [
        push.pk
        for push in pushes
        if all(
            emag_value(dict(offer_columns_by_id[push.offer_id]), name) == value
            for name, value in push.values.items()
        )
    ]
    if not held:
        return 0
    return OfferPush.objects.filter(pk__in=held).update(
        state=PushState.CONFIRMED, finished_at=timezone.now()
    )


def pushed_values_in_flight(*, offer_ids: Iterable[int]) -> dict[tuple[int, str], list[Any]]:
    """Return, per (offer, field), values pushes have sent or are sending and no read confirmed.

    A sync that sees eMAG holding one of them sees our own write, not a change of eMAG's.
    """
    found: dict[tuple[int, str], list[Any]] = {}
    for push in OfferPush.objects.filter(
        offer_id__in=list(offer_ids), state__in=IN_FLIGHT_STATES
    ).only("offer_id", "values"):
        for name, value in push.values.items():
            found.setdefault((push.offer_id, name), []).append(value)
    return found
