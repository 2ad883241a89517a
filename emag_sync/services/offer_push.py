"""Push local values to eMAG: the push stream on the sync-run engine.

A push run of an account (SyncRun kind `push`, single-flight per account like every stream)
first settles what an earlier run left unknown, then drains the outbox:

1. read back, by id, every push whose outcome is unknown (a timeout, a cut answer, a 5xx, a
   crash between sending and storing the answer): eMAG holding the values makes it applied,
   not holding them puts it back in the outbox; a write is never repeated blindly;
2. take up to 50 pending pushes, send them in one light offer/save (through the account's
   shared rate limiter, so a push and a sync together stay within eMAG's 3 requests a
   second) and store each item's outcome: applied, rejected with eMAG's messages, or
   uncertain (then read back as in 1, and sent again if eMAG does not hold it);
3. repeat 2 until the outbox is empty, so an edit made while its offer's batch was in
   flight is sent next, by this same run.

Each batch is one unit of the engine: claimed, sent and stored, with its request log and
counters, before the run may stop; a batch the run is stopped in (a crash, a shutdown) is
left in flight and read back by the next run. See docs/emag-api.md §1.5, §2, §3.5.
"""

import logging
from collections.abc import Callable, Generator
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from emag_sync.client import EmagError, EmagWriteUncertain
from emag_sync.models import Offer, OfferPush, PushState, SyncKind, SyncMode, SyncRun
from emag_sync.ratelimit import RateLimiterUnavailable
from emag_sync.services.push_outbox import (
    ClaimedPush,
    outbox_retry,
    push_outcomes_record,
    pushes_claim,
    pushes_mark_uncertain,
    pushes_read_back,
    pushes_return,
    pushes_unfinished,
)
from emag_sync.services.push_plan import offer_update
from emag_sync.services.request_log import request_log_write
from emag_sync.services.sync_engine import RunContext, RunRequest, Stream, Unit, stream_run
from emag_sync.services.sync_runs import sync_run_task_send

logger = logging.getLogger(__name__)

# eMAG's maximum per light offer/save (docs/emag-api.md §1.4, §3.5): fewest requests for the budget.
BATCH_SIZE = 50
# Batches whose outcome stayed unknown before a run gives up for now: eMAG timing out on
# every write is eMAG being down, and the next run (a minute later) tries again.
MAX_UNCERTAIN_BATCHES = 3

PUSH_REQUEST = RunRequest(kind=SyncKind.PUSH, mode=SyncMode.SELECTIVE)


def offers_push(
    *,
    account: str,
    triggered_by: str = "cli",
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Send the account's pending local values to eMAG and return the finished push run.

    Raises SyncAlreadyRunning when a push of the account is queued or running.
    """
    return stream_run(
        PushStream(),
        account=account,
        triggered_by=triggered_by,
        run_id=run_id,
        on_progress=on_progress,
    )


class PushStream(Stream):
    """The push stream's plan (read back the unknown, then batches of the outbox)."""

    label = "Offer push"

    def request(self) -> RunRequest:
        return PUSH_REQUEST

    def units(self, context: RunContext) -> Generator[Unit, None, None]:
        unknown = pushes_unfinished(account=context.account.name, run=context.run)
        if unknown:
            read_back = _ReadBack(context, unknown)
            yield Unit(work=read_back.run, where={"read_back": len(unknown)})
            if read_back.failed:
                return
        uncertain_batches = 0
        number = 0
        while True:
            number += 1
            batch = _Batch(context, number)
            yield Unit(work=batch.run, where={"batch": number}, on_interrupt=batch.interrupted)
            if batch.empty or batch.stop:
                return
            if batch.uncertain:
                uncertain_batches += 1
                read_back = _ReadBack(context, batch.uncertain)
                yield Unit(work=read_back.run, where={"read_back": len(batch.uncertain)})
                if read_back.failed:
                    return
                if uncertain_batches >= MAX_UNCERTAIN_BATCHES:
                    context.outcome.degrade()
                    context.outcome.errors.append(
                        {
                            "batch": number,
                            "message": f"{uncertain_batches} batches had no certain answer "
                            "from eMAG; the rest waits for the next push",
                        }
                    )
                    return


def _count(run: SyncRun, **increments: int) -> None:
    """Add to the run's push counters (inside the caller's transaction)."""
    changes = {name: F(name) + value for name, value in increments.items() if value}
    if changes:
        SyncRun.objects.filter(pk=run.pk).update(**changes)


class _Batch:
    """One light offer/save: claim up to 50 pending pushes, send them, store the outcomes."""

    def __init__(self, context: RunContext, number: int) -> None:
        self.context, self.number = context, number
        self.pushes: list[ClaimedPush] = []
        self.uncertain: list[ClaimedPush] = []
        self.empty = False
        self.stop = False
        self.in_flight = False

    def run(self) -> None:
        context = self.context
        report = pushes_claim(account=context.account.name, run=context.run, limit=BATCH_SIZE)
        self.pushes = report.claimed
        if not self.pushes:
            self.empty = True
            request_log_write(context.calls.drain(), run=context.run)
            return
        SyncRun.objects.filter(pk=context.run.pk).update(
            pages_total=F("pages_done") + 1,
            items_total=F("items_sent") + len(self.pushes),
        )
        self.in_flight = True
        try:
            results = context.client.save_offers([offer_update(push) for push in self.pushes])
        except EmagWriteUncertain as error:
            self.in_flight = False
            with transaction.atomic():
                pushes_mark_uncertain(pushes=self.pushes, reason=str(error))
                _count(context.run, items_sent=len(self.pushes), items_uncertain=len(self.pushes))
                self._log_and_progress()
            self.uncertain = list(self.pushes)
            return
        except (EmagError, RateLimiterUnavailable) as error:
            # eMAG certainly did not apply it (throttled throughout, refused whole).
            self.in_flight = False
            with transaction.atomic():
                pushes_return(pushes=self.pushes, reason=str(error))
                self._log_and_progress()
            context.outcome.record_failure(error, str(error), batch=self.number)
            self.stop = True
            return
        self.in_flight = False
        with transaction.atomic():
            counts = push_outcomes_record(pushes=self.pushes, results=results)
            _count(
                context.run,
                items_sent=len(self.pushes),
                items_applied=counts.applied,
                items_rejected=counts.rejected,
                items_uncertain=counts.uncertain,
            )
            self._log_and_progress()
        self.uncertain = [push for push in self.pushes if push.push.state == PushState.UNCERTAIN]

    def _log_and_progress(self) -> None:
        request_log_write(self.context.calls.drain(), run=self.context.run)
        SyncRun.objects.filter(pk=self.context.run.pk).update(pages_done=F("pages_done") + 1)

    def interrupted(self, error: BaseException) -> None:
        """A batch stopped mid-way: what may have left is uncertain, read back next time."""
        if self.in_flight and self.pushes:
            pushes_mark_uncertain(
                pushes=self.pushes,
                reason=f"the push was stopped while this batch was sent ({type(error).__name__})",
            )


class _ReadBack:
    """Read uncertain pushes' offers back by id and settle each from what eMAG holds."""

    def __init__(self, context: RunContext, pushes: list[ClaimedPush]) -> None:
        self.context, self.pushes = context, pushes
        self.failed = False

    def run(self) -> None:
        context = self.context
        payloads = {}
        try:
            for push in self.pushes:
                # Reference §3.3: `id` selects one offer; reads are retried, writes never.
                found = context.client.read_offers(page=1, per_page=1, id=push.emag_id)
                payloads[push.emag_id] = next(
                    (item for item in found if item.get("id") == push.emag_id), None
                )
        except (EmagError, RateLimiterUnavailable) as error:
            # Unknown stays unknown: the next run reads back what this one could not.
            self.failed = True
            context.outcome.record_failure(error, f"reading back uncertain pushes: {error}")
        read = [push for push in self.pushes if push.emag_id in payloads]
        with transaction.atomic():
            counts = pushes_read_back(pushes=read, payloads=payloads)
            _count(context.run, items_applied=counts.applied, items_rejected=counts.rejected)
            request_log_write(context.calls.drain(), run=context.run)
        if counts.resend:
            logger.info(
                "Push of %s: %d uncertain offer(s) not on eMAG, sent again",
                context.account.name,
                counts.resend,
            )


def offer_pushes_enqueue(*, accounts: list[str], triggered_by: str) -> list[SyncRun]:
    """Queue a push of each account for the workers (all or none); return the queued runs.

    Raises SyncAlreadyRunning when an account's push is queued or running (that push takes
    every pending edit before it ends). Tasks leave once the runs are committed.
    """
    from emag_sync.services.sync_triggers import queued_runs_claim

    with transaction.atomic():
        runs = queued_runs_claim(accounts=accounts, request=PUSH_REQUEST, triggered_by=triggered_by)
        for run in runs:
            transaction.on_commit(partial(_send_push_run, run, triggered_by))
    return list(SyncRun.objects.filter(pk__in=[run.pk for run in runs]).order_by("id"))


def _send_push_run(run: SyncRun, triggered_by: str) -> None:
    from emag_sync.tasks import push_offers_task

    sync_run_task_send(run, push_offers_task, triggered_by=triggered_by)


def offer_push_now(*, offer: Offer, user=None) -> OfferPush | None:
    """Queue an offer's local values for a push sent at once: "Push to eMAG now".

    A rejected push is queued again with the current local values. Return the offer's
    pending push, or None when it has nothing to send.
    """
    rejected = OfferPush.objects.filter(
        offer=offer, is_current=True, state=PushState.REJECTED
    ).select_related("offer")
    outbox_retry(pushes=rejected, user=user)
    pending = OfferPush.objects.filter(offer=offer, state=PushState.PENDING).first()
    if pending is not None:
        transaction.on_commit(lambda: _send_push_now(offer.account))
    return pending


def _send_push_now(account: str) -> None:
    from emag_sync.tasks import push_offers_task

    try:
        # A selection of offers of one account is one push, not one per offer.
        if not cache.add(f"emag:push-now:{account}", 1, timeout=2):
            return
        push_offers_task.apply_async(kwargs={"account": account, "triggered_by": "push now"})
    except Exception:
        # The values wait in the outbox; the scheduled push sends them within a minute.
        logger.exception("Could not queue the push of account %s", account)
