"""Start syncs on request (the API, the admin): run them now, or queue them for the workers.

A request for several accounts claims every account's run in one transaction, so it starts
all of them or, when one account's stream is busy, none, and leaves nothing behind. Claimed
runs are `queued`; the sync that takes one over (here or in a worker) moves it to running.
"""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import partial

from celery import Task
from django.db import transaction

from emag_sync.models import SyncKind, SyncMode, SyncRun, SyncState, SyncStatus
from emag_sync.services import offer_sync as offer_stream
from emag_sync.services import order_acknowledge as acknowledge_stream
from emag_sync.services import order_sync as order_stream
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync_request
from emag_sync.services.order_acknowledge import ACKNOWLEDGE_REQUEST
from emag_sync.services.order_sync import order_sync_request
from emag_sync.services.sync_engine import RunRequest, side_by_side
from emag_sync.services.sync_runs import (
    SyncAlreadyRunning,
    SyncRunLost,
    sync_run_task_send,
)

logger = logging.getLogger(__name__)


def queued_runs_claim(
    *, accounts: list[str], request: RunRequest, triggered_by: str
) -> list[SyncRun]:
    """Claim a queued run of a stream for every account, or none; raise SyncAlreadyRunning.

    `RunRequest.claim` claims one run; this claims one per account in one transaction.
    """
    with transaction.atomic():
        return [
            request.claim(account=account, triggered_by=triggered_by, queued=True)
            for account in accounts
        ]


def claimed_runs_run(runs: list[SyncRun], run_one: Callable[[SyncRun], SyncRun]) -> list[SyncRun]:
    """Run claimed runs now, side by side, and return them finished.

    A run that fails is returned failed, with its error, rather than raised; one cancelled
    between its claim and its start is returned as it is.
    """

    def guarded(run: SyncRun) -> SyncRun:
        try:
            return run_one(run)
        except SyncRunLost:
            pass  # cancelled between the claim and the start: the run already says so
        except Exception:
            # The engine recorded the failure on the run; the caller gets the run, not a crash.
            logger.exception("%s run #%s of %s failed", run.kind, run.pk, run.account)
        run.refresh_from_db()
        return run

    finished = side_by_side(runs, guarded)
    return [run for run in finished if isinstance(run, SyncRun)]


def offer_syncs_run(
    *, accounts: list[str], options: OfferSyncOptions, triggered_by: str
) -> list[SyncRun]:
    """Sync the accounts' offers now, side by side, and return their finished runs.

    Raises SyncOptionsError for bad options and SyncAlreadyRunning when an account is busy.
    """
    runs = queued_runs_claim(
        accounts=accounts, request=offer_sync_request(options), triggered_by=triggered_by
    )

    def sync(run: SyncRun) -> SyncRun:
        return offer_stream.offer_sync(
            account=run.account, options=options, triggered_by=triggered_by, run_id=run.pk
        )

    return claimed_runs_run(runs, sync)


def offer_syncs_enqueue(
    *, accounts: list[str], options: OfferSyncOptions, triggered_by: str
) -> list[SyncRun]:
    """Queue a sync of each account's offers for the workers; return the queued runs.

    Tasks are sent only once the runs are committed, so a worker always finds its run.
    """
    from emag_sync.tasks import sync_products_task

    request = offer_sync_request(options)
    with transaction.atomic():
        runs = queued_runs_claim(accounts=accounts, request=request, triggered_by=triggered_by)
        for run in runs:
            transaction.on_commit(
                partial(_send_offer_task, sync_products_task, run, options, triggered_by)
            )
    return list(SyncRun.objects.filter(pk__in=[run.pk for run in runs]).order_by("id"))


def offer_syncs_resume_interrupted(*, triggered_by: str) -> list[SyncRun]:
    """Queue a full sync of every account whose last full pass a shutdown interrupted.

    Each continues from its checkpoint (the page after the last committed one); an account
    whose offer stream is busy is left alone. Return the queued runs.
    """
    from emag_sync.accounts import get_accounts

    interrupted = SyncState.objects.filter(
        account__in=list(get_accounts()),
        stream=SyncKind.OFFERS,
        mode=SyncMode.FULL,
        run__status=SyncStatus.INTERRUPTED,
    ).values_list("account", flat=True)
    queued = []
    for account in interrupted:
        try:
            queued += offer_syncs_enqueue(
                accounts=[account],
                options=OfferSyncOptions.from_values(mode=SyncMode.FULL),
                triggered_by=triggered_by,
            )
        except SyncAlreadyRunning:
            continue
    for run in queued:
        logger.info("Resuming the interrupted full sync of %s (run #%s)", run.account, run.pk)
    return queued


def _send_offer_task(
    task: Task, run: SyncRun, options: OfferSyncOptions, triggered_by: str
) -> None:
    sync_run_task_send(run, task, **options.as_values(), triggered_by=triggered_by)


# --- orders and their acknowledgement -------------------------------------------------------


def order_syncs_run(
    *, accounts: list[str], mode: str, since: date | None, triggered_by: str
) -> list[SyncRun]:
    """Sync the accounts' orders now, side by side, and return their finished runs."""
    runs = queued_runs_claim(
        accounts=accounts,
        request=order_sync_request(mode=mode, since=since),
        triggered_by=triggered_by,
    )

    def sync(run: SyncRun) -> SyncRun:
        return order_stream.order_sync(
            account=run.account, mode=mode, since=since, triggered_by=triggered_by, run_id=run.pk
        )

    return claimed_runs_run(runs, sync)


def order_syncs_enqueue(
    *, accounts: list[str], mode: str, since: date | None, triggered_by: str
) -> list[SyncRun]:
    """Queue an order sync of each account for the workers; return the queued runs."""
    from emag_sync.tasks import sync_orders_task

    # The task takes an ISO time with its zone; the order sync reads only its calendar day.
    since_text = datetime.combine(since, time.min, tzinfo=UTC).isoformat() if since else None

    def send(run: SyncRun) -> None:
        sync_run_task_send(
            run, sync_orders_task, mode=mode, since=since_text, triggered_by=triggered_by
        )

    request = order_sync_request(mode=mode, since=since)
    with transaction.atomic():
        runs = queued_runs_claim(accounts=accounts, request=request, triggered_by=triggered_by)
        for run in runs:
            transaction.on_commit(partial(send, run))
    return list(SyncRun.objects.filter(pk__in=[run.pk for run in runs]).order_by("id"))


def orders_acknowledge_now(*, account: str, triggered_by: str) -> SyncRun:
    """Acknowledge the account's new orders now; raise SyncAlreadyRunning when busy."""
    runs = queued_runs_claim(
        accounts=[account], request=ACKNOWLEDGE_REQUEST, triggered_by=triggered_by
    )
    [run] = claimed_runs_run(
        runs,
        lambda run: acknowledge_stream.orders_acknowledge(
            account=run.account, triggered_by=triggered_by, run_id=run.pk
        ),
    )
    return run


def orders_acknowledge_enqueue(*, account: str, triggered_by: str) -> SyncRun:
    """Queue an acknowledge run of the account's new orders for the workers; return it.

    Raises SyncAlreadyRunning when the account's acknowledge stream is busy. The task is
    sent once the run is committed, so the worker always finds it queued.
    """
    from emag_sync.tasks import acknowledge_orders_task

    def send(run: SyncRun) -> None:
        sync_run_task_send(run, acknowledge_orders_task, triggered_by=triggered_by)

    with transaction.atomic():
        [run] = queued_runs_claim(
            accounts=[account], request=ACKNOWLEDGE_REQUEST, triggered_by=triggered_by
        )
        transaction.on_commit(lambda: send(run))
    return SyncRun.objects.get(pk=run.pk)
